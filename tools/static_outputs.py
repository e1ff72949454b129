"""Make an executed notebook display fully without a kernel or the internet.

- Widget views (``application/vnd.jupyter.widget-view+json``) need a live kernel. A slider whose
  frames were pre-rendered (``companion.widgets.slider_widget`` under the site builder) becomes a
  static slider (tools/static_sliders.py) in place of the cell's static default figure, which is
  one of its frames; any other interactive control becomes a one-line note (the cell's static
  default figure, drawn as CONTRIBUTING.md asks, stays); other widgets (tqdm bars frozen at 0 %)
  are dropped, and the saved widget state is removed so nbconvert does not load the widget
  manager from a CDN.
- The "Open in Colab" badge image points at a local copy (the link still goes to Colab).
- On slides, stderr streams (progress bars, warnings) are dropped.

:class:`StaticOutputs` is this step as an nbconvert ``Preprocessor`` (tools/site.py gives it to
the page and slide exporters); :func:`prepare_for_export` is the same on a plain notebook dict.
"""

from __future__ import annotations

import copy
import html
import re

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from companion.i18n import N_, _
from companion.widgets.sliders import FRAMES_MIME

from .static_sliders import static_slider_output

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CONTROL = re.compile(
    r"interactive|Slider|Dropdown|ToggleButtons|RadioButtons|Checkbox|Button|Text\("
)
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
WIDGET_NOTE = N_(
    "Interactive control: run this notebook in Jupyter or Colab to use it. The figure in "
    "this cell shows its default setting."
)
TEXT_BOX_NOTE = N_(
    "Text box: type your own input in Jupyter or Colab (it needs a running kernel). The "
    "figure in this cell shows its default input."
)
TEXT_BOX = re.compile(r"\b(?:Text|Textarea|Combobox)\(")


def joined(text) -> str:
    """A notebook's multi-line string field (a str or a list of lines) as one str."""
    return text if isinstance(text, str) else "".join(text)


def static_outputs(output: dict) -> list[dict]:
    """What to keep of one output: itself, a note in place of a control, or nothing."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return [output]
    text = joined(data.get("text/plain", ""))
    if CONTROL.search(text) or TEXT_BOX.search(text):
        note = _(TEXT_BOX_NOTE if TEXT_BOX.search(text) else WIDGET_NOTE)
        return [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {
                    "text/html": f'<p class="companion-widget-note">{html.escape(note)}</p>',
                    "text/plain": "[interactive control]",
                },
            }
        ]
    return []


def static_cell_outputs(outputs: list[dict]) -> list[dict]:
    """A code cell's outputs for a page without a kernel.

    With pre-rendered frames the static slider takes the place of the cell's figures and of the
    live control; without, each output goes through :func:`static_outputs`.
    """
    if not any(FRAMES_MIME in o.get("data", {}) for o in outputs):
        return [kept for output in outputs for kept in static_outputs(output)]
    kept = []
    for output in outputs:
        data = output.get("data", {})
        if FRAMES_MIME in data:
            kept.append(static_slider_output(output))
        elif not (WIDGET_VIEW in data or any(key.startswith("image/") for key in data)):
            kept.append(output)
    return kept


def without_frames(nb: dict) -> dict:
    """A copy of ``nb`` without pre-rendered frames
    (the notebook download keeps its live widgets).
    """
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", []) if FRAMES_MIME not in o.get("data", {})
            ]
    return nb


def prepare_for_export(nb: dict, asset_prefix: str, *, keep_stderr: bool = True) -> dict:
    """A copy of ``nb`` that renders without a kernel and loads nothing from the internet."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            cell["source"] = joined(cell.get("source", "")).replace(
                COLAB_BADGE_URL, f"{asset_prefix}/colab-badge.svg"
            )
        if cell.get("cell_type") != "code":
            continue
        outputs = static_cell_outputs(cell.get("outputs", []))
        if not keep_stderr:
            outputs = [
                o
                for o in outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
        cell["outputs"] = outputs
    return nb


class StaticOutputs(Preprocessor):
    """:func:`prepare_for_export` as an nbconvert preprocessor (enabled when constructed)."""

    enabled = Bool(True)
    asset_prefix = Unicode("../assets", help="where the page finds the offline assets").tag(
        config=True
    )
    keep_stderr = Bool(True, help="keep stderr streams (False on slides)").tag(config=True)

    def preprocess(self, nb, resources):
        prepared = prepare_for_export(nb, self.asset_prefix, keep_stderr=self.keep_stderr)
        return nbformat.from_dict(prepared), resources
