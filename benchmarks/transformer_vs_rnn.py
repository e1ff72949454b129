"""Training-step and decoding cost: the Transformer of 5.3.6 vs the attention GRU of 5.3.3.

    PYTHONPATH=. python benchmarks/transformer_vs_rnn.py [--batch 64] [--device auto] [--threads 1]
                                                         [--clock wall|cpu]

Both models have about 52k parameters (as in notebook 5.3.6) and see the same batches of the
date task (one to four dates per example). Printed, each against the GRU measured in the same run:

* the time of one training step (forward, backward, Adam) on a batch;
* the time of one decoding step at output lengths 10, 25, 50 and 100, for the Transformer
  without and with its key/value cache. The GRU carries one state vector, so its step costs
  about the same at every length. Without the cache the Transformer re-reads the whole prefix, so
  its step grows with the length and decoding T tokens costs O(T²) decoder positions; with the
  cache a step computes one new position (its attention still reads t stored keys, a small
  O(t) term). Target: a cached step at length 50 within 3× of the GRU's.

``--clock cpu`` times with this thread's CPU time instead of the wall clock (CPU only): on a
machine shared with other jobs it leaves out the time the process waits for a core, though not
the slower caches and memory that sharing also brings, so its numbers are still "under load".
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _common import add_runtime_args, setup_runtime

from companion.data import Seq2SeqData, generate_pairs
from companion.models import make_seq2seq, make_transformer, seq2seq_loss

CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def seconds_per_call(fn, repeats: int, device: torch.device, clock=time.perf_counter) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = clock()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (clock() - start) / repeats


def interleaved_times(
    fns: dict, repeats: int, rounds: int, device: torch.device, clock=time.perf_counter
) -> dict[str, list[float]]:
    """Seconds per call of each function, measured in turn ``rounds`` times.

    Taking the functions in turn within each round exposes them to the same background load, so
    the ratios of one round stay meaningful on a busy machine even when the absolute times jump.
    """
    for fn in fns.values():
        fn()  # warm-up
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(seconds_per_call(fn, repeats, device, clock))
    return times


def median_ratio(times: list[float], reference: list[float]) -> float:
    return statistics.median(t / r for t, r in zip(times, reference, strict=True))


def train_step_fn(model, batch):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step():
        loss = seq2seq_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def decode_step_fn(model, batch, length: int, *, kv_cache: bool | None = None):
    """The ``length``-th decoding step (after feeding ``length - 1`` tokens), as a function."""
    model.eval()
    if kv_cache is not None:
        model.decoder.kv_cache = kv_cache
    with torch.no_grad():
        state = model.init_state(batch.src, batch.src_lengths)
        tokens = torch.full((len(batch),), model.bos_id, dtype=torch.long, device=batch.src.device)
        for _ in range(length - 1):
            _, state = model.step(tokens, state)
    return torch.no_grad()(lambda: model.step(tokens, state))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=7, help="timings per function, interleaved")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall time, or thread CPU time"
    )
    args = add_runtime_args(parser).parse_args(argv)
    device = setup_runtime(args)
    if args.clock == "cpu" and device.type != "cpu":
        parser.error("--clock cpu measures CPU work; use it with --device cpu")
    clock = CLOCKS[args.clock]
    pairs = generate_pairs("dates", 2000, seed=args.seed, n_items=(1, 4))
    data = Seq2SeqData.from_pairs(pairs, "en", "zh")
    batch = data.batch(range(args.batch)).to(device)
    sizes = len(data.src_vocab), len(data.tgt_vocab)
    gru = make_seq2seq(*sizes, encoder="gru", decoder="attention", emb_dim=32, hidden=64).to(device)
    transformer = make_transformer(
        *sizes, d_model=32, nhead=4, num_layers=2, dim_feedforward=64
    ).to(device)
    print(
        f"batch of {len(batch)} date examples, source {batch.src.shape[1]} words, "
        f"target {batch.tgt_in.shape[1]} characters; {torch.get_num_threads()} CPU threads; "
        f"{args.clock} clock"
    )
    train = interleaved_times(
        {"gru": train_step_fn(gru, batch), "transformer": train_step_fn(transformer, batch)},
        args.repeats,
        args.rounds,
        device,
        clock,
    )
    print(
        f"training step: attention GRU {statistics.median(train['gru']) * 1e3:.2f} ms, "
        f"Transformer {median_ratio(train['transformer'], train['gru']):.2f}× that\n"
    )
    print("decoding step at   attention GRU   Transformer, no cache   with key/value cache")
    for length in (10, 25, 50, 100):
        times = interleaved_times(
            {
                "gru": decode_step_fn(gru, batch, length),
                "no cache": decode_step_fn(transformer, batch, length, kv_cache=False),
                "cache": decode_step_fn(transformer, batch, length, kv_cache=True),
            },
            args.repeats,
            args.rounds,
            device,
            clock,
        )
        row = f"length {length:<12d}{statistics.median(times['gru']) * 1e3:10.2f} ms"
        for k in ("no cache", "cache"):
            ms, ratio = statistics.median(times[k]) * 1e3, median_ratio(times[k], times["gru"])
            row += f"{ms:12.2f} ms ({ratio:6.2f}×)"
        print(row)
    print("(times: medians over rounds; ratios: medians of the per-round ratios to the GRU)")


if __name__ == "__main__":
    main()
