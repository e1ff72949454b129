"""What a finished translation must keep from its English text, and the book's own terms.

A translation may reorder and rephrase, but it may not lose or change what the reader computes
with. :func:`lost_in_translation` compares one English text (a notebook's markdown cell, a message
of the package) with its Chinese translation:

* the same formulas (``$…$``, ``$$…$$``) and the same inline code and code blocks, character for
  character (spaces aside);
* the same numbers, written with ASCII digits (``1,000`` and ``1000`` are the same number);
* the same link targets (the Chinese notebooks' targets are adjusted when they are written);
* the same ``{named}`` fields, and the same leading mark (``✓``, ``✗``, ``·``) of a message;
* wherever the English prose uses a glossary term's English name, the book's Chinese term
  (``GLOSSARY.md``, rows marked *book*), written exactly as the book writes it. Code is not
  prose: inline code, code blocks, identifiers such as ``model.encoder`` or ``decoder(x)``, and
  a message that is a piece of Python (a solution: only its comments are prose).

:func:`style_problems` finds half-width punctuation in Chinese sentences (``，`` not ``,``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from companion.catalogs import format_fields

_FENCED = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)
_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TARGET = re.compile(r"\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_HTML_TAG = re.compile(r"<[^>\n]+>")
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[0-9]+(?:\.[0-9]+)*(?:[eE][-+]?[0-9]+)?")
#: marks that open a message and that tests and readers look for
LEADING_MARKS = "✓✗·•→⚠"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_STYLE_RULES = (
    (re.compile(rf"[{_CJK}][*_]*[,;:?!]|[,;:?!][*_]*[{_CJK}]"), "，；：？！"),
    (re.compile(rf"[{_CJK}][*_]*\.(?![0-9A-Za-z.])"), "。"),
    (re.compile(rf"\([^()]*[{_CJK}][^()]*\)"), "（）"),
    (re.compile(rf"\"[^\"\n]*[{_CJK}][^\"\n]*\""), "“”"),
)


@dataclass(frozen=True)
class Parts:
    """A markdown text split into what must survive translation and the prose around it."""

    formulas: Counter
    code: Counter
    links: Counter
    prose: str  # the text without code, formulas, link targets and HTML tags

    @property
    def numbers(self) -> set[str]:
        return set(_NUMBER.findall(_THOUSANDS.sub("", self.prose)))


def _squash(text: str) -> str:
    return " ".join(text.split())


def markdown_parts(text: str) -> Parts:
    """The formulas, code, link targets and prose of a markdown text."""
    code: Counter = Counter()
    formulas: Counter = Counter()

    def take(into: Counter, group: int):
        def keep(match: re.Match) -> str:
            into[_squash(match.group(group))] += 1
            return " "

        return keep

    rest = _FENCED.sub(take(code, 0), text)
    rest = _INLINE_CODE.sub(take(code, 2), rest)
    rest = _DISPLAY_MATH.sub(take(formulas, 1), rest)
    rest = _INLINE_MATH.sub(take(formulas, 1), rest)
    links: Counter = Counter()
    for pattern in (_LINK_TARGET, _REFERENCE_LINK, _AUTOLINK, _HTML_TARGET):
        links.update(pattern.findall(rest))
        rest = pattern.sub(lambda m: "]" if m.group(0).startswith("]") else " ", rest)
    return Parts(formulas, code, links, _HTML_TAG.sub(" ", rest))


def _difference(name: str, english: Iterable[str], chinese: Iterable[str]) -> list[str]:
    english, chinese = set(english), set(chinese)
    problems = []
    if english - chinese:
        problems.append(f"{name} missing from the Chinese: {_show(english - chinese)}")
    if chinese - english:
        problems.append(f"{name} not in the English: {_show(chinese - english)}")
    return problems


def _show(items: set[str]) -> str:
    return ", ".join(repr(item) for item in sorted(items))


# ---------------------------------------------------------------- the glossary


@dataclass(frozen=True)
class Term:
    """One row of GLOSSARY.md: the book's Chinese term and the English name the notebooks use."""

    chinese: str
    english: str
    source: str  # "book" or "companion"

    @property
    def pattern(self) -> re.Pattern:
        """The English name in running text: any case, hyphen or space, -ise or -ize, plural."""
        name = re.sub(r"\s*\([^)]*\)", "", self.english).strip()
        parts = []
        for char in name:
            if char in "-–‐ ":
                parts.append(r"[-–‐\s]+")
            elif char in "'’":
                parts.append("['’]")
            else:
                parts.append(re.escape(char))
        body = "".join(parts).replace("isation", "i[sz]ation")
        # not a piece of an identifier: `model.encoder`, `encoder(x)`, `decoder.step`, `x_encoder`
        return re.compile(
            rf"(?<![A-Za-z0-9_.]){body}(?:s|es)?(?![A-Za-z0-9_(\[]|\.[A-Za-z_])", re.I
        )


