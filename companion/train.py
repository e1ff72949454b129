"""One small training loop for every model in the companion.

``fit`` works with any ``loss_fn(model, batch) -> Tensor | dict`` — a scalar loss, or a dict
with a ``"loss"`` entry plus other terms worth logging (e.g. reconstruction and KL of the ELBO).
It moves batches to the device, clips gradients if asked, shows a tqdm bar, stops with a clear
message on a NaN/inf loss, records a :class:`History`, and can save/load checkpoints.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from companion.model_utils import eval_mode, model_device, to_device
from companion.models.seq2seq import seq2seq_loss
from companion.validation import (
    check_bool,
    check_float,
    check_int,
    check_positive_float,
    check_probability,
    describe,
)

LossOutput = torch.Tensor | Mapping[str, torch.Tensor]
LossFn = Callable[[nn.Module, Any], LossOutput]


class NonFiniteLossError(RuntimeError):
    """Raised when a training step produces a NaN or infinite loss."""


@dataclass
class History:
    """Logged numbers: one dict per optimisation step and one per epoch (means, plus validation)."""

    steps: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)

    def series(self, key: str, *, per: str = "epoch") -> list[float]:
        rows = self.epochs if per == "epoch" else self.steps
        if per not in ("epoch", "step"):
            raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
        return [row[key] for row in rows if key in row]

    @property
    def last(self) -> dict[str, float]:
        return self.epochs[-1] if self.epochs else {}

    def state_dict(self) -> dict[str, list[dict[str, float]]]:
        return {"steps": self.steps, "epochs": self.epochs}


#: seconds between reads of the loss on the device (progress bar, NaN check); each read waits
#: for the device to finish its queued work, so it should not happen every step
READ_EVERY_S = 0.5


def _as_terms(out: LossOutput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss to differentiate and every term to log, as detached tensors still on the device."""
    if isinstance(out, torch.Tensor):
        loss, terms = out, {}
    elif isinstance(out, Mapping) and "loss" in out:
        loss, terms = out["loss"], {k: v for k, v in out.items() if k != "loss"}
    else:
        raise ValueError("loss_fn must return a scalar tensor or a dict with a 'loss' entry")
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar loss tensor, got {shape}")
    terms = {
        k: v.detach() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
        for k, v in terms.items()
    }
    return loss, {"loss": loss.detach(), **terms}


def _read(rows: list[dict[str, torch.Tensor]]) -> list[dict[str, float]]:
    """Copy logged terms to Python floats: one device→host transfer per term, not per step."""
    if not rows:
        return []
    columns = {
        k: torch.stack([row[k].reshape(()).to(rows[0][k].device) for row in rows]).tolist()
        for k in rows[0]
    }
    return [{k: values[i] for k, values in columns.items()} for i in range(len(rows))]


def _mean_rows(rows: list[dict[str, float]], prefix: str = "") -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {prefix + k: sum(r[k] for r in rows) / len(rows) for k in keys}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Iterable[Any],
    loss_fn: LossFn,
) -> dict[str, float]:
    """Mean of every loss term over ``data`` with the model in eval mode, where the model is (each
    batch is moved to the model's device)."""
    device = model_device(model)
    with eval_mode(model):
        rows = [_as_terms(loss_fn(model, to_device(batch, device)))[1] for batch in data]
    if not rows:
        raise ValueError("evaluation data is empty")
    return _mean_rows(_read(rows))


def _is_one_shot(data: Any) -> bool:
    """An iterator (a generator, ``iter(list)``, ``map(...)``) is used up after one pass."""
    try:
        return iter(data) is data
    except TypeError:
        return False


def _check_data(data: Any, name: str, epochs: int) -> None:
    if (
        data is None
        or isinstance(data, (str, bytes, torch.Tensor))
        or not hasattr(data, "__iter__")
    ):
        raise TypeError(
            f"{name} must be a re-iterable of batches (a list, a DataLoader or "
            f"data.batches(...)), got {describe(data)}"
        )
    if epochs > 1 and _is_one_shot(data):
        raise ValueError(
            f"{name} is an iterator that can be read once, but epochs={epochs} "
            "passes are asked for; pass a list or DataLoader"
        )


