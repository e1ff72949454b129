"""Interactive controls for the notebooks.

Each widget's callback is a plain function (tested directly); the notebook calls it once for a
static figure of the default setting and then wires it to ipywidgets with
:func:`slider_widget`, which also pre-renders the frames of the offline pages and slides.
"""

from companion.widgets.autoencoders import (
    denoise,
    denoising_figure,
    latent_explorer_figure,
    latent_noise_figure,
    perturb_codes,
)
from companion.widgets.beam import beam_width_slider, beam_width_view
from companion.widgets.sliders import slider_widget
from companion.widgets.teacher_forcing import teacher_forcing_slider, teacher_forcing_view

__all__ = [
    "denoise",
    "denoising_figure",
    "latent_explorer_figure",
    "latent_noise_figure",
    "perturb_codes",
    "slider_widget",
    "beam_width_slider",
    "beam_width_view",
    "teacher_forcing_slider",
    "teacher_forcing_view",
]
