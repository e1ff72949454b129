"""Make an executed notebook display fully without a kernel or the internet.

- Widget views (``application/vnd.jupyter.widget-view+json``) need a live kernel: an interactive
  control becomes a one-line note (its static default figure, drawn by the cell as CONTRIBUTING.md
  asks, stays), other widgets (tqdm bars frozen at 0 %) are dropped, and the saved widget state is
  removed so nbconvert does not load the widget manager from a CDN.
- The "Open in Colab" badge image points at a local copy (the link still goes to Colab).
- On slides, stderr streams (progress bars, warnings) are dropped.
"""
from __future__ import annotations

import copy
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CONTROL = re.compile(r"interactive|Slider|Dropdown|ToggleButtons|RadioButtons|Checkbox|Button|Text\(")
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
WIDGET_NOTE = ('<p class="companion-widget-note">Interactive control: run this notebook in Jupyter '
               'or Colab to use it. The figure in this cell shows its default setting.</p>')


def joined(text) -> str:
    """A notebook's multi-line string field (a str or a list of lines) as one str."""
    return text if isinstance(text, str) else "".join(text)


def static_outputs(output: dict) -> list[dict]:
    """What to keep of one output: itself, a note in place of a control, or nothing."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return [output]
    if CONTROL.search(joined(data.get("text/plain", ""))):
        return [{"output_type": "display_data", "metadata": {},
                 "data": {"text/html": WIDGET_NOTE, "text/plain": "[interactive control]"}}]
    return []


def prepare_for_export(nb: dict, asset_prefix: str, *, keep_stderr: bool = True) -> dict:
    """A copy of ``nb`` that renders without a kernel and loads nothing from the internet."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            cell["source"] = joined(cell.get("source", "")).replace(
                COLAB_BADGE_URL, f"{asset_prefix}/colab-badge.svg")
        if cell.get("cell_type") != "code":
            continue
        outputs = [kept for output in cell.get("outputs", []) for kept in static_outputs(output)]
        if not keep_stderr:
            outputs = [o for o in outputs if not (o.get("output_type") == "stream"
                                                  and o.get("name") == "stderr")]
        cell["outputs"] = outputs
    return nb
