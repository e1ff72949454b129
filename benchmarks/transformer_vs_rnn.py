"""Training-step and decoding cost: the Transformer of 5.3.6 vs the attention GRU of 5.3.3.

    PYTHONPATH=. python benchmarks/transformer_vs_rnn.py [--batch 64] [--device auto] [--threads 1]

Both models have about 52k parameters (as in notebook 5.3.6) and see the same batches of the
date task (one to four dates per example). Printed, each against the GRU measured in the same run:

* the time of one training step (forward, backward, Adam) on a batch;
* the time of one decoding step at output lengths 10, 25 and 50. The GRU carries one state
  vector, so its step costs the same at every length; our Transformer decoder re-reads the whole
  prefix (no key/value cache), so its step grows with the length and decoding T tokens costs
  O(T²) decoder positions. The ratio column shows that growth.
"""
from __future__ import annotations

import argparse
import time

import torch

import companion
from _common import add_runtime_args, setup_runtime
from companion.data import Seq2SeqData, generate_pairs
from companion.models import make_seq2seq, make_transformer, seq2seq_loss


def seconds_per_call(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def train_step_time(model, batch, device, repeats: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step():
        loss = seq2seq_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return seconds_per_call(step, repeats, device)


@torch.no_grad()
def decode_step_time(model, batch, length: int, device, repeats: int) -> float:
    """Seconds for the ``length``-th decoding step (after feeding ``length - 1`` tokens)."""
    model.eval()
    state = model.init_state(batch.src, batch.src_lengths)
    tokens = torch.full((len(batch),), model.bos_id, dtype=torch.long, device=device)
    for _ in range(length - 1):
        _, state = model.step(tokens, state)
    return seconds_per_call(lambda: model.step(tokens, state), repeats, device)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    args = add_runtime_args(parser).parse_args(argv)
    device = setup_runtime(args)
    pairs = generate_pairs("dates", 2000, seed=args.seed, n_items=(1, 4))
    data = Seq2SeqData.from_pairs(pairs, "en", "zh")
    batch = data.batch(range(args.batch)).to(device)
    sizes = len(data.src_vocab), len(data.tgt_vocab)
    models = {
        "attention GRU": make_seq2seq(*sizes, encoder="gru", decoder="attention", emb_dim=32, hidden=64),
        "Transformer": make_transformer(*sizes, d_model=32, nhead=4, num_layers=2, dim_feedforward=64),
    }
    for model in models.values():
        model.to(device)
    print(f"batch of {len(batch)} date examples, source {batch.src.shape[1]} words, "
          f"target {batch.tgt_in.shape[1]} characters; {torch.get_num_threads()} CPU threads")
    print(f"{'':28s}" + "".join(f"{name:>16s}" for name in models) + f"{'ratio':>8s}")
    rows = {"training step": {n: train_step_time(m, batch, device, args.repeats) for n, m in models.items()}}
    for length in (10, 25, 50):
        rows[f"decoding step at length {length}"] = {
            n: decode_step_time(m, batch, length, device, args.repeats) for n, m in models.items()}
    for label, times in rows.items():
        gru, transformer = times["attention GRU"], times["Transformer"]
        print(f"{label:28s}{gru * 1e3:13.2f} ms{transformer * 1e3:13.2f} ms{transformer / gru:7.1f}×")


if __name__ == "__main__":
    main()
