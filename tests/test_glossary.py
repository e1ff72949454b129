"""GLOSSARY.md (术语表): every term is first used where the glossary says, and every term it
attributes to the book occurs in the chapter's text.

The chapter is looked for at ``$COMPANION_BOOK`` (a path to chapter5.txt), else at
``../shared/book/chapter5.txt`` next to the repository; without it that test is skipped with a
message. Whitespace is ignored when matching, because the text extracted from the PDF breaks lines
inside terms ("Teacher\\n Forcing").
"""

import json
import os
import re
from pathlib import Path

import pytest
from conftest import unavailable

from companion.notebooks import notebook_paths

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(
    r"^\| (?P<term>[^|]+?) \| (?P<english>[^|]+?) \| (?P<source>book|companion) \| "
    r"`(?P<notebook>[^`]+)`, (?P<section>[^|]+?) \|$"
)


def _rows():
    lines = (ROOT / "GLOSSARY.md").read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| 术语")]
    rows = [ROW.match(line) for line in table]
    assert all(rows), [line for line, m in zip(table, rows, strict=True) if not m]
    return [m.groupdict() for m in rows]


def _markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _book_path() -> Path:
    return Path(os.environ.get("COMPANION_BOOK", ROOT.parent / "shared" / "book" / "chapter5.txt"))


ROWS = _rows()
NOTEBOOKS = {p.stem: _markdown(p) for p in notebook_paths(root=ROOT / "notebooks")}


def test_glossary_has_the_chapters_key_terms_once_each():
    terms = [r["term"] for r in ROWS]
    assert len(terms) == len(set(terms))
    for must in [
        "变分自编码器",
        "潜空间",
        "KL散度",
        "重构误差",
        "贪婪搜索",
        "短句惩罚",
        "Teacher Forcing",
        "Beam Search",
        "Beam宽度",
    ]:
        assert must in terms


@pytest.mark.parametrize("row", ROWS, ids=[r["term"] for r in ROWS])
def test_term_is_first_used_where_the_glossary_says(row):
    order = list(NOTEBOOKS)
    assert row["notebook"] in NOTEBOOKS, f"no notebook {row['notebook']}"
    assert row["term"] in NOTEBOOKS[row["notebook"]], f"{row['term']} is not in {row['notebook']}"
    earlier = [
        name for name in order[: order.index(row["notebook"])] if row["term"] in NOTEBOOKS[name]
    ]
    assert not earlier, f"{row['term']} is already used in {earlier}"
    if row["section"] != "introduction":
        headings = re.findall(r"^#{2,3} (.+)$", NOTEBOOKS[row["notebook"]], re.M)
        assert row["section"] in [h.replace("**", "").strip() for h in headings]


def test_book_terms_occur_in_the_chapter():
    path = _book_path()
    if not path.is_file():
        unavailable(
            f"the chapter's text is not at {path} "
            "(set COMPANION_BOOK to its path to run this check)"
        )
    chapter = _squash(path.read_text(encoding="utf-8"))
    missing = [
        r["term"] for r in ROWS if r["source"] == "book" and _squash(r["term"]) not in chapter
    ]
    assert not missing, f"attributed to the book but not in {path}: {missing}"


@pytest.mark.parametrize(
    "near_synonym, book_term",
    [
        ("贪心搜索", "贪婪搜索"),
        ("贪心解码", "贪婪搜索"),
        ("简短惩罚", "短句惩罚"),
        ("束搜索", "Beam Search"),
        ("教师强制", "Teacher Forcing"),
        ("维度灾难", "维度的诅咒"),
        ("集束搜索", "Beam Search"),
    ],
)
def test_notebooks_use_the_books_term_not_a_near_synonym(near_synonym, book_term):
    users = [name for name, text in NOTEBOOKS.items() if near_synonym in text]
    assert not users, f"{users} write {near_synonym}; the book writes {book_term}"
