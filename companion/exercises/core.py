"""The machinery behind the notebooks' "Exercises（练习）": register, check, hint, solution.

An :class:`Exercise` has an id ``"<notebook section>-<slug>"`` (``"5.2.6-kl"``), a kind
(``predict``: a number worked out by hand; ``implement``: a function the section teaches;
``experiment``: a number measured on the notebook's own model), a *checker*, a worked solution
(Python code, which is also the reference answer or is run against it by ``verify``), 1–3 graded
hints and the typical wrong answers (:class:`Mistake`). An :class:`ExplainQuestion` is the other
kind of question: free text with a model answer on request, never graded.

A checker ``checker(answer, context)`` raises :class:`CheckFailed` with a message for the
student, or returns ``None`` (or a short success note). The student's function is called through
:func:`_guard`: under a time limit (:mod:`companion.exercises.timelimit`), with its exceptions
reported, and ``NotImplementedError`` from the untouched stub meaning "not attempted yet".

Words and code: every text a student reads is an English literal marked ``N_()`` where it is
stored (titles, hints, solutions, mistakes) and passed through ``_()`` when it is shown, or a
``_("… {name} …").format(name=…)`` where it is built; the Chinese catalog is extracted from those
literals. The words stay beside the code they describe — a mistake's message next to the wrong
function it names — because a reviewer or translator needs both.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import math
import pkgutil
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from companion.exercises import store
from companion.exercises.answers import CheckFailed, Precision
from companion.exercises.timelimit import TimeLimitExceeded, call_with_time_limit
from companion.i18n import N_, _, count_words, display_width, pad, spaced

KINDS = ("predict", "implement", "experiment")

__all__ = [
    "KINDS",
    "CheckFailed",
    "CheckResult",
    "Exercise",
    "ExplainQuestion",
    "Mistake",
    "Progress",
    "check",
    "explain",
    "get",
    "hint",
    "list_exercises",
    "list_questions",
    "progress",
    "reference",
    "register",
    "register_question",
    "run_solution",
    "solution",
]


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``make(context)`` builds it, ``message`` (an ``N_()`` text) is how
    the checker names it. ``fix(context)``, when given, is the correction the message suggests,
    applied to the same answer: ``verify`` proves that it passes. A mistake recognised by a
    property of the function rather than by its values on the hidden cases (it draws its own noise,
    it blocks gradients) sets ``by_cases=False``."""

    name: str
    make: Callable[[dict], Any]
    message: str
    fix: Callable[[dict], Any] | None = None
    by_cases: bool = True  # False: recognised by a property check (randomness, gradients)


#: what a solution's code may use without importing it
SOLUTION_GLOBALS = {"torch": torch, "math": math, "F": F, "nn": nn}


@dataclass(frozen=True)
class Exercise:
    id: str
    section: str  # N_(): where in the book, e.g. "5.2.6 (5-16), (5-17)"
    kind: str
    title: str  # N_()
    checker: Callable[[Any, dict], str | None]
    reference: Callable[[dict], Any]
    solution: str  # N_(): Python code that computes the answer (see run_solution)
    hints: tuple[str, ...]  # N_() each
    answer_name: str  # the notebook's name for the answer: `my_kl` or the stub's function name
    mistakes: tuple[Mistake, ...] = ()
    needs: tuple[str, ...] = ()
    demo_context: Callable[[], dict] | None = None
    solution_note: str = ""  # N_(): prose shown after the code
    precision: Precision | None = None  # predict and experiment: how precisely the number is asked
    solution_names: Callable[[dict], dict] | None = None  # experiment: notebook names for the code
    secrets: Callable[[dict], list] | None = None  # values no ✗ message may show (verify)
    probes: Callable[[], list] | None = None  # implement: the hidden cases, as functions.Case
    timeout_hint: str = N_("is there a loop that never ends?")

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
        if self.kind == "implement" and self.probes is None:
            raise ValueError(f"exercise {self.id}: an implement exercise lists its hidden cases")
        if self.kind != "implement" and self.precision is None:
            raise ValueError(f"exercise {self.id}: a {self.kind} states its precision")
        names = [m.name for m in self.mistakes]
        if len(set(names)) != len(names):
            raise ValueError(f"exercise {self.id}: mistake names repeat: {names}")


