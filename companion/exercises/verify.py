"""``verify``: prove every exercise sound, property by property (``python -m companion.exercises
verify``; ``tests/test_exercises.py`` runs it).

For every exercise, from its own reference and demo objects — not from a list of probes:

* **solution** — the printed solution is the reference: an implement's solution code *is* the
  function ``reference(id)`` hands out and passes the check; a predict's code computes the value
  and its text shows it at the stated precision; an experiment's code, run on the demo objects
  under the notebook's names, measures what the checker measures;
* **reference** — the reference answer passes;
* **mistakes** — each typical mistake fails with its own message, and each suggested fix passes;
* **stub** — ``...``, ``None`` and an untouched stub count as "not attempted";
* **kinds** — wrong kinds are refused, naming what was expected: a str, a bool, a function or
  several numbers for a number; for a function's result a str, a list instead of a tensor, another
  dtype family (a float mask for a bool one), another shape;
* **precision** — right answers written at the stated precision are accepted (rounded, at the
  edges of the tolerance, as a fraction where fractions are asked for);
* **time limit** — a function that never returns is stopped within the limit, and the message
  says so; a number exercise refuses a function without calling it;
* **non-finite** — NaN and inf are named as such;
* **diagnosis** — a typical mistake made on one hidden case only is not named; the case is;
* **no leak** — no ✗ message of all the above, nor of a few plainly wrong answers, contains the
  reference value (or a hidden case's expected result).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch

from companion import i18n
from companion.exercises.answers import Precision, expected_kind, is_number
from companion.exercises.core import (
    CheckResult,
    Exercise,
    ExplainQuestion,
    _run_checker,
    list_exercises,
    list_questions,
    run_solution,
)
from companion.exercises.functions import Case, same_values
from companion.exercises.timelimit import TimeLimitExceeded, call_with_time_limit, time_limit
from companion.i18n import _

#: the time limit verify uses, so that proving it on every exercise stays quick
LIMIT = 0.1
#: how long a stopped check may take beyond the limit (thread start, unwinding, one more case)
SLACK = 1.5

PROPERTIES = (
    "solution",
    "reference",
    "mistakes",
    "stub",
    "kinds",
    "precision",
    "time limit",
    "non-finite",
    "diagnosis",
    "no leak",
)


class _Probe:
    """Runs answers through an exercise's checker and keeps every ✗ message for the leak scan."""

    def __init__(self, exercise: Exercise, context: dict):
        self.exercise, self.context = exercise, context
        # (what was tried, message, the answer's own results: a message may show those)
        self.failures: list[tuple[str, str, list]] = []

    def run(self, answer: Any, what: str) -> CheckResult:
        result = _run_checker(self.exercise, answer, self.context)
        if result.attempted and not result.passed:
            self.failures.append((what, result.message, self._own_results(answer)))
        return result

    def _own_results(self, answer: Any) -> list:
        if not callable(answer):
            return [answer]
        if self.exercise.probes is None:
            return []
        results = []
        with time_limit(LIMIT):
            for case in _cases(self.exercise)[:8]:
                try:
                    results.append(call_with_time_limit(answer, *case.args, **case.kwargs))
                except TimeLimitExceeded:
                    break
                except BaseException:  # a NotImplementedError, a TypeError, …
                    results.append(None)
        return results


# ---------------------------------------------------------------- properties


def _stated(exercise: Exercise) -> Precision:
    """The precision a predict or experiment states (every such exercise has one)."""
    if exercise.precision is None:
        raise ValueError(f"{exercise.id} states no precision")
    return exercise.precision


def _cases(exercise: Exercise) -> list[Case]:
    return list(exercise.probes()) if exercise.probes is not None else []


