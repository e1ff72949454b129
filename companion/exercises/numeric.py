"""Checking a number: worked out by hand (``predict``) or measured on the notebook's objects
(``experiment``, which the checker measures again).

A number is first checked for being a number (not a str, a bool, a function or several numbers;
NaN and inf named), then compared at the precision the prompt states (:class:`Precision`). A
wrong number is named as a typical mistake when it matches one at that precision; otherwise the
message says only whether it is too large or too small — never the right or re-measured value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from companion.exercises.answers import CheckFailed, Precision, as_number, format_number
from companion.exercises.core import Exercise, Mistake, register
from companion.exercises.functions import one_thread
from companion.i18n import N_, _


def check_number(
    answer: Any,
    expected: float,
    precision: Precision,
    context: dict,
    mistakes: Sequence[Mistake],
    *,
    what: str,
    success: str = N_("{value} is right."),
) -> str:
    """Compare a number with the expected one at ``precision``; name a mistake it matches."""
    value = as_number(answer, what, fractions=precision.fractions)
    if precision.accepts(value, expected):
        return _(success).format(value=format_number(value))
    for mistake in mistakes:
        wrong = float(mistake.make(context))
        if precision.accepts(value, wrong) and not precision.accepts(wrong, expected):
            raise CheckFailed(_(mistake.message))
    if value > expected:
        template = N_(
            "{value} is too large. (Give it {precision}: answers within ±{tolerance} of the exact "
            "value count.) hint({id!r}) gives a hint."
        )
    else:
        template = N_(
            "{value} is too small. (Give it {precision}: answers within ±{tolerance} of the exact "
            "value count.) hint({id!r}) gives a hint."
        )
    raise CheckFailed(
        _(template).format(
            value=format_number(value),
            precision=precision.phrase(),
            tolerance=f"{precision.tolerance:g}",
            id=context.get("__id__", "…"),
        )
    )


def _value_mistakes(mistakes: Sequence[tuple[str, float, str]]) -> tuple[Mistake, ...]:
    return tuple(
        Mistake(name, (lambda v: lambda ctx: v)(wrong), message)
        for name, wrong, message in mistakes
    )


def predict_exercise(
    *,
    id: str,
    section: str,
    title: str,
    value: float,
    precision: Precision,
    answer_name: str,
    mistakes: Sequence[tuple[str, float, str]],
    solution: str,
    hints: Sequence[str],
    solution_note: str = "",
) -> Exercise:
    """Register a "predict" exercise: a number worked out by hand, and its typical wrong numbers.

    ``mistakes`` are ``(name, wrong_value, message)``; an answer that matches a wrong value at the
    stated precision (and not the right one) gets that message. ``solution`` is Python code that
    computes ``answer_name``; ``verify`` proves it equals ``value``.
    """
    typical = _value_mistakes(mistakes)
    return register(
        Exercise(
            id=id,
            section=section,
            kind="predict",
            title=title,
            checker=lambda answer, ctx: check_number(
                answer,
                value,
                precision,
                {**ctx, "__id__": id},
                typical,
                what=_("your number"),
            ),
            reference=lambda ctx: value,
            solution=solution,
            solution_note=solution_note,
            hints=tuple(hints),
            answer_name=answer_name,
            mistakes=typical,
            precision=precision,
            secrets=lambda ctx: [value],
        )
    )


def experiment_exercise(
    *,
    id: str,
    section: str,
    title: str,
    measure: Callable[[dict], float],
    precision: Precision,
    answer_name: str,
    mistakes: Sequence[tuple[str, Callable[[dict], float], str]],
    solution: str,
    solution_names: Callable[[dict], dict],
    hints: Sequence[str],
    needs: Sequence[str],
    demo_context: Callable[[], dict],
    solution_note: str = "",
    success: str = N_("{value} matches what the checker measured again on your objects."),
) -> Exercise:
    """Register an "experiment": the checker measures ``measure(context)`` again on the student's
    objects and compares at ``precision``.

    ``mistakes`` are ``(name, wrong_measure(context), message)``: numbers a typical slip produces.
    ``solution`` is the notebook code that measures it, using the notebook's names;
    ``solution_names(context)`` binds those names to the context's objects so that ``verify`` can
    run the solution and compare it with ``measure``. ``success`` may use ``{value}``.
    """
    typical = tuple(Mistake(name, make, message) for name, make, message in mistakes)
    measured = one_thread(measure)

    def checker(answer, context):
        # the kind of the answer first: a str or a function is refused before anything is measured
        as_number(answer, _("your measurement"), fractions=precision.fractions)
        return check_number(
            answer,
            measured(context),
            precision,
            {**context, "__id__": id},
            typical,
            what=_("your measurement"),
            success=success,
        )

    return register(
        Exercise(
            id=id,
            section=section,
            kind="experiment",
            title=title,
            checker=checker,
            reference=measured,
            solution=solution,
            solution_note=solution_note,
            hints=tuple(hints),
            answer_name=answer_name,
            mistakes=typical,
            needs=tuple(needs),
            demo_context=demo_context,
            precision=precision,
            solution_names=solution_names,
            secrets=lambda ctx: [measured(ctx)],
        )
    )
