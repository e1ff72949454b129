"""Plotting helpers shared by the notebooks (matplotlib is imported only when a plot is drawn)."""
from companion.plot.images import image_grid, latent_grid, plot_codes, plot_images, plot_latent_grid
from companion.plot.training import plot_history

__all__ = ["image_grid", "latent_grid", "plot_codes", "plot_images", "plot_latent_grid",
           "plot_history"]
