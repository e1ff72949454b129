"""One way to wire a figure callback to sliders —
live in Jupyter, pre-rendered for the offline site.

``slider_widget(callback, **controls)`` is what every widget helper of the notebooks returns: an
``ipywidgets.interactive`` that redraws ``callback(**values)`` (a matplotlib Figure) whenever a
control moves. In Jupyter and Colab that is all it does.

When the environment variable ``COMPANION_STATIC_SLIDERS`` is ``1`` (the site builder,
``tools/site.py``, sets it while it executes the notebooks), it also displays the *frames*: the
same callback rendered at every position of the controls — or at an evenly spaced grid of at
most ``MAX_FRAMES`` positions, e.g. 9 × 9 for two fine sliders — as a MIME bundle of type
``FRAMES_MIME``:

    {"controls": [{"name": "z1", "description": "z1", "labels": ["-3.00", …], "default": 4}, …],
     "images":   ["<base64 image>", …],        # each distinct image once
     "frames":   [0, 1, 1, …],                 # image index per grid position, row-major
     "format":   "image/png"}

The site builder turns that into an ``<input type=range>`` per control that swaps the images,
so the slider moves on a page opened from disk without a kernel. Controls that cannot be
enumerated (a text box) give no frames: the page keeps the cell's static default figure.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

STATIC_SLIDERS_ENV = "COMPANION_STATIC_SLIDERS"
FRAMES_MIME = "application/vnd.companion.slider-frames+json"
MAX_FRAMES = 81  # positions pre-rendered per widget (9 × 9 for a 2-D explorer)
MAX_PER_CONTROL = 9  # positions per control when a widget has several (one control: MAX_FRAMES)
FRAME_DPI = 80  # pixels per inch of a frame (the notebook's own figures use 100)
PALETTE_COLORS = 128  # frames are stored as palette PNGs: plots need few colours


def slider_widget(callback: Callable[..., Any], **controls: Any):
    """``ipywidgets.interactive`` that redraws
    ``callback(**values)`` (a Figure) when a control moves.

    With ``COMPANION_STATIC_SLIDERS=1`` in the environment it first displays the pre-rendered
    frames of ``callback`` (see the module docstring) for pages and slides without a kernel.
    """
    import ipywidgets
    import matplotlib.pyplot as plt

    def draw(**values: Any) -> None:
        fig = callback(**values)
        plt.show()
        plt.close(fig)

    widget = ipywidgets.interactive(draw, **controls)
    if static_frames_requested():
        bundle = frames_bundle(callback, widget.kwargs_widgets)
        if bundle is not None:
            from IPython.display import display

            display(bundle, raw=True)
    return widget


def static_frames_requested() -> bool:
    return os.environ.get(STATIC_SLIDERS_ENV, "") == "1"


def control_positions(control: Any) -> tuple[list[Any], list[str], int] | None:
    """(values, labels, index of the current value) of one ipywidgets control, or None when the
    control has no finite set of positions (a text box, a log slider)."""
    import ipywidgets as w

    if isinstance(control, w.fixed):
        return [control.value], [str(control.value)], 0
    if isinstance(control, (w.IntSlider, w.FloatSlider)):
        count = int(round((control.max - control.min) / control.step)) + 1
        values = [control.min + k * control.step for k in range(count)]
        if isinstance(control, w.FloatSlider):
            values = [round(v, 10) for v in values]
        fmt = getattr(control, "readout_format", "") or (
            "d" if isinstance(control, w.IntSlider) else ".2f"
        )
        labels = [format(v, fmt) for v in values]
        return values, labels, _nearest(values, control.value)
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return [False, True], ["off", "on"], int(bool(control.value))
    if isinstance(control, w.widget_selection._Selection):
        values, labels = list(control._options_values), list(control._options_labels)
        return values, labels, control.index if control.index is not None else 0
    return None


def _nearest(values: Sequence[float], value: float) -> int:
    return min(range(len(values)), key=lambda k: abs(values[k] - value))


def thin_positions(count: int, keep: int, default: int) -> list[int]:
    """At most ``keep`` (≥ 2) evenly spaced indices of ``range(count)``, always with the ends and
    ``default``."""
    if count <= keep:
        return list(range(count))
    picked = {round(k * (count - 1) / (keep - 1)) for k in range(keep)}
    if default not in picked:  # swap the nearest pick for the default
        picked.remove(min(picked, key=lambda k: (k in (0, count - 1), abs(k - default))))
        picked.add(default)
    return sorted(picked)


def thin(
    control: Any, positions: tuple[list[Any], list[str], int], keep: int
) -> tuple[list[Any], list[str], int]:
    """``positions`` of ``control`` cut to at most ``keep``, evenly spaced, with the current value.

    A float slider gets evenly spaced values between its ends (-3, -2.25, …, 3 for 9 of 61
    steps); others keep evenly spaced entries of their own list."""
    import ipywidgets as w

    values, labels, default = positions
    if len(values) <= keep:
        return positions
    if not isinstance(control, w.FloatSlider):
        picks = thin_positions(len(values), keep, default)
        return [values[i] for i in picks], [labels[i] for i in picks], picks.index(default)
    lo, hi = values[0], values[-1]
    even = [round(lo + k * (hi - lo) / (keep - 1), 10) for k in range(keep)]
    current = values[default]
    at = _nearest(even, current)
    even[at] = current
    fmt = getattr(control, "readout_format", "") or ".2f"
    return even, [format(v, fmt) for v in even], at


def grid_sizes(counts: Sequence[int], budget: int = MAX_FRAMES) -> list[int]:
    """How many positions of each control to render so that their product stays ≤ ``budget``:
    small controls keep all their positions, the others share the rest evenly, at most
    ``MAX_PER_CONTROL`` each when there are several (9 × 9 for two sliders with 61 steps each,
    3 × 9 for three ratios and a slider over 200 examples)."""
    sizes = [0] * len(counts)
    left = budget
    order = sorted(range(len(counts)), key=lambda k: counts[k])
    for done, k in enumerate(order):
        share = max(2, int(round(left ** (1 / (len(order) - done)) + 1e-9)))
        while share > 2 and share ** (len(order) - done) > left:
            share -= 1
        if len(counts) > 1:
            share = min(share, MAX_PER_CONTROL)
        sizes[k] = min(counts[k], share)
        left = max(1, left // sizes[k])
    return sizes


def render_frame(fig, *, dpi: int = FRAME_DPI) -> bytes:
    """The figure as a palette PNG (lossless for flat plot colours, a fraction of RGB's size)."""
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    image = Image.open(raw).convert("RGB").quantize(colors=PALETTE_COLORS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def frames_bundle(
    callback: Callable[..., Any], controls: Sequence[Any], *, budget: int = MAX_FRAMES
) -> dict[str, Any] | None:
    """The MIME bundle of pre-rendered frames of ``callback`` over ``controls`` (the
    ``kwargs_widgets`` of an ``interactive``), or None when a control cannot be enumerated."""
    import matplotlib.pyplot as plt

    maybe_positions = [control_positions(c) for c in controls]
    positions = [p for p in maybe_positions if p is not None]
    if not positions or len(positions) != len(maybe_positions):
        return None
    # fixed values drop out
    axes = [(c, p) for c, p in zip(controls, positions, strict=True) if len(p[0]) > 1]
    constant = {
        c._kwarg: p[0][0] for c, p in zip(controls, positions, strict=True) if len(p[0]) == 1
    }
    sizes = grid_sizes([len(p[0]) for _, p in axes], budget)
    axes = [(c, thin(c, p, size)) for (c, p), size in zip(axes, sizes, strict=True)]
    images: list[str] = []
    seen: dict[str, int] = {}
    frames: list[int] = []
    for combo in itertools.product(*(range(len(p[0])) for _, p in axes)):
        values = {c._kwarg: p[0][i] for (c, p), i in zip(axes, combo, strict=True)}
        fig = callback(**constant, **values)
        try:
            encoded = base64.b64encode(render_frame(fig)).decode("ascii")
        finally:
            plt.close(fig)
        frames.append(seen.setdefault(encoded, len(images)))
        if frames[-1] == len(images):
            images.append(encoded)
    described = [
        {
            "name": c._kwarg,
            "description": getattr(c, "description", "") or c._kwarg,
            "labels": p[1],
            "default": p[2],
        }
        for c, p in axes
    ]
    shape = " × ".join(f"{len(d['labels'])} {d['description']}" for d in described)
    return {
        FRAMES_MIME: {
            "controls": described,
            "images": images,
            "frames": frames,
            "format": "image/png",
        },
        "text/plain": f"[pre-rendered frames for pages without a kernel: {shape or '1 position'}]",
    }
