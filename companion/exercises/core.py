"""The machinery behind the notebooks' "Exercises（练习）"
sections: register, check, hint, solution.

An :class:`Exercise` has an id ``"<notebook section>-<slug>"`` (``"5.2.6-kl"``), a kind
(``predict``: a number worked out by hand; ``implement``: a function the section teaches;
``experiment``: a number measured on the notebook's own model), a *checker*, a *reference*
answer, 1–3 graded hints, a worked solution and the typical wrong answers (:class:`Mistake`).

The idea of question ids and of public vs hidden test cases is borrowed from otter-grader; the
checks themselves are plain Python that runs offline, in a second, with only ``companion``.

A checker ``checker(answer, context)`` raises :class:`CheckFailed` with a message for the
student, or returns ``None`` (or a short success note). Exceptions raised *by the student's
function* while the checker runs are caught and reported; ``NotImplementedError`` from the stub
means "not attempted yet".
"""

from __future__ import annotations

import difflib
import functools
import importlib
import math
import pkgutil
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("predict", "implement", "experiment")


class CheckFailed(Exception):
    """Raised by a checker; its message is what the student reads after ✗."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``make(context)`` builds
    it, ``message`` is how the checker names it.
    """

    name: str
    make: Callable[[dict], Any]
    message: str


@dataclass(frozen=True)
class Exercise:
    id: str
    section: str
    kind: str
    title: str
    checker: Callable[[Any, dict], str | None]
    reference: Callable[[dict], Any]
    solution_text: str
    hints: tuple[str, ...]
    mistakes: tuple[Mistake, ...] = ()
    needs: tuple[str, ...] = ()
    demo_context: Callable[[], dict] | None = None

    @property
    def notebook(self) -> str:
        """The section number of the notebook the exercise lives in (the id's prefix)."""
        return self.id.split("-", 1)[0]

    def __post_init__(self) -> None:
        if "-" not in self.id or not self.id.split("-", 1)[1]:
            raise ValueError(f"exercise id must look like '<section>-<slug>', got {self.id!r}")
        if self.kind not in KINDS:
            raise ValueError(f"exercise {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if not 1 <= len(self.hints) <= 3:
            raise ValueError(f"exercise {self.id}: give 1 to 3 hints, got {len(self.hints)}")
        if self.needs and self.demo_context is None:
            raise ValueError(
                f"exercise {self.id} needs {self.needs} but has no demo_context for verify"
            )
        names = [m.name for m in self.mistakes]
        if len(set(names)) != len(names):
            raise ValueError(f"exercise {self.id}: mistake names repeat: {names}")


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    attempted: bool
    message: str

    def __str__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        # check() has already printed the message; don't print it a second time as a cell result.
        pass


class Progress(dict):
    """{exercise id: "passed" | "failed" | "not attempted"}, returned by :func:`progress`."""

    def _ipython_display_(self) -> None:
        # progress() has already printed the table; don't print the dict as a cell result too.
        pass


# ---------------------------------------------------------------- registry

_REGISTRY: dict[str, Exercise] = {}
_LOADED = False
_HINTS_SHOWN: dict[str, int] = {}
_RESULTS: dict[str, CheckResult] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (modules ``ex_*.py`` call this on import)."""
    if exercise.id in _REGISTRY:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


def _load_all() -> None:
    """Import every ``companion.exercises.ex_*`` module
    once (lazily: ``import companion`` stays cheap).
    """
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    package = importlib.import_module("companion.exercises")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("ex_"):
            importlib.import_module(f"companion.exercises.{info.name}")


def _section_key(exercise_id: str) -> tuple:
    head, _, tail = exercise_id.partition("-")
    return tuple(int(p) if p.isdigit() else 0 for p in head.split("."))


def _book_order(exercise: Exercise) -> tuple:
    """Notebooks in book order; inside one, predict → implement → experiment, then as registered."""
    return (
        _section_key(exercise.id),
        KINDS.index(exercise.kind),
        list(_REGISTRY).index(exercise.id),
    )


def list_exercises(prefix: str | None = None) -> list[Exercise]:
    """All registered exercises in book order,
    optionally only those of a notebook/section prefix.
    """
    _load_all()
    found = [e for e in _REGISTRY.values() if prefix is None or _matches(e, prefix)]
    return sorted(found, key=_book_order)


def _matches(exercise: Exercise, prefix: str) -> bool:
    notebooks = {e.notebook for e in _REGISTRY.values()}
    if prefix in notebooks:  # "5.1" is the notebook 5.1, not 5.1.3 as well
        return exercise.notebook == prefix
    return exercise.notebook.startswith(prefix + ".") or exercise.id.startswith(prefix)


def get(exercise_id: str) -> Exercise:
    """The registered exercise with this id; a ``ValueError`` listing close ids otherwise."""
    _load_all()
    if not isinstance(exercise_id, str):
        raise TypeError(
            f"an exercise id is a string such as '5.2.6-kl', got {type(exercise_id).__name__}"
        )
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    close = difflib.get_close_matches(exercise_id, list(_REGISTRY), n=5, cutoff=0.5)
    same_notebook = [i for i in _REGISTRY if i.split("-")[0] == exercise_id.split("-")[0]]
    suggestions = close or sorted(same_notebook)
    hint_text = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    raise ValueError(
        f"no exercise with id {exercise_id!r}{hint_text} "
        "(python -m companion.exercises list shows them all)"
    )


# ---------------------------------------------------------------- student code


class _NotAttempted(Exception):
    pass


class _StudentError(Exception):
    def __init__(self, error: BaseException, where: str):
        super().__init__(str(error))
        self.error = error
        self.where = where


def _is_unattempted(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _guard(answer: Any) -> Any:
    """Wrap a student's function so that its exceptions reach check() marked as the student's."""
    if not callable(answer) or isinstance(answer, type):
        return answer

    @functools.wraps(answer)
    def guarded(*args, **kwargs):
        try:
            return answer(*args, **kwargs)
        except NotImplementedError as error:
            raise _NotAttempted() from error
        except (CheckFailed, _NotAttempted, _StudentError):
            raise
        except Exception as error:  # any error in student code is reported
            raise _StudentError(error, getattr(answer, "__name__", "your function")) from error

    return guarded


def _context_for(exercise: Exercise, context: dict) -> dict:
    missing = [key for key in exercise.needs if key not in context]
    if missing:
        raise ValueError(
            f"check({exercise.id!r}, ...) needs {', '.join(missing)}: pass "
            + ", ".join(f"{k}=..." for k in missing)
            + " (the notebook's own objects)"
        )
    return context


def _run_checker(exercise: Exercise, answer: Any, context: dict) -> CheckResult:
    """Run the checker on a (guarded) answer and turn every outcome into a CheckResult."""
    if _is_unattempted(answer):
        return CheckResult(False, False, _not_attempted_message(exercise))
    try:
        note = exercise.checker(_guard(answer), context)
    except _NotAttempted:
        return CheckResult(False, False, _not_attempted_message(exercise))
    except _StudentError as failure:
        error = failure.error
        return CheckResult(
            False,
            True,
            f"✗ {exercise.id}: your function raised {type(error).__name__}: {error}{_where(error)}",
        )
    except CheckFailed as failure:
        return CheckResult(False, True, f"✗ {exercise.id}: {failure}")
    except Exception as error:  # e.g. a wrong type that the checker could not use
        last = traceback.extract_tb(error.__traceback__)[-1]
        return CheckResult(
            False,
            True,
            f"✗ {exercise.id}: your answer could not be checked "
            f"({type(error).__name__}: {error}; in {last.name}). "
            f"Is it the right kind of answer? {_expected(exercise)}",
        )
    return CheckResult(True, True, f"✓ {exercise.id}: " + (note or "correct."))


def _where(error: BaseException) -> str:
    """' (in f, line n: code)' for the last frame of the student's own code, if there is one."""
    import torch  # the student's code called into torch, which may have raised

    library = (str(Path(__file__).parent), str(Path(torch.__file__).parent))
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(library)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = (frame.line or "").strip()
    return f" (in {frame.name}, line {frame.lineno}{': ' + code if code else ''})"


def _expected(exercise: Exercise) -> str:
    return {
        "implement": "A function with the stub's signature, returning a tensor.",
        "predict": "A number.",
        "experiment": "The number you measured.",
    }[exercise.kind]


def _not_attempted_message(exercise: Exercise) -> str:
    what = {
        "implement": "replace `raise NotImplementedError` in the stub with your code",
        "predict": "replace `...` with your number",
        "experiment": "replace `...` with the number you measured",
    }[exercise.kind]
    return f"not attempted yet — {exercise.id}: {what}, then run this cell again."


# ---------------------------------------------------------------- the student's API


def check(exercise_id: str, answer: Any = None, **context: Any) -> CheckResult:
    """Check an answer, print ✓/✗/not attempted with a short message, and return a CheckResult.

    Never raises because of the answer (errors in your code are reported); raises ValueError for an
    unknown id or a missing context object such as ``model=``.
    """
    exercise = get(exercise_id)
    result = _run_checker(exercise, answer, _context_for(exercise, context))
    _RESULTS[exercise.id] = result
    print(result.message)
    return result


def hint(exercise_id: str) -> None:
    """Print the next hint for an exercise (they get more specific); the last one repeats."""
    exercise = get(exercise_id)
    shown = _HINTS_SHOWN.get(exercise.id, 0)
    total = len(exercise.hints)
    index = min(shown, total - 1)
    _HINTS_SHOWN[exercise.id] = shown + 1
    text = f"Hint {index + 1}/{total} for {exercise.id}: {exercise.hints[index]}"
    if shown >= total:
        text += (
            f"\n(That was the last hint, shown again; solution({exercise.id!r}) prints "
            "the worked solution.)"
        )
    print(text)


def solution(exercise_id: str) -> None:
    """Print the worked solution of an exercise."""
    exercise = get(exercise_id)
    print(f"Solution of {exercise.id} ({exercise.title}):\n{exercise.solution_text.strip()}")


def reference(exercise_id: str, **context: Any) -> Any:
    """The reference answer, silently: a function (implement) or a value (predict, experiment)."""
    exercise = get(exercise_id)
    return exercise.reference(_context_for(exercise, context))


def progress(section_prefix: str | None = None) -> Progress:
    """Print which exercises passed, failed or are not attempted yet in this kernel.

    ``section_prefix`` is a notebook ("5.2.6") or a section prefix ("5.2"); by default, every
    notebook in which you have checked something so far. Returns ``{id: status}``.
    """
    _load_all()
    if section_prefix is None:
        notebooks = sorted({_REGISTRY[i].notebook for i in _RESULTS}, key=_section_key)
        exercises = [e for n in notebooks for e in list_exercises(n)]
        if not exercises:
            print("No exercise checked yet in this kernel; progress('5.2.6') shows one notebook's.")
            return Progress()
    else:
        exercises = list_exercises(section_prefix)
        if not exercises:
            raise ValueError(f"no exercises under {section_prefix!r}")
    statuses = Progress()
    for exercise in exercises:
        result = _RESULTS.get(exercise.id)
        if result is None or not result.attempted:
            statuses[exercise.id] = "not attempted"
        else:
            statuses[exercise.id] = "passed" if result.passed else "failed"
    marks = {"passed": "✓", "failed": "✗", "not attempted": "·"}
    width = max(len(i) for i in statuses)
    for exercise in exercises:
        status = statuses[exercise.id]
        print(f"{marks[status]} {exercise.id:<{width}}  {status:<13}  {exercise.title}")
    done = sum(s == "passed" for s in statuses.values())
    print(f"{done}/{len(statuses)} passed")
    return statuses


# --------------------------------------------------------------- verify (used by the CLI and tests)


def verify_exercise(exercise: Exercise) -> list[str]:
    """Problems with one exercise: the reference must
    pass, each mistake must fail with its message.
    """
    problems = []
    try:
        context = exercise.demo_context() if exercise.demo_context else {}
    except Exception as error:  # verify reports every failure instead of stopping
        return [f"{exercise.id}: demo_context raised {type(error).__name__}: {error}"]
    try:
        answer = exercise.reference(context)
    except Exception as error:
        return [f"{exercise.id}: reference raised {type(error).__name__}: {error}"]
    result = _run_checker(exercise, answer, context)
    if not result.passed:
        problems.append(f"{exercise.id}: the reference fails: {result.message}")
    if not exercise.solution_text.strip() or not all(h.strip() for h in exercise.hints):
        problems.append(f"{exercise.id}: an empty solution or hint")
    if exercise.kind in ("implement", "predict") and not exercise.mistakes:
        problems.append(f"{exercise.id}: a {exercise.kind} exercise registers no typical mistake")
    for mistake in exercise.mistakes:
        try:
            wrong = mistake.make(context)
        except Exception as error:
            problems.append(f"{exercise.id}: mistake {mistake.name!r} could not be built: {error}")
            continue
        result = _run_checker(exercise, wrong, context)
        if result.passed or not result.attempted:
            problems.append(
                f"{exercise.id}: mistake {mistake.name!r} is not caught ({result.message})"
            )
        elif mistake.message not in result.message:
            problems.append(
                f"{exercise.id}: mistake {mistake.name!r} fails with another message: "
                f"{result.message!r}; expected it to contain {mistake.message!r}"
            )
    if exercise.kind == "implement":

        def stub(*args, **kwargs):
            raise NotImplementedError

        if _run_checker(exercise, stub, context).attempted:
            problems.append(f"{exercise.id}: an untouched stub does not count as 'not attempted'")
    return problems


def verify(exercises: Iterable[Exercise] | None = None) -> list[str]:
    """Problems across all (or the given) exercises; empty when every exercise is sound."""
    return [
        p
        for e in (list_exercises() if exercises is None else exercises)
        for p in verify_exercise(e)
    ]


# ---------------------------------------------------------------- helpers for writing checkers


def as_number(answer: Any, what: str = "your answer") -> float:
    """A finite float from a student's number (int, float, 0-d tensor or array), or CheckFailed."""
    if isinstance(answer, bool):
        raise CheckFailed(f"{what} should be a number, got {answer!r}")
    if hasattr(answer, "numel"):  # a torch tensor
        if answer.numel() != 1:
            raise CheckFailed(
                f"{what} should be one number, got a tensor of shape {list(answer.shape)}"
            )
        answer = answer.item()
    elif hasattr(answer, "item") and getattr(answer, "size", 2) == 1:  # a NumPy scalar/array
        answer = answer.item()
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number, got {type(answer).__name__}") from None
    if not math.isfinite(value):
        raise CheckFailed(f"{what} is {value}: not a finite number")
    return value


def _format(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def close(a: float, b: float, *, rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def check_number(
    answer: Any,
    expected: float,
    context: dict,
    mistakes: Sequence[Mistake],
    *,
    rtol: float = 1e-2,
    atol: float = 1e-6,
    what: str = "your number",
) -> str:
    """Compare a number with the expected one; name
    a registered mistake if the answer matches it.
    """
    value = as_number(answer, what)
    if close(value, expected, rtol=rtol, atol=atol):
        return f"{_format(value)} is right."
    for mistake in mistakes:
        wrong = as_number(mistake.make(context), f"mistake {mistake.name}")
        if close(value, wrong, rtol=rtol, atol=atol) and not close(
            wrong, expected, rtol=rtol, atol=atol
        ):
            raise CheckFailed(mistake.message)
    direction = "too large" if value > expected else "too small"
    if rtol > 0:
        allowed = f"answers within ±{rtol * 100:g} % count as right"
    else:
        allowed = f"answers within ±{atol:g} count as right" if atol >= 1e-3 else "it must be exact"
    raise CheckFailed(f"{_format(value)} is {direction} ({allowed}). hint(id) gives a hint.")


def as_tensor(value: Any, what: str = "your function's result"):
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should be a torch.Tensor, got {type(value).__name__}")
    return value


def check_function(
    answer: Callable,
    reference_fn: Callable,
    cases: Sequence[tuple],
    context: dict,
    mistakes: Sequence[Mistake],
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    describe: Callable[[tuple], str] | None = None,
) -> str:
    """Run the student's function on hidden cases and compare with the reference, tensor by tensor.

    ``cases`` are argument tuples (tensors are cloned for every call, so in-place edits by the
    student's function cannot leak). On a mismatch each registered mistake is evaluated on the
    same case and, if it matches the student's output, its message is raised. Shape and dtype
    problems get their own messages.
    """
    import torch

    def call(fn, args):
        return fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])

    wrong_fns = [(m, m.make(context)) for m in mistakes]
    for number, args in enumerate(cases, 1):
        expected = call(reference_fn, args)
        got = as_tensor(call(answer, args))
        label = describe(args) if describe else f"hidden case {number} of {len(cases)}"
        if got.shape != expected.shape:
            for mistake, wrong_fn in wrong_fns:
                try:
                    wrong = call(wrong_fn, args)
                except Exception:  # a mistake that cannot run on this case explains nothing
                    continue
                if (
                    isinstance(wrong, torch.Tensor)
                    and wrong.shape == got.shape
                    and wrong.shape != expected.shape
                ):
                    if torch.allclose(
                        got.double(), wrong.double(), rtol=rtol, atol=atol, equal_nan=True
                    ):
                        raise CheckFailed(mistake.message)
            raise CheckFailed(
                f"on {label} your result has shape {list(got.shape)}, expected "
                f"{list(expected.shape)}"
            )
        if not got.dtype.is_floating_point and expected.dtype.is_floating_point:
            raise CheckFailed(
                f"your result has dtype {got.dtype}; expected a floating-point tensor"
            )
        if torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True):
            continue
        for mistake, wrong_fn in wrong_fns:
            wrong = call(wrong_fn, args)
            if (
                isinstance(wrong, torch.Tensor)
                and wrong.shape == got.shape
                and torch.allclose(
                    got.double(), wrong.double(), rtol=rtol, atol=atol, equal_nan=True
                )
            ):
                raise CheckFailed(mistake.message)
        bad = (got.double() - expected.double()).abs()
        raise CheckFailed(
            f"on {label} your result differs from the reference by up to "
            f"{bad.nan_to_num(float('inf')).max().item():.3g}"
        )
    return f"matches the reference on {len(cases)} hidden cases."