@dataclass(frozen=True)
class ExplainQuestion:
    """A question answered in a few sentences of the student's own; ``answer`` (``N_()``) is a
    model answer shown on request. Not graded: ``explain(id, text)`` only notes that it was written.
    """

    id: str
    section: str  # N_()
    title: str  # N_()
    answer: str  # N_()
    hints: tuple[str, ...] = ()
    kind: str = field(default="explain", init=False)

    @property
    def notebook(self) -> str:
        return self.id.split("-", 1)[0]

    def __post_init__(self) -> None:
        if "-" not in self.id or not self.id.split("-", 1)[1]:
            raise ValueError(f"question id must look like '<section>-<slug>', got {self.id!r}")
        if len(self.hints) > 2:
            raise ValueError(f"question {self.id}: give at most 2 hints")


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
    """{id: status} from :func:`progress`: "passed", "failed", "not attempted" for exercises,
    "written" or "not written" for explain questions."""

    def _ipython_display_(self) -> None:
        # progress() has already printed the table; don't print the dict as a cell result too.
        pass


# ---------------------------------------------------------------- registry

_REGISTRY: dict[str, Exercise] = {}
_QUESTIONS: dict[str, ExplainQuestion] = {}
_LOADED = False
_HINTS_SHOWN: dict[str, int] = {}
_RESULTS: dict[str, CheckResult] = {}  # this kernel's last result per exercise
_WRITTEN: set[str] = set()  # explain questions answered in this kernel
_HANDED_OUT: dict[int, Any] = {}  # id → object returned by reference(): not the student's own work


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (modules ``ex_*.py`` call this on import)."""
    if exercise.id in _REGISTRY or exercise.id in _QUESTIONS:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


def register_question(question: ExplainQuestion) -> ExplainQuestion:
    """Add an explain question to the registry."""
    if question.id in _REGISTRY or question.id in _QUESTIONS:
        raise ValueError(f"question id {question.id!r} is registered twice")
    _QUESTIONS[question.id] = question
    return question


def explain_question(
    *, id: str, section: str, title: str, answer: str, hints: Iterable[str] = ()
) -> ExplainQuestion:
    return register_question(ExplainQuestion(id, section, title, answer, tuple(hints)))


def _load_all() -> None:
    """Import every ``companion.exercises.ex_*`` module once (lazily, so that ``import companion``
    stays cheap)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    package = importlib.import_module("companion.exercises")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("ex_"):
            importlib.import_module(f"companion.exercises.{info.name}")


def section_key(exercise_id: str) -> tuple:
    head, _sep, _tail = exercise_id.partition("-")
    return tuple(int(p) if p.isdigit() else 0 for p in head.split("."))


def _book_order(exercise: Exercise) -> tuple:
    """Notebooks in book order; inside one, predict → implement → experiment, then as registered."""
    return (
        section_key(exercise.id),
        KINDS.index(exercise.kind),
        list(_REGISTRY).index(exercise.id),
    )


def _matches(item: Exercise | ExplainQuestion, prefix: str) -> bool:
    everything: list[Exercise | ExplainQuestion] = [*_REGISTRY.values(), *_QUESTIONS.values()]
    notebooks = {e.notebook for e in everything}
    if prefix in notebooks:  # "5.1" is the notebook 5.1, not 5.1.3 as well
        return item.notebook == prefix
    return item.notebook.startswith(prefix + ".") or item.id.startswith(prefix)


def list_exercises(prefix: str | None = None) -> list[Exercise]:
    """All registered exercises in book order, or only those of a notebook/section prefix."""
    _load_all()
    found = [e for e in _REGISTRY.values() if prefix is None or _matches(e, prefix)]
    return sorted(found, key=_book_order)


def list_questions(prefix: str | None = None) -> list[ExplainQuestion]:
    """All explain questions in book order (as registered inside a notebook)."""
    _load_all()
    found = [q for q in _QUESTIONS.values() if prefix is None or _matches(q, prefix)]
    return sorted(found, key=lambda q: (section_key(q.id), list(_QUESTIONS).index(q.id)))


