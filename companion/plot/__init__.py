"""Plotting helpers shared by the notebooks (matplotlib is imported only when a plot is drawn)."""

from companion.plot.attention import plot_attention
from companion.plot.captioning import plot_caption_attention, show_captioned_images
from companion.plot.decoding import plot_nbest, plot_teacher_forcing
from companion.plot.fonts import use_cjk_font
from companion.plot.images import image_grid, latent_grid, plot_codes, plot_images, plot_latent_grid
from companion.plot.training import plot_history
from companion.plot.vae_figures import (
    plot_code_bells,
    plot_code_curves,
    plot_linear_autoencoder,
    plot_noise_regions,
    plot_vae_structure,
    trace_vae,
)

__all__ = [
    "image_grid",
    "latent_grid",
    "plot_codes",
    "plot_images",
    "plot_latent_grid",
    "plot_history",
    "plot_attention",
    "use_cjk_font",
    "plot_nbest",
    "plot_teacher_forcing",
    "plot_caption_attention",
    "show_captioned_images",
    "plot_code_bells",
    "plot_code_curves",
    "plot_linear_autoencoder",
    "plot_noise_regions",
    "plot_vae_structure",
    "trace_vae",
]
