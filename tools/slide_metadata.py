"""Choose reveal.js slide metadata for a notebook, so authors need not set it by hand.

Rules (CONTRIBUTING.md, "Slides"), for every cell whose author did not set
``metadata.slideshow.slide_type`` (an author's choice always wins):

- the first visible cell (the title) opens a slide;
- a markdown cell starting with ``#`` or ``##`` opens a new slide, ``###`` (or deeper) a sub-slide;
- the Colab install cell, the ``parameters`` / ``injected-parameters`` cells and the cell that
  calls ``companion.setup(...)`` are skipped;
- any other cell that would overflow the current (sub-)slide opens a sub-slide, judged by a rough
  height estimate in lines of slide text; code longer than ``LONG_CODE`` lines always does;
- a markdown cell is first cut at every heading inside it, and a piece still taller than a slide
  at its paragraphs (or list items), so each heading and each slide-full starts its own slide;
- a code cell too tall for one slide with its outputs shows its code, then its outputs on the
  next sub-slide (a copy of the cell with ``transient.remove_source``, which nbconvert honours).

Figures are drawn large: a code cell with images gets a tag ``slide-figure-l``, ``-m`` or ``-s``
(the slides template's CSS sets the image height) — the largest size that fits beside its code.

:class:`SlideMetadata` is this step as an nbconvert ``Preprocessor`` for the slides exporter (it
runs before nbconvert's own reveal.js preprocessor, which reads the slide types it sets).
"""

from __future__ import annotations

import copy
import math
import re

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from companion.notebooks import colab_install_source

from .static_outputs import joined as _joined
from .static_sliders import SLIDER_META

SLIDE_LINES = 25  # lines of code-sized text (about 25 px each) on a 960x700 slide
FIGURE_LINES = {"l": 18, "m": 14, "s": 10}  # image heights 460/360/260 px (slides template CSS)
LONG_CODE = 14  # code cells longer than this get a sub-slide of their own
OUTPUT_LINES_MAX = 11  # long text outputs scroll (max-height in the CSS); count at most this
WRAP = 85  # characters per line of slide text (code)
MARKDOWN_WRAP = 70  # characters per line of prose (a larger font, measured in Chromium)
SKIP_TAGS = {"parameters", "injected-parameters"}
FIGURE_TAG = "slide-figure-"


def _source(cell: dict) -> str:
    return _joined(cell.get("source", ""))


def heading_level(cell: dict) -> int:
    """1 for '# ...', 2 for '## ...', ...; 0 when
    the markdown cell does not start with a heading.
    """
    if cell.get("cell_type") != "markdown":
        return 0
    first = _source(cell).lstrip().split("\n", 1)[0]
    hashes = len(first) - len(first.lstrip("#"))
    return hashes if hashes and first[hashes : hashes + 1] == " " else 0


def is_header_cell(cell: dict) -> bool:
    """True for cells a lecture audience need not see: Colab install, parameters, setup."""
    if cell.get("cell_type") != "code":
        return False
    tags = set(cell.get("metadata", {}).get("tags", []))
    source = _source(cell).strip()
    if tags & SKIP_TAGS or source == colab_install_source():
        return True
    return "companion.setup(" in source  # set-up: imports, seeds, device (first code cells)


def _text_lines(text: str, wrap: int = WRAP) -> float:
    return sum(
        max(1, math.ceil(len(line) / wrap)) if line.strip() else 0.5 for line in text.splitlines()
    )


def _is_figure(output: dict) -> bool:
    """An image, or a static slider (an image with range inputs under it)."""
    return any(k.startswith("image/") for k in output.get("data", {})) or SLIDER_META in output.get(
        "metadata", {}
    )


def _image_count(cell: dict) -> int:
    return sum(_is_figure(o) for o in cell.get("outputs", []))


