"""Small utilities every model of the companion uses: eval mode, device, size, batched prediction.

:func:`predict_batches` is the one loop that runs a model over a data set in order (eval mode, no
gradients, batches moved to the model's device); decoding, teacher-forced predictions and
translation are all built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from typing import Any, Protocol

import torch
from torch import nn

from companion.validation import check_int


class SupportsBatch(Protocol):
    """What :func:`predict_batches` needs: a length and padded batches by index. Every
    :class:`~companion.data.BatchedData` qualifies, and so does any object with these two methods
    (the new sentences that :func:`companion.inference.translate` batches)."""

    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> Any: ...


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode (no dropout) inside a ``with`` block; restore its mode after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); the CPU for a model with neither."""
    for tensor in model.parameters():
        return tensor.device
    for buffer in model.buffers():
        return buffer.device
    return torch.device("cpu")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Move a tensor, or tensors nested in tuples/lists/dicts/dataclasses, to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    to = getattr(obj, "to", None)
    if to is not None and is_dataclass(obj):
        return to(device)
    if is_dataclass(obj) and not isinstance(obj, type):
        return type(obj)(**{f.name: to_device(getattr(obj, f.name), device) for f in fields(obj)})
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


@torch.no_grad()
def predict_batches(
    model: nn.Module,
    data: SupportsBatch,
    predict: Callable[[nn.Module, Any], list],
    *,
    batch_size: int = 256,
) -> list:
    """``predict(model, batch)`` over ``data`` in order, one list entry per example.

    ``predict`` returns a list with one item per example of the batch; the lists of all batches
    are concatenated. The model runs where it is, in eval mode without gradients (its mode is
    restored after); each batch is moved to the model's device. To run elsewhere, move the model
    first (``model.to("cuda")``).
    """
    check_int(batch_size, "batch_size", min=1)
    device = model_device(model)
    results: list = []
    with eval_mode(model):
        for start in range(0, len(data), batch_size):
            batch = to_device(data.batch(range(start, min(start + batch_size, len(data)))), device)
            results += predict(model, batch)
    return results
