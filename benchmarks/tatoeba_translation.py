"""BLEU against training time on Tatoeba, and the recipe of notebook 5.3.7 one change at a time.

    PYTHONPATH=. python benchmarks/tatoeba_translation.py [--profile cpu] [--epochs N] [--data DIR]
    PYTHONPATH=. python benchmarks/tatoeba_translation.py --recipe [--directions en-zh]
    PYTHONPATH=. python benchmarks/tatoeba_translation.py --set hidden=256 --set epochs=4 ...

Default: trains the translators of notebook 5.3.7 (``companion.translation``, sizes and recipe from
``PROFILES``) and prints, after every epoch, the validation BLEU (greedy) with the training time so
far, in wall-clock seconds and in CPU seconds of this process (``time.process_time``: on a shared
machine the wall clock depends on the other jobs, CPU time hardly does); at the end the test BLEU,
greedy and with beam search (width 4 and length penalty α = 1, as in the notebook:
``--beam-width``, ``--length-penalty``), with sacrebleu's signature. Targets (test, beam search,
``cpu`` profile): English→Chinese ≥ 25, Chinese→English ≥ 20.

``--recipe``: the rows of the notebook's recipe table (``translation.RECIPE``). Starting from the
plain recipe at the ``cpu`` profile's sizes, every row adds one change to the kept rows above it,
and prints its validation BLEU per epoch and its CPU seconds per epoch; ``--rows`` picks rows
(1 = plain) and ``--epochs 3`` is the table's length. ``--set NAME=VALUE`` overrides any setting
(both modes).

Nothing is read from or written to the model cache. Run with one thread (``--threads 1``) for CPU
seconds comparable with the notebook's table.
"""

from __future__ import annotations

import argparse
import ast
import time

from _common import add_runtime_args, setup_runtime

from companion import translation
from companion.data import load_tatoeba


def parse_overrides(items: list[str]) -> dict:
    overrides = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            overrides[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[name] = value  # a plain word such as warmup-decay
    return overrides


def train(corpus, settings, args, device, label: str) -> translation.Translator:
    direction = settings.direction

    def report(record: translation.EpochRecord) -> None:
        print(
            f"  {label} epoch {record.epoch}: valid BLEU {record.bleu:5.1f}   "
            f"training {record.cpu_seconds:6.0f} CPU s, {record.seconds:6.0f} s wall",
            flush=True,
        )

    return translation.train_translator(
        translation.oriented(corpus.train, direction),
        settings,
        progress=False,
        valid_pairs=translation.oriented(corpus.valid, direction),
        n_valid=args.n_valid,
        device=device,
        on_epoch_end=report,
    )


def recipe_ladder(corpus, args, device, overrides: dict) -> None:
    for direction in args.directions:
        for kind in args.kinds:
            rows = []
            for number, step in enumerate(translation.RECIPE, start=1):
                if args.rows and number not in args.rows:
                    continue
                changes = translation.recipe_settings(number - 1)
                if kind != "transformer" and changes.get("tie_embeddings"):
                    continue
                settings = translation.settings_for(
                    args.profile, direction, kind, seed=args.seed, **{**changes, **overrides}
                )
                print(f"{direction} {kind}, row {number}: {step.name}  {settings}", flush=True)
                tr = train(corpus, settings, args, device, f"{direction} {kind}")
                per_epoch = tr.train_cpu_seconds / settings.epochs
                rows.append((number, step, [r.bleu for r in tr.curve], per_epoch))
            print(
                f"\n{direction} {kind}, {args.profile} profile: validation BLEU (greedy) per epoch"
            )
            for number, step, bleus, per_epoch in rows:
                curve = " / ".join(f"{b:.1f}" for b in bleus)
                kept = "kept" if step.kept else "not kept"
                print(
                    f"  {number:2d}. {step.name:52s} {curve}   {per_epoch:5.0f} CPU s/epoch  {kept}"
                )
            print()


def profile_run(corpus, args, device, overrides: dict) -> None:
    rows = []
    for direction, kind in args.models:
        settings = translation.settings_for(
            args.profile, direction, kind, seed=args.seed, **overrides
        )
        print(f"{direction} {kind}: {settings}", flush=True)
        start = time.perf_counter()
        tr = train(corpus, settings, args, device, f"{direction} {kind}")
        wall = time.perf_counter() - start
        test = translation.oriented(corpus.test, direction)
        greedy = translation.translator_bleu(tr, test)
        start = time.process_time()
        beam = translation.translator_bleu(
            tr, test, beam_width=args.beam_width, length_penalty=args.length_penalty
        )
        beam_cpu = time.process_time() - start
        print(f"  test BLEU greedy {greedy}\n  test BLEU beam {beam.text}  {beam.signature}")
        rows.append((direction, kind, tr.train_cpu_seconds, tr.train_seconds, wall, greedy, beam))
        print(f"  beam decoding of the test split: {beam_cpu:.0f} CPU s", flush=True)
    print(
        f"\n{'direction':10s}{'model':12s}{'training CPU s':>15s}{'wall s':>8s}"
        f"{'+ valid s':>10s}{'greedy':>8s}{'beam':>8s}"
    )
    for direction, kind, cpu, secs, wall, greedy, beam in rows:
        print(
            f"{direction:10s}{kind:12s}{cpu:15.0f}{secs:8.0f}{wall:10.0f}"
            f"{greedy.score:8.1f}{beam.score:8.1f}"
        )
    print("(test BLEU; '+ valid s' also counts the validation decoding after every epoch)")
    for sig in sorted({beam.signature for *_, beam in rows}):
        print(f"sacrebleu signature: {sig}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", choices=sorted(translation.PROFILES))
    parser.add_argument("--epochs", type=int, default=0, help="override the profile's epochs")
    parser.add_argument("--directions", nargs="+", default=None)
    parser.add_argument("--kinds", nargs="+", default=None)
    parser.add_argument("--data", default=None, help="folder holding tatoeba/cmn.txt")
    parser.add_argument("--n-valid", type=int, default=500, help="validation sentences per epoch")
    parser.add_argument("--recipe", action="store_true", help="the recipe table, one change a row")
    parser.add_argument(
        "--rows", nargs="+", type=int, default=[], help="with --recipe: only these rows (1 = plain)"
    )
    parser.add_argument("--beam-width", type=int, default=4, help="test beam width (notebook's)")
    parser.add_argument(
        "--length-penalty", type=float, default=1.0, help="α of the test beam search (notebook's)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = add_runtime_args(parser).parse_args(argv)
    device = setup_runtime(args)
    corpus = load_tatoeba(
        args.data, max_src_len=15, max_tgt_len=20, seed=args.seed, simplified=True
    )
    print(corpus.summary())
    overrides = parse_overrides(args.set)
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.recipe:
        args.directions = args.directions or list(translation.DIRECTIONS)
        args.kinds = args.kinds or ["transformer"]
        recipe_ladder(corpus, args, device, overrides)
    else:
        if args.directions or args.kinds:  # every combination of those asked for
            args.models = [
                (d, k)
                for d in args.directions or list(translation.DIRECTIONS)
                for k in args.kinds or list(translation.KINDS)
            ]
        else:  # the translators of notebook 5.3.7
            args.models = list(translation.MODELS)
        profile_run(corpus, args, device, overrides)


if __name__ == "__main__":
    main()
