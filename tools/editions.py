"""The site's two languages: where each edition's notebooks, pages and decks live.

    notebooks/NAME.ipynb        → build/site/notebooks/NAME.html, build/site/slides/NAME.slides.html
    notebooks/zh/NAME.ipynb     → build/site/zh/notebooks/NAME.html, build/site/zh/slides/…

Both editions share ``build/site/assets/``; every page and deck links to the same page or deck in
the other language (:func:`twin_href`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from companion.notebooks import EDITION_DIRS


@dataclass(frozen=True)
class Edition:
    language: str  # companion.i18n's code: "en" or "zh"
    folder: str  # below notebooks/ and below the site's root: "" (English) or "zh"
    html_lang: str  # the pages' lang attribute
    name: str  # the language's name in itself, for the link to it

    def root(self, site: Path) -> Path:
        return site / self.folder if self.folder else site

    def notebooks(self, english: Path) -> Path:
        """Its notebooks folder, given the English one."""
        return english / self.folder if self.folder else english

    def repository_name(self, name: str) -> str:
        """A notebook's path below notebooks/ in the repository (for its Colab link)."""
        return posixpath.join(self.folder, name) if self.folder else name

    @property
    def asset_prefix(self) -> str:
        """From a page or deck (one folder below the edition's root) to the shared assets."""
        return "../assets" if not self.folder else "../../assets"

    def path(self, kind: str, stem: str) -> str:
        """A page, deck, notebook or the front page, from the site's root."""
        relative = {
            "page": f"notebooks/{stem}.html",
            "slides": f"slides/{stem}.slides.html",
            "ipynb": f"notebooks/{stem}.ipynb",
            "index": "index.html",
        }[kind]
        return posixpath.join(self.folder, relative) if self.folder else relative


ENGLISH = Edition("en", "", "en", "English")
CHINESE = Edition("zh", EDITION_DIRS["zh"], "zh-CN", "中文")
EDITIONS = {e.language: e for e in (ENGLISH, CHINESE)}


def href(source: str, target: str) -> str:
    """A relative URL from the file ``source`` to the file ``target`` (both from the site root)."""
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


def twin_href(kind: str, stem: str, edition: Edition, other: Edition) -> str:
    """From ``edition``'s page (or deck, or front page) of ``stem`` to ``other``'s."""
    return href(edition.path(kind, stem), other.path(kind, stem))


def set_html_lang(html: str, lang: str) -> str:
    """nbconvert writes ``<html lang="en">``; its language trait refuses region codes (zh-CN)."""
    return html.replace('<html lang="en">', f'<html lang="{lang}">', 1)