def _fixed_lines(cell: dict) -> float:
    """Height of everything in a cell except its images, in lines."""
    source = _source(cell)
    if cell.get("cell_type") == "markdown":
        level = heading_level(cell)
        heading = {0: 0, 1: 5, 2: 1.5}.get(level, 1)
        return (
            1.2 * _text_lines(source, MARKDOWN_WRAP) + 2 * (source.count("$$") // 2) + heading + 1
        )
    if cell.get("cell_type") != "code":
        return _text_lines(source)
    lines = 0.0 if _source_removed(cell) else len(source.splitlines()) + 1.5
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "stream":
            if output.get("name") == "stdout":
                lines += min(OUTPUT_LINES_MAX, _text_lines(_joined(output.get("text", ""))))
        elif output.get("output_type") == "error":
            lines += OUTPUT_LINES_MAX
        elif SLIDER_META in output.get("metadata", {}):
            lines += 1.5 * output["metadata"][SLIDER_META] + 1  # its range inputs and note
        elif any(key.startswith("image/") for key in data):
            continue
        elif "text/html" in data:
            lines += min(OUTPUT_LINES_MAX, _joined(data["text/html"]).count("<tr") + 1)
        elif "text/plain" in data:
            lines += min(OUTPUT_LINES_MAX, _text_lines(_joined(data["text/plain"])))
    return lines


def figure_size(room: float, n_images: int) -> str:
    """The largest figure size whose images fit in ``room`` lines ("s" when none does)."""
    for size in ("l", "m"):
        if n_images * FIGURE_LINES[size] <= room:
            return size
    return "s"


def estimated_lines(cell: dict, size: str = "l") -> float:
    """Rough height of a cell on a slide, in lines, with its figures drawn at ``size``."""
    return _fixed_lines(cell) + _image_count(cell) * FIGURE_LINES[size]


MARKDOWN_PIECE_LINES = 16  # a markdown piece taller than this is cut at paragraphs or list items
HEADING = re.compile(r"#{1,6} ")
LIST_ITEM = re.compile(r"(?:[*+-]|\d+[.)]) ")


def _markdown_blocks(source: str) -> list[tuple[str, list[str]]]:
    """The lines of ``source`` in blocks that may be cut apart: ("heading", …), ("blank", …),
    ("item", …) for a list item's first line, ("text", …); fenced code and $$ maths stay whole."""
    blocks: list[tuple[str, list[str]]] = []
    fence = None
    for line in source.split("\n"):
        stripped = line.strip()
        if fence:
            blocks[-1][1].append(line)
            if stripped.startswith(fence) and (fence != "$$" or stripped.endswith("$$")):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")) or (
            stripped.startswith("$$")
            and (stripped == "$$" or not stripped[2:].rstrip().endswith("$$"))
        ):
            fence = stripped[:3] if not stripped.startswith("$$") else "$$"
            kind = "text"
        elif HEADING.match(line):
            kind = "heading"
        elif not stripped:
            kind = "blank"
        elif LIST_ITEM.match(line):
            kind = "item"
        else:
            kind = "text"
        if kind in ("heading", "blank", "item") or not blocks or blocks[-1][0] == "blank":
            blocks.append((kind, [line]))
        else:
            blocks[-1][1].append(line)
    return blocks


def split_markdown(cell: dict) -> list[dict]:
    """``cell`` cut at its headings, and pieces taller than ``MARKDOWN_PIECE_LINES`` at paragraph
    or list-item breaks; other cells, and cells with an author's slide type, come back whole."""
    if cell.get("cell_type") != "markdown" or author_slide_type(cell) is not None:
        return [cell]
    pieces: list[list[str]] = [[]]
    for kind, lines in _markdown_blocks(_source(cell)):
        current = "\n".join(pieces[-1]).strip()
        if kind == "heading" and current:
            pieces.append([])
        elif (
            kind in ("blank", "item")
            and current
            and not HEADING.match(current.split("\n")[-1])
            and 1.2 * _text_lines(current + "\n" + "\n".join(lines), MARKDOWN_WRAP)
            > MARKDOWN_PIECE_LINES
        ):
            pieces.append([])
        pieces[-1].extend(lines)
    texts = [t for t in ("\n".join(p).strip("\n") for p in pieces) if t.strip()]
    if len(texts) <= 1:
        return [cell]
    out = []
    for k, text in enumerate(texts):
        piece = copy.deepcopy(cell)
        piece["source"] = text
        if k and "id" in piece:
            piece["id"] = f"{cell['id']}-{k}"
        out.append(piece)
    return out


