"""Heat maps of attention weights (and of any other output × input alignment)."""

from __future__ import annotations

from collections.abc import Sequence


def plot_attention(
    weights,
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    *,
    ax=None,
    title: str | None = None,
    xlabel: str = "source",
    ylabel: str = "output",
    cmap: str = "Blues",
    colorbar: bool = False,
):
    """Draw ``weights [len(tgt_tokens), len(src_tokens)]`` with the tokens as tick labels."""
    import matplotlib.pyplot as plt
    import numpy as np

    from companion.plot.fonts import use_cjk_font

    use_cjk_font()  # the tokens are often Chinese characters
    font = {"fontfamily": plt.rcParams["font.family"]}  # also for axes made before the font was set

    w = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights, dtype=float)
    if not np.isfinite(w).all():
        raise ValueError(
            "weights must be finite; NaN or inf attention weights usually mean a "
            "fully masked row or a diverged model"
        )
    if w.shape != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(
            f"weights have shape {w.shape} but there are {len(tgt_tokens)} output and "
            f"{len(src_tokens)} source tokens"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * len(src_tokens) + 1.5, 0.35 * len(tgt_tokens) + 1.2))
    image = ax.imshow(w, cmap=cmap, aspect="auto", vmin=0)
    ax.set_xticks(range(len(src_tokens)), list(src_tokens), rotation=90, **font)
    ax.set_yticks(range(len(tgt_tokens)), list(tgt_tokens), **font)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, **font)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.04)
    return ax
