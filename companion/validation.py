"""Argument checks shared by every public function of the companion.

Each helper checks one argument and either returns it (normalised: ``check_float`` returns a
``float``, ``check_str_sequence`` a list) or raises an error a student can act on. The message
names the argument, says what it must be and shows what it got::

    >>> check_int(0, "beam_width", min=1)
    Traceback (most recent call last):
    ValueError: beam_width must be an integer ≥ 1, got 0

A value of the wrong *kind* (a string where a number belongs, ``None`` where a tensor belongs)
raises ``TypeError``; a value of the right kind that is out of range, NaN, infinite, empty or of
the wrong shape raises ``ValueError``. Range checks are written as ``not (low <= x)`` so that NaN,
which compares False with everything, fails them instead of slipping through.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_positive_float",
    "check_probability",
    "check_same_shape",
    "check_seed",
    "check_str",
    "check_str_sequence",
    "check_tensor",
    "describe",
    "is_integer",
]


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message: its repr, or type and shape."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {list(value.shape)}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, (bool, int, float, str)) or value is None:
        return text
    return f"{text} ({type(value).__name__})"


def _number(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range_words(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = None if low is None else (f"> {_number(low)}" if low_open else f"≥ {_number(low)}")
    hi = None if high is None else (f"< {_number(high)}" if high_open else f"≤ {_number(high)}")
    if low is not None and high is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f"in {left}{_number(low)}, {_number(high)}{right}"
    return lo or hi or ""


def check_bool(value: Any, name: str) -> bool:
    """``value`` must be ``True`` or ``False`` (NumPy/PyTorch booleans are accepted)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {describe(value)}")


def is_integer(value: Any) -> bool:
    """True for Python/NumPy integers and one-element integer tensors (bool is not an integer)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return (
        isinstance(value, torch.Tensor)
        and value.numel() == 1
        and value.dtype != torch.bool
        and not value.is_floating_point()
        and not value.is_complex()
    )


def check_int(value: Any, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` must be an integer (not a bool, not a float like 3.0) within ``[min, max]``."""
    if not is_integer(value):
        words = _range_words(min, max, False, False)
        raise TypeError(
            f"{name} must be an integer{' ' + words if words else ''}, got {describe(value)}"
        )
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        raise ValueError(
            f"{name} must be an integer {_range_words(min, max, False, False)}, got {value}"
        )
    return value


#: the largest seed: every generator the companion seeds (Python's, NumPy's, PyTorch's) takes it
MAX_SEED = 2**32 - 1


def check_seed(value: Any, name: str = "seed") -> int:
    """A random seed: a whole number in [0, 2**32 − 1], the range every generator here accepts.

    "seed must be an integer in [0, 4294967295] (any fixed whole number, e.g. 0), got -1".
    """
    if not is_integer(value) or not 0 <= int(value) <= MAX_SEED:
        error = TypeError if not is_integer(value) else ValueError
        shown = describe(value) if not is_integer(value) else int(value)
        raise error(
            f"{name} must be an integer in [0, {MAX_SEED}] (any fixed whole number, e.g. 0), "
            f"got {shown}"
        )
    return int(value)


