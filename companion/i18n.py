"""Two languages from one source: English (the master) and Chinese (中文).

Every text the package prints for a student is written in English in the code and looked up in
a gettext catalog when the language is Chinese, ``companion/locale/zh_CN/LC_MESSAGES/
companion.po`` (read with polib; fuzzy and empty entries fall back to English, as gettext does)::

    companion.setup(seed=0, device="auto", language="zh")   # what the Chinese notebooks do
    from companion.i18n import _
    print(_("{value} is too large").format(value=3))         # → "3 偏大" in Chinese

Conventions, as xgettext expects them:

* ``_("literal")`` translates now; ``N_("literal")`` only marks a literal stored as data (an
  exercise's title or hint) that is passed through ``_()`` when it is shown.
* The argument of ``_()``/``N_()`` is a plain string literal, never an f-string: numbers and
  names go in afterwards through ``str.format`` with named fields (``{value}``), which the
  translation keeps unchanged.

The language comes from :func:`set_language` (``companion.setup(language=...)`` calls it), else
the environment variable ``COMPANION_LANGUAGE``, else English.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

#: language code → its name; English is the master, Chinese is generated from the catalog
LANGUAGES = {"en": "English", "zh": "中文"}
#: gettext's locale folder of each language other than English
LOCALES = {"zh": "zh_CN"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "companion"

_language: str | None = None


def check_language(language: object, name: str = "language") -> str:
    """``language`` if it is one of :data:`LANGUAGES`, else a ``ValueError`` naming them."""
    if not isinstance(language, str) or language not in LANGUAGES:
        choices = ", ".join(f"{code!r} ({label})" for code, label in LANGUAGES.items())
        raise ValueError(f"{name} must be one of {choices}, got {language!r}")
    return language


def set_language(language: str) -> str:
    """Print the package's messages in ``language`` (``"en"`` or ``"zh"``) from now on."""
    global _language
    _language = check_language(language)
    return _language


@contextlib.contextmanager
def using_language(language: str) -> Iterator[str]:
    """Within the ``with`` block, messages are in ``language``; the previous setting comes back
    afterwards (the site builder writes the pages of both languages in one run)."""
    global _language
    before = _language
    set_language(language)
    try:
        yield language
    finally:
        _language = before


def get_language() -> str:
    """The current language: :func:`set_language`'s, else ``$COMPANION_LANGUAGE``, else English."""
    if _language is not None:
        return _language
    return check_language(os.environ.get("COMPANION_LANGUAGE", "en"), "COMPANION_LANGUAGE")


def catalog_path(language: str) -> Path:
    """The PO file of a language other than English."""
    check_language(language)
    if language == "en":
        raise ValueError("English is the source language: it has no catalog")
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> dict[str, str]:
    """{English text: translation} of every finished entry of ``language``'s catalog."""
    import polib

    path = catalog_path(language)
    if not path.exists():
        return {}
    return {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(path))
        if entry.msgstr and not entry.fuzzy and not entry.obsolete
    }


def _(message: str) -> str:
    """``message`` in the current language (English when it has no finished translation)."""
    language = get_language()
    if language == "en":
        return message
    return translations(language).get(message, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (it is data, shown later).

    (``N_`` is the name xgettext and Babel look for.)
    """
    return message


def spaced(text: str) -> str:
    """``text`` with the space that separates it from the clause before it: a space in English,
    nothing in Chinese (which writes clauses and full-width brackets without spaces)."""
    return text if not text or get_language() == "zh" else " " + text


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal or notebook output: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns (see :func:`display_width`)."""
    return text + " " * max(0, width - display_width(text))


_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+")


def count_words(text: str) -> int:
    """Words of a text in either language: runs of non-space characters, each Chinese character
    counting as one word (Chinese is written without spaces)."""
    return len(_WORD.findall(text))
