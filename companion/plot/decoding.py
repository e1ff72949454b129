"""Plots of decoding (5.3.4): Fig. 5-11 drawn from a real model (what the decoder reads under
teacher forcing and in free running) and the n-best list of a beam search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from companion.inference import NBestRow


def plot_teacher_forcing(
    reference: Sequence[str],
    forced: Sequence[str],
    free: Sequence[str],
    *,
    bos: str = "<bos>",
    title: str | None = None,
):
    """Two rows of decoder steps for one example (tokens as strings, ``<eos>`` included).

    Top: teacher forcing (Teacher Forcing) — step t reads the *reference* token t-1 and predicts
    ``forced[t]``. Bottom: free running (自由运行) — step t reads its own prediction ``free[t-1]``.
    Predictions are green where they equal the reference token at that position, red elsewhere.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from companion.plot.fonts import use_cjk_font

    if not reference or not forced or not free:
        raise ValueError("reference, forced and free predictions must all be non-empty")
    if len(forced) != len(reference):
        raise ValueError(
            f"teacher forcing predicts one token per reference position: got "
            f"{len(forced)} predictions for {len(reference)} positions"
        )
    use_cjk_font()
    steps = max(len(reference), len(free))
    fig, axes = plt.subplots(2, 1, figsize=(1.1 * steps + 1.5, 4.6))
    rows = [
        ("teacher forcing (training): reads the reference", reference, forced),
        ("free running (test): reads its own previous output", free, free),
    ]
    for ax, (name, read_from, predicted) in zip(axes, rows, strict=True):
        for t in range(len(predicted)):
            read = bos if t == 0 else read_from[t - 1]
            ok = t < len(reference) and predicted[t] == reference[t]
            ax.add_patch(
                FancyBboxPatch(
                    (t - 0.35, 0.8), 0.7, 0.5, boxstyle="round,pad=0.02", fc="#dde7f3", ec="#4a6fa5"
                )
            )
            ax.text(t, 1.05, f"$t_{{{t}}}$", ha="center", va="center", fontsize=9)
            ax.text(
                t,
                0.2,
                read,
                ha="center",
                va="center",
                fontsize=9,
                rotation=30,
                gid="read",
                color="k" if t == 0 or read_from is reference else "#7a3e9d",
            )
            ax.annotate("", (t, 0.78), (t, 0.42), arrowprops=dict(arrowstyle="->", lw=0.8))
            ax.annotate("", (t, 1.72), (t, 1.32), arrowprops=dict(arrowstyle="->", lw=0.8))
            ax.text(
                t,
                1.95,
                predicted[t],
                ha="center",
                va="center",
                fontsize=9,
                rotation=30,
                gid="predicted",
                color="#1a7f37" if ok else "#c62828",
            )
            if read_from is not reference and t + 1 < len(predicted):  # feed the output back
                ax.annotate(
                    "",
                    (t + 1 - 0.12, 0.32),
                    (t + 0.12, 1.82),
                    arrowprops=dict(
                        arrowstyle="->", lw=0.6, color="#7a3e9d", connectionstyle="arc3,rad=-0.25"
                    ),
                )
        ax.set_xlim(-0.7, steps - 0.3)
        ax.set_ylim(-0.2, 2.3)
        ax.axis("off")
        ax.set_title(name, loc="left", fontsize=10)
    fig.suptitle(
        title or "Fig. 5-11 with a real model: predictions in green (right) or red (wrong)"
    )
    fig.tight_layout()
    return fig


def plot_nbest(rows: Sequence[NBestRow], *, title: str = "", max_rows: int = 10, ax=None):
    """Horizontal bars of log p(y | x) for an n-best list, best on top; the reference in green.

    ``rows`` are :class:`~companion.inference.NBestRow` (``text``, ``log_prob``, ``finished``,
    ``matches_reference``), e.g. from :func:`companion.inference.nbest`.

    A longer bar means a more probable output; the axis starts a little below the worst shown.
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("no hypotheses to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.4 * max(max_rows, len(rows)) + 1.2))
    low = min(r.log_prob for r in rows)
    low = low - 0.25 * abs(low) - 1.0 if math.isfinite(low) else -100.0
    ys = list(range(len(rows)))
    ax.barh(
        ys,
        [r.log_prob - low for r in rows],
        left=low,
        color=["C2" if r.matches_reference else "C0" for r in rows],
        alpha=0.8,
    )
    for y, r in zip(ys, rows, strict=True):
        mark = "" if r.finished else " …(cut at max_len)"
        ax.text(
            low,
            y,
            f" {r.text}{mark}   (log p = {r.log_prob:.2f}, p = {math.exp(r.log_prob):.3f})",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(ys, [f"#{i + 1}" for i in ys])
    ax.set_ylim(max(max_rows, len(rows)) - 0.5, -0.5)
    ax.set_xlim(low, 0)
    ax.set_xlabel("log p(y | x): longer bar = more probable   (green: equals the reference)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.figure.tight_layout()
    return ax.figure
