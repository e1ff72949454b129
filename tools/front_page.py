"""The site's front page: the book's sections, each
notebook with its page, slides and Colab link.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from companion.notebooks import colab_url

from .offline_assets import ASSETS

TEMPLATE = Path(__file__).resolve().parent / "templates" / "front_page.html.j2"
BOOK_SECTIONS = {
    "5.1": "Encoder–decoder basics（编码器-解码器模型基础）",
    "5.2": "Encoder–decoders in computer vision: autoencoders and the VAE（CV中的编码器-解码器）",
    "5.3": "Encoder–decoders in NLP: Seq2Seq, attention, beam search, BLEU（NLP中的编码器-解码器）",
}


def section_of(name: str) -> str:
    """'5.2.3-maximum-likelihood.ipynb' -> '5.2.3'."""
    return name.split("-", 1)[0]


def chapter_section(name: str) -> str:
    """'5.2.3-…' -> '5.2' (the group on the front page)."""
    return ".".join(section_of(name).split(".")[:2])


def notebook_title(path: Path) -> str:
    """The first markdown heading without '#' and without the leading section number."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", ""))
            for line in source.splitlines():
                if line.lstrip().startswith("#"):
                    title = line.lstrip().lstrip("#").strip()
                    number = section_of(Path(path).name)
                    return title[len(number) :].strip() if title.startswith(number) else title
    return Path(path).stem


def nav_html(name: str) -> str:
    """The link bar on top of a notebook page (paths relative to notebooks/)."""
    stem = Path(name).stem
    links = [
        ("../index.html", "All notebooks"),
        (f"../slides/{stem}.slides.html", "Slides"),
        (f"{stem}.ipynb", "Download .ipynb"),
        (colab_url(name), "Open in Colab"),
    ]
    return "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for href, text in links)


def write(out_file: Path, notebooks: Sequence, *, mode: str) -> Path:
    """Render the front page for ``notebooks`` (objects with ``path`` and ``error``)."""
    import jinja2

    rows = [
        {
            "section": section_of(nb.path.name),
            "group": chapter_section(nb.path.name),
            "title": notebook_title(nb.path),
            "stem": nb.path.stem,
            "colab": colab_url(nb.path.name),
            "error": nb.error,
        }
        for nb in notebooks
    ]
    groups = [
        {"number": key, "title": BOOK_SECTIONS.get(key, f"Section {key}"), "rows": list(items)}
        for key, items in groupby(rows, key=lambda r: r["group"])
    ]
    template = jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=True)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(
        template.render(
            groups=groups, mode=mode, assets=ASSETS, built=_dt.date.today().isoformat()
        ),
        encoding="utf-8",
    )
    return out_file