def _check_fit_arguments(
    model: Any,
    train_data: Any,
    loss_fn: Any,
    *,
    epochs: Any,
    optimizer: Any,
    lr: Any,
    valid_data: Any,
    clip_grad_norm: Any,
    history: Any,
    checkpoint_path: Any,
    progress: Any,
    on_epoch_end: Any,
    scheduler: Any = None,
) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if not callable(loss_fn):
        raise TypeError(
            f"loss_fn must be a function (model, batch) -> loss, got {describe(loss_fn)}"
        )
    epochs = check_int(epochs, "epochs", min=0)
    _check_data(train_data, "train_data", epochs)
    if valid_data is not None:
        _check_data(valid_data, "valid_data", epochs)
    if optimizer is None:
        check_positive_float(lr, "lr")
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {describe(optimizer)}"
        )
    if clip_grad_norm is not None:
        check_float(clip_grad_norm, "clip_grad_norm (None for no clipping)", min=0.0, min_open=True)
    if history is not None and not isinstance(history, History):
        raise TypeError(
            f"history must be a History (from an earlier fit) or None, got {describe(history)}"
        )
    if checkpoint_path is not None:
        _check_checkpoint_path(checkpoint_path)
    check_bool(progress, "progress")
    if scheduler is not None and not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(
            f"scheduler must be a torch.optim.lr_scheduler scheduler or None, got "
            f"{describe(scheduler)}"
        )
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise TypeError(
            f"on_epoch_end must be a function (epoch, history) or None, got "
            f"{describe(on_epoch_end)}"
        )


def _check_checkpoint_path(path: Any) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"checkpoint path must be a str or pathlib.Path, got {describe(path)}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"checkpoint path {str(path)!r} is a directory; give a file name such as "
            f"{str(path / 'model.pt')!r}"
        )
    return path