def read_glossary(path: Path) -> list[Term]:
    """The rows of a GLOSSARY.md table ``| 术语 | English | source | first used |``."""
    terms = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[2] in ("book", "companion"):
            terms.append(Term(cells[0], cells[1], cells[2]))
    return terms


def python_comments(text: str) -> str | None:
    """The comments of ``text`` when it is a piece of Python of several lines (a solution), else
    ``None``: prose that happens to parse (one word, ``encoder (5-18)``) is not code."""
    if "\n" not in text.strip():
        return None
    try:
        statements = ast.parse(text).body
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return None
    bare = (ast.Name, ast.Constant)
    if all(isinstance(s, ast.Expr) and isinstance(s.value, bare) for s in statements):
        return None
    return "\n".join(t.string.lstrip("#") for t in tokens if t.type == tokenize.COMMENT)


def missing_terms(english: str, chinese: str, terms: Sequence[Term]) -> list[Term]:
    """The book's terms whose English name the English prose uses but whose Chinese term the
    translation lacks (exactly as the book writes it: ``Beam Search``, ``KL散度``). Code does not
    count: only the comments of a solution, and the prose around a text's code, are read."""
    prose = python_comments(english)
    if prose is None:
        prose = markdown_parts(english).prose
    return [
        term
        for term in terms
        if term.source == "book" and term.pattern.search(prose) and term.chinese not in chinese
    ]


# ---------------------------------------------------------------- the checks


def lost_in_translation(english: str, chinese: str, terms: Sequence[Term] = ()) -> list[str]:
    """Everything of ``english`` that ``chinese`` lost or changed (empty when nothing)."""
    source, target = markdown_parts(english), markdown_parts(chinese)
    problems = []
    problems += _difference("formulas", source.formulas, target.formulas)
    problems += _difference("inline code", source.code, target.code)
    problems += _difference("links", source.links, target.links)
    problems += _difference("numbers", source.numbers, target.numbers)
    if sorted(format_fields(english)) != sorted(format_fields(chinese)):
        problems.append(
            f"named fields differ: English {format_fields(english)}, "
            f"Chinese {format_fields(chinese)}"
        )
    mark = english[:1]
    if mark and mark in LEADING_MARKS and not chinese.startswith(mark):
        problems.append(f"the Chinese must start with {mark!r}, as the English does")
    for term in missing_terms(english, chinese, terms):
        problems.append(
            f"the English says {term.english!r}: the Chinese must use the book's term "
            f"{term.chinese!r} (GLOSSARY.md)"
        )
    return problems


def style_problems(chinese: str) -> list[str]:
    """Half-width punctuation in the Chinese sentences (formulas, code and links aside)."""
    prose = markdown_parts(chinese).prose
    problems = []
    for pattern, wanted in _STYLE_RULES:
        found = sorted({m.group(0) for m in pattern.finditer(prose)})
        if found:
            problems.append(
                f"half-width punctuation in Chinese sentences, use {wanted}: {_show(set(found))}"
            )
    return problems
