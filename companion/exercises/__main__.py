"""``python -m companion.exercises list [PREFIX]``
prints the exercises; ``verify`` proves them sound.

``verify`` checks, for every exercise, that its reference answer passes and that every registered
typical mistake fails with its own message; it exits with status 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Sequence

from companion.exercises.core import list_exercises, verify_exercise


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(exercises) -> str:
    rows = [("id", "section", "kind", "title")] + [
        (e.id, e.section, e.kind, e.title) for e in exercises
    ]
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]

    def pad(text: str, width: int) -> str:
        return text + " " * (width - _width(text))

    lines = [" | ".join([*(pad(r[i], widths[i]) for i in range(3)), r[3]]).rstrip() for r in rows]
    lines.insert(1, "-+-".join(["-" * w for w in widths] + ["-" * 5]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.exercises",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("list", "print id | section | kind | title"),
        ("verify", "references pass, typical mistakes are recognised"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "prefix",
            nargs="?",
            default=None,
            help="only exercises of this notebook/section, e.g. 5.2.6",
        )
    args = parser.parse_args(argv)
    exercises = list_exercises(args.prefix)
    if args.command == "list":
        print(format_table(exercises))
        kinds = {
            k: sum(e.kind == k for e in exercises) for k in ("predict", "implement", "experiment")
        }
        print(f"\n{len(exercises)} exercises: " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
        return 0
    # The checks are many tiny tensor operations: one thread avoids a busy machine's
    # oversubscription (measured 5 s with one thread vs 32 s with two on a loaded 2-core box).
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    failed = 0
    for exercise in exercises:
        problems = verify_exercise(exercise)
        failed += bool(problems)
        print(
            f"{'ok  ' if not problems else 'FAIL'} {exercise.id} "
            f"({len(exercise.mistakes)} mistakes)"
        )
        for problem in problems:
            print(f"     {problem}")
    print(
        f"{len(exercises) - failed}/{len(exercises)} exercises sound "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 1 if failed or not exercises else 0


if __name__ == "__main__":
    sys.exit(main())