def get(exercise_id: str) -> Exercise | ExplainQuestion:
    """The registered exercise or question with this id; otherwise a ``ValueError`` listing close
    ids."""
    _load_all()
    if not isinstance(exercise_id, str):
        raise TypeError(
            _("an exercise id is a string such as '5.2.6-kl', got {type}").format(
                type=type(exercise_id).__name__
            )
        )
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    if exercise_id in _QUESTIONS:
        return _QUESTIONS[exercise_id]
    known = [*_REGISTRY, *_QUESTIONS]
    close = difflib.get_close_matches(exercise_id, known, n=5, cutoff=0.5)
    same_notebook = [i for i in known if i.split("-")[0] == exercise_id.split("-")[0]]
    suggestions = close or sorted(same_notebook)
    if suggestions:
        raise ValueError(
            _(
                "no exercise with id {id!r}; did you mean {ids}? "
                "(python -m companion.exercises list shows them all)"
            ).format(id=exercise_id, ids=", ".join(repr(s) for s in suggestions))
        )
    raise ValueError(
        _("no exercise with id {id!r} (python -m companion.exercises list shows them all)").format(
            id=exercise_id
        )
    )


def _exercise(exercise_id: str) -> Exercise:
    item = get(exercise_id)
    if isinstance(item, ExplainQuestion):
        raise ValueError(
            _(
                "{id} is an explain question: write your answer and run explain({id!r}, text); "
                "solution({id!r}) shows a model answer"
            ).format(id=exercise_id)
        )
    return item


# ---------------------------------------------------------------- the student's code


class _NotAttempted(Exception):
    pass


class _StudentError(Exception):
    """An exception raised by the student's function; ``case`` describes the inputs, if known."""

    def __init__(self, error: BaseException, case: str = ""):
        super().__init__(str(error))
        self.error = error
        self.case = case


