"""Training throughput of the attention Seq2Seq model, and the accuracy it reaches on the date task.

Prints (1) target tokens per second while training the GRU + attention model, against two
references measured in the same run: the same encoder with the book's context-vector decoder,
and the attention model with teacher-forcing ratio 0.5 (which must decode step by step); and
(2) the held-out exact-match accuracy on the date task (``march 25 2019`` → ``2019年3月25日``)
after a fixed time budget of training, and when it first reached the 99 % target.

    PYTHONPATH=. python benchmarks/attention_throughput.py            # defaults: 60 s budget
    PYTHONPATH=. python benchmarks/attention_throughput.py --budget 30 --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import add_runtime_args, setup_runtime

import companion
from companion.data import Seq2SeqData, generate_pairs, split_pairs
from companion.inference import translate
from companion.metrics import exact_match
from companion.models import make_seq2seq, seq2seq_loss
from companion.train import train_seq2seq


def date_data(n_train: int, n_test: int, seed: int):
    pairs = generate_pairs("dates", n_train + n_test, seed=seed)
    train, test = split_pairs(pairs, (0.9, 0.1), seed=seed)  # sources are de-duplicated first
    return Seq2SeqData.from_pairs(train, "en", "zh"), test[:n_test]


def tokens_per_second(
    model, batches, device, seconds: float, teacher_forcing: float = 1.0
) -> float:
    """Train steps (forward, backward, Adam) for about ``seconds``; target tokens per second."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.to(device).train()
    tokens, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for batch in batches:
            batch = batch.to(device)
            loss = seq2seq_loss(model, batch, teacher_forcing=teacher_forcing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tokens += int(batch.tgt_mask.sum())
            if time.perf_counter() - start >= seconds:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return tokens / (time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=60.0, help="training seconds for the accuracy run"
    )
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    args = add_runtime_args(parser).parse_args(argv)
    device = setup_runtime(args)
    data, test = date_data(args.n_train, 1000, args.seed)
    print(
        f"date task: {len(data)} training pairs, {len(test)} held-out dates, "
        f"{torch.get_num_threads()} CPU threads"
    )

    def model(decoder):
        companion.seed_everything(args.seed)
        return make_seq2seq(
            len(data.src_vocab),
            len(data.tgt_vocab),
            decoder=decoder,
            emb_dim=32,
            hidden=args.hidden,
        )

    batches = data.batches(args.batch_size, shuffle=True, seed=args.seed)
    rates = {
        (d, tf): tokens_per_second(model(d), batches, device, args.throughput_seconds, tf)
        for d, tf in (("attention", 1.0), ("context", 1.0), ("attention", 0.5))
    }
    base = rates["attention", 1.0]
    print(f"training throughput (target tokens/s, {args.throughput_seconds:.0f} s each):")
    print(f"  {'GRU + attention, teacher forcing 1.0':42s} {base:10,.0f}   (reference)")
    for (decoder, tf), rate in rates.items():
        if (decoder, tf) != ("attention", 1.0):
            label = (
                f"GRU + {'attention' if decoder == 'attention' else 'context vector'}, teacher "
                f"forcing {tf}"
            )
            print(f"  {label:42s} {rate:10,.0f}   (attention/tf 1.0 is {base / rate:.2f}× as fast)")

    net, start, reached = model("attention").to(device), time.perf_counter(), None
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)  # kept across the one-epoch calls
    refs = [p.tgt for p in test]
    epoch, acc = 0, 0.0
    while time.perf_counter() - start < args.budget:
        train_seq2seq(net, batches, epochs=1, optimizer=optimizer, device=device, progress=False)
        epoch += 1
        acc = exact_match(translate(net, data, [p.src for p in test], max_len=16), refs)
        elapsed = time.perf_counter() - start
        if reached is None:
            print(f"  epoch {epoch}: {elapsed:6.1f} s, held-out exact match {acc:.2%}")
            if acc >= 0.99:
                reached = elapsed
    verdict = (
        f"first reached 99 % after {reached:.0f} s"
        if reached is not None
        else "did NOT reach 99 % within the budget"
    )
    print(
        f"date task: held-out exact match {acc:.2%} after {epoch} epochs "
        f"({time.perf_counter() - start:.0f} s budget {args.budget:.0f} s); {verdict}"
    )


if __name__ == "__main__":
    main()