def _source_removed(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("transient", {}).get("remove_source"))


def split_code(cell: dict) -> list[dict]:
    """A code cell too tall for a slide (its code and outputs, figures at the middle size) as two:
    the code without outputs, then the outputs without the code; other cells come back whole."""
    if (
        cell.get("cell_type") != "code"
        or author_slide_type(cell) is not None
        or is_header_cell(cell)
        or not cell.get("outputs")
        or _source_removed(cell)
        or len(_source(cell).splitlines()) < 4
        or _fixed_lines(cell) + _image_count(cell) * FIGURE_LINES["m"] <= SLIDE_LINES
    ):
        return [cell]
    code, outputs = copy.deepcopy(cell), copy.deepcopy(cell)
    code["outputs"] = []
    outputs.setdefault("metadata", {}).setdefault("transient", {})["remove_source"] = True
    if "id" in outputs:
        outputs["id"] = f"{cell['id']}-outputs"
    return [code, outputs]


def author_slide_type(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def assign_slide_metadata(nb: dict) -> dict:
    """Set ``metadata.slideshow.slide_type`` on every cell of ``nb`` (in place, after cutting long
    markdown cells with :func:`split_markdown`) and return ``nb``.

    Cells with figures also get a ``slide-figure-{l,m,s}`` tag. Works on plain JSON dicts and on
    ``nbformat.NotebookNode`` alike.
    """
    nb["cells"] = [
        part
        for cell in nb.get("cells", [])
        for piece in split_markdown(cell)
        for part in split_code(piece)
    ]
    used = 0.0  # estimated lines on the current sub-slide
    started = False  # a visible cell has been seen
    for cell in nb["cells"]:
        meta = cell.setdefault("metadata", {})
        chosen = author_slide_type(cell)
        n_images = _image_count(cell)
        fixed = _fixed_lines(cell)
        if chosen is None:
            chosen = _automatic_type(cell, started, used, fixed, n_images)
            meta["slideshow"] = {"slide_type": chosen}
        if chosen in ("skip", "notes"):
            continue
        if not started or chosen in ("slide", "subslide"):
            used = 0.0
        size = figure_size(SLIDE_LINES - used - fixed, n_images)
        if n_images:
            meta["tags"] = [t for t in meta.get("tags", []) if not t.startswith(FIGURE_TAG)]
            meta["tags"].append(FIGURE_TAG + size)
        used += estimated_lines(cell, size)
        started = True
    return nb


def _automatic_type(cell: dict, started: bool, used: float, fixed: float, n_images: int) -> str:
    if is_header_cell(cell):
        return "skip"
    if not started:
        return "slide"
    level = heading_level(cell)
    if level in (1, 2):
        return "slide"
    if level >= 3:
        return "subslide"
    if cell.get("cell_type") == "code" and len(_source(cell).splitlines()) > LONG_CODE:
        return "subslide"
    smallest_fitting = FIGURE_LINES["m"] * n_images  # don't shrink a figure below "m" to stay
    if used + fixed + smallest_fitting > SLIDE_LINES:
        return "subslide"
    return "-"


class SlideMetadata(Preprocessor):
    """:func:`assign_slide_metadata` as an nbconvert preprocessor (enabled when constructed)."""

    enabled = Bool(True)

    def preprocess(self, nb, resources):
        return nbformat.from_dict(assign_slide_metadata(nb)), resources
