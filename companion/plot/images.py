"""Pictures for the autoencoder and VAE notebooks:
image grids, 2-D code scatters, latent manifolds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from companion.validation import check_float, check_int, describe


def _as_numpy_images(images) -> np.ndarray:
    """``[N, H, W]`` float array from a tensor/array
    of ``[N, 1, H, W]``, ``[N, H, W]`` or ``[H, W]``.
    """
    if images is None or isinstance(images, str):
        raise TypeError(f"images must be a tensor or array of grey images, got {describe(images)}")
    a = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"images must hold numbers, got an array of {a.dtype}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3 or a.shape[0] == 0:
        raise ValueError(f"expected grey images [N, 1, H, W] or [N, H, W], got shape {a.shape}")
    return a.astype(np.float32)


def image_grid(
    images, ncols: int | None = None, pad: int = 1, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images into one 2-D array, ``ncols`` per row (default: all in one row)."""
    a = _as_numpy_images(images)
    n, h, w = a.shape
    ncols = n if ncols is None else check_int(ncols, "ncols", min=1)
    check_int(pad, "pad", min=0)
    check_float(pad_value, "pad_value")
    nrows = -(-n // ncols)
    canvas = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, np.float32)
    for i, img in enumerate(a):
        r, c = divmod(i, ncols)
        canvas[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return canvas


def plot_images(
    images,
    ncols: int | None = None,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    title: str | None = None,
    ax=None,
    scale: float = 0.9,
    vmin: float = 0.0,
    vmax: float = 1.0,
):
    """Show grey images as a grid (one ``imshow``);
    label rows and columns if asked. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    a = _as_numpy_images(images)
    ncols = len(a) if ncols is None else ncols
    nrows = -(-len(a) // ncols)
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"{len(row_labels)} row labels for {nrows} rows")
    if col_labels is not None and len(col_labels) != ncols:
        raise ValueError(f"{len(col_labels)} column labels for {ncols} columns")
    if ax is None:
        _, ax = plt.subplots(
            figsize=(
                max(2.0, scale * ncols + (1.2 if row_labels else 0)),
                max(1.2, scale * nrows + (0.4 if title else 0)),
            )
        )
    h, w = a.shape[1:]
    ax.imshow(image_grid(a, ncols), cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([(w + 1) * c + w / 2 - 0.5 for c in range(ncols)] if col_labels else [])
    ax.set_xticklabels(col_labels or [], fontsize=8)
    ax.set_yticks([(h + 1) * r + h / 2 - 0.5 for r in range(nrows)] if row_labels else [])
    ax.set_yticklabels(row_labels or [], fontsize=9)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_codes(
    codes, labels=None, *, ax=None, title: str | None = None, max_points: int = 3000, s: float = 6.0
):
    """Scatter 2-D codes, coloured by integer class label when given (a legend per class)."""
    import matplotlib.pyplot as plt

    c = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0:
        raise ValueError(f"codes must have shape [N, 2], got {c.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    c = c[:max_points]
    if labels is None:
        ax.scatter(c[:, 0], c[:, 1], s=s, alpha=0.6)
    else:
        y = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        y = y[:max_points]
        cmap = plt.get_cmap("tab10")
        for k in np.unique(y):
            ax.scatter(
                c[y == k, 0], c[y == k, 1], s=s, alpha=0.6, color=cmap(int(k) % 10), label=str(k)
            )
        ax.legend(markerscale=2.5, fontsize=7, ncol=2, loc="best", framealpha=0.7)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def latent_grid(
    decode: Callable[[torch.Tensor], torch.Tensor],
    lims=(-2.5, 2.5),
    n: int = 12,
) -> tuple[torch.Tensor, np.ndarray]:
    """Decode an ``n×n`` grid of 2-D codes in ``lims`` (row 0 at the top = largest z₂).

    Returns (images ``[n*n, ...]``, grid values). Used to draw the latent manifold of a 2-D VAE.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    values = np.linspace(lims[0], lims[1], n)
    z = torch.tensor([[z1, z2] for z2 in values[::-1] for z1 in values], dtype=torch.float32)
    with torch.no_grad():
        return decode(z), values


def plot_latent_grid(
    decode: Callable[[torch.Tensor], torch.Tensor],
    lims=(-2.5, 2.5),
    n: int = 12,
    *,
    ax=None,
    title: str | None = None,
):
    """The 2-D latent manifold: decoded images on a grid of codes, axes in latent units."""
    import matplotlib.pyplot as plt

    images, values = latent_grid(decode, lims, n)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    canvas = image_grid(images, n, pad=0)
    half = (values[1] - values[0]) / 2  # each tile is centred on its code
    lo, hi = values[0] - half, values[-1] + half
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=(lo, hi, lo, hi), interpolation="nearest")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