def _is_unattempted(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _guard(answer: Any) -> Any:
    """Wrap a student's function: run it under the time limit, mark its exceptions as its own."""
    if not callable(answer) or isinstance(answer, type):
        return answer

    @functools.wraps(answer)
    def guarded(*args, **kwargs):
        try:
            return call_with_time_limit(answer, *args, **kwargs)
        except NotImplementedError as error:
            raise _NotAttempted() from error
        except (CheckFailed, _NotAttempted, _StudentError, TimeLimitExceeded):
            raise
        except Exception as error:  # any error in student code is reported
            raise _StudentError(error) from error

    guarded.is_student_code = True  # type: ignore[attr-defined]  # read by functions.call_case
    return guarded


def _context_for(exercise: Exercise, context: dict) -> dict:
    missing = [key for key in exercise.needs if key not in context]
    if missing:
        raise ValueError(
            _(
                "check({id!r}, ...) needs {names}: pass {keywords} (the notebook's own objects)"
            ).format(
                id=exercise.id,
                names=", ".join(missing),
                keywords=", ".join(f"{k}=..." for k in missing),
            )
        )
    return context


def _timeout_message(exercise: Exercise, timeout: TimeLimitExceeded) -> str:
    text = _("your function did not return within {seconds:g} s — {hint}").format(
        seconds=timeout.seconds, hint=_(exercise.timeout_hint)
    )
    if not timeout.stopped:
        text += spaced(
            _(
                "(It is still running in the background, inside one long operation that Python "
                "cannot interrupt; restart the kernel if the notebook slows down.)"
            )
        )
    return text


def _run_checker(exercise: Exercise, answer: Any, context: dict) -> CheckResult:
    """Run the checker on a (guarded) answer and turn every outcome into a CheckResult."""
    if _is_unattempted(answer):
        return CheckResult(False, False, _not_attempted_message(exercise))
    try:
        note = exercise.checker(_guard(answer), context)
    except _NotAttempted:
        return CheckResult(False, False, _not_attempted_message(exercise))
    except TimeLimitExceeded as timeout:
        message = _timeout_message(exercise, timeout)
    except _StudentError as failure:
        error = failure.error
        where = spaced(_("({case})").format(case=failure.case)) if failure.case else ""
        message = _("your function raised {error}: {text}{where}{line}").format(
            error=type(error).__name__, text=error, where=where, line=_where(error)
        )
    except CheckFailed as failure:
        message = str(failure)
    except Exception as error:  # e.g. a wrong type that the checker could not use
        last = traceback.extract_tb(error.__traceback__)[-1]
        message = _(
            "your answer could not be checked ({error}: {text}; in {function}). "
            "Is it the right kind of answer? {expected}"
        ).format(
            error=type(error).__name__,
            text=error,
            function=last.name,
            expected=_(_EXPECTED[exercise.kind]),
        )
    else:
        return CheckResult(
            True, True, _("✓ {id}: {note}").format(id=exercise.id, note=note or _("correct."))
        )
    return CheckResult(False, True, _("✗ {id}: {message}").format(id=exercise.id, message=message))


def _where(error: BaseException) -> str:
    """' (in f, line n: code)' for the last frame of the student's own code, if there is one."""
    library = (
        str(Path(__file__).parent),
        str(Path(torch.__file__).parent),
        str(Path(functools.__file__).parent),
    )
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(library)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = (frame.line or "").strip()
    if code:
        return spaced(_("(in {function}, line {line}: {code})")).format(
            function=frame.name, line=frame.lineno, code=code
        )
    return spaced(_("(in {function}, line {line})")).format(function=frame.name, line=frame.lineno)


_EXPECTED = {
    "implement": N_("A function with the stub's signature."),
    "predict": N_("A number."),
    "experiment": N_("The number you measured."),
}
_TO_DO = {
    "implement": N_("replace `raise NotImplementedError` in the stub with your code"),
    "predict": N_("replace `...` with your number"),
    "experiment": N_("replace `...` with the number you measured"),
}


def _not_attempted_message(exercise: Exercise) -> str:
    return _("not attempted yet — {id}: {what}, then run this cell again.").format(
        id=exercise.id, what=_(_TO_DO[exercise.kind])
    )


# ---------------------------------------------------------------- the student's API


def check(exercise_id: str, answer: Any = None, **context: Any) -> CheckResult:
    """Check an answer, print ✓/✗/not attempted with a short message, and return a CheckResult.

    Never raises because of the answer (errors in your code are reported, a function that runs
    too long is stopped); raises ValueError for an unknown id or a missing context object such as
    ``model=``. An attempt is saved in your progress file (its best result counts), unless the
    answer came from ``reference()``.
    """
    exercise = _exercise(exercise_id)
    result = _run_checker(exercise, answer, _context_for(exercise, context))
    _RESULTS[exercise.id] = result
    if result.attempted and not _is_handed_out(answer):
        store.record(exercise.id, "passed" if result.passed else "failed")
    print(result.message)
    return result


def explain(question_id: str, text: Any = None) -> None:
    """Note that you wrote an answer to an explain question (it is not graded) and say how to
    compare it with a model answer."""
    question = get(question_id)
    if not isinstance(question, ExplainQuestion):
        raise ValueError(
            _("{id} is checked automatically: check({id!r}, your_answer)").format(id=question_id)
        )
    words = count_words(text) if isinstance(text, str) else 0
    if words < 3:
        print(
            _(
                "not written yet — {id}: write a few sentences in the string above, then run "
                "this cell again. solution({id!r}) shows a model answer."
            ).format(id=question.id)
        )
        return
    _WRITTEN.add(question.id)
    store.record_written(question.id)
    print(
        _(
            "✎ {id}: noted ({words} words). Explain questions are not graded: compare your answer "
            "with a model answer, solution({id!r})."
        ).format(id=question.id, words=words)
    )


def hint(exercise_id: str) -> None:
    """Print the next hint for an exercise (they get more specific); the last one repeats."""
    item = get(exercise_id)
    if not item.hints:
        print(_("No hints for {id}; solution({id!r}) shows a model answer.").format(id=item.id))
        return
    shown = _HINTS_SHOWN.get(item.id, 0)
    total = len(item.hints)
    index = min(shown, total - 1)
    _HINTS_SHOWN[item.id] = shown + 1
    text = _("Hint {number}/{total} for {id}: {hint}").format(
        number=index + 1, total=total, id=item.id, hint=_(item.hints[index])
    )
    if shown >= total:
        text += "\n" + _(
            "(That was the last hint, shown again; solution({id!r}) prints the worked solution.)"
        ).format(id=item.id)
    print(text)


def solution_text(item: Exercise | ExplainQuestion) -> str:
    """What :func:`solution` prints (translated)."""
    if isinstance(item, ExplainQuestion):
        return _(
            "A model answer to {id} ({title}); explain questions are not graded, compare it with "
            "yours:\n{answer}"
        ).format(id=item.id, title=_(item.title), answer=_(item.answer).strip())
    text = _("Solution of {id} ({title}):\n{code}").format(
        id=item.id, title=_(item.title), code=_(item.solution).strip("\n")
    )
    if item.solution_note:
        text += "\n\n" + _(item.solution_note).strip()
    return text


def solution(exercise_id: str) -> None:
    """Print the worked solution of an exercise, or a model answer to an explain question."""
    print(solution_text(get(exercise_id)))


def reference(exercise_id: str, **context: Any) -> Any:
    """The reference answer, silently: a function (implement) or a value (predict, experiment).

    A check of this very object does not count in your saved progress: it is not your own work.
    """
    exercise = _exercise(exercise_id)
    answer = exercise.reference(_context_for(exercise, context))
    _HANDED_OUT[id(answer)] = answer
    return answer


def _is_handed_out(answer: Any) -> bool:
    return _HANDED_OUT.get(id(answer)) is answer


def run_solution(exercise: Exercise, text: str | None = None, names: dict | None = None) -> Any:
    """Execute a solution's code (by default the English one) and return the answer it defines,
    ``namespace[exercise.answer_name]``. ``names`` are the notebook's objects the code uses."""
    namespace = {**SOLUTION_GLOBALS, **(names or {})}
    code = compile(text or exercise.solution, f"<solution of {exercise.id}>", "exec")
    exec(code, namespace)  # the package's own solution text
    if exercise.answer_name not in namespace:
        raise ValueError(f"the solution of {exercise.id} does not define {exercise.answer_name}")
    return namespace[exercise.answer_name]


# ---------------------------------------------------------------- progress

_MARKS = {"passed": "✓", "failed": "✗", "not attempted": "·", "written": "✎", "not written": "·"}
_STATUS_WORDS = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "not attempted": N_("not attempted"),
    "written": N_("written"),
    "not written": N_("not written"),
}