def check_float(
    value: Any,
    name: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` must be a real number (int or float, not bool), not NaN, and within the range.

    ``min``/``max`` are inclusive unless ``min_open``/``max_open``. Infinities are refused unless
    ``allow_inf`` (and then still subject to the range).
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        words = _range_words(min, max, min_open, max_open)
        raise TypeError(
            f"{name} must be a number{' ' + words if words else ''}, got {describe(value)}"
        )
    value = float(value)
    words = _range_words(min, max, min_open, max_open)
    kind = "a number" if allow_inf else "a finite number"
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be {kind}{' ' + words if words else ''}, got {value}")
    ok = True
    if min is not None:
        ok = value > min if min_open else value >= min
    if ok and max is not None:
        ok = value < max if max_open else value <= max
    if not ok:
        raise ValueError(f"{name} must be {kind} {words}, got {value:g}")
    return value


def check_positive_float(value: Any, name: str) -> float:
    """A finite number > 0 (a learning rate, a standard deviation, a step size)."""
    return check_float(value, name, min=0.0, min_open=True)


def check_probability(value: Any, name: str) -> float:
    """A number in [0, 1]."""
    return check_float(value, name, min=0.0, max=1.0)


def check_str(value: Any, name: str, *, allow_empty: bool = True) -> str:
    """``value`` must be a ``str`` (and not empty or blank unless ``allow_empty``)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {describe(value)}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` must be one of ``choices``: "unknown lang 'fr'; choose one of ['en', 'zh']"."""
    options = list(choices)
    try:
        ok = value in options
    except TypeError:  # unhashable value against a dict's keys
        ok = False
    if not ok:
        raise ValueError(f"unknown {name} {describe(value)}; choose one of {options}")
    return value


def check_str_sequence(value: Any, name: str, *, allow_empty: bool = False) -> list[str]:
    """A list/tuple (any non-string sequence or iterable) of strings; returned as a list.

    A lone string is refused, because iterating it would give its characters.
    """
    if isinstance(value, str):
        raise TypeError(
            f"{name} must be a list of strings, got a single string {describe(value)}; "
            f"wrap it in a list: [{value!r}]"[:400]
        )
    if isinstance(value, (bytes, dict)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, got {describe(value)}")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a string, got {describe(item)}")
    if not items and not allow_empty:
        raise ValueError(f"{name} must contain at least one string, got an empty list")
    return items


_DTYPE_KINDS = {
    "float": (lambda t: t.is_floating_point(), "floating-point"),
    "int": (
        lambda t: not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool,
        "integer",
    ),
    "bool": (lambda t: t.dtype == torch.bool, "boolean"),
}


def check_tensor(
    value: Any,
    name: str,
    *,
    dim: int | Sequence[int] | None = None,
    min_dim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: str | torch.dtype | None = None,
    finite: bool = False,
    nonempty: bool = False,
) -> torch.Tensor:
    """``value`` must be a ``torch.Tensor`` with the given properties.

    * ``dim``: the number of dimensions (an int, or several allowed ones); ``min_dim``: at least;
    * ``shape``: the exact shape, ``None`` entries matching any size (e.g. ``(None, 2)``);
    * ``dtype``: ``"float"``, ``"int"``, ``"bool"`` or a ``torch.dtype``;
    * ``finite``: no NaN and no ±inf (checked only for floating tensors);
    * ``nonempty``: at least one element.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {describe(value)}"
            + (
                "; convert it with torch.as_tensor(...)"
                if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray"
                else ""
            )
        )
    if dim is not None:
        allowed = (dim,) if isinstance(dim, int) else tuple(dim)
        if value.dim() not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {list(value.shape)}")
    if min_dim is not None and value.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimension(s), got shape {list(value.shape)}"
        )
    if shape is not None:
        shape = tuple(shape)
        if value.dim() != len(shape) or any(
            s is not None and s != v for s, v in zip(shape, value.shape, strict=True)
        ):
            want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
            raise ValueError(f"{name} must have shape {want}, got {list(value.shape)}")
    if dtype is not None:
        if isinstance(dtype, torch.dtype):
            if value.dtype != dtype:
                raise TypeError(f"{name} must have dtype {dtype}, got {value.dtype}")
        else:
            test, words = _DTYPE_KINDS[dtype]
            if not test(value):
                raise TypeError(f"{name} must be a {words} tensor, got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {list(value.shape)}")
    if (
        finite
        and value.is_floating_point()
        and value.numel()
        and not bool(torch.isfinite(value).all())
    ):
        bad = value[~torch.isfinite(value)]
        kinds = sorted(
            {"NaN" if math.isnan(v) else ("inf" if v > 0 else "-inf") for v in bad[:1000].tolist()}
        )
        raise ValueError(
            f"{name} must be finite, but it contains {int(bad.numel())} {'/'.join(kinds)} value(s)"
        )
    return value


def check_same_shape(**tensors: torch.Tensor) -> None:
    """All the given tensors must have the same shape (checked after :func:`check_tensor`)."""
    shapes = {name: list(t.shape) for name, t in tensors.items()}
    if len({tuple(s) for s in shapes.values()}) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"shapes must match, got {listed}")
