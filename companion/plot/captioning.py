"""Pictures for image captioning: captioned image grids and per-word attention over the image."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from companion.plot.fonts import use_cjk_font


def _as_hwc(image: torch.Tensor):
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError("image must be a tensor [channels (1 or 3), height, width]")
    return image.detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()


def show_captioned_images(
    images: torch.Tensor,
    captions: Sequence[str],
    *,
    ncols: int = 4,
    second: Sequence[str] | None = None,
    title: str | None = None,
):
    """A grid of images, each titled with its caption (and a second line, e.g. the prediction)."""
    import matplotlib.pyplot as plt

    use_cjk_font()  # captions may be Chinese
    if len(images) != len(captions) or len(captions) == 0:
        raise ValueError(
            f"need one caption per image, got {len(images)} images, {len(captions)} captions"
        )
    nrows = -(-len(captions) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 3.2 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(captions):
            ax.imshow(_as_hwc(images[k]))
            text = captions[k] if second is None else f"{captions[k]}\n{second[k]}"
            ax.set_title(text, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_caption_attention(
    image: torch.Tensor,
    words: Sequence[str],
    weights: torch.Tensor,
    *,
    ncols: int = 6,
    title: str | None = None,
):
    """One panel per generated word: the image with that step's attention over the grid on top.

    ``weights [T, h, w]`` are the attention weights (5-22) of the T words over the h×w grid cells
    of the CNN encoder; each map is stretched over the image (one grid cell = one block of pixels).
    """
    import matplotlib.pyplot as plt

    use_cjk_font()  # words may be Chinese characters
    if weights.dim() != 3 or len(words) != weights.shape[0] or not words:
        raise ValueError(
            f"need weights [T, h, w] with T = len(words) ≥ 1; got {tuple(weights.shape)} "
            f"for {len(words)} words"
        )
    picture = _as_hwc(image)
    height, width = picture.shape[:2]
    nrows = -(-len(words) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols, 2.1 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(words):
            continue
        ax.imshow(picture)
        ax.imshow(
            weights[k].detach().cpu().numpy(),
            cmap="gray",
            alpha=0.6,
            extent=(0, width, height, 0),
            interpolation="nearest",
            vmin=0,
        )
        ax.set_title(f"{words[k]}\nmax {float(weights[k].max()):.2f}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
