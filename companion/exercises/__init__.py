"""Self-study exercises with automatic checks, graded hints and worked solutions, and explain
questions with model answers.

Every notebook ends with "Exercises（练习）". In a notebook::

    from companion.exercises import check, explain, hint, solution, progress
    check("5.2.6-kl", kl_to_standard_normal)   # ✓ / ✗ with a specific message / not attempted yet
    hint("5.2.6-kl")                           # the next of 1–3 hints
    solution("5.2.6-kl")                       # the worked solution
    explain("5.2.6-why-log-variance", text)    # an explain question: noted, not graded
    progress("5.2.6")                          # best results so far, saved across restarts

``python -m companion.exercises list`` shows every exercise, ``... progress`` the saved progress of
the whole chapter, and ``... verify`` proves every exercise sound (see
:mod:`companion.exercises.verify`). The exercises of a notebook live in ``ex_<section>.py`` (e.g.
``ex_5_2_6.py``) and load on first use.
"""

from companion.exercises.answers import CheckFailed, Precision
from companion.exercises.core import (
    CheckResult,
    Exercise,
    ExplainQuestion,
    Mistake,
    check,
    explain,
    hint,
    list_exercises,
    list_questions,
    progress,
    reference,
    register,
    solution,
)

__all__ = [
    "check",
    "explain",
    "hint",
    "solution",
    "reference",
    "progress",
    "list_exercises",
    "list_questions",
    "CheckResult",
    "Exercise",
    "ExplainQuestion",
    "Mistake",
    "CheckFailed",
    "Precision",
    "register",
]
