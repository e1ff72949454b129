"""Self-study exercises with automatic checks, graded hints and worked solutions.

Every notebook ends with "Exercises（练习）". In a notebook::

    from companion.exercises import check, hint, solution, progress
    check("5.2.6-kl", kl_to_standard_normal)   # ✓ / ✗ with a specific message / not attempted yet
    hint("5.2.6-kl")                           # the next of 1–3 hints
    solution("5.2.6-kl")                       # the worked solution
    progress()                                 # what passed in this kernel

``python -m companion.exercises list`` shows every exercise; ``... verify`` proves that each
reference answer passes and each registered typical mistake is recognised. The exercises of a
notebook live in ``ex_<section>.py`` (e.g. ``ex_5_2_6.py``) and load on first use.
"""

from companion.exercises.core import (
    CheckFailed,
    CheckResult,
    Exercise,
    Mistake,
    check,
    hint,
    list_exercises,
    progress,
    reference,
    register,
    solution,
)

__all__ = [
    "check",
    "hint",
    "solution",
    "reference",
    "progress",
    "list_exercises",
    "CheckResult",
    "Exercise",
    "Mistake",
    "CheckFailed",
    "register",
]
