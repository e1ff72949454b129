"""The *kind* of an answer, checked before its value, and the precision a number is asked for.

A student's answer is first checked for being the right kind of thing — a number and not a
string, a ``torch.bool`` mask and not a float one, a tensor of the right shape — with a message
that names what was expected; only then are values compared. Numbers worked out by hand are
asked for at a stated :class:`Precision` ("to 2 decimal places"), and any answer within it counts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from companion.i18n import N_, _


class CheckFailed(Exception):
    """Raised by a checker; its message is what the student reads after ✗."""


# ---------------------------------------------------------------- precision


@dataclass(frozen=True)
class Precision:
    """How precisely a number is asked for: ``decimals`` places (0: a whole number), and whether a
    fraction written as a string (``"3/4"``) is welcome.

    An answer counts when it is within one unit of the last asked-for decimal place of the exact
    value (a whole number must be exact), so both a correctly rounded answer and one carried
    through with rounded intermediate results are accepted.
    """

    decimals: int
    fractions: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= 6:
            raise ValueError(f"decimals must be 0…6, got {self.decimals}")

    @property
    def tolerance(self) -> float:
        return 0.5 if self.decimals == 0 else 10.0**-self.decimals

    def accepts(self, value: float, exact: float) -> bool:
        return abs(value - exact) <= self.tolerance * (1 + 1e-9) + 1e-12

    def rounded(self, value: float) -> str:
        """``value`` written at this precision, as a prompt's answer would be."""
        return f"{value:.{self.decimals}f}"

    def phrase(self) -> str:
        """The words a prompt uses for this precision (translated)."""
        if self.decimals == 0:
            text = _("as a whole number")
        elif self.decimals == 1:
            text = _("to 1 decimal place")
        else:
            text = _("to {n} decimal places").format(n=self.decimals)
        if self.fractions:
            text = _('{precision}, or as a fraction such as "3/4"').format(precision=text)
        return text

    def english_phrase(self) -> str:
        """:meth:`phrase` in English, as the English notebooks' prompts must contain it."""
        from companion import i18n

        before = i18n._language
        i18n._language = "en"
        try:
            return self.phrase()
        finally:
            i18n._language = before


# ---------------------------------------------------------------- numbers


def _is_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor)


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "shape")


def is_number(value: Any) -> bool:
    """A plain number: int, float or a NumPy scalar, but not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_number(answer: Any, what: str, *, fractions: bool = False) -> float:
    """A finite float from a student's number, or :class:`CheckFailed` naming what was expected.

    Accepted: int, float, a NumPy scalar, a one-element tensor or array, and — only where
    ``fractions`` — a string such as ``"3/4"`` or ``"0.75"``. Refused with their own messages: a
    bool, a string (where fractions are not asked for), a function, several numbers, NaN and inf.
    """
    value: Any = answer
    if isinstance(answer, bool):
        raise CheckFailed(
            _("{what} is {value!r}, a bool; expected a number").format(what=what, value=answer)
        )
    if isinstance(answer, str):
        if not fractions:
            raise CheckFailed(
                _(
                    "{what} is a string ({text!r}); expected a number — write it without quotes"
                ).format(what=what, text=answer[:40])
            )
        try:
            value = Fraction(answer.strip().replace(" ", ""))
        except (ValueError, ZeroDivisionError):
            raise CheckFailed(
                _('{what} is {text!r}; expected a number or a fraction such as "3/4"').format(
                    what=what, text=answer[:40]
                )
            ) from None
    elif callable(answer):
        raise CheckFailed(
            _("{what} is a function; expected a number (did you forget to call it?)").format(
                what=what
            )
        )
    elif _is_tensor(answer) or _is_array(answer):
        size = answer.numel() if _is_tensor(answer) else answer.size
        if size != 1:
            raise CheckFailed(
                _("{what} is {kind}; expected one number").format(
                    what=what, kind=describe_kind(answer)
                )
            )
        if str(answer.dtype).endswith("bool"):
            raise CheckFailed(
                _("{what} is {kind}; expected a number").format(
                    what=what, kind=describe_kind(answer)
                )
            )
        value = answer.item()
    elif not isinstance(answer, (numbers.Real, Fraction)):
        raise CheckFailed(
            _("{what} is {kind}; expected a number").format(what=what, kind=describe_kind(answer))
        )
    number = float(value)
    if math.isnan(number):
        raise CheckFailed(
            _("{what} is NaN (not a number): somewhere a 0/0, ∞ − ∞ or log of a negative").format(
                what=what
            )
        )
    if math.isinf(number):
        raise CheckFailed(
            _("{what} is infinite ({value}): an overflow or a division by zero").format(
                what=what, value=number
            )
        )
    return number


def format_number(value: float) -> str:
    """A student's number as the messages show it."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.6g}"


# ---------------------------------------------------------------- kinds of results

