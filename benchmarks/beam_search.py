"""Batched beam search vs greedy search and vs a naive per-sentence, per-beam loop.

    python benchmarks/beam_search.py [--batch 64] [--beam 5] [--epochs 4] [--device auto]

A GRU encoder–decoder (``make_seq2seq(encoder="gru", decoder="context")``, the model of 5.1.1)
is trained briefly on the numbers task so that its outputs end with <eos> at realistic lengths,
then 64 held-out inputs are decoded by
* greedy_search (one step for all inputs per time step),
* beam_search with beam width 5 (one step for all inputs × beams per time step), and
* a straightforward beam search that loops over sentences and beams in Python, calling the model
  once per partial sequence (checked to return the same hypotheses).
Targets: beam/greedy ≤ 3×, naive/beam ≥ 10×.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import add_runtime_args, setup_runtime

from companion.data import Seq2SeqData, generate_pairs, split_pairs
from companion.decoding import Hypothesis, beam_search, greedy_search, reorder_state
from companion.models import make_seq2seq, seq2seq_loss
from companion.train import fit


def naive_beam_search(step_fn, state, *, bos_id, eos_id, beam_width, max_len):
    """Textbook beam search, one sentence and one partial sequence at a time."""
    n = state[0].shape[0]
    results = []
    for i in range(n):
        row = reorder_state(state, torch.tensor([i]))
        beams, finished = [([], 0.0, row)], []
        for _ in range(max_len):
            candidates = []
            for tokens, score, st in beams:
                prev = torch.tensor([tokens[-1] if tokens else bos_id])
                log_probs, new_st = step_fn(prev, st)
                for v, lp in enumerate(log_probs[0].tolist()):
                    candidates.append((score + lp, tokens + [v], new_st))
            candidates.sort(key=lambda c: -c[0])
            beams = []
            for rank, (score, tokens, st) in enumerate(candidates):
                if tokens[-1] == eos_id:
                    if rank < beam_width:
                        finished.append(Hypothesis(tokens, score))
                elif len(beams) < beam_width:
                    beams.append((tokens, score, st))
                if len(beams) == beam_width and rank >= beam_width:
                    break
            if finished and max(f.score for f in finished) >= beams[0][1]:
                break
        if len(beams[0][0]) == max_len:
            finished += [Hypothesis(tokens, score) for tokens, score, _ in beams]
        results.append([max(finished, key=lambda h: h.score)])
    return results


def timed(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-len", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=20)
    args = add_runtime_args(parser).parse_args()
    device = setup_runtime(args)

    train, _, test = split_pairs(generate_pairs("numbers", 6000, seed=0, n_items=(1, 2)))
    data = Seq2SeqData.from_pairs(train, "en", "zh")
    held_out = Seq2SeqData.from_pairs(
        test, "en", "zh", src_vocab=data.src_vocab, tgt_vocab=data.tgt_vocab
    )
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="gru",
        decoder="context",
        init="context",
        emb_dim=64,
        hidden=128,
    )
    fit(
        model,
        data.batches(64, shuffle=True),
        seq2seq_loss,
        epochs=args.epochs,
        device=device,
        lr=3e-3,
    )
    model.eval()
    batch = held_out.batch(range(args.batch)).to(device)
    kw = dict(bos_id=data.tgt_vocab.bos_id, eos_id=data.tgt_vocab.eos_id, max_len=args.max_len)

    def init():
        return model.init_state(batch.src, batch.src_lengths)

    with torch.no_grad():
        t_greedy, greedy = timed(lambda: greedy_search(model.step, init(), **kw), args.repeats)
        t_beam, beam = timed(
            lambda: beam_search(model.step, init(), beam_width=args.beam, **kw), args.repeats
        )
        t_naive, naive = timed(
            lambda: naive_beam_search(model.step, init(), beam_width=args.beam, **kw), 1
        )
        rows = {}
        for name, search in (
            ("greedy", lambda fn: greedy_search(fn, init(), **kw)),
            ("beam", lambda fn: beam_search(fn, init(), beam_width=args.beam, **kw)),
        ):
            rows[name] = 0

            def counting_step(prev, state, name=name):
                rows[name] += prev.shape[0]
                return model.step(prev, state)

            search(counting_step)
    same = all(a[0].tokens == b[0].tokens for a, b in zip(beam, naive, strict=True))
    lengths = sum(len(h[0].tokens) for h in beam) / len(beam)
    print(
        f"device {device}; {args.batch} inputs, beam width {args.beam}, mean output length "
        f"{lengths:.1f}"
    )
    print(f"greedy_search              : {1000 * t_greedy:8.1f} ms")
    print(f"beam_search (batched)      : {1000 * t_beam:8.1f} ms")
    print(f"naive per-sentence/per-beam: {1000 * t_naive:8.1f} ms   (same hypotheses: {same})")
    print(
        f"beam / greedy = {t_beam / t_greedy:.2f}× (target ≤ 3×); decoder rows computed: "
        f"{rows['beam']} vs {rows['greedy']} ({rows['beam'] / rows['greedy']:.1f}×), "
        f"{torch.get_num_threads()} CPU thread(s)"
    )
    print(f"naive / beam  = {t_naive / t_beam:.1f}× (target ≥ 10×)")
    better = sum(b[0].score > g[0].score + 1e-6 for b, g in zip(beam, greedy, strict=True))
    print(f"beam found a more probable output than greedy for {better}/{len(beam)} inputs")


if __name__ == "__main__":
    main()
