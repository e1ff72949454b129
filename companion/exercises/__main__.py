"""``python -m companion.exercises list|progress|verify [PREFIX]``.

``list`` prints the exercises and explain questions; ``progress`` your saved progress, notebook by
notebook (passed / attempted / total, and explain questions written); ``verify`` proves every
exercise sound (see :mod:`companion.exercises.verify`) and exits with status 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from companion.exercises.core import (
    KINDS,
    Exercise,
    ExplainQuestion,
    list_exercises,
    list_questions,
    section_key,
    statuses,
)
from companion.i18n import N_, _, display_width, pad

#: the kinds as the tables name them
KIND_NAMES = {
    "predict": N_("predict"),
    "implement": N_("implement"),
    "experiment": N_("experiment"),
    "explain": N_("explain"),
}


def text_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    rows = [list(header), *map(list, rows)]
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = [
        " | ".join([*(pad(r[i], widths[i]) for i in range(len(widths))), r[-1]]).rstrip()
        for r in rows
    ]
    lines.insert(1, "-+-".join(["-" * w for w in widths] + ["-" * 5]))
    return "\n".join(lines)


def list_table(prefix: str | None) -> str:
    exercises, questions = list_exercises(prefix), list_questions(prefix)
    everything: list[Exercise | ExplainQuestion] = [*exercises, *questions]
    items = sorted(
        everything,
        key=lambda e: (section_key(e.id), (KINDS + ("explain",)).index(e.kind)),
    )
    table = text_table(
        [(e.id, _(e.section), _(KIND_NAMES[e.kind]), _(e.title)) for e in items],
        (_("id"), _("section"), _("kind"), _("title")),
    )
    counts = {kind: sum(e.kind == kind for e in exercises) for kind in KINDS}
    return (
        table
        + "\n\n"
        + _(
            "{n} exercises ({predict} predict, {implement} implement, {experiment} experiment) "
            "and {q} explain questions"
        ).format(n=len(exercises), q=len(questions), **counts)
    )


def progress_table(prefix: str | None) -> str:
    """Per notebook: passed / attempted / total, and explain questions written."""
    from companion.exercises.store import progress_file

    exercises, questions = list_exercises(prefix), list_questions(prefix)
    found = statuses(exercises, questions)
    everything: list[Exercise | ExplainQuestion] = [*exercises, *questions]
    notebooks = sorted({e.notebook for e in everything}, key=section_key)
    rows = []
    totals = [0, 0, 0, 0, 0]
    for notebook in notebooks:
        mine = [e for e in exercises if e.notebook == notebook]
        asked = [q for q in questions if q.notebook == notebook]
        counts = [
            sum(found[e.id] == "passed" for e in mine),
            sum(found[e.id] != "not attempted" for e in mine),
            len(mine),
            sum(found[q.id] == "written" for q in asked),
            len(asked),
        ]
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        rows.append(
            (notebook, str(counts[0]), str(counts[1]), str(counts[2]), f"{counts[3]}/{counts[4]}")
        )
    rows.append(
        (_("chapter"), str(totals[0]), str(totals[1]), str(totals[2]), f"{totals[3]}/{totals[4]}")
    )
    table = text_table(
        rows, (_("notebook"), _("passed"), _("attempted"), _("total"), _("explain written"))
    )
    return table + "\n\n" + _("(saved in {path})").format(path=progress_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.exercises",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("list", "print id | section | kind | title"),
        ("progress", "your saved progress: passed / attempted / total per notebook"),
        ("verify", "prove every exercise sound, property by property"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "prefix",
            nargs="?",
            default=None,
            help="only exercises of this notebook/section, e.g. 5.2.6",
        )
    args = parser.parse_args(argv)
    if args.command == "list":
        print(list_table(args.prefix))
        return 0
    if args.command == "progress":
        print(progress_table(args.prefix))
        return 0
    # The checks are many tiny tensor operations: one thread avoids a busy machine's
    # oversubscription (measured 5 s with one thread vs 32 s with two on a loaded 2-core box).
    import torch

    from companion.exercises.verify import PROPERTIES, verify_exercise, verify_question

    torch.set_num_threads(1)
    start = time.perf_counter()
    exercises = list_exercises(args.prefix)
    failed = 0
    for exercise in exercises:
        began = time.perf_counter()
        problems = verify_exercise(exercise)
        failed += bool(problems)
        print(
            f"{'ok  ' if not problems else 'FAIL'} {exercise.id} "
            f"({len(exercise.mistakes)} mistakes, {time.perf_counter() - began:.1f} s)"
        )
        for problem in problems:
            print(f"     {problem}")
    questions = list_questions(args.prefix)
    question_problems = [p for q in questions for p in verify_question(q)]
    for problem in question_problems:
        print(f"FAIL {problem}")
    print(
        f"{len(exercises) - failed}/{len(exercises)} exercises sound, {len(PROPERTIES)} properties "
        f"each ({', '.join(PROPERTIES)}); {len(questions)} explain questions"
        f"{'' if not question_problems else ' with problems'}; "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 1 if failed or question_problems or not exercises else 0


if __name__ == "__main__":
    sys.exit(main())
