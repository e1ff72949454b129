"""ERRATA.md: every citation of an erratum points at an item that exists, every item says where it
is measured, and nothing cites the developers' outline, a file readers do not have."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITED = re.compile(r"ERRATA\.md, items? (\d+)")
ITEM = re.compile(r"^## (\d+)\. ", re.M)


def _sources():
    for folder, pattern in [("notebooks", "*.ipynb"), ("companion", "**/*.py"), ("tests", "*.py")]:
        yield from (ROOT / folder).glob(pattern)
    yield from (ROOT / name for name in ("README.md", "CONTRIBUTING.md", "GLOSSARY.md"))
    yield from sorted((ROOT / "docs").glob("*.md"))


def test_errata_items_are_numbered_and_each_names_where_it_is_measured():
    text = (ROOT / "ERRATA.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in ITEM.findall(text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 7
    for block in ITEM.split(text)[2::2]:
        assert (
            "**The book.**" in block
            and "**What is right.**" in block
            and "**Measured in.**" in block
        )
        for notebook in re.findall(r"`(5\.[\d.]+-[a-z0-9-]+)`", block):
            assert (ROOT / "notebooks" / f"{notebook}.ipynb").is_file(), notebook


def test_citations_point_at_existing_items_and_nothing_cites_the_outline():
    items = {int(n) for n in ITEM.findall((ROOT / "ERRATA.md").read_text(encoding="utf-8"))}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        if path.name != "test_errata.py":
            assert "OUTLINE" not in text, (
                f"{path.relative_to(ROOT)} cites OUTLINE; cite ERRATA.md instead"
            )
        for n in CITED.findall(text):
            assert int(n) in items, (
                f"{path.relative_to(ROOT)} cites ERRATA.md item {n}, which does not exist"
            )
