"""Every text a student reads from companion.exercises is ready for the catalog (companion.i18n):
stored texts are N_() literals, built ones are _("… {name} …").format(...), never an f-string
inside _(); and, with a pseudo-translation of every message, nothing English is printed that did
not go through _() (pseudo-localisation, as translators' tools do it)."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
import torch

from companion import i18n
from companion.exercises import core, explain, hint, list_exercises, list_questions, progress
from companion.exercises.timelimit import time_limit

PACKAGE = Path(__file__).resolve().parent.parent / "companion" / "exercises"
pytestmark = pytest.mark.usefixtures("temporary_cache")


def _marked_calls():
    """(file, line, argument node) of every _() / N_() call in companion/exercises."""
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "N_"):
                yield path.name, node.lineno, node.args[0] if node.args else None


def _literals() -> set[str]:
    return {
        node.value
        for _file, _line, node in _marked_calls()
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_marked_texts_are_literals_never_f_strings_or_formatted_before_translation():
    for file, line, node in _marked_calls():
        assert node is not None, f"{file}:{line}: _() without a text"
        assert not isinstance(node, (ast.JoinedStr, ast.BinOp)), f"{file}:{line}: not a literal"
        assert not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "format"), (
            f"{file}:{line}: formatted before translation"
        )
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, str), f"{file}:{line}"


def test_every_stored_text_of_every_exercise_is_a_catalog_literal():
    literals = _literals()
    for exercise in list_exercises():
        texts = [exercise.title, exercise.section, exercise.solution, *exercise.hints]
        texts += [m.message for m in exercise.mistakes] + [exercise.timeout_hint]
        texts += [exercise.solution_note] if exercise.solution_note else []
        missing = [t for t in texts if t not in literals]
        assert not missing, (exercise.id, missing)
    for question in list_questions():
        missing = [
            t for t in (question.title, question.section, question.answer) if t not in literals
        ]
        assert not missing, (question.id, missing)


@pytest.fixture
def pseudo_translated(monkeypatch):
    """Every message "translated" to ⟦message⟧: text outside the brackets was never translated."""

    class Brackets(dict):
        def get(self, message, default=None):
            return f"⟦{message}⟧"

    monkeypatch.setattr(i18n, "translations", lambda language: Brackets())
    monkeypatch.setattr(i18n, "_language", "zh")
    yield
    i18n._language = None


def _untranslated(text: str) -> str:
    """What is left of ``text`` outside ⟦…⟧ (nested), without exercise ids and file paths."""
    outside, depth = [], 0
    for char in text:
        if char == "⟦":
            depth += 1
        elif char == "⟧":
            depth -= 1
        elif depth == 0:
            outside.append(char)
    left = "".join(outside)
    for item_id in sorted((i.id for i in [*list_exercises(), *list_questions()]), key=len)[::-1]:
        left = left.replace(item_id, "")
    return re.sub(r"[^A-Za-z]+", " ", left).strip()


def _answers(exercise):
    """A right answer, the typical mistakes, wrong kinds, NaN and a stub: every kind of message."""

    def stub(*args, **kwargs):
        raise NotImplementedError

    def forever(*args, **kwargs):
        while True:
            pass

    context = exercise.demo_context() if exercise.demo_context else {}
    answers = [exercise.reference(context), stub, forever, "text", math.nan]
    answers += [m.make(context) for m in exercise.mistakes]
    if exercise.kind == "implement":
        solved = exercise.reference(context)
        answers += [lambda *a, **k: str(solved(*a, **k)), lambda *a, **k: 1 / 0]
    else:
        value = float(exercise.reference(context))
        answers += [value * 1.5 + 1, value - 10, True]
    return context, answers


def test_every_message_goes_through_the_catalog(pseudo_translated, capsys):
    with time_limit(0.05):
        for exercise in list_exercises():
            context, answers = _answers(exercise)
            for answer in answers:
                message = core._run_checker(exercise, answer, context).message
                assert not _untranslated(message), (exercise.id, message)
            capsys.readouterr()
            hint(exercise.id)
            core.solution(exercise.id)
            printed = capsys.readouterr().out
            assert not _untranslated(printed), (exercise.id, printed)
    for question in list_questions():
        explain(question.id, "")
        explain(question.id, "a few words of my own here")
        core.solution(question.id)
        printed = capsys.readouterr().out
        assert not _untranslated(printed), (question.id, printed)
    core.check("5.2.6-kl-by-hand", 2.0)
    capsys.readouterr()
    progress("5.2.6")
    printed = capsys.readouterr().out
    assert not _untranslated(printed), printed


def test_the_command_line_tables_go_through_the_catalog(pseudo_translated):
    from companion.exercises.__main__ import list_table, progress_table

    for table in (list_table("5.2.6"), progress_table(None)):
        lines = [line for line in table.splitlines() if not set(line) <= set("-+| ")]
        left = _untranslated("\n".join(lines).replace(str(Path.home()), ""))
        assert not re.sub(
            r"\b(cache|companion|exercises|progress|json|tmp|pytest\S*)\b", "", left
        ).strip(), left


def test_a_wrong_kind_message_in_chinese_keeps_its_values(monkeypatch):
    monkeypatch.setattr(
        i18n,
        "translations",
        lambda language: {"{what} is {got}; expected {expected}": "{what}是{got}，应为{expected}"},
    )
    monkeypatch.setattr(i18n, "_language", "zh")
    try:
        message = core.check("5.3.6-causal-mask", lambda n: torch.ones(n, n).triu(1)).message
    finally:
        i18n._language = None
    assert "是" in message and "torch.float32" in message and "[4, 4]" in message
