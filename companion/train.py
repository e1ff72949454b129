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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from companion.model_utils import eval_mode, model_device, to_device
from companion.models.seq2seq import seq2seq_loss

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
    terms = {k: v.detach() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
             for k, v in terms.items()}
    return loss, {"loss": loss.detach(), **terms}


def _read(rows: list[dict[str, torch.Tensor]]) -> list[dict[str, float]]:
    """Copy logged terms to Python floats: one device→host transfer per term, not per step."""
    if not rows:
        return []
    columns = {k: torch.stack([row[k].reshape(()).to(rows[0][k].device) for row in rows]).tolist()
               for k in rows[0]}
    return [{k: values[i] for k, values in columns.items()} for i in range(len(rows))]


def _mean_rows(rows: list[dict[str, float]], prefix: str = "") -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {prefix + k: sum(r[k] for r in rows) / len(rows) for k in keys}


@torch.no_grad()
def evaluate(model: nn.Module, data: Iterable[Any], loss_fn: LossFn, *,
             device: torch.device | str | None = None) -> dict[str, float]:
    """Mean of every loss term over ``data`` with the model in eval mode, on ``device``
    (default: the model's own device)."""
    device = model_device(model) if device is None else device
    with eval_mode(model):
        rows = [_as_terms(loss_fn(model, to_device(batch, device)))[1] for batch in data]
    if not rows:
        raise ValueError("evaluation data is empty")
    return _mean_rows(_read(rows))


def fit(model: nn.Module, train_data: Iterable[Any], loss_fn: LossFn, *, epochs: int,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        valid_data: Iterable[Any] | None = None, device: torch.device | str | None = None,
        clip_grad_norm: float | None = None, history: History | None = None,
        checkpoint_path: str | Path | None = None, progress: bool = True,
        on_epoch_end: Callable[[int, History], None] | None = None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data`` (re-iterable, e.g. a DataLoader).

    Returns the :class:`History`; pass an existing one to continue it. With ``checkpoint_path``
    the model, optimiser and history are saved after every epoch. ``device=None`` trains the
    model where it is; a device moves the model there first.

    The loss terms stay on the device while training and are read (for the progress bar, the
    history and the NaN/inf check) every :data:`READ_EVERY_S` seconds and at the end of each
    epoch, so a GPU is not made to wait for the CPU at every step. A non-finite loss therefore
    stops training at the next read, naming the step where it first appeared.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if clip_grad_norm is not None and clip_grad_norm <= 0:
        raise ValueError(f"clip_grad_norm must be positive, got {clip_grad_norm}")
    from tqdm.auto import tqdm

    if device is None:
        device = model_device(model)
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = history if history is not None else History()
    first_epoch = len(history.epochs)
    # One bar for the whole run (a single widget in a notebook, not one per epoch).
    per_epoch = len(train_data) if hasattr(train_data, "__len__") else None
    bar = tqdm(total=per_epoch * epochs if per_epoch is not None else None, disable=not progress,
               unit="batch", desc="training")

    def read(pending: list[dict[str, torch.Tensor]], epoch: int) -> list[dict[str, float]]:
        rows = _read(pending)
        for row in rows:
            step = len(history.steps) + 1
            if not math.isfinite(row["loss"]):
                bar.close()
                raise NonFiniteLossError(
                    f"the loss became {row['loss']} at step {step} (epoch {epoch + 1}); "
                    "try a smaller learning rate or gradient clipping (clip_grad_norm)")
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
            record.update({f"valid_{k}": v for k, v in evaluate(model, valid_data, loss_fn,
                                                                  device=device).items()})
        history.epochs.append(record)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, history)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
    bar.close()
    return history


def save_checkpoint(path: str | Path, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    history: History | None = None) -> Path:
    """Save weights (and optionally optimiser state and history) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history.state_dict() if history is not None else None,
    }, path)
    return path


def load_checkpoint(path: str | Path, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    map_location: torch.device | str = "cpu") -> History:
    """Load a checkpoint written by :func:`save_checkpoint` (safely: ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}; train first or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt or foreign file
        raise ValueError(f"{path} is not a readable companion checkpoint ({exc.__class__.__name__}); "
                         "delete it and train again") from exc
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    h = state.get("history") or {}
    return History(steps=list(h.get("steps", [])), epochs=list(h.get("epochs", [])))


def train_seq2seq(model: nn.Module, train_data: Iterable[Any], *, epochs: int,
                  teacher_forcing: float = 1.0, lr: float = 1e-3,
                  clip_grad_norm: float | None = 1.0, **fit_kwargs) -> History:
    """Train an encoder–decoder (:mod:`companion.models.seq2seq`) with :func:`fit`.

    ``teacher_forcing`` is the probability (0…1) of feeding the true previous token rather than
    the model's own prediction (5.3.4); the loss is the masked cross-entropy
    (:func:`~companion.models.seq2seq_loss`); gradients are clipped to norm ``clip_grad_norm``.
    Other keywords (``valid_data``, ``device``, ``progress``, ``checkpoint_path``, ``history``,
    ``optimizer``, ``on_epoch_end``) go to :func:`fit`.
    """
    if not 0.0 <= teacher_forcing <= 1.0:
        raise ValueError(f"teacher_forcing must lie in 0…1, got {teacher_forcing}")
    loss_fn = functools.partial(seq2seq_loss, teacher_forcing=teacher_forcing)
    return fit(model, train_data, loss_fn, epochs=epochs, lr=lr, clip_grad_norm=clip_grad_norm,
               **fit_kwargs)