def statuses(exercises: Iterable[Exercise], questions: Iterable[ExplainQuestion] = ()) -> Progress:
    """The best status of every exercise (saved attempts and this kernel's) and question."""
    saved = store.load_progress()
    found = Progress()
    for exercise in exercises:
        best = store.best(
            saved["exercises"].get(exercise.id, {}).get("best", "not attempted"),
            _kernel_status(exercise.id),
        )
        found[exercise.id] = best
    for question in questions:
        written = question.id in _WRITTEN or question.id in saved["explain"]
        found[question.id] = "written" if written else "not written"
    return found


def _kernel_status(exercise_id: str) -> str:
    result = _RESULTS.get(exercise_id)
    if result is None or not result.attempted:
        return "not attempted"
    return "passed" if result.passed else "failed"


def progress(section_prefix: str | None = None) -> Progress:
    """Print which exercises passed, failed or are not attempted yet, and which explain questions
    you wrote — the best result of every attempt, saved in your cache folder across restarts.

    ``section_prefix`` is a notebook ("5.2.6") or a section prefix ("5.2"); by default, every
    notebook in which you have checked something in this kernel. Returns ``{id: status}``.
    ``python -m companion.exercises progress`` prints the whole chapter.
    """
    _load_all()
    if section_prefix is None:
        touched = {_REGISTRY[i].notebook for i in _RESULTS} | {
            _QUESTIONS[i].notebook for i in _WRITTEN
        }
        notebooks = sorted(touched, key=section_key)
        exercises = [e for n in notebooks for e in list_exercises(n)]
        questions = [q for n in notebooks for q in list_questions(n)]
        if not exercises:
            print(
                _("No exercise checked yet in this kernel; progress('5.2.6') shows one notebook's.")
            )
            return Progress()
    else:
        exercises, questions = list_exercises(section_prefix), list_questions(section_prefix)
        if not exercises and not questions:
            raise ValueError(_("no exercises under {prefix!r}").format(prefix=section_prefix))
    found = statuses(exercises, questions)
    width = max(len(i) for i in found)
    words = {status: _(text) for status, text in _STATUS_WORDS.items()}
    status_width = max(display_width(w) for w in words.values())
    items: list[Exercise | ExplainQuestion] = [*exercises, *questions]
    for item in items:
        status = found[item.id]
        word = pad(words[status], status_width)
        print(f"{_MARKS[status]} {item.id:<{width}}  {word}  {_(item.title)}")
    passed = sum(found[e.id] == "passed" for e in exercises)
    attempted = sum(found[e.id] != "not attempted" for e in exercises)
    line = _("{passed}/{total} passed, {attempted}/{total} attempted").format(
        passed=passed, attempted=attempted, total=len(exercises)
    )
    if questions:
        line += _("; {written}/{total} explain questions written").format(
            written=sum(found[q.id] == "written" for q in questions), total=len(questions)
        )
    print(line)
    return found
