"""The site's front page: the book's sections, each notebook with its page, slides and Colab link.

One front page per language (``index.html``, ``zh/index.html``); each offers the other. Its words
go through the package's catalog (:mod:`companion.i18n`), like the notebooks' messages.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from companion.i18n import N_, _, get_language
from companion.notebooks import colab_url, repository_name

from .editions import EDITIONS, Edition, href, twin_href
from .offline_assets import ASSETS

TEMPLATE = Path(__file__).resolve().parent / "templates" / "front_page.html.j2"
BOOK_SECTIONS = {
    "5.1": N_("Encoder–decoder basics（编码器-解码器模型基础）"),
    "5.2": N_(
        "Encoder–decoders in computer vision: autoencoders and the VAE（CV中的编码器-解码器）"
    ),
    "5.3": N_(
        "Encoder–decoders in NLP: Seq2Seq, attention, beam search, BLEU（NLP中的编码器-解码器）"
    ),
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


def _edition() -> Edition:
    return EDITIONS[get_language()]


def nav_html(name: str, twin: Edition | None = None) -> str:
    """The link bar on top of a notebook page (paths relative to notebooks/), in the current
    language; ``twin``: the other edition, which has the same page."""
    stem, edition = Path(name).stem, _edition()
    links = [
        ("../index.html", _("All notebooks"), ""),
        (f"../slides/{stem}.slides.html", _("Slides"), ""),
        (f"{stem}.ipynb", _("Download .ipynb"), ""),
        (colab_url(edition.repository_name(name)), _("Open in Colab"), ""),
    ]
    if twin is not None:
        links.append((twin_href("page", stem, edition, twin), twin.name, twin.html_lang))
    return "".join(
        f'<a href="{html.escape(href_)}"'
        + (f' hreflang="{lang}" lang="{lang}" class="companion-twin"' if lang else "")
        + f">{html.escape(text)}</a>"
        for href_, text, lang in links
    )


def write(out_file: Path, notebooks: Sequence, *, mode: str, twin: Edition | None = None) -> Path:
    """Render the front page of the current language for ``notebooks`` (objects with ``path``
    and ``error``); ``twin``: the other edition, whose front page and notebooks it links to."""
    import jinja2

    edition = _edition()
    rows = [
        {
            "section": section_of(nb.path.name),
            "group": chapter_section(nb.path.name),
            "title": notebook_title(nb.path),
            "stem": nb.path.stem,
            "colab": colab_url(repository_name(nb.path)),
            "error": nb.error,
            "twin": twin_href("page", nb.path.stem, edition, twin) if twin else "",
        }
        for nb in notebooks
    ]
    groups = [
        {
            "number": key,
            "title": _(BOOK_SECTIONS[key]) if key in BOOK_SECTIONS else f"Section {key}",
            "rows": list(items),
        }
        for key, items in groupby(rows, key=lambda r: r["group"])
    ]
    words = {
        "title": _("Encoder–Decoder Companion · Chapter 5（编码器-解码器模型）"),
        "heading": _("Encoder–Decoder Companion"),
        "lead": _(
            "Runnable notebooks for Chapter 5, Encoder–Decoder Models（编码器-解码器模型）: "
            "each book section as an executed page, as lecture slides, and in Colab."
        ),
        "page": _("page"),
        "page_tip": _("executed notebook"),
        "slides": _("slides"),
        "slides_tip": _("reveal.js slides"),
        "ipynb_tip": _("download the executed notebook"),
        "colab_tip": _("open in Google Colab"),
        "failed": _("execution failed: {error}"),
        "footer": _(
            "Built {date}; {mode}. Everything here works offline: scripts, fonts and MathJax "
            "load from {assets}/. Slides: arrow keys to move, S for speaker notes, F for full "
            "screen."
        ).format(date=_dt.date.today().isoformat(), mode=mode, assets=ASSETS),
    }
    assets = href(edition.path("index", ""), ASSETS)
    template = jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=True)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(
        template.render(
            groups=groups,
            words=words,
            lang=edition.html_lang,
            assets=assets,
            twin=None
            if twin is None
            else {
                "href": twin_href("index", "", edition, twin),
                "name": twin.name,
                "lang": twin.html_lang,
            },
        ),
        encoding="utf-8",
    )
    return out_file