def _solution(exercise: Exercise, probe: _Probe) -> list[str]:
    problems = []
    if not exercise.solution.strip() or not all(h.strip() for h in exercise.hints):
        problems.append("an empty solution or hint")
    if not exercise.title.strip() or not exercise.section.strip():
        problems.append("an empty title or section")
    names = exercise.solution_names(probe.context) if exercise.solution_names else None
    try:
        solved = run_solution(exercise, names=names)
    except Exception as error:
        return [*problems, f"the solution code raised {type(error).__name__}: {error}"]
    if exercise.kind == "implement":
        result = probe.run(solved, "the solution code")
        if not result.passed:
            problems.append(f"the solution code does not pass: {result.message}")
    else:
        expected = exercise.reference(probe.context)
        if exercise.kind == "predict" and not math.isclose(
            float(solved), float(expected), rel_tol=1e-9, abs_tol=1e-12
        ):
            problems.append(
                f"the solution code computes {solved}, the exercise's value is {expected}"
            )
        elif not _stated(exercise).accepts(float(solved), float(expected)):
            problems.append(f"the solution code measures {solved}, the checker {expected}")
        problems += _translated_solutions(exercise, probe, solved, names)
        if exercise.kind == "predict" and not _shows(
            exercise.solution + exercise.solution_note, expected, _stated(exercise).decimals
        ):
            problems.append(
                f"the solution's text never shows the answer "
                f"{_stated(exercise).rounded(expected)} at the stated precision"
            )
    return problems


def _translated_solutions(exercise: Exercise, probe: _Probe, solved: Any, names: Any) -> list[str]:
    """A translator may translate the comments of a solution's code: the code must still run and
    give the same answer (checked for every catalog that translates it)."""
    problems = []
    for language in i18n.LANGUAGES:
        if language == "en":
            continue
        translated = i18n.translations(language).get(exercise.solution)
        if not translated or translated == exercise.solution:
            continue
        try:
            other = run_solution(exercise, text=translated, names=names)
        except Exception as error:
            problems.append(f"the {language} solution code raised {type(error).__name__}: {error}")
            continue
        if exercise.kind == "implement":
            if not probe.run(other, f"the {language} solution code").passed:
                problems.append(f"the {language} solution code does not pass")
        elif not math.isclose(float(other), float(solved), rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"the {language} solution code computes another answer")
    return problems


