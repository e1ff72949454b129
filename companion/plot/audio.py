"""Spectrograms of the speech-like DTMF task (5.1.1),
optionally with a decoder's attention below.
"""

from __future__ import annotations

from collections.abc import Sequence


def plot_spectrogram(
    frames,
    *,
    hop_seconds: float,
    bin_hz: float,
    title: str | None = None,
    attention=None,
    tokens: Sequence[str] | None = None,
):
    """``frames [S, F]`` (log magnitudes) as an image: time across, frequency up.

    With ``attention [T, S]`` and its output ``tokens`` (T of them) a second panel shows, for
    every emitted token, its weights over the frames, on the same time axis. Returns the figure.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from companion.validation import check_positive_float

    check_positive_float(hop_seconds, "hop_seconds")
    check_positive_float(bin_hz, "bin_hz")
    f = np.asarray(frames.detach().cpu() if hasattr(frames, "detach") else frames, dtype=float)
    if f.ndim != 2 or f.size == 0:
        raise ValueError(
            f"frames must be a non-empty 2-D array [frames, bins], got shape {f.shape}"
        )
    S, F = f.shape
    extent = (0, S * hop_seconds, 0, F * bin_hz)
    panels = 1 if attention is None else 2
    fig, axes = plt.subplots(panels, 1, figsize=(9, 2.6 * panels), sharex=True, squeeze=False)
    ax = axes[0, 0]
    image = ax.imshow(f.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_ylabel("frequency (Hz)")
    fig.colorbar(image, ax=ax, fraction=0.03, label="log(1 + |STFT|)")
    if title:
        ax.set_title(title)
    if attention is not None:
        a = np.asarray(
            attention.detach().cpu() if hasattr(attention, "detach") else attention, dtype=float
        )
        if tokens is None or a.shape != (len(tokens), S):
            raise ValueError(f"attention must be [len(tokens), {S}], got {a.shape}")
        ax2 = axes[1, 0]
        image = ax2.imshow(
            a,
            aspect="auto",
            cmap="Blues",
            vmin=0,
            extent=(0, S * hop_seconds, len(tokens) - 0.5, -0.5),
        )
        ax2.set_yticks(range(len(tokens)), list(tokens))
        ax2.set_ylabel("emitted token")
        fig.colorbar(image, ax=ax2, fraction=0.03, label="attention weight")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    return fig
