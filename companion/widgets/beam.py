"""The beam-width slider of notebook 5.3.4: one input's n-best list as the beam widens.

``beam_width_view(K, model=…, data=…, index=…)`` is the plain callback (tested directly): it takes
the n-best list of a beam of width K for example ``index`` of ``data`` from
:func:`companion.inference.nbest` and draws the K hypotheses with their probabilities.
``beam_width_slider`` wires it to an ipywidgets slider.
"""

from __future__ import annotations

import math

from companion.inference import nbest
from companion.plot.decoding import plot_nbest
from companion.validation import check_int

MAX_WIDTH = 10


def beam_width_view(
    beam_width: int, *, model, data, index: int, max_len: int = 30, max_width: int = MAX_WIDTH
):
    """The slider's callback: a figure of the n-best list of a beam of width ``beam_width``.

    The figure has room for ``max_width`` rows (the slider's largest value), so that its axes stay
    put while the slider moves; a wider beam (called directly) gets the room it needs.
    """
    check_int(max_width, "max_width", min=1)
    rows = nbest(model, data, index, beam_width=beam_width, max_len=max_len)
    total = sum(math.exp(r.log_prob) for r in rows)
    title = (
        f"beam width K = {beam_width}: the {len(rows)} best outputs for example {index} "
        f"(together p = {total:.2f})\nreference: {data.pairs[index].tgt}"
    )
    return plot_nbest(rows, title=title, max_rows=max(max_width, len(rows)))


def beam_width_slider(
    model, data, index: int, *, value: int = 5, max_width: int = MAX_WIDTH, max_len: int = 30
):
    """An ipywidgets slider (1…max_width) that redraws :func:`beam_width_view`."""
    import ipywidgets as widgets

    from companion.widgets.sliders import slider_widget

    check_int(max_width, "max_width", min=1)
    check_int(value, "value", min=1, max=max_width)

    def view(beam_width: int):
        return beam_width_view(
            beam_width, model=model, data=data, index=index, max_len=max_len, max_width=max_width
        )

    slider = widgets.IntSlider(value=value, min=1, max=max_width, description="beam width")
    return slider_widget(view, beam_width=slider)
