"""BLEU against training time on Tatoeba: both directions, attention GRU and Transformer.

    PYTHONPATH=. python benchmarks/tatoeba_translation.py [--profile cpu] [--epochs N] [--data DIR]

Trains the translators of notebook 5.3.7 (``companion.translation``, profile sizes from
``PROFILES``) one epoch at a time and prints, after every epoch, the training seconds so far and
the greedy BLEU on the validation split; at the end the test BLEU, greedy and with a beam of
width 5. Nothing is read from or written to the model cache. Targets (English→Chinese, test,
beam): ≥ 15 BLEU with the ``cpu`` profile, ≥ 20 with ``full``. Chinese output is scored by
characters (sacrebleu ``tokenize="zh"``), English by words (``"13a"``, lower-cased).
"""

from __future__ import annotations

import argparse
import time

from _common import add_runtime_args, setup_runtime

from companion import translation
from companion.data import load_tatoeba


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", choices=sorted(translation.PROFILES))
    parser.add_argument("--epochs", type=int, default=0, help="override the profile's epochs")
    parser.add_argument("--directions", nargs="+", default=list(translation.DIRECTIONS))
    parser.add_argument("--kinds", nargs="+", default=list(translation.KINDS))
    parser.add_argument("--data", default=None, help="folder holding tatoeba/cmn.txt")
    parser.add_argument("--n-valid", type=int, default=500, help="validation sentences per epoch")
    args = add_runtime_args(parser).parse_args(argv)
    device = setup_runtime(args)
    corpus = load_tatoeba(
        args.data, max_src_len=15, max_tgt_len=20, seed=args.seed, simplified=True
    )
    print(corpus.summary())
    overrides = {"epochs": args.epochs} if args.epochs else {}
    rows = []
    for direction in args.directions:
        for kind in args.kinds:
            settings = translation.settings_for(
                args.profile, direction, kind, seed=args.seed, **overrides
            )
            start = time.perf_counter()
            tr = translation.train_translator(
                translation.oriented(corpus.train, direction),
                settings,
                progress=False,
                valid_pairs=translation.oriented(corpus.valid, direction),
                n_valid=args.n_valid,
                device=device,
            )
            wall = time.perf_counter() - start
            curve = "  ".join(f"{s:.0f}s:{b:.1f}" for s, b in tr.curve)
            print(f"{direction} {kind:11s} valid BLEU after each epoch (training s: BLEU)  {curve}")
            test = translation.oriented(corpus.test, direction)
            greedy = translation.translator_bleu(tr, test).score
            beam = translation.translator_bleu(tr, test, beam_width=5).score
            rows.append((direction, kind, tr.train_seconds, wall, greedy, beam))
    print(
        f"\n{'direction':10s}{'model':12s}{'training s':>11s}"
        f"{'wall s':>8s}{'greedy':>8s}{'beam 5':>8s}"
    )
    for direction, kind, secs, wall, greedy, beam in rows:
        print(f"{direction:10s}{kind:12s}{secs:11.0f}{wall:8.0f}{greedy:8.1f}{beam:8.1f}")
    print("(test BLEU; wall s also counts the validation decoding after every epoch)")


if __name__ == "__main__":
    main()
