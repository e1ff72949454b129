"""companion.widgets.sliders: the live slider, and
the frames it pre-renders for the offline site.
"""

from __future__ import annotations

import ast
import base64
import io
import json
from pathlib import Path

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from companion.widgets import sliders
from companion.widgets.sliders import (
    FRAMES_MIME,
    STATIC_SLIDERS_ENV,
    frames_bundle,
    grid_sizes,
    render_frame,
    slider_widget,
    thin_positions,
)

WIDGETS = Path(sliders.__file__).parent


def _figure(a: float, b: float = 0.0):
    fig, ax = plt.subplots(figsize=(1, 0.6))  # tiny: the tests render a hundred frames
    ax.plot([0, 1], [a, b])
    ax.set_ylim(-3, 3)
    ax.set_axis_off()
    return fig


def _pixels(png_b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png_b64))).convert("RGB"))


def _controls(widget):
    return widget.kwargs_widgets


def test_grid_sizes_keep_small_controls_and_share_the_budget():
    assert grid_sizes([61, 61]) == [9, 9]  # the 2-D latent explorer: 9 × 9
    assert grid_sizes([21]) == [21]  # a noise slider: every step
    assert grid_sizes([3, 200]) == [3, 9]  # 3 ratios keep all, 9 of the examples
    assert grid_sizes([200]) == [81]  # one control alone gets the whole budget
    assert grid_sizes([10]) == [10]
    for counts in ([61, 61], [3, 200], [5, 7, 11], [100]):
        sizes = grid_sizes(counts)
        assert int(np.prod(sizes)) <= sliders.MAX_FRAMES
        assert all(1 <= s <= c for s, c in zip(sizes, counts, strict=True))


def test_thinned_positions_keep_the_ends_and_the_default():
    assert thin_positions(5, 9, 2) == [0, 1, 2, 3, 4]
    picks = thin_positions(200, 27, 131)
    assert len(picks) == 27 and picks[0] == 0 and picks[-1] == 199 and 131 in picks
    assert picks == sorted(set(picks))


def test_frames_cover_the_grid_and_each_frame_is_the_callback_at_its_position():
    widget = slider_widget(
        _figure,
        a=w.FloatSlider(value=0.0, min=-3, max=3, step=0.1),
        b=w.FloatSlider(value=1.0, min=-3, max=3, step=0.1),
    )
    payload = frames_bundle(_figure, _controls(widget))[FRAMES_MIME]
    a, b = payload["controls"]
    assert a["labels"] == [
        "-3.00",
        "-2.25",
        "-1.50",
        "-0.75",
        "0.00",
        "0.75",
        "1.50",
        "2.25",
        "3.00",
    ]
    assert a["default"] == 4  # the slider's own value is a frame
    assert b["labels"][b["default"]] == "1.00" and len(b["labels"]) == 9
    assert len(payload["frames"]) == 81 and len(set(payload["frames"])) > 70  # few lines coincide
    for i, j in [(0, 0), (4, b["default"]), (8, 3)]:
        image = payload["images"][payload["frames"][i * 9 + j]]
        expected = render_frame(_figure(float(a["labels"][i]), float(b["labels"][j])))
        assert np.array_equal(_pixels(image), _pixels(base64.b64encode(expected).decode()))
    plt.close("all")


def test_options_and_int_sliders_and_fixed_values():
    calls = []

    def view(ratio, index, scale):
        calls.append((ratio, index, scale))
        return _figure(ratio * index / 10, scale)

    widget = slider_widget(
        view,
        ratio=w.SelectionSlider(options=[0.0, 0.5, 1.0], value=1.0),
        index=w.IntSlider(value=7, min=0, max=99),
        scale=w.fixed(2.0),
    )
    calls.clear()
    payload = frames_bundle(view, _controls(widget), budget=18)[FRAMES_MIME]
    ratio, index = payload["controls"]
    assert ratio["labels"] == ["0.0", "0.5", "1.0"] and ratio["default"] == 2
    assert len(index["labels"]) == 6 and index["labels"][index["default"]] == "7"
    assert index["labels"][0] == "0" and index["labels"][-1] == "99"
    assert len(calls) == 18 and {c[2] for c in calls} == {2.0}
    assert all(isinstance(c[1], int) for c in calls)
    plt.close("all")


def test_a_text_box_gives_no_frames():
    def view(sentence):
        return _figure(len(sentence) / 10)

    widget = slider_widget(view, sentence=w.Text(value="hello"))
    assert frames_bundle(view, _controls(widget)) is None
    plt.close("all")


def test_frames_are_displayed_only_when_the_site_builder_asks(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.delenv(STATIC_SLIDERS_ENV, raising=False)
    slider_widget(_figure, a=w.IntSlider(value=1, min=0, max=2))
    assert shown == []
    monkeypatch.setenv(STATIC_SLIDERS_ENV, "1")
    live = slider_widget(_figure, a=w.IntSlider(value=1, min=0, max=2))
    assert len(shown) == 1 and shown[0][1] is True
    assert len(shown[0][0][FRAMES_MIME]["frames"]) == 3
    assert isinstance(live, w.interactive)  # the live widget is still what the cell returns
    plt.close("all")


DIRECT = {"interactive", "interact", "interact_manual"}  # ipywidgets' own, which get no frames
TEXT_BOXES = {"Text", "Textarea", "Combobox"}  # controls no set of frames can cover


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def direct_widgets_without_a_text_box(source: str) -> list[int]:
    """Lines of ``interactive(...)``-like calls none of whose controls is a text box."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in DIRECT:
            controls = [kw.value for kw in node.keywords]
            if not any(isinstance(c, ast.Call) and _name(c.func) in TEXT_BOXES for c in controls):
                lines.append(node.lineno)
    return lines


def _code(path: Path) -> list[str]:
    if path.suffix == ".py":
        return [path.read_text(encoding="utf-8")]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        "\n".join(
            line for line in "".join(c["source"]).splitlines() if not line.startswith(("%", "!"))
        )
        for c in cells
        if c["cell_type"] == "code"
    ]


def test_the_text_box_exemption_is_per_widget():
    assert direct_widgets_without_a_text_box("w.interactive(f, a=w.IntSlider())") == [1]
    # a text box elsewhere in the file does not excuse a slider built without slider_widget
    assert direct_widgets_without_a_text_box(
        "box = w.Text()\nw.interactive(f, a=w.IntSlider())\nw.interact(g, t=w.Text(value=''))"
    ) == [2]


def test_every_widget_helper_goes_through_slider_widget():
    """A new helper that built its own ``interactive`` would get no frames on the site; only a
    widget with a text box among its own controls (which no set of frames can cover) may."""
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    offenders = [
        f"{p.name} line {line}"
        for p in [*WIDGETS.glob("*.py"), *notebooks.glob("*.ipynb")]
        if p.name != "sliders.py"
        for source in _code(p)
        for line in direct_widgets_without_a_text_box(source)
    ]
    assert offenders == [], f"use companion.widgets.slider_widget in {offenders}"
