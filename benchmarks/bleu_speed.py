"""corpus_bleu on 100,000 sentence pairs: companion vs sacrebleu in the same run (target ≤ 1.5×).

    python benchmarks/bleu_speed.py [--pairs 100000] [--repeats 3] [--refs 1]

Hypotheses are corrupted copies (dropped, swapped and replaced words) of generated references,
so the scores are neither 0 nor 100. Both implementations use the same 13a tokeniser; its cache
is cleared before every timed run so neither profits from the other's work.
"""

from __future__ import annotations

import argparse
import random
import time

import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from companion.data import generate_pairs
from companion.metrics import corpus_bleu


def make_corpus(n: int, n_refs: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    refs = [
        [p.tgt for p in generate_pairs(task, n, seed=seed + j, n_items=(1, 3))]
        for j, task in enumerate(["summarize", "dialogue", "summarize"][:n_refs])
    ]
    words = sorted({w for r in refs[0][:2000] for w in r.split()})
    hyps = []
    for sent in refs[0]:
        toks = [
            t if rng.random() > 0.15 else rng.choice(words)
            for t in sent.split()
            if rng.random() > 0.1
        ]
        if len(toks) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(toks) - 1)
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        hyps.append(" ".join(toks))
    return hyps, [list(r) for r in zip(*refs, strict=True)]


def timed(fn) -> tuple[float, object]:
    Tokenizer13a.__call__.cache_clear()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--refs", type=int, default=1, choices=[1, 2, 3])
    args = parser.parse_args()
    hyps, refs = make_corpus(args.pairs, args.refs)
    streams = [
        list(s) for s in zip(*refs, strict=True)
    ]  # sacrebleu wants one list per reference stream
    ours_t, theirs_t = [], []
    for _ in range(args.repeats):  # alternate so that machine load affects both alike
        t, ours = timed(lambda: corpus_bleu(hyps, refs))
        ours_t.append(t)
        t, theirs = timed(lambda: sacrebleu.corpus_bleu(hyps, streams, force=True))
        theirs_t.append(t)
    print(f"{args.pairs:,} pairs, {args.refs} reference(s) each, best of {args.repeats}")
    print(f"companion corpus_bleu : {min(ours_t):7.2f} s   {ours}")
    print(f"sacrebleu corpus_bleu : {min(theirs_t):7.2f} s   {theirs}")
    print(f"time ratio companion / sacrebleu: {min(ours_t) / min(theirs_t):.2f}× (target ≤ 1.5×)")
    diff = abs(ours.score - theirs.score)
    print(f"|score difference| = {diff:.2e} ({'identical' if diff < 1e-6 else 'DIFFERENT'})")


if __name__ == "__main__":
    main()