def fit(
    model: nn.Module,
    train_data: Iterable[Any],
    loss_fn: LossFn,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    valid_data: Iterable[Any] | None = None,
    device: torch.device | str | None = None,
    clip_grad_norm: float | None = None,
    history: History | None = None,
    checkpoint_path: str | Path | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, History], None] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data`` (re-iterable, e.g. a DataLoader).

    Returns the :class:`History`; pass an existing one to continue it. With ``checkpoint_path``
    the model, optimiser and history are saved after every epoch. ``device=None`` trains the
    model where it is; a device moves the model there first. A ``scheduler`` (of ``optimizer``,
    e.g. ``torch.optim.lr_scheduler.LambdaLR``) is stepped after every optimisation step.

    The loss terms stay on the device while training and are read (for the progress bar, the
    history and the NaN/inf check) every :data:`READ_EVERY_S` seconds and at the end of each
    epoch, so a GPU is not made to wait for the CPU at every step. A non-finite loss therefore
    stops training at the next read, naming the step where it first appeared.
    """
    _check_fit_arguments(
        model,
        train_data,
        loss_fn,
        epochs=epochs,
        optimizer=optimizer,
        lr=lr,
        valid_data=valid_data,
        clip_grad_norm=clip_grad_norm,
        history=history,
        checkpoint_path=checkpoint_path,
        progress=progress,
        on_epoch_end=on_epoch_end,
        scheduler=scheduler,
    )
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError("scheduler must schedule the optimizer passed to fit (optimizer=...)")
    from tqdm.auto import tqdm

    if device is None:
        device = model_device(model)
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = history if history is not None else History()
    first_epoch = len(history.epochs)
    # One bar for the whole run (a single widget in a notebook, not one per epoch).
    per_epoch = len(train_data) if isinstance(train_data, Sized) else None
    bar = tqdm(
        total=per_epoch * epochs if per_epoch is not None else None,
        disable=not progress,
        unit="batch",
        desc="training",
    )

    def read(pending: list[dict[str, torch.Tensor]], epoch: int) -> list[dict[str, float]]:
        rows = _read(pending)
        for row in rows:
            step = len(history.steps) + 1
            if not math.isfinite(row["loss"]):
                bar.close()
                raise NonFiniteLossError(
                    f"the loss became {row['loss']} at step {step} (epoch {epoch + 1}); "
                    "try a smaller learning rate or gradient clipping (clip_grad_norm)"
                )
            history.steps.append({"step": step, **row})
        if rows:
            bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}", refresh=False)
        pending.clear()
        return rows

    for epoch in range(first_epoch, first_epoch + epochs):
        model.train()
        rows: list[dict[str, float]] = []
        pending: list[dict[str, torch.Tensor]] = []  # terms of the steps not read yet
        start = last_read = time.perf_counter()
        bar.set_description(f"epoch {epoch + 1}/{first_epoch + epochs}")
        for batch in train_data:
            loss, terms = _as_terms(loss_fn(model, to_device(batch, device)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            pending.append(terms)
            bar.update()
            if time.perf_counter() - last_read >= READ_EVERY_S:
                rows += read(pending, epoch)
                last_read = time.perf_counter()
        rows += read(pending, epoch)
        if not rows:
            bar.close()
            raise ValueError("training data is empty: no batches in an epoch")
        record = {"epoch": epoch + 1, **_mean_rows(rows), "seconds": time.perf_counter() - start}
        if valid_data is not None:
            record.update(
                {f"valid_{k}": v for k, v in evaluate(model, valid_data, loss_fn).items()}
            )
            if not math.isfinite(record["valid_loss"]):
                bar.close()
                raise NonFiniteLossError(
                    f"the validation loss became {record['valid_loss']} after epoch {epoch + 1}; "
                    "the model's weights or the validation data hold NaN/inf (try a smaller "
                    "learning rate or clip_grad_norm)"
                )
        history.epochs.append(record)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, history)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
    bar.close()
    return history


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    history: History | None = None,
) -> Path:
    """Save weights (and optionally optimiser state and history) to ``path`` (a file name)."""
    path = _check_checkpoint_path(path)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {describe(optimizer)}"
        )
    if history is not None and not isinstance(history, History):
        raise TypeError(f"history must be a History or None, got {describe(history)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "history": history.state_dict() if history is not None else None,
        },
        path,
    )
    return path


def load_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: torch.device | str = "cpu",
) -> History:
    """Load a checkpoint written by :func:`save_checkpoint` (safely: ``weights_only=True``).

    A file holding only a model's ``state_dict()`` (what ``torch.save(model.state_dict(), path)``
    writes) is accepted too: the weights are loaded and the history returned is empty.
    """
    path = _check_checkpoint_path(path)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}; train first or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt or foreign file
        raise ValueError(
            f"{path} is not a readable companion checkpoint ({exc.__class__.__name__}); "
            "delete it and train again"
        ) from exc
    if (
        isinstance(state, Mapping)
        and "model" not in state
        and state
        and all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        state = {"model": state}  # a plain state_dict: weights only
    if not isinstance(state, Mapping) or not isinstance(state.get("model"), Mapping):
        raise ValueError(
            f"{path} is not a companion checkpoint (no 'model' weights in it); "
            "write one with save_checkpoint(path, model)"
        )
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise ValueError(
            f"the weights in {path} do not fit this model ({detail}); build the "
            "model with the sizes it was trained with"
        ) from exc
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    h = state.get("history") or {}
    return History(steps=list(h.get("steps", [])), epochs=list(h.get("epochs", [])))


def train_seq2seq(
    model: nn.Module,
    train_data: Iterable[Any],
    *,
    epochs: int,
    teacher_forcing: float = 1.0,
    label_smoothing: float = 0.0,
    lr: float = 1e-3,
    clip_grad_norm: float | None = 1.0,
    **fit_kwargs,
) -> History:
    """Train an encoder–decoder (:mod:`companion.models.seq2seq`) with :func:`fit`.

    ``teacher_forcing`` is the probability (0…1) of feeding the true previous token rather than
    the model's own prediction (5.3.4); the loss is the masked cross-entropy
    (:func:`~companion.models.seq2seq_loss`, with ``label_smoothing`` while training); gradients
    are clipped to norm ``clip_grad_norm``. Other keywords (``valid_data``, ``device``,
    ``progress``, ``checkpoint_path``, ``history``, ``optimizer``, ``scheduler``,
    ``on_epoch_end``) go to :func:`fit`.
    """
    teacher_forcing = check_probability(teacher_forcing, "teacher_forcing")
    check_float(label_smoothing, "label_smoothing", min=0.0, max=1.0, max_open=True)
    loss_fn = functools.partial(
        seq2seq_loss, teacher_forcing=teacher_forcing, label_smoothing=label_smoothing
    )
    return fit(
        model,
        train_data,
        loss_fn,
        epochs=epochs,
        lr=lr,
        clip_grad_norm=clip_grad_norm,
        **fit_kwargs,
    )
