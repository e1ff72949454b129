"""Checking a student's function: hidden cases, kinds before values, mistakes named only when they
explain every case.

:func:`check_function` runs the student's function on every hidden :class:`Case` (inputs cloned,
each call under the time limit), then decides in this order:

1. every result is the right kind and value → ✓;
2. a registered :class:`~companion.exercises.core.Mistake` gives the *same* outcome as the
   student's function on *every* case (the same values, or the same exception) → its message;
3. the first case on which the function raised → the exception, where, and the inputs;
4. the first result of the wrong kind (dtype family, shape, a str for a number) → what was
   expected;
5. the first wrong value → the inputs and the student's result (NaN and inf named), never the
   expected result.

:func:`implement_exercise` registers an exercise checked this way. Its ``solution`` is Python
code (an ``N_()`` text): the function it defines is what ``reference(id)`` hands out, so the
printed solution and the reference cannot differ.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from companion.exercises.answers import (
    CheckFailed,
    describe_kind,
    dtype_family,
    is_number,
    kind_problem,
    show,
    tensor_values,
)
from companion.exercises.core import (
    Exercise,
    Mistake,
    _StudentError,
    register,
    run_solution,
)
from companion.i18n import N_, _, spaced

_NO_VALUE = object()


@dataclass(frozen=True)
class Case:
    """One hidden case: the arguments, an optional ``label`` (translated words for inputs that
    cannot be printed, such as a hidden model) and, when the reference result is known only with
    the case, its ``expected`` result."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    expected: Any = _NO_VALUE


def as_case(case: Any) -> Case:
    return case if isinstance(case, Case) else Case(tuple(case))


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _clone(value: Any) -> Any:
    return value.clone() if isinstance(value, torch.Tensor) else value


def call_case(fn: Callable, case: Case) -> Outcome:
    """``fn`` on a copy of the case's inputs; the student's exceptions become an Outcome, ours
    (a mistake's function) too. Timeouts and "not attempted" propagate."""
    args = tuple(_clone(a) for a in case.args)
    kwargs = {k: _clone(v) for k, v in case.kwargs.items()}
    try:
        return Outcome(fn(*args, **kwargs))
    except _StudentError as failure:
        return Outcome(error=failure.error)
    except Exception as error:  # a typical mistake's function may raise as well
        if getattr(fn, "is_student_code", False):
            raise
        return Outcome(error=error)


# ---------------------------------------------------------------- comparing results


def same_values(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Equal within the tolerances (floats), exactly (bools, ints, strings); kinds already agree."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return False
        if expected.dtype.is_floating_point or got.dtype.is_floating_point:
            return torch.allclose(
                got.detach().double().cpu(),
                expected.detach().double().cpu(),
                rtol=rtol,
                atol=atol,
                equal_nan=True,
            )
        return torch.equal(got.cpu().long(), expected.cpu().long())
    if is_number(expected) or isinstance(expected, torch.Tensor):
        try:
            a, b = float(got), float(expected)
        except (TypeError, ValueError):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= atol + rtol * abs(b)
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(expected)
            and all(same_values(g, e, rtol, atol) for g, e in zip(got, expected, strict=True))
        )
    return bool(got == expected)


def _same_outcome(a: Outcome, b: Outcome, rtol: float, atol: float) -> bool:
    if not a.ok or not b.ok:
        return (not a.ok and not b.ok) and type(a.error) is type(b.error)
    return kind_problem(a.value, b.value, "") is None and same_values(a.value, b.value, rtol, atol)


def _non_finite(value: Any) -> str | None:
    """ "NaN" or "inf" when a result holds such a value (named in messages), else None."""
    if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
        if torch.isnan(value).any():
            return "NaN"
        if torch.isinf(value).any():
            return "inf"
    elif is_number(value) and not math.isfinite(float(value)):
        return "NaN" if math.isnan(float(value)) else "inf"
    elif isinstance(value, (list, tuple)):
        return next((p for p in map(_non_finite, value) if p), None)
    return None


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            return tensor_values(value)
        return _("a {dtype} tensor of shape {shape}").format(
            dtype=value.dtype, shape=list(value.shape)
        )
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_case(case: Case, names: Sequence[str], number: int, total: int) -> str:
    """'hidden case 2 of 5 (hyp_len=5, ref_len=6)': the inputs are shown, the answer is not."""
    if case.label:
        inputs = case.label
    else:
        parts = [
            f"{name}={_short(value)}" for name, value in zip(names, case.args, strict=False)
        ] + [f"{k}={_short(v)}" for k, v in case.kwargs.items()]
        inputs = ", ".join(parts)
    return _("hidden case {number} of {total} ({inputs})").format(
        number=number, total=total, inputs=inputs
    )


