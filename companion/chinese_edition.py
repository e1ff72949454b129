"""The Chinese edition (中文版): ``notebooks/zh/``, written from the English notebooks and catalogs.

English is the master; the Chinese notebooks are generated, never edited by hand::

    notebooks/NAME.ipynb                              the English notebook
    locale/zh_CN/notebooks/NAME.po                    its catalog: one entry per markdown cell,
                                                      msgctxt = the cell's id, msgid = its English
    companion/locale/zh_CN/LC_MESSAGES/companion.po   the package's messages: every _("…") and
                                                      N_("…") of companion/ (and of tools/, the
                                                      site's words), and the sentences of the
                                                      notebooks' claim(…, "…") calls
    notebooks/zh/NAME.ipynb                           written from the two
    README.md                                         the English README
    locale/zh_CN/README.po                            its catalog: one entry per markdown block
                                                      (paragraph, heading, list item, table row),
                                                      msgctxt = the block's first words
                                                      (companion.markdown_blocks)
    README.zh-CN.md                                   written from the two

``python -m companion.notebooks translate`` updates every catalog from the English (a changed
English text becomes *fuzzy* with the English it was translated from kept as ``previous_msgid``,
a new one untranslated, a removed one obsolete: :mod:`companion.catalogs`) and writes
``notebooks/zh/`` and ``README.zh-CN.md``. A Chinese notebook has the English notebook's cells,
ids and metadata:

* each markdown cell is its catalog's finished translation (English while it is untranslated or
  fuzzy, as gettext does), with link targets adjusted to ``notebooks/zh/``: the Colab badge opens
  ``notebooks/zh/NAME``, links to other notebooks reach their Chinese twins (same file names, same
  folder), and links to other files of the repository gain a ``../``;
* each code cell is the English cell, except the single deliberate difference
  :data:`LANGUAGE_LINE`: the parameters cell sets ``language = "zh"``, so that the package speaks
  Chinese (exercise checks, hints, solutions, claims) with no action from the student.

The Chinese README has README.md's blocks, each its catalog's finished translation (English while
untranslated or fuzzy), with code blocks and HTML comments copied as they are, and links adjusted
by :func:`readme_target`: a notebook's link reaches its Chinese twin in ``notebooks/zh/``, and the
English README's link to README.zh-CN.md becomes the link back to README.md; every other link
(docs/, which stays English, the figure, ERRATA.md) is the same file from the same folder.

The tests (tests/test_chinese_edition.py) rebuild every Chinese notebook and compare, require each
Chinese code cell to be AST-identical to its English cell, fail on untranslated or fuzzy entries
with the notebook and cell named, and check what every translation keeps
(:mod:`companion.catalog_checks`); tests/test_chinese_edition.py does the same for the README.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polib

from companion import catalogs, markdown_blocks
from companion import notebooks as nbtools
from companion.catalog_checks import Term, lost_in_translation, read_glossary, style_problems
from companion.catalogs import Message

LANGUAGE = "zh"  # the companion's language code (companion.i18n.LANGUAGES)
LOCALE = "zh_CN"  # gettext's
EDITION_DIR = nbtools.EDITION_DIRS[LANGUAGE]  # notebooks/zh/
HTML_LANG = "zh-CN"  # the pages' lang attribute
PROJECT = "encoder-decoder-companion"
#: the parameters cell's line that differs, English → Chinese
LANGUAGE_LINE = re.compile(r"""^(language\s*=\s*)(["'])en\2""", re.M)
CHINESE_LANGUAGE_LINE = 'language = "zh"'
NOTEBOOK_CATALOG_HEADER = (
    "Chinese (zh_CN) translation of notebooks/{name}: one entry per markdown cell.\n"
    "msgctxt is the cell's id; msgid is the English cell; write the Chinese in msgstr, keeping\n"
    "formulas, numbers, inline code and links as they are (docs/translating.md).\n"
    "Generated and updated by `python -m companion.notebooks translate`."
)
TITLE_NOTE = (
    "The title cell. Keep the Colab badge line exactly as it is:\n"
    "the Chinese notebook's badge is pointed at notebooks/zh/ when the notebook is written."
)
PACKAGE_HEADER = (
    "Chinese (zh_CN) translations of the messages of the companion package, and of the\n"
    "sentences the notebooks check with claim(). English is the source language; see\n"
    'CONTRIBUTING.md, "The Chinese edition", and docs/translating.md.\n'
    "Generated and updated by `python -m companion.notebooks translate`."
)
README_CATALOG_HEADER = (
    "Chinese (zh_CN) translation of README.md: one entry per markdown block (a paragraph, a\n"
    "heading, a list item, a table row). msgctxt is the block's first words; msgid is the English\n"
    "block; write the Chinese in msgstr, keeping numbers, inline code, links and the block's\n"
    "markdown (#, -, |) as they are (docs/translating.md).\n"
    "Generated and updated by `python -m companion.notebooks translate`, which writes\n"
    "README.zh-CN.md from it."
)
README_LINK_NOTE = (
    "The language switch: keep the target README.zh-CN.md as it is; the Chinese README\n"
    "points it back at README.md."
)
CHINESE_README = "README.zh-CN.md"
README_GENERATED = (
    "<!-- Generated by `python -m companion.notebooks translate` from README.md and "
    f"locale/{LOCALE}/README.po: edit those, never this file. -->\n"
)
#: calls whose English text a notebook prints through ``_()``: the claim and the reason that
#: claims go unchecked (companion/claims.py)
CLAIM_FUNCTIONS = {"claim": (1, "text"), "stop_checking": (0, "reason")}
GENERATED_NOTE = (
    "Generated by `python -m companion.notebooks translate` from the English notebook and its "
    "catalog: edit those, never this file."
)


@dataclass(frozen=True)
class Layout:
    """Where the edition's files live (a repository, or a copy of one in a test)."""

    english: Path  # notebooks/
    catalogs: Path  # locale/zh_CN/notebooks/
    package_catalog: Path  # companion/locale/zh_CN/LC_MESSAGES/companion.po
    package_dir: Path  # companion/
    glossary: Path  # GLOSSARY.md
    tools_dir: Path | None = None  # tools/: the site's words go through the package catalog too
    readme: Path | None = None  # README.md: README.zh-CN.md is written from it and its catalog

    @property
    def chinese(self) -> Path:
        return self.english / EDITION_DIR

    @property
    def root(self) -> Path:
        return self.english.parent

    @classmethod
    def of_repository(cls, root: Path | None = None) -> Layout:
        """The layout of the repository at ``root`` (default: the one holding ./notebooks)."""
        english = nbtools.notebook_dir(None if root is None else Path(root) / "notebooks")
        root = english.parent
        package = root / "companion"
        return cls(
            english=english,
            catalogs=root / "locale" / LOCALE / "notebooks",
            package_catalog=package / "locale" / LOCALE / "LC_MESSAGES" / "companion.po",
            package_dir=package,
            glossary=root / "GLOSSARY.md",
            tools_dir=root / "tools" if (root / "tools").is_dir() else None,
            readme=root / "README.md" if (root / "README.md").is_file() else None,
        )

    @property
    def readme_catalog(self) -> Path | None:
        """locale/zh_CN/README.po, beside the notebooks' catalogs."""
        return None if self.readme is None else self.catalogs.parent / "README.po"

    @property
    def chinese_readme(self) -> Path | None:
        return None if self.readme is None else self.readme.with_name(CHINESE_README)

    def catalog_path(self, name: str) -> Path:
        return self.catalogs / f"{Path(name).stem}.po"

    def relative(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    return "".join(cell.get("source", ""))


# ---------------------------------------------------------------- messages of a notebook


def notebook_messages(nb: dict, name: str) -> list[Message]:
    """One message per non-empty markdown cell: its English, keyed by the cell's id."""
    messages = []
    for index, cell in enumerate(nb.get("cells", [])):
        text = _source(cell)
        if cell.get("cell_type") != "markdown" or not text.strip():
            continue
        if not cell.get("id"):
            raise ValueError(
                f"{name}: a markdown cell has no id (run `python -m companion.notebooks clean`)"
            )
        messages.append(
            Message(
                text,
                context=cell["id"],
                occurrences=(f"notebooks/{name}",),
                comment=TITLE_NOTE if index == 0 else "",
            )
        )
    return messages


def claim_messages(paths: Sequence[Path]) -> list[Message]:
    """The sentence of every ``claim(condition, "…")`` in the notebooks' code cells, and the
    reason of every ``stop_checking("…")`` (both are printed through ``_()``)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        where = f"notebooks/{path.name}"
        for cell in _read(path).get("cells", []):
            source = _source(cell)
            if cell.get("cell_type") != "code" or not any(f in source for f in CLAIM_FUNCTIONS):
                continue
            label = f"{where}, cell {cell.get('id')}"
            for text, _line in catalogs.texts_in_calls(source, label, CLAIM_FUNCTIONS):
                places = found.setdefault(text, [])
                if where not in places:
                    places.append(where)
    return [
        Message(text, occurrences=tuple(places), flags=catalogs._message_flags(text))
        for text, places in found.items()
    ]


def package_catalog_messages(layout: Layout, notebooks: Sequence[Path]) -> list[Message]:
    """The package catalog's messages: the package's own, the site's (tools/), then the
    notebooks' claims."""
    package = catalogs.package_messages(layout.package_dir)
    if layout.tools_dir is not None:
        package += catalogs.package_messages(layout.tools_dir)
    known = {m.msgid for m in package}
    return package + [m for m in claim_messages(notebooks) if m.msgid not in known]


# ---------------------------------------------------------------- the Chinese notebook

_MD_TARGET = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
_REF_TARGET = re.compile(r"^(\s*\[[^\]]+\]:\s*<?)(\S+?)(?=>?(?:\s|$))", re.M)
_HTML_TARGET = re.compile(r"(\b(?:href|src)\s*=\s*[\"'])([^\"']+)", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def chinese_target(target: str, notebook_names: set[str]) -> str:
    """Where a link of an English notebook points from its Chinese twin in notebooks/zh/."""
    colab = nbtools.colab_url("")
    if target.startswith(colab) and not target.startswith(colab + EDITION_DIR + "/"):
        return colab + EDITION_DIR + "/" + target[len(colab) :]
    if _SCHEME.match(target) or target.startswith(("#", "/")):
        return target
    path = target.split("#", 1)[0]
    if path in notebook_names:  # a notebook beside it: its Chinese twin sits beside it too
        return target
    return "../" + target


def adjust_links(text: str, notebook_names: set[str]) -> str:
    """``text`` with every link target replaced by :func:`chinese_target`."""
    for pattern in (_MD_TARGET, _REF_TARGET, _HTML_TARGET):
        text = pattern.sub(lambda m: m.group(1) + chinese_target(m.group(2), notebook_names), text)
    return text


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell["source"], list) else text


def chinese_parameters(source: str, name: str) -> str:
    """The parameters cell with ``language = "zh"``: the one deliberate difference of code."""
    changed, count = LANGUAGE_LINE.subn(lambda m: m.group(1) + '"zh"', source)
    if count != 1:
        raise ValueError(
            f'{name}: the parameters cell must set language = "en" exactly once (found '
            f'{count}); the Chinese notebook sets it to "zh"'
        )
    return changed


def is_parameters(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
        "tags", []
    )


def chinese_notebook(nb: dict, catalog: polib.POFile, name: str, notebook_names: set[str]) -> dict:
    """The Chinese twin of the English notebook ``nb`` (see the module's docstring)."""
    import copy

    translations = catalogs.finished(catalog)
    twin = copy.deepcopy(nb)
    for cell in twin.get("cells", []):
        text = _source(cell)
        if cell.get("cell_type") == "markdown" and text.strip():
            text = translations.get((cell.get("id"), text), text)
            _set_source(cell, adjust_links(text, notebook_names))
        elif is_parameters(cell):
            _set_source(cell, chinese_parameters(text, name))
    twin.setdefault("metadata", {})["companion"] = {
        "edition": LANGUAGE,
        "english": f"../{name}",
        "catalog": f"../../locale/{LOCALE}/notebooks/{Path(name).stem}.po",
        "note": GENERATED_NOTE,
    }
    return twin


# ---------------------------------------------------------------- the Chinese README


def readme_messages(english: str) -> list[Message]:
    """One message per translatable block of README.md, keyed by the block's first words."""
    return [
        Message(
            piece.text,
            context=piece.key,
            occurrences=("README.md",),
            comment=README_LINK_NOTE if f"]({CHINESE_README})" in piece.text else "",
        )
        for piece in markdown_blocks.split(english)
        if piece.translatable
    ]


def readme_target(target: str, notebook_names: set[str]) -> str:
    """Where a link of README.md points from README.zh-CN.md, in the same folder: a notebook's
    Chinese twin, README.md for the language switch, and every other target unchanged."""
    colab = nbtools.colab_url("")
    if target.startswith(colab):
        return chinese_target(target, notebook_names)
    path, hash_, anchor = target.partition("#")
    if path == CHINESE_README:
        return "README.md" + hash_ + anchor
    folder, _, name = path.rpartition("/")
    if folder == "notebooks" and name in notebook_names:
        return f"notebooks/{EDITION_DIR}/{name}{hash_}{anchor}"
    return target


def adjust_readme_links(text: str, notebook_names: set[str]) -> str:
    """``text`` with every link target replaced by :func:`readme_target`."""
    for pattern in (_MD_TARGET, _REF_TARGET, _HTML_TARGET):
        text = pattern.sub(lambda m: m.group(1) + readme_target(m.group(2), notebook_names), text)
    return text


def chinese_readme(english: str, catalog: polib.POFile, notebook_names: set[str]) -> str:
    """README.zh-CN.md: README.md block by block from ``catalog`` (see the module's docstring)."""
    translations = catalogs.finished(catalog)
    parts = [README_GENERATED]
    for piece in markdown_blocks.split(english):
        if piece.translatable:
            text = translations.get((piece.key, piece.text), piece.text).rstrip("\n")
            parts.append(adjust_readme_links(text, notebook_names))
        else:
            parts.append(piece.text)
    return "".join(parts)


def load_readme_catalog(layout: Layout) -> polib.POFile:
    if layout.readme_catalog is None:
        raise ValueError("this layout has no README.md")
    return catalogs.load(
        layout.readme_catalog, project=f"{PROJECT} README.md", header=README_CATALOG_HEADER
    )


def readme_problems(catalog: polib.POFile, terms: Sequence[Term] = ()) -> list[str]:
    """:func:`translation_problems` of the README's catalog, and any block whose translation is
    no longer the same kind of markdown block (heading level, list marker, table cells)."""
    lines = translation_problems(catalog, "README", terms, unit="block")
    for entry in catalog:
        if entry.obsolete or catalogs.state(entry) != "translated":
            continue
        for problem in markdown_blocks.shape_problems(entry.msgid, entry.msgstr):
            lines.append(f"README, block {entry.msgctxt!r}: {problem}")
    return lines


# ---------------------------------------------------------------- comparing the two editions


def _ast(source: str, where: str) -> str:
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError as exc:
        return f"<{where} cannot be parsed: {exc.msg} at line {exc.lineno}>"


def code_differences(english: dict, chinese: dict, name: str) -> list[str]:
    """How the Chinese notebook's code differs from the English one's, beyond comments and the
    parameters cell's ``language = "zh"`` (empty when it does not)."""
    en_cells, zh_cells = english.get("cells", []), chinese.get("cells", [])
    shape = [(c.get("cell_type"), c.get("id")) for c in en_cells]
    if shape != [(c.get("cell_type"), c.get("id")) for c in zh_cells]:
        return [f"{name}: the cells (types and ids, in order) differ from the English notebook's"]
    problems = []
    for en, zh in zip(en_cells, zh_cells, strict=True):
        where = f"{name}, cell {en.get('id')}"
        if en.get("metadata", {}).get("tags", []) != zh.get("metadata", {}).get("tags", []):
            problems.append(f"{where}: its tags differ from the English cell's")
        if en.get("cell_type") == "raw" and _source(en) != _source(zh):
            problems.append(f"{where}: a raw cell differs from the English one")
        if en.get("cell_type") != "code":
            continue
        zh_source = _source(zh)
        if is_parameters(en):
            if not re.search(r'^language\s*=\s*["\']zh["\']', zh_source, re.M):
                problems.append(f'{where}: the parameters cell must set language = "zh"')
            zh_source = re.sub(r'^(language\s*=\s*)["\']zh["\']', r'\1"en"', zh_source, flags=re.M)
        if _ast(_source(en), where) != _ast(zh_source, where):
            problems.append(f"{where}: the code differs from the English cell (not only comments)")
    return problems


# ---------------------------------------------------------------- translating


@dataclass
class CatalogStatus:
    """One catalog after an update: where, what changed, what is left to translate."""

    path: Path
    result: catalogs.MergeResult
    written: bool = False
    pending: list[tuple[str, str]] = field(default_factory=list)  # (cell id or text, state)

    @property
    def total(self) -> int:
        return len([e for e in self.result.catalog if not e.obsolete])


@dataclass
class Update:
    """What :func:`update` found and did."""

    notebooks: dict[str, CatalogStatus] = field(default_factory=dict)
    package: CatalogStatus | None = None
    readme: CatalogStatus | None = None
    written: list[str] = field(default_factory=list)  # Chinese notebooks (re)written
    readme_written: bool = False  # README.zh-CN.md (re)written
    removed: list[str] = field(default_factory=list)  # Chinese notebooks without English

    @property
    def stale(self) -> bool:
        """Whether the files on disk were (or, with ``write=False``, would be) out of date."""
        statuses = [*self.notebooks.values(), self.package, self.readme]
        return bool(
            self.written
            or self.removed
            or self.readme_written
            or any(s.written for s in statuses if s is not None)
        )


def _status(path: Path, result: catalogs.MergeResult, before: polib.POFile) -> CatalogStatus:
    status = CatalogStatus(path, result)
    status.written = catalogs.content(before) != catalogs.content(result.catalog) or (
        not path.exists()
    )
    status.pending = [
        (e.msgctxt or e.msgid, catalogs.state(e))
        for e in result.catalog
        if not e.obsolete and catalogs.state(e) != "translated"
    ]
    return status


def update(layout: Layout, names: Sequence[str] = (), *, write: bool = True) -> Update:
    """Bring the catalogs up to date with the English and write ``notebooks/zh/`` from them.

    ``names`` limits the notebooks (names or prefixes); the package catalog is always updated
    (claims come from every notebook). ``write=False`` changes nothing on disk and reports what
    would change: ``update(..., write=False).stale`` is False when everything is in step.
    """
    every = nbtools.notebook_paths(root=layout.english)
    chosen = nbtools.notebook_paths(names, root=layout.english) if names else every
    notebook_names = {p.name for p in every}
    report = Update()
    for path in chosen:
        nb = _read(path)
        catalog_path = layout.catalog_path(path.name)
        before = catalogs.load(
            catalog_path,
            project=f"{PROJECT} notebooks/{path.name}",
            header=NOTEBOOK_CATALOG_HEADER.format(name=path.name),
        )
        result = catalogs.merge(before, notebook_messages(nb, path.name))
        status = _status(catalog_path, result, before)
        if write:
            catalogs.save(result.catalog, catalog_path)
        report.notebooks[path.name] = status
        twin = nbtools.notebook_json(
            chinese_notebook(nb, result.catalog, path.name, notebook_names)
        )
        target = layout.chinese / path.name
        if not target.exists() or target.read_text(encoding="utf-8") != twin:
            report.written.append(path.name)
            if write:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(twin, encoding="utf-8")
    if not names and layout.chinese.is_dir():
        for orphan in sorted(layout.chinese.glob("*.ipynb")):
            if orphan.name not in notebook_names:
                report.removed.append(orphan.name)
                if write:
                    orphan.unlink()
    before = catalogs.load(layout.package_catalog, project=PROJECT, header=PACKAGE_HEADER)
    result = catalogs.merge(before, package_catalog_messages(layout, every))
    report.package = _status(layout.package_catalog, result, before)
    if write:
        catalogs.save(result.catalog, layout.package_catalog)
    if layout.readme is not None:
        report.readme, report.readme_written = update_readme(layout, notebook_names, write=write)
    return report


def update_readme(
    layout: Layout, notebook_names: set[str], *, write: bool = True
) -> tuple[CatalogStatus, bool]:
    """The README's part of :func:`update`: bring locale/zh_CN/README.po up to date with
    README.md and write README.zh-CN.md from them. Returns the catalog's status and whether
    README.zh-CN.md was (or, with ``write=False``, would be) rewritten."""
    if layout.readme is None or layout.readme_catalog is None or layout.chinese_readme is None:
        raise ValueError("this layout has no README.md")
    english = layout.readme.read_text(encoding="utf-8")
    before = load_readme_catalog(layout)
    result = catalogs.merge(before, readme_messages(english))
    status = _status(layout.readme_catalog, result, before)
    if write:
        catalogs.save(result.catalog, layout.readme_catalog)
    text = chinese_readme(english, result.catalog, notebook_names)
    target = layout.chinese_readme
    stale = not target.exists() or target.read_text(encoding="utf-8") != text
    if stale and write:
        target.write_text(text, encoding="utf-8")
    return status, stale


# ---------------------------------------------------------------- what is left, what is wrong


def load_notebook_catalog(layout: Layout, name: str) -> polib.POFile:
    return catalogs.load(layout.catalog_path(name), project=f"{PROJECT} notebooks/{name}")


def untranslated(catalog: polib.POFile, label: str, *, unit: str = "cell") -> list[str]:
    """One line per untranslated or fuzzy entry, naming ``label`` and the entry's context (a
    notebook's cell id, a README block's first words: ``unit`` says which) or its msgid."""
    lines = []
    for entry in catalog:
        if entry.obsolete:
            continue
        what = catalogs.state(entry)
        if what == "translated":
            continue
        where = _where(entry, unit, len(entry.msgid))
        detail = ""
        if what == "fuzzy" and entry.previous_msgid is not None:
            detail = " (the English changed since it was translated)"
        lines.append(f"{label}, {where}: {what}{detail}")
    return lines


def _where(entry: polib.POEntry, unit: str, length: int) -> str:
    if not entry.msgctxt:
        return repr(entry.msgid[:length])
    return f"cell {entry.msgctxt}" if unit == "cell" else f"{unit} {entry.msgctxt!r}"


def translation_problems(
    catalog: polib.POFile, label: str, terms: Sequence[Term] = (), *, unit: str = "cell"
) -> list[str]:
    """What the finished translations of ``catalog`` lost from their English, or break of the
    Chinese style, one line each naming ``label`` and the cell id (or msgid)."""
    lines = []
    for entry in catalog:
        if entry.obsolete or catalogs.state(entry) != "translated":
            continue
        where = _where(entry, unit, 60)
        for problem in lost_in_translation(entry.msgid, entry.msgstr, terms):
            lines.append(f"{label}, {where}: {problem}")
        for problem in style_problems(entry.msgstr):
            lines.append(f"{label}, {where}: {problem}")
    return lines


def glossary(layout: Layout) -> list[Term]:
    return read_glossary(layout.glossary) if layout.glossary.exists() else []


# ---------------------------------------------------------------- command line


def _summary(label: str, status: CatalogStatus) -> str:
    result = status.result
    counts = {"fuzzy": 0, "untranslated": 0}
    for _, what in status.pending:
        counts[what] += 1
    done = status.total - len(status.pending)
    parts = [f"{done}/{status.total} translated"]
    parts += [f"{n} {what}" for what, n in counts.items() if n]
    changes = [
        f"{len(items)} {kind}"
        for kind, items in (
            ("new", result.new),
            ("changed → fuzzy", result.changed),
            ("restored", result.restored),
            ("obsolete", result.obsolete),
        )
        if items
    ]
    return f"{label}: {', '.join(parts)}" + (f" ({'; '.join(changes)})" if changes else "")


def run(
    names: Sequence[str] = (),
    *,
    check: bool = False,
    list_pending: bool = False,
    layout: Layout | None = None,
) -> int:
    """``python -m companion.notebooks translate``: update, write, and report."""
    layout = layout or Layout.of_repository()
    try:
        report = update(layout, names, write=not check)
    except catalogs.ExtractionError as exc:
        print(f"error: {exc}")
        return 2
    terms = glossary(layout)
    problems, pending = [], []
    for name, status in report.notebooks.items():
        label = layout.relative(status.path)
        print(_summary(label, status))
        pending += untranslated(status.result.catalog, Path(name).stem)
        problems += translation_problems(status.result.catalog, Path(name).stem, terms)
    if report.package is not None:
        print(_summary(layout.relative(report.package.path), report.package))
        pending += untranslated(report.package.result.catalog, "companion.po")
        problems += translation_problems(report.package.result.catalog, "companion.po", terms)
    if report.readme is not None:
        print(_summary(layout.relative(report.readme.path), report.readme))
        pending += untranslated(report.readme.result.catalog, "README", unit="block")
        problems += readme_problems(report.readme.result.catalog, terms)
    verb = "would write" if check else "wrote"
    if report.written or report.removed:
        print(
            f"{verb} {len(report.written)} notebook(s) in {layout.relative(layout.chinese)}/"
            + (
                f", {'would remove' if check else 'removed'} {report.removed}"
                if report.removed
                else ""
            )
        )
    if report.readme_written:
        print(f"{verb} {CHINESE_README}")
    if list_pending:
        print("\n".join(pending))
    elif pending:
        print(f"{len(pending)} entries to translate or review (--list names them)")
    for problem in problems:
        print(f"PROBLEM {problem}")
    if check and report.stale:
        print(
            "the Chinese edition is out of step with the English: run "
            "`python -m companion.notebooks translate`"
        )
        return 1
    return 1 if problems else 0
