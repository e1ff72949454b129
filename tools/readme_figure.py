"""The README's picture: Fig. 5-7 drawn from a tiny trained model, as notebook 5.3.1 draws it.

    python -m tools.readme_figure [--out docs/figures/fig-5-7-seq2seq.png]

Trains the book-example model of notebook 5.3.1 (a bidirectional GRU encoder, the book's decoder
with the context vector at every step, seed 0, 30 epochs on the CPU: a few seconds), traces
"hello world" through it and saves ``plot_seq2seq_overview`` as a small PNG. The numbers in the
boxes are the model's own; rerun this after a change to the model, the tracing or the plot.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "figures" / "fig-5-7-seq2seq.png"
EPOCHS = 30  # notebook 5.3.1's book_epochs in default mode
DPI = 100  # small enough for a README (about 40 kB), sharp enough to read the numbers


def trained_trace(seed: int = 0, epochs: int = EPOCHS):
    """The trace of "hello world" through the notebook's tiny model (CPU, one thread)."""
    import torch

    import companion
    from companion.data import Seq2SeqData
    from companion.data.book_examples import BOOK_FIG_5_7, book_example_pairs
    from companion.models import make_seq2seq
    from companion.models.tracing import trace_greedy
    from companion.train import train_seq2seq

    torch.set_num_threads(1)
    data = Seq2SeqData.from_pairs(book_example_pairs(), "en", "zh")
    companion.seed_everything(seed)
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="bigru",
        decoder="context",
        emb_dim=16,
        hidden=32,
    )
    batches = data.batches(16, shuffle=True, seed=seed)
    train_seq2seq(model, batches, epochs=epochs, lr=1e-2, device="cpu", progress=False)
    return trace_greedy(model.eval(), data, BOOK_FIG_5_7.src)


def draw(trace):
    """The figure of notebook 5.3.1 (Fig. 5-7) for ``trace``."""
    from companion.data.book_examples import BOOK_FIG_5_7
    from companion.plot.diagrams import plot_seq2seq_overview

    title = f"Fig. 5-7 Seq2Seq: {BOOK_FIG_5_7.src!r} → encoder → c → decoder"
    return plot_seq2seq_overview(trace, title=title)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.readme_figure", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the PNG")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    trace = trained_trace()
    fig = draw(trace)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    size = args.out.stat().st_size
    print(f"{args.out}: {''.join(trace.output)!r}, {size / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