# ---------------------------------------------------------------- the check


@dataclass(frozen=True)
class FunctionSpec:
    """How an implement exercise is checked (see :func:`check_function`)."""

    cases: Callable[[], Sequence[Any]]
    expected: Callable | None = None  # an independent reference; None: each Case has .expected
    rtol: float = 1e-4
    atol: float = 1e-5
    normalise: Callable[[Any], Any] | None = None  # what is compared, e.g. a projection matrix
    kind_note: str = ""  # N_(): why the expected kind matters, added to a kind message
    before: Callable[[Callable, dict], None] | None = None  # checks before the cases
    after: Callable[[Callable, dict], str | None] | None = None  # checks once the values are right
    success: str = N_("matches the reference on {n} hidden cases.")

    def expected_outcomes(self, cases: Sequence[Case]) -> list[Any]:
        if self.expected is None:
            return [case.expected for case in cases]
        return [self.expected(*(_clone(a) for a in c.args), **c.kwargs) for c in cases]


def _names(fn: Callable) -> list[str]:
    try:
        return [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def check_function(
    answer: Callable,
    spec: FunctionSpec,
    context: dict,
    mistakes: Sequence[Mistake],
    names: Sequence[str] = (),
) -> str:
    """Check a student's function on the hidden cases of ``spec``; see the module docstring."""
    if not callable(answer):
        raise CheckFailed(
            _(
                "your answer is {kind}; expected a function (the stub's def, with your code in it)"
            ).format(kind=describe_kind(answer))
        )
    if spec.before is not None:
        spec.before(answer, context)
    cases = [as_case(c) for c in spec.cases()]
    total = len(cases)
    got = [call_case(answer, case) for case in cases]  # timeouts and "not attempted" propagate
    expected = spec.expected_outcomes(cases)
    prepare = spec.normalise or (lambda value: value)
    what = _("your function's result")

    def comparable(outcome: Outcome, like: Any) -> Outcome:
        """What is compared: the normalised result, when it is of the expected kind."""
        if not outcome.ok or kind_problem(outcome.value, like, "") is not None:
            return outcome
        try:
            return Outcome(prepare(outcome.value))
        except CheckFailed as failure:
            return Outcome(error=failure)
        except Exception as error:  # e.g. a linear-algebra error on odd values
            return Outcome(error=CheckFailed(str(error)))

    kinds = [
        kind_problem(g.value, e, what) if g.ok else None for g, e in zip(got, expected, strict=True)
    ]
    values = [comparable(g, e) for g, e in zip(got, expected, strict=True)]
    right = [
        g.ok and k is None and v.ok and same_values(v.value, prepare(e), spec.rtol, spec.atol)
        for g, k, v, e in zip(got, kinds, values, expected, strict=True)
    ]
    if all(right):
        note = _(spec.success).format(n=total)
        if spec.after is not None:
            extra = spec.after(answer, context)
            if extra:
                note += spaced(extra)
        return note
    # 2. a typical mistake, only when it explains every case
    for mistake in mistakes:
        wrong_fn = mistake.make(context)
        theirs = [
            comparable(call_case(wrong_fn, case), e)
            for case, e in zip(cases, expected, strict=True)
        ]
        if all(
            _same_outcome(g, t, spec.rtol, spec.atol) for g, t in zip(values, theirs, strict=True)
        ) and not all(
            t.ok and same_values(t.value, prepare(e), spec.rtol, spec.atol)
            for t, e in zip(theirs, expected, strict=True)
        ):
            raise CheckFailed(_(mistake.message))
    labels = [describe_case(c, names, k + 1, total) for k, c in enumerate(cases)]
    # 3. an exception
    for outcome, label in zip(got, labels, strict=True):
        if outcome.error is not None:
            raise _StudentError(outcome.error, label) from outcome.error
    # 4. the kind of the result
    for problem, label in zip(kinds, labels, strict=True):
        if problem:
            message = _("on {case}: {problem}").format(case=label, problem=problem)
            if spec.kind_note:
                message += _(". ") + _(spec.kind_note)
            raise CheckFailed(message)
    # 5. the values
    for outcome, value, ok, exp, label in zip(got, values, right, expected, labels, strict=True):
        if ok:
            continue
        bad = _non_finite(outcome.value)
        if bad and not _non_finite(exp):
            raise CheckFailed(
                _(
                    "on {case} your result contains {bad} ({meaning}); the right result is finite"
                ).format(case=label, bad=bad, meaning=_(_NON_FINITE[bad]))
            )
        if not value.ok:  # the normalisation refused the result (e.g. rows not orthonormal)
            raise CheckFailed(_("on {case}: {problem}").format(case=label, problem=value.error))
        raise CheckFailed(
            _("on {case} your function returned {got}, which is not right{detail}.").format(
                case=label, got=show(outcome.value), detail=_difference(outcome.value, exp)
            )
        )
    raise AssertionError("unreachable: some case is wrong")  # pragma: no cover


_NON_FINITE = {
    "NaN": N_("not a number: a 0/0, ∞ − ∞ or the log of a negative number"),
    "inf": N_("infinite: an overflow or a division by zero"),
}


def _difference(got: Any, expected: Any) -> str:
    """' (it differs at 3 of 12 positions)' for tensors: where, never by how much or from what."""
    if (
        isinstance(got, torch.Tensor)
        and isinstance(expected, torch.Tensor)
        and got.shape == expected.shape
        and got.numel() > 1
    ):
        a, b = got.detach().double().cpu(), expected.detach().double().cpu()
        differs = ~torch.isclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)
        return spaced(_("(it differs at {bad} of {total} positions)")).format(
            bad=int(differs.sum()), total=got.numel()
        )
    return ""


