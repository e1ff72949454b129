"""A markdown document cut into the blocks a translator works on, and put back together.

The Chinese README is written from README.md through a PO catalog, one entry per block, as the
Chinese notebooks are written through one entry per markdown cell
(:mod:`companion.chinese_edition`). :func:`split` cuts a document into :class:`Piece` objects
whose texts, joined, give the document back character for character:

* translatable blocks: a paragraph, a heading, one list item (with its continuation lines), one
  table row (the header row too);
* verbatim pieces, copied as they are: blank lines and line ends, fenced code blocks, HTML
  comments (notes for maintainers), a table's ``|---|`` separator row.

Each block has a :attr:`Piece.key`, its catalog context (msgctxt): a heading is its own key; any
other block's key is its first words, with links and emphasis reduced to their text, after a list
item's marker, or of its first cell for a table row (``"You need Python 3.10+ and make"``,
``"- docs/install.md — what make lab /"``, ``"| 5.2.2 latent space (潜空间)"``), made unique by
a ``(2)``, ``(3)`` in document order. A key that depends neither on the block's position nor on
its whole text keeps the catalog stable: editing a paragraph leaves its first words, so only its
entry becomes fuzzy; inserting or moving a paragraph changes no other block's key; and a block
whose first words change is still found by the catalog's similar-text matching
(:func:`companion.catalogs.merge`), fuzzy with its old translation.

:func:`shape_problems` checks that a translated block keeps the markdown that makes it the same
kind of block: a heading's level, a list item's marker, a table row's number of cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: how many words of a block make its key, and the longest key
KEY_WORDS = 6
KEY_LENGTH = 60

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_ITEM = re.compile(r"^ {0,3}([-*+]|[0-9]+[.)])[ \t]")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_TABLE_SEPARATOR = re.compile(r"^ {0,3}\|?(?:\s*:?-+:?\s*\|)+\s*:?-*:?\s*$")
_COMMENT = re.compile(r"^ {0,3}<!--")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[`*|]+")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Piece:
    """A part of a document: a block to translate (with its key), or text kept verbatim."""

    text: str
    key: str | None = None  # None: kept verbatim

    @property
    def translatable(self) -> bool:
        return self.key is not None


def _starts_block(line: str) -> bool:
    """Whether ``line`` begins a block of its own kind (and so ends a paragraph)."""
    return any(p.match(line) for p in (_FENCE, _HEADING, _ITEM, _TABLE_ROW, _COMMENT))


def _end_of_fence(lines: list[str], start: int) -> int:
    fence = _FENCE.match(lines[start])
    assert fence is not None
    marker = fence.group(1)
    for end in range(start + 1, len(lines)):
        if lines[end].strip().startswith(marker) and not lines[end].strip().strip(marker[0]):
            return end + 1
    return len(lines)  # an unclosed fence runs to the end, as markdown reads it


def _end_of_comment(lines: list[str], start: int) -> int:
    for end in range(start, len(lines)):
        if "-->" in lines[end]:
            return end + 1
    return len(lines)


def _end_of_block(lines: list[str], start: int) -> int:
    """A list item or paragraph runs to a blank line or to the start of another block."""
    end = start + 1
    while end < len(lines) and lines[end].strip() and not _starts_block(lines[end]):
        end += 1
    return end


def block_key(text: str) -> str:
    """A block's key before it is made unique: see the module's docstring. A heading is its own
    key; a table row's key is its first cell's first words, a list item's its first words, each
    after its marker (``| …``, ``- …``), so that a translator sees what kind of block it is."""
    first = text.strip()
    if _HEADING.match(first):
        return first.split("\n", 1)[0]
    marker = ""
    if _TABLE_ROW.match(first):
        marker, first = "| ", _UNESCAPED_PIPE.split(first.lstrip()[1:], maxsplit=1)[0]
    elif item := _ITEM.match(first):
        marker, first = item.group(1) + " ", first[item.end() :]
    words = _EMPHASIS.sub(" ", _LINK.sub(r"\1", first)).split()
    key = marker + " ".join(words[:KEY_WORDS])
    return key if len(key) <= KEY_LENGTH else key[: KEY_LENGTH - 1] + "…"


def _block(lines: list[str]) -> list[tuple[str, bool]]:
    """A block's text (without its last line end) and that line end, kept verbatim."""
    text = "".join(lines)
    body = text[:-1] if text.endswith("\n") else text
    return [(body, True)] + ([("\n", False)] if text.endswith("\n") else [])


def split(document: str) -> list[Piece]:
    """``document`` as blocks and verbatim pieces (see the module's docstring)."""
    lines = document.splitlines(keepends=True)
    raw: list[tuple[str, bool]] = []  # (text, translatable)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            raw.append((line, False))
            i += 1
        elif _FENCE.match(line):
            end = _end_of_fence(lines, i)
            raw.append(("".join(lines[i:end]), False))
            i = end
        elif _COMMENT.match(line):
            end = _end_of_comment(lines, i)
            raw.append(("".join(lines[i:end]), False))
            i = end
        elif _HEADING.match(line) or _TABLE_ROW.match(line):
            if _TABLE_SEPARATOR.match(line):
                raw.append((line, False))
            else:
                raw += _block([line])
            i += 1
        else:  # a list item or a paragraph, up to a blank line or the next block
            end = _end_of_block(lines, i)
            raw += _block(lines[i:end])
            i = end
    pieces = []
    seen: dict[str, int] = {}
    for text, translatable in raw:
        if not translatable:
            pieces.append(Piece(text))
            continue
        key = block_key(text)
        seen[key] = seen.get(key, 0) + 1
        pieces.append(Piece(text, key if seen[key] == 1 else f"{key} ({seen[key]})"))
    return pieces


def join(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces)


def shape_problems(english: str, chinese: str) -> list[str]:
    """How ``chinese`` is no longer the same kind of markdown block as ``english``."""
    problems = []
    heading_en, heading_zh = _HEADING.match(english), _HEADING.match(chinese)
    if (heading_en and heading_en.group(1)) != (heading_zh and heading_zh.group(1)):
        problems.append("the heading level differs from the English (keep the leading #)")
    item_en, item_zh = _ITEM.match(english), _ITEM.match(chinese)
    if (item_en and item_en.group(1)) != (item_zh and item_zh.group(1)):
        problems.append("the list marker differs from the English (keep the leading - or 1.)")
    if _TABLE_ROW.match(english):
        cells_en = len(_UNESCAPED_PIPE.findall(english))
        cells_zh = len(_UNESCAPED_PIPE.findall(chinese))
        if cells_en != cells_zh or not _TABLE_ROW.match(chinese):
            problems.append(
                f"a table row with {cells_zh} | where the English has {cells_en} "
                "(write a | inside a cell as \\|)"
            )
    if chinese.count("\n\n") != english.count("\n\n"):
        problems.append("a blank line added or removed: one entry is one markdown block")
    return problems
