"""Sliders that work without a kernel: pre-rendered frames behind an ``<input type=range>``.

When the site builder executes the notebooks, every ``companion.widgets.slider_widget`` also
displays its frames (``FRAMES_MIME``: the widget's own callback rendered at every position of its
controls, or an evenly spaced grid of them). :func:`slider_html` turns that bundle into plain
HTML: one image, one range input per control with a label showing its value, and a few lines of
inline JavaScript that swap the image — no kernel, no network, works from disk in pages and
reveal.js slides alike.
"""

from __future__ import annotations

import html
import json
import math

from companion.i18n import _
from companion.widgets.sliders import FRAMES_MIME

SLIDER_CLASS = "companion-slider"
SLIDER_META = "companion-static-slider"  # output metadata: number of controls (slide_metadata)

STYLE = """<style>
.companion-slider-frame { max-width: 100%; }
.companion-slider-control { display: flex; align-items: center; gap: 0.6em; margin: 0.2em 0;
  font-size: 15px; }
.companion-slider-control input[type=range] { flex: 1 1 auto; max-width: 520px; margin: 0; }
.companion-slider-name { min-width: 6em; }
.companion-slider-value { font-family: monospace; min-width: 4em; }
.companion-slider-note { color: #666; font-size: 12px; margin: 0.2em 0; }
</style>"""

# Sets up every slider on the page not yet set up; each slider's own copy runs right after it.
SCRIPT = """(function () {
  function setUp(box) {
    if (box.getAttribute("data-ready")) return;
    box.setAttribute("data-ready", "1");
    var data = JSON.parse(box.querySelector(".companion-slider-data").textContent);
    var img = box.querySelector(".companion-slider-frame");
    var inputs = box.querySelectorAll("input[type=range]");
    var values = box.querySelectorAll(".companion-slider-value");
    function show() {
      var k = 0;
      for (var a = 0; a < inputs.length; a++) {
        var i = parseInt(inputs[a].value, 10);
        k = k * data.labels[a].length + i;
        values[a].textContent = data.labels[a][i];
      }
      img.src = "data:" + data.format + ";base64," + data.images[data.frames[k]];
      img.setAttribute("data-frame", String(k));
    }
    for (var a = 0; a < inputs.length; a++) {
      inputs[a].addEventListener("input", show);
      inputs[a].addEventListener("change", show);
    }
    show();
  }
  var boxes = document.querySelectorAll("[data-companion-slider]");
  for (var b = 0; b < boxes.length; b++) setUp(boxes[b]);
})();"""


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def slider_html(frames: dict) -> str:
    """The HTML of one static slider from a ``FRAMES_MIME`` payload."""
    controls, images, grid = frames["controls"], frames["images"], frames["frames"]
    if not images or len(grid) != math.prod(len(c["labels"]) for c in controls):
        raise ValueError("a slider's frames do not match its controls")
    start = 0
    for c in controls:
        start = start * len(c["labels"]) + c["default"]
    rows = "".join(
        f'<label class="companion-slider-control"><span class="companion-slider-name">'
        f"{html.escape(c['description'])}</span>"
        f'<input type="range" min="0" max="{len(c["labels"]) - 1}" step="1" value="{c["default"]}"'
        f' aria-label="{html.escape(c["description"])}">'
        f'<output class="companion-slider-value">{html.escape(c["labels"][c["default"]])}</output>'
        f"</label>"
        for c in controls
    )
    positions = " × ".join(
        _("{count} values of {control}").format(count=len(c["labels"]), control=c["description"])
        for c in controls
    )
    alt = _("figure at the slider's position")
    note = _(
        "Pre-rendered at {positions}; run the notebook in Jupyter or Colab for every value."
    ).format(positions=positions)
    data = {
        "labels": [c["labels"] for c in controls],
        "frames": grid,
        "images": images,
        "format": frames["format"],
    }
    return (
        f'{STYLE}<div class="{SLIDER_CLASS}" data-companion-slider>'
        f'<img class="companion-slider-frame" alt="{html.escape(alt)}"'
        f' src="data:{frames["format"]};base64,{images[grid[start]]}">'
        f'<div class="companion-slider-controls">{rows}</div>'
        f'<p class="companion-slider-note">{html.escape(note)}</p>'
        f'<script type="application/json" class="companion-slider-data">{_script_json(data)}'
        f"</script></div><script>{SCRIPT}</script>"
    )


def static_slider_output(output: dict) -> dict | None:
    """The display output that replaces a frames output, or None for any other output."""
    frames = output.get("data", {}).get(FRAMES_MIME)
    if frames is None:
        return None
    return {
        "output_type": "display_data",
        "metadata": {SLIDER_META: len(frames["controls"])},
        "data": {
            "text/html": slider_html(frames),
            "text/plain": "[slider with pre-rendered frames]",
        },
    }