def one_thread(fn: Callable) -> Callable:
    """``fn`` run with ``torch.set_num_threads(1)``; the previous setting is restored afterwards.

    Checks push many tiny tensors through small functions and models, where extra intra-op
    threads only add synchronisation: on a busy two-core machine one thread was several times
    faster.
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return run


def implement_exercise(
    *,
    id: str,
    section: str,
    title: str,
    answer_name: str,
    spec: FunctionSpec,
    mistakes: Sequence[Mistake],
    solution: str,
    hints: Sequence[str],
    solution_note: str = "",
    timeout_hint: str = N_("is there a loop that never ends?"),
    checker: Callable[[Any, dict], str | None] | None = None,
    secrets: Callable[[dict], list] | None = None,
) -> Exercise:
    """Register an "implement" exercise: the student's function against an independent reference.

    ``solution`` is Python code defining ``answer_name`` (the stub's name); the function it defines
    is the reference answer handed out by ``reference(id)``. ``checker`` replaces
    :func:`check_function` where the check is of another nature (a sampler's statistics); it still
    receives the guarded student function. The check runs on one thread (:func:`one_thread`).
    """
    mistakes = tuple(mistakes)
    provisional = Exercise(
        id=id,
        section=section,
        kind="implement",
        title=title,
        checker=lambda answer, ctx: None,
        reference=lambda ctx: None,
        solution=solution,
        hints=tuple(hints),
        answer_name=answer_name,
        probes=lambda: [],
    )
    solved = run_solution(provisional)
    names = _names(solved)

    def default_checker(answer, context):
        return check_function(answer, spec, context, mistakes, names)

    def default_secrets(context):
        cases = [as_case(c) for c in spec.cases()]
        return spec.expected_outcomes(cases)

    return register(
        Exercise(
            id=id,
            section=section,
            kind="implement",
            title=title,
            checker=one_thread(checker or default_checker),
            reference=lambda ctx: solved,
            solution=solution,
            solution_note=solution_note,
            hints=tuple(hints),
            answer_name=answer_name,
            mistakes=mistakes,
            secrets=secrets or default_secrets,
            probes=lambda: [as_case(c) for c in spec.cases()],
            timeout_hint=timeout_hint,
        )
    )


__all__ = [
    "Case",
    "FunctionSpec",
    "Outcome",
    "call_case",
    "check_function",
    "describe_case",
    "dtype_family",
    "implement_exercise",
    "one_thread",
    "same_values",
]
