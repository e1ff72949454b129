"""Training curves."""

from __future__ import annotations

from collections.abc import Sequence

from companion.train import History


def plot_history(
    history: History,
    keys: Sequence[str] = ("loss",),
    *,
    per: str = "epoch",
    ax=None,
    title: str | None = None,
    ylabel: str = "loss",
    logy: bool = False,
):
    """Plot logged series of a :class:`~companion.train.History` against epoch (or step)."""
    import matplotlib.pyplot as plt

    if not isinstance(history, History):
        raise TypeError(
            f"history must be the History that fit returns, got {type(history).__name__}"
        )
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError("give at least one key to plot")
    if per not in ("epoch", "step"):
        raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        values = history.series(key, per=per)
        if not values:
            rows = history.epochs if per == "epoch" else history.steps
            available = sorted({k for row in rows for k in row})
            raise ValueError(f"history has no {key!r} per {per}; available: {available}")
        ax.plot(
            range(1, len(values) + 1), values, label=key, marker="." if len(values) < 40 else None
        )
    ax.set_xlabel(per)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