#: the dtype families a result must match (a float 0/1 mask is not a bool mask)
_FAMILIES = {
    "bool": N_("a bool tensor of shape {shape}"),
    "integer": N_("an integer tensor of shape {shape}"),
    "floating": N_("a floating-point tensor of shape {shape}"),
    "complex": N_("a complex tensor of shape {shape}"),
}


def dtype_family(tensor: Any) -> str:
    if tensor.dtype == torch.bool:
        return "bool"
    if tensor.dtype.is_floating_point:
        return "floating"
    if tensor.dtype.is_complex:
        return "complex"
    return "integer"


def describe_kind(value: Any) -> str:
    """What kind of thing ``value`` is, in words (translated): "a torch.float32 tensor of shape
    [4, 4]", "a str ('0.5')", "a list of 3 items"."""
    if value is None:
        return _("None (did the function return anything?)")
    if _is_tensor(value):
        return _("a {dtype} tensor of shape {shape}").format(
            dtype=value.dtype, shape=list(value.shape)
        )
    if _is_array(value):
        return _("a NumPy array ({dtype}) of shape {shape}").format(
            dtype=value.dtype, shape=list(value.shape)
        )
    if isinstance(value, bool):
        return _("a bool ({value})").format(value=value)
    if isinstance(value, str):
        text = value if len(value) <= 30 else value[:27] + "..."
        return _("a str ({text!r})").format(text=text)
    if isinstance(value, numbers.Integral):
        return _("an int")
    if isinstance(value, numbers.Real):
        return _("a float")
    if isinstance(value, (list, tuple)):
        return _("a {type} of {n} items").format(type=type(value).__name__, n=len(value))
    if callable(value):
        return _("a function")
    return _("a {type}").format(type=type(value).__name__)


def expected_kind(expected: Any) -> str:
    """What a result like ``expected`` is, in words, without its values."""
    if _is_tensor(expected):
        return _(_FAMILIES[dtype_family(expected)]).format(shape=list(expected.shape))
    if isinstance(expected, bool):
        return _("a bool (True or False)")
    if isinstance(expected, numbers.Integral):
        return _("an int")
    if is_number(expected):
        return _("a number (a float)")
    if isinstance(expected, str):
        return _("a str")
    if isinstance(expected, tuple):
        return _("a pair (a tuple of {n} items)").format(n=len(expected))
    if isinstance(expected, list):
        return _("a list")
    return _("a {type}").format(type=type(expected).__name__)


def kind_problem(got: Any, expected: Any, what: str) -> str | None:
    """Why ``got`` is not the same kind of result as ``expected`` (translated), or None.

    Tensors must match in dtype family (bool, integer, floating-point) and shape; a number may be
    an int, a float, a NumPy scalar or a one-element tensor, but not a str or a bool; a tuple
    (a pair) may also be a list of the same length; list items are checked against the first
    expected item. Values are not looked at.
    """

    def mismatch() -> str:
        return _("{what} is {got}; expected {expected}").format(
            what=what, got=describe_kind(got), expected=expected_kind(expected)
        )

    if _is_tensor(expected):
        if not _is_tensor(got):
            return mismatch()
        if dtype_family(got) != dtype_family(expected) or got.shape != expected.shape:
            return mismatch()
        return None
    if isinstance(expected, bool):
        return None if isinstance(got, bool) else mismatch()
    if is_number(expected):
        integral = isinstance(expected, numbers.Integral)
        if _is_tensor(got) and got.numel() == 1 and dtype_family(got) != "bool":
            if integral and dtype_family(got) != "integer":
                return mismatch()
            return None
        if not is_number(got) or (integral and not isinstance(got, numbers.Integral)):
            return mismatch()
        return None
    if isinstance(expected, str):
        return None if isinstance(got, str) else mismatch()
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return mismatch()
        for index, (item, template) in enumerate(zip(got, expected, strict=True)):
            problem = kind_problem(
                item, template, _("{what}, item {index}").format(what=what, index=index)
            )
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(got, (list, tuple)):
            return mismatch()
        if expected:
            for index, item in enumerate(got):
                problem = kind_problem(
                    item, expected[0], _("{what}, item {index}").format(what=what, index=index)
                )
                if problem:
                    return problem
        return None
    return None if type(got) is type(expected) else mismatch()


def tensor_values(value: Any) -> str:
    """The entries of a small tensor as a flat list, floats rounded to 4 decimals."""
    values = value.detach().cpu().flatten().tolist()
    if value.dtype.is_floating_point:
        values = [round(v, 4) for v in values]
    return repr(values)


def show(value: Any) -> str:
    """A student's (wrong) result, short enough for a message: small tensors and lists in full."""
    if _is_tensor(value):
        if value.numel() <= 12:
            return _("{values} (a {dtype} tensor of shape {shape})").format(
                values=tensor_values(value), dtype=value.dtype, shape=list(value.shape)
            )
        return describe_kind(value)
    if is_number(value):
        return format_number(float(value))
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
