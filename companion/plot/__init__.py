"""Plotting helpers shared by the notebooks (matplotlib is imported only when a plot is drawn)."""
from companion.plot.training import plot_history

__all__ = ["plot_history"]
from companion.plot.captioning import plot_caption_attention, show_captioned_images  # noqa: E402

__all__ += ["plot_caption_attention", "show_captioned_images"]