def _numbers_in(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?", text.replace("−", "-"))


def _shows(text: str, value: float, decimals: int) -> bool:
    for token in _numbers_in(text):
        number = float(token.replace(",", ""))
        shown = len(token.split(".")[1]) if "." in token else 0
        if shown >= decimals and round(number, decimals) == round(value, decimals):
            return True
    return False


def _reference(exercise: Exercise, probe: _Probe) -> list[str]:
    result = probe.run(exercise.reference(probe.context), "the reference")
    return [] if result.passed else [f"the reference fails: {result.message}"]


def _mistakes(exercise: Exercise, probe: _Probe) -> list[str]:
    problems = []
    if exercise.kind in ("implement", "predict") and not exercise.mistakes:
        problems.append(f"a {exercise.kind} exercise registers no typical mistake")
    for mistake in exercise.mistakes:
        try:
            wrong = mistake.make(probe.context)
        except Exception as error:
            problems.append(f"mistake {mistake.name!r} could not be built: {error}")
            continue
        result = probe.run(wrong, f"mistake {mistake.name}")
        if result.passed or not result.attempted:
            problems.append(f"mistake {mistake.name!r} is not caught ({result.message})")
        elif _(mistake.message) not in result.message:
            problems.append(
                f"mistake {mistake.name!r} fails with another message: {result.message!r}"
            )
        if mistake.fix is not None:
            fixed = probe.run(mistake.fix(probe.context), f"the fix of {mistake.name}")
            if not fixed.passed:
                problems.append(
                    f"the fix that mistake {mistake.name!r} suggests does not pass: {fixed.message}"
                )
    return problems


def _stub(exercise: Exercise, probe: _Probe) -> list[str]:
    def stub(*args, **kwargs):
        raise NotImplementedError  # your code here

    answers = [None, ...] + ([stub] if exercise.kind == "implement" else [])
    return [
        f"{answer!r} does not count as 'not attempted'"
        for answer in answers
        if probe.run(answer, "a stub").attempted
    ]


def _wrong_kinds(exercise: Exercise) -> list[tuple[str, Callable[[Any], Any]]]:
    """(name, transform of a correct result) pairs that change its kind but not its values."""
    return [
        ("a str", lambda out: str(out)),
        (
            "a list instead of a tensor",
            lambda out: out.tolist() if isinstance(out, torch.Tensor) else out,
        ),
        (
            "one more dimension",
            lambda out: out.unsqueeze(0) if isinstance(out, torch.Tensor) else out,
        ),
        (
            "a float mask or float ids",
            lambda out: (
                out.float()
                if isinstance(out, torch.Tensor) and not out.dtype.is_floating_point
                else out
            ),
        ),
        (
            "an int64 mask",
            lambda out: (
                out.long() if isinstance(out, torch.Tensor) and out.dtype == torch.bool else out
            ),
        ),
    ]


def _kinds(exercise: Exercise, probe: _Probe) -> list[str]:
    problems = []
    if exercise.kind == "implement":
        solved = exercise.reference(probe.context)
        expected = [
            out for case in _cases(exercise) for out in [_call(solved, case)] if out is not None
        ]
        if not expected:
            return ["no hidden case gives a result to change the kind of"]
        kinds = {expected_kind(out) for out in expected}
        for name, transform in _wrong_kinds(exercise):
            if all(transform(out) is out for out in expected):
                continue  # does not apply to this result
            result = probe.run(_wrapped(solved, transform), name)
            if result.passed:
                problems.append(f"a result changed to {name} passes")
            elif not any(kind in result.message for kind in kinds):
                problems.append(
                    f"{name}: the message does not name the expected kind: {result.message!r}"
                )
        return problems
    value = float(exercise.reference(probe.context))
    called = []

    def a_function(*args, **kwargs):
        called.append(True)
        return value

    wrong: dict[str, Any] = {
        "a bool": True,
        "a function": a_function,
        "several numbers": torch.tensor([value, value]),
        "a list": [value],
    }
    if not _stated(exercise).fractions:
        wrong["a str"] = _stated(exercise).rounded(value)
    for name, answer in wrong.items():
        result = probe.run(answer, name)
        if result.passed or not result.attempted:
            problems.append(f"{name} is not refused ({result.message})")
        elif "number" not in result.message and _("number") not in result.message:
            problems.append(f"{name}: the message does not ask for a number: {result.message!r}")
    if called:
        problems.append("a function given as a number was called")
    return problems


def _call(fn: Callable, case: Case) -> Any:
    try:
        return fn(*case.args, **case.kwargs)
    except Exception:
        return None


def _wrapped(fn: Callable, transform: Callable[[Any], Any]) -> Callable:
    def answer(*args, **kwargs):
        return transform(fn(*args, **kwargs))

    return answer


def _precision(exercise: Exercise, probe: _Probe) -> list[str]:
    if exercise.kind == "implement":
        return []
    precision, value = _stated(exercise), float(exercise.reference(probe.context))
    right: dict[str, Any] = {
        "rounded": float(precision.rounded(value)),
        "at the upper edge": value + 0.9 * precision.tolerance,
        "at the lower edge": value - 0.9 * precision.tolerance,
        "as a tensor": torch.tensor(value),
    }
    if precision.fractions:
        fraction = Fraction(value).limit_denominator(1000)
        if precision.accepts(float(fraction), value):
            right["as a fraction"] = f"{fraction.numerator}/{fraction.denominator}"
        right["as a string"] = precision.rounded(value)
    return [
        f"a right answer {name} ({answer!r}) is refused: {result.message}"
        for name, answer in right.items()
        for result in [probe.run(answer, name)]
        if not result.passed
    ]


def _time_limit(exercise: Exercise, probe: _Probe) -> list[str]:
    def forever(*args, **kwargs):
        while True:
            pass

    start = time.perf_counter()
    with time_limit(LIMIT):
        result = probe.run(forever, "an endless loop")
    seconds = time.perf_counter() - start
    problems = []
    if result.passed or not result.attempted:
        problems.append(f"an endless loop is not refused ({result.message})")
    if seconds > LIMIT + SLACK:
        problems.append(f"an endless loop took {seconds:.1f} s to stop (limit {LIMIT} s)")
    if exercise.kind == "implement" and f"{LIMIT:g} s" not in result.message:
        problems.append(f"the message does not state the time limit: {result.message!r}")
    return problems


def _non_finite(exercise: Exercise, probe: _Probe) -> list[str]:
    problems = []
    if exercise.kind != "implement":
        for name, answer in (("NaN", math.nan), ("inf", math.inf)):
            result = probe.run(answer, name)
            if result.passed or name not in result.message:
                problems.append(f"{name} is not named as such: {result.message!r}")
        return problems
    solved = exercise.reference(probe.context)
    outputs = [_call(solved, case) for case in _cases(exercise)]
    if not all(_floating(out) for out in outputs):
        return []

    def with_nan(*args, **kwargs):
        out = solved(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            out = out.detach().clone().contiguous()
            out.view(-1)[0] = math.nan
            return out
        return math.nan

    result = probe.run(with_nan, "a NaN in the result")
    if result.passed or "NaN" not in result.message:
        problems.append(f"a NaN in the result is not named: {result.message!r}")
    return problems


def _floating(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dtype.is_floating_point and value.numel() > 0
    return isinstance(value, float)


def _same_inputs(args: tuple, kwargs: dict, case: Case) -> bool:
    def same(a: Any, b: Any) -> bool:
        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            return (
                isinstance(a, torch.Tensor)
                and isinstance(b, torch.Tensor)
                and a.shape == b.shape
                and torch.equal(a, b)
            )
        return a is b or a == b

    return (
        len(args) == len(case.args)
        and all(same(a, b) for a, b in zip(args, case.args, strict=True))
        and kwargs.keys() == case.kwargs.keys()
        and all(same(kwargs[k], case.kwargs[k]) for k in kwargs)
    )


def _diagnosis(exercise: Exercise, probe: _Probe) -> list[str]:
    if exercise.kind != "implement" or exercise.probes is None:
        return []
    problems = []
    solved = exercise.reference(probe.context)
    cases = _cases(exercise)
    for mistake in (m for m in exercise.mistakes if m.by_cases):
        wrong_fn = mistake.make(probe.context)
        differing = [
            case
            for case in cases
            for right, wrong in [(_outcome(solved, case), _outcome(wrong_fn, case))]
            if not _agree(right, wrong)
        ]
        if len(differing) < 2:
            continue  # the mistake shows on one case only: there it explains everything
        first = differing[0]

        def hybrid(*args, _wrong=wrong_fn, _first=first, **kwargs):
            if _same_inputs(args, kwargs, _first):
                return _wrong(*args, **kwargs)
            return solved(*args, **kwargs)

        result = probe.run(hybrid, f"mistake {mistake.name} on one case")
        if result.passed:
            problems.append(f"mistake {mistake.name!r} on one case only passes")
        elif _(mistake.message) in result.message:
            problems.append(
                f"mistake {mistake.name!r} made on one hidden case only is named as if it "
                "explained every case"
            )
        elif _("hidden case") not in result.message and "hidden case" not in result.message:
            problems.append(
                f"mistake {mistake.name!r} on one case: the message does not say which case "
                f"differs: {result.message!r}"
            )
    return problems


def _outcome(fn: Callable, case: Case) -> tuple[str, Any]:
    try:
        return ("value", fn(*case.args, **case.kwargs))
    except Exception as error:
        return ("error", type(error))


def _agree(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a[1] is b[1]
    try:
        return same_values(b[1], a[1], 1e-4, 1e-5)
    except Exception:
        return False


def _plainly_wrong(exercise: Exercise, probe: _Probe) -> None:
    """A few wrong answers that are no typical mistake, for the leak scan."""
    if exercise.kind != "implement":
        value, tolerance = float(exercise.reference(probe.context)), _stated(exercise).tolerance
        for answer in (value * 1.13 + 7 * tolerance, value - 9 * tolerance, -value - 1, 0.0):
            probe.run(answer, "a wrong number")
        return
    solved = exercise.reference(probe.context)

    def perturbed(*args, **kwargs):
        out = solved(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            if out.dtype == torch.bool:
                return ~out
            return out * 1.01 + 0.01 if out.dtype.is_floating_point else out + 1
        if is_number(out):
            return float(out) * 1.01 + 0.01
        if isinstance(out, (list, tuple)):
            return type(out)(reversed(out))
        return out

    probe.run(perturbed, "a perturbed result")


# ---------------------------------------------------------------- the leak scan


def _secret_numbers(values: list, public: set[float]) -> list[float]:
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            if value.dtype.is_floating_point:
                found.extend(value.detach().double().flatten()[:200].tolist())
            elif value.dtype != torch.bool and value.numel() == 1:
                found.append(float(value.item()))
        elif is_number(value):
            found.append(float(value))
        elif isinstance(value, (list, tuple)):
            for item in value[:200]:
                walk(item)

    for value in values:
        walk(value)
    return [v for v in found if math.isfinite(v) and round(v, 4) not in public]


def _public_numbers(exercise: Exercise) -> set[float]:
    """Numbers shown in the inputs of hidden cases: a message may repeat them."""
    public: set[float] = set()
    if exercise.probes is None:
        return public
    for case in _cases(exercise):
        for value in [*case.args, *case.kwargs.values()]:
            if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
                public.update(round(v, 4) for v in value.double().flatten()[:500].tolist())
            elif is_number(value):
                public.add(round(float(value), 4))
    return public


def leaked(
    message: str, secret: float, public: frozenset[float] | set[float] = frozenset()
) -> bool:
    """Whether ``message`` shows ``secret``: a number in it equals the secret at its own precision
    (integers from 10 up; other numbers with at least 3 significant digits) and is not one of the
    ``public`` numbers (the hidden cases' inputs, which messages may repeat)."""
    for token in _numbers_in(message):
        number = float(token.replace(",", ""))
        if round(number, 4) in public:
            continue
        if float(secret).is_integer() and "." not in token:
            if abs(secret) >= 10 and number == secret:
                return True
            continue
        if float(secret).is_integer():
            continue
        decimals = len(token.split(".")[1]) if "." in token else 0
        digits = len(token.replace("-", "").replace(",", "").replace(".", "").lstrip("0"))
        if digits >= 3 and round(secret, decimals) == number:
            return True
    return False


def _token_lists(values: list) -> list[list[int]]:
    found = []
    for value in values:
        if isinstance(value, (list, tuple)):
            if len(value) >= 2 and all(isinstance(v, int) for v in value):
                found.append(list(value))
            else:
                found.extend(_token_lists(list(value)))
    return found


def _no_leak(exercise: Exercise, probe: _Probe) -> list[str]:
    _plainly_wrong(exercise, probe)
    secrets = exercise.secrets(probe.context) if exercise.secrets else []
    numbers = _secret_numbers(secrets, _public_numbers(exercise))
    token_lists = _token_lists(secrets)
    problems = []
    public = _public_numbers(exercise)
    for what, message, own in probe.failures:
        body = re.split(r": |：", message, maxsplit=1)[-1]  # not the id "✗ 5.3.7-…"
        body = re.sub(r"(?<=[\s(\[])'[^']*'", "''", body)  # nor the student's own strings
        mine = {round(v, 4) for v in _secret_numbers(own, set())}  # the student's own results
        shown = next(
            (s for s in numbers if round(s, 4) not in mine and leaked(body, s, public)), None
        )
        if shown is not None:
            problems.append(
                f"the ✗ message for {what} shows the reference value {shown:g}: {message!r}"
            )
        own_lists = _token_lists(own)
        for tokens in token_lists:
            if tokens not in own_lists and str(tokens) in body:
                problems.append(
                    f"the ✗ message for {what} shows a hidden result {tokens}: {message!r}"
                )
    if not probe.failures:
        problems.append("no ✗ message was produced at all")
    return problems


_CHECKS = {
    "solution": _solution,
    "reference": _reference,
    "mistakes": _mistakes,
    "stub": _stub,
    "kinds": _kinds,
    "precision": _precision,
    "time limit": _time_limit,
    "non-finite": _non_finite,
    "diagnosis": _diagnosis,
    "no leak": _no_leak,  # last: it scans the messages of all the others
}


def verify_exercise(exercise: Exercise) -> list[str]:
    """Problems with one exercise, each prefixed with its id and the property; empty when sound."""
    try:
        context = exercise.demo_context() if exercise.demo_context else {}
    except Exception as error:
        return [f"{exercise.id}: demo_context raised {type(error).__name__}: {error}"]
    probe = _Probe(exercise, context)
    problems = []
    for name in PROPERTIES:
        try:
            found = _CHECKS[name](exercise, probe)
        except Exception as error:  # a broken property is a problem, not a crash
            found = [f"raised {type(error).__name__}: {error}"]
        problems += [f"{exercise.id}: [{name}] {p}" for p in found]
    return problems


def verify_question(question: ExplainQuestion) -> list[str]:
    problems = []
    if not question.title.strip() or not question.answer.strip() or not question.section.strip():
        problems.append(f"{question.id}: an empty title, section or model answer")
    if len(question.answer.split()) < 25:
        problems.append(f"{question.id}: a model answer of fewer than 25 words")
    return problems


def verify(exercises: list[Exercise] | None = None) -> list[str]:
    """Problems across all (or the given) exercises and questions; empty when all are sound."""
    found = [
        p
        for e in (list_exercises() if exercises is None else exercises)
        for p in verify_exercise(e)
    ]
    if exercises is None:
        found += [p for q in list_questions() for p in verify_question(q)]
    return found