def one_thread(fn: Callable) -> Callable:
    """``fn`` run with ``torch.set_num_threads(1)``; the previous setting is restored afterwards.

    Checks push many tiny tensors through small functions and models, where extra intra-op
    threads only add synchronisation: on a busy two-core machine one thread was several times
    faster.
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        import torch

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
    expected: Callable,
    cases: Callable[[], Sequence[tuple]],
    solution: Callable,
    mistakes: Sequence[Mistake],
    solution_text: str,
    hints: Sequence[str],
    rtol: float = 1e-4,
    atol: float = 1e-5,
    compare_as: Callable[[Any], Any] | None = None,
    describe: Callable[[tuple], str] | None = None,
) -> Exercise:
    """Register an "implement" exercise: the student's function against an independent reference.

    The checker runs :func:`check_function` on the hidden ``cases()`` (argument tuples, built
    afresh for every check), comparing with ``expected`` — an independent reference such as
    ``torch.distributions`` or a plain loop — and naming each ``Mistake`` whose wrong function
    gives the student's output. ``solution`` is what ``reference(id)`` hands out: the worked
    solution, often the same function as ``expected``. ``compare_as`` turns every result into
    what is compared (e.g. a projection matrix, so that any basis of the same subspace passes).
    The check runs on one thread (:func:`one_thread`).
    """
    mistakes = tuple(mistakes)

    def compared(fn: Callable) -> Callable:
        return fn if compare_as is None else lambda *args: compare_as(fn(*args))

    def compared_mistake(mistake: Mistake) -> Mistake:
        return Mistake(mistake.name, lambda ctx: compared(mistake.make(ctx)), mistake.message)

    def checker(answer, context):
        return check_function(
            compared(answer),
            compared(expected),
            cases(),
            context,
            [compared_mistake(m) for m in mistakes],
            rtol=rtol,
            atol=atol,
            describe=describe,
        )

    return register(
        Exercise(
            id=id,
            section=section,
            kind="implement",
            title=title,
            checker=one_thread(checker),
            reference=lambda ctx: solution,
            solution_text=solution_text,
            hints=tuple(hints),
            mistakes=mistakes,
        )
    )


def predict_exercise(
    *,
    id: str,
    section: str,
    title: str,
    value: float,
    mistakes: Sequence[tuple[str, float, str]],
    solution_text: str,
    hints: Sequence[str],
    rtol: float = 1e-2,
    atol: float = 1e-6,
) -> Exercise:
    """Register a "predict" exercise: a number worked out by hand, and its typical wrong numbers.

    ``mistakes`` are ``(name, wrong_value, message)``; an answer within the tolerance of a wrong
    value (and not of the right one) gets that message.
    """
    typical = tuple(
        Mistake(name, (lambda v: lambda ctx: v)(wrong), message)
        for name, wrong, message in mistakes
    )
    return register(
        Exercise(
            id=id,
            section=section,
            kind="predict",
            title=title,
            checker=lambda answer, ctx: check_number(
                answer, value, ctx, typical, rtol=rtol, atol=atol
            ),
            reference=lambda ctx: value,
            solution_text=solution_text,
            hints=tuple(hints),
            mistakes=typical,
        )
    )


def experiment_exercise(
    *,
    id: str,
    section: str,
    title: str,
    measure: Callable[[dict], float],
    mistakes: Sequence[tuple[str, Callable[[dict], float], str]],
    solution_text: str,
    hints: Sequence[str],
    needs: Sequence[str],
    demo_context: Callable[[], dict],
    rtol: float = 2e-2,
    atol: float = 1e-6,
) -> Exercise:
    """Register an "experiment": the checker re-measures
    ``measure(context)`` on the student's objects.

    ``mistakes`` are ``(name, wrong_measure(context), message)``: numbers a typical slip produces.
    """
    typical = tuple(Mistake(name, make, message) for name, make, message in mistakes)
    return register(
        Exercise(
            id=id,
            section=section,
            kind="experiment",
            title=title,
            checker=lambda answer, ctx: (
                check_number(
                    answer,
                    measure(ctx),
                    ctx,
                    typical,
                    rtol=rtol,
                    atol=atol,
                    what="your measurement",
                )
                and "matches what the checker re-measured on your objects."
            ),
            reference=measure,
            solution_text=solution_text,
            hints=tuple(hints),
            mistakes=typical,
            needs=tuple(needs),
            demo_context=demo_context,
        )
    )
