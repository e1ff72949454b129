"""gettext catalogs (PO files) kept in step with their English source.

English is the master. :func:`merge` brings a catalog up to date with the messages found in the
English source now, as GNU ``msgmerge`` does:

* a message whose English is unchanged keeps its translation;
* a message whose English changed keeps its old translation but becomes *fuzzy*, with the English
  it was translated from kept as ``previous_msgid`` (``#| msgid …`` in the file), so that a
  translator sees what changed. A message is the same message when it has the same context (a
  notebook cell's id) or, failing that, a close enough English text;
* a new message is untranslated, and one that disappeared becomes obsolete (``#~``), so that its
  translation can still come back.

Every finished translation carries a stamp of the English it was made from (a translator comment
``# source <hash>``). A version-control merge can join a new English text from one branch with a
translation of the old text from another, without the fuzzy flag that a change on one branch
would have set: the stamp then disagrees with the English, and :func:`merge` marks the entry
fuzzy.

A fuzzy or untranslated message is shown in English (:mod:`companion.i18n`); the tests of the
Chinese edition fail on both. Catalogs are read and written with polib.

:func:`package_messages` finds the package's messages: every string literal passed to ``_()`` or
``N_()`` in a module that imports them from :mod:`companion.i18n`. The text must be a literal,
because the catalog is looked up with the literal: an f-string, a ``.format()`` or a ``%`` inside
``_()`` is refused with the file and line named.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polib

#: a changed English text still counts as the same message above this similarity (difflib's
#: ratio); msgmerge's fuzzy matching is of the same kind
SIMILAR = 0.6
#: PO lines are not re-wrapped: one line of a notebook's markdown is one line of the catalog, so
#: that a change to one line of English is one line of ``git diff``
WRAPWIDTH = 0
#: the gettext flag that tells Poedit and Weblate to check ``{named}`` fields
BRACE_FORMAT = "python-brace-format"
#: companion.i18n's markers: ``_()`` translates now, ``N_()`` marks a text kept as data
MARKERS = ("_", "N_")


@dataclass(frozen=True)
class Message:
    """One English text to translate, as found in the source."""

    msgid: str
    context: str | None = None  # msgctxt: a notebook cell's id; None for the package's messages
    occurrences: tuple[str, ...] = ()  # where it comes from (file paths)
    comment: str = ""  # a note for the translator (``#.``)
    flags: tuple[str, ...] = ()


class ExtractionError(ValueError):
    """A text marked for translation that the catalog could not hold as written."""


# ---------------------------------------------------------------- extraction


def format_fields(text: str) -> list[str]:
    """The ``{named}`` fields of a ``str.format`` text, in order (``{{`` is not a field)."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:  # an unmatched brace: the text is not a format string
        return []


def _message_flags(text: str) -> tuple[str, ...]:
    return (BRACE_FORMAT,) if format_fields(text) else ()


def _why_not_literal(node: ast.expr) -> str | None:
    """Why ``node`` cannot be a catalog's msgid, or None when it is a literal or a plain name
    (a name is a text marked elsewhere with ``N_()`` and translated when it is shown)."""
    if isinstance(node, ast.Constant):
        return None if isinstance(node.value, str) else f"{node.value!r}, not a text"
    if isinstance(node, ast.JoinedStr):
        return (
            "an f-string: write a literal with named fields and format the translation, "
            '_("{value} is too large").format(value=x)'
        )
    if isinstance(node, ast.BinOp):
        return "a computed text (% or +): pass the literal, then .format() the translation"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return (
            'a text formatted before translation: write _("…{x}…").format(x=...), '
            'not _("…".format())'
        )
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def texts_in_calls(
    source: str, where: str, functions: dict[str, tuple[int, str]]
) -> list[tuple[str, int]]:
    """(text, line) of every string literal passed to one of ``functions`` in ``source``.

    ``functions`` maps a function's name to the position and keyword name of its text argument,
    e.g. ``{"_": (0, "message"), "claim": (1, "text")}``. Raises :class:`ExtractionError`, naming
    ``where`` and the line, for a text that is not a literal (an f-string, ``%``, ``.format()``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ExtractionError(f"{where}: cannot be parsed ({exc.msg}, line {exc.lineno})") from exc
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in functions:
            continue
        argument = _argument(node, *functions[name])
        if argument is None:
            continue
        problem = _why_not_literal(argument)
        if problem is not None:
            raise ExtractionError(f"{where}, line {node.lineno}: the text of {name}() is {problem}")
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.append((argument.value, node.lineno))
    return sorted(found, key=lambda item: item[1])


def _imports_markers(tree: ast.Module) -> set[str]:
    """The names under which a module calls ``_``/``N_`` of companion.i18n: those it imports from
    it (``from companion.i18n import _``, or ``as`` another name), and ``_``/``N_`` themselves
    when it imports the module (``from companion import i18n``; ``i18n._("…")``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "companion.i18n":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in MARKERS}
        elif isinstance(node, ast.ImportFrom) and node.module == "companion":
            if any(alias.name == "i18n" for alias in node.names):
                names |= set(MARKERS)
        elif isinstance(node, ast.Import):
            if any(alias.name == "companion.i18n" for alias in node.names):
                names |= set(MARKERS)
    return names


def package_messages(package_dir: Path, *, root: Path | None = None) -> list[Message]:
    """Every ``_("…")``/``N_("…")`` literal in the modules under ``package_dir`` that import
    them from companion.i18n, once each, in file order; occurrences are paths from ``root``."""
    package_dir = Path(package_dir)
    root = Path(root) if root is not None else package_dir.parent
    seen: dict[str, list[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "i18n" not in source:
            continue
        markers = _imports_markers(ast.parse(source))
        if not markers:
            continue
        where = path.relative_to(root).as_posix()
        functions = {name: (0, "message") for name in markers}
        for text, _line in texts_in_calls(source, where, functions):
            places = seen.setdefault(text, [])
            if where not in places:
                places.append(where)
    return [
        Message(text, occurrences=tuple(places), flags=_message_flags(text))
        for text, places in seen.items()
    ]


# ---------------------------------------------------------------- merging


@dataclass
class MergeResult:
    """What :func:`merge` did, message by message (each as ``context`` or the English text)."""

    catalog: polib.POFile
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # now fuzzy: the English changed
    restored: list[str] = field(
        default_factory=list
    )  # the English went back to what was translated
    obsolete: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.new or self.changed or self.restored or self.obsolete)


STAMP = "source "


def source_stamp(msgid: str) -> str:
    """The translator comment that records which English a translation was made from."""
    return STAMP + hashlib.sha1(msgid.encode("utf-8")).hexdigest()[:10]


def _stamped_source_differs(entry: polib.POEntry) -> bool:
    """True when a finished entry's stamp names another English text than its msgid."""
    stamps = [line for line in entry.tcomment.splitlines() if line.startswith(STAMP)]
    return bool(stamps) and stamps[-1] != source_stamp(entry.msgid)


def _restamp(entry: polib.POEntry) -> None:
    """A finished entry is stamped with its English; a fuzzy or empty one carries no stamp."""
    kept = [line for line in entry.tcomment.splitlines() if not line.startswith(STAMP)]
    if entry.msgstr and not entry.fuzzy:
        kept.append(source_stamp(entry.msgid))
    entry.tcomment = "\n".join(kept)


def _label(entry: polib.POEntry | Message) -> str:
    context = entry.context if isinstance(entry, Message) else entry.msgctxt
    msgid = entry.msgid
    return context or (msgid if len(msgid) <= 60 else msgid[:57] + "…")


def _similarity(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def _fresh(message: Message) -> polib.POEntry:
    return polib.POEntry(
        msgid=message.msgid,
        msgstr="",
        msgctxt=message.context,
        occurrences=[(where, "") for where in message.occurrences],
        comment=message.comment,
        flags=list(message.flags),
    )


def _carry(old: polib.POEntry, message: Message, result: MergeResult) -> polib.POEntry:
    """``message``'s entry with ``old``'s translation: fuzzy when the English differs from the
    English that was translated, finished again when the English went back to it."""
    entry = _fresh(message)
    entry.msgstr = old.msgstr
    entry.tcomment = old.tcomment
    if not old.msgstr:  # nothing was translated: nothing to review
        return entry
    if not old.fuzzy and _stamped_source_differs(old):  # a merge joined new English, old Chinese
        entry.fuzzy = True
        result.changed.append(_label(message))
        return entry
    knows_source = old.fuzzy and old.previous_msgid is not None
    translated_from = old.previous_msgid if knows_source else old.msgid
    if message.msgid == translated_from:
        if knows_source:
            result.restored.append(_label(message))
        elif old.fuzzy:  # a translator's own "needs review" mark stays
            entry.fuzzy = True
        return entry
    entry.fuzzy = True
    entry.previous_msgid = translated_from
    translated_in = (old.previous_msgctxt or old.msgctxt) if knows_source else old.msgctxt
    if translated_in != message.context:
        entry.previous_msgctxt = translated_in
    if not old.fuzzy or old.msgid != message.msgid:
        result.changed.append(_label(message))
    return entry


def merge(catalog: polib.POFile, messages: Sequence[Message]) -> MergeResult:
    """A copy of ``catalog`` brought up to date with ``messages`` (see the module's docstring).

    Entries follow the order of ``messages``; obsolete entries come last. An obsolete entry
    without a translation is dropped (it holds nothing worth keeping).
    """
    live = [e for e in catalog if not e.obsolete]
    old_obsolete = [e for e in catalog if e.obsolete]
    by_key = {(e.msgctxt, e.msgid): e for e in live}
    by_context = {e.msgctxt: e for e in live if e.msgctxt is not None}
    result = MergeResult(_empty_like(catalog))
    used: set[int] = set()
    matched: list[polib.POEntry | None] = []
    for message in messages:  # 1. the same English in the same place, 2. the same place
        old = by_key.get((message.context, message.msgid))
        if old is None and message.context is not None:
            old = by_context.get(message.context)
        if old is not None and id(old) in used:
            old = None
        if old is not None:
            used.add(id(old))
        matched.append(old)
    leftovers = [e for e in live if id(e) not in used] + old_obsolete
    for index, message in enumerate(messages):  # 3. the same or a similar text elsewhere
        if matched[index] is not None:
            continue
        candidates = [e for e in leftovers if id(e) not in used and e.msgstr]
        same = [e for e in candidates if e.msgid == message.msgid]
        best = same[0] if same else None
        if best is None and candidates:
            score, best = max(
                ((_similarity(e.msgid, message.msgid), e) for e in candidates),
                key=lambda pair: pair[0],
            )
            best = best if score >= SIMILAR else None
        if best is not None:
            used.add(id(best))
        matched[index] = best
    for message, old in zip(messages, matched, strict=True):
        if old is None:
            result.new.append(_label(message))
            result.catalog.append(_fresh(message))
        else:
            entry = _carry(old, message, result)
            _restamp(entry)
            result.catalog.append(entry)
    for old in leftovers:
        if id(old) in used or not old.msgstr:
            continue
        gone = polib.POEntry(
            msgid=old.msgid,
            msgstr=old.msgstr,
            msgctxt=old.msgctxt,
            flags=list(old.flags),
            previous_msgid=old.previous_msgid,
            previous_msgctxt=old.previous_msgctxt,
            obsolete=True,
        )
        if not old.obsolete:
            result.obsolete.append(_label(old))
        result.catalog.append(gone)
    return result


# ---------------------------------------------------------------- files and states


def new_catalog(project: str, language: str = "zh_CN", header: str = "") -> polib.POFile:
    """An empty catalog with the metadata gettext tools expect (UTF-8, one plural form)."""
    catalog = polib.POFile(wrapwidth=WRAPWIDTH)
    catalog.header = header
    catalog.metadata = {
        "Project-Id-Version": project,
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    return catalog


def _empty_like(catalog: polib.POFile) -> polib.POFile:
    copy = polib.POFile(wrapwidth=WRAPWIDTH)
    copy.header = catalog.header
    copy.metadata = dict(catalog.metadata)
    return copy


def load(path: Path, *, project: str, header: str = "") -> polib.POFile:
    """The catalog at ``path``, or a new empty one when there is none yet."""
    path = Path(path)
    if not path.exists():
        return new_catalog(project, header=header)
    catalog = polib.pofile(str(path), wrapwidth=WRAPWIDTH)
    catalog.wrapwidth = WRAPWIDTH
    return catalog


def render(catalog: polib.POFile) -> str:
    """The catalog as a PO file's text."""
    catalog.wrapwidth = WRAPWIDTH
    return str(catalog) + "\n"


def save(catalog: polib.POFile, path: Path) -> bool:
    """Write ``catalog`` to ``path`` when its text changed; return whether it did."""
    path = Path(path)
    text = render(catalog)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def state(entry: polib.POEntry) -> str:
    """``"translated"``, ``"fuzzy"`` (to be reviewed) or ``"untranslated"``."""
    if entry.fuzzy:
        return "fuzzy"
    return "translated" if entry.msgstr else "untranslated"


def finished(catalog: Iterable[polib.POEntry]) -> dict[tuple[str | None, str], str]:
    """{(context, English): translation} of every translated, non-fuzzy, live entry."""
    return {
        (e.msgctxt, e.msgid): e.msgstr
        for e in catalog
        if e.msgstr and not e.fuzzy and not e.obsolete
    }


def content(catalog: Iterable[polib.POEntry]) -> list[tuple]:
    """What a catalog says, without its formatting (line wrapping, comments, occurrences): two
    catalogs with the same content differ only in how a tool wrote them."""
    return [
        (
            e.msgctxt,
            e.msgid,
            e.msgstr,
            e.obsolete,
            sorted(e.flags),
            e.previous_msgid,
            e.previous_msgctxt,
        )
        for e in catalog
    ]
