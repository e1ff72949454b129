"""The test suite's own rules: a missing tool skips here but fails under CI, through one helper."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import unavailable, under_ci

TESTS = Path(__file__).resolve().parent


def test_a_missing_tool_skips_here_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not under_ci()
    with pytest.raises(pytest.skip.Exception, match="no chromium here"):
        unavailable("no chromium here")
    for value in ("true", "1", "yes"):
        monkeypatch.setenv("CI", value)
        assert under_ci()
        with pytest.raises(pytest.fail.Exception, match="no chromium here — CI is set"):
            unavailable("no chromium here")
    monkeypatch.setenv("CI", "false")
    assert not under_ci()


def test_ci_entry_point_sets_ci():
    lines = (TESTS.parent / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "export CI=true" in lines
    assert lines.index("export CI=true") < lines.index("make test")


def _skips(path: Path) -> list[str]:
    """Calls of pytest.skip / importorskip and skip/skipif marks in a test file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        called = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if called and node.func.attr in ("skip", "importorskip"):
            found.append(f"{path.name}:{node.lineno} {node.func.attr}()")
        is_mark = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
        if is_mark and node.value.attr == "mark" and node.attr in ("skip", "skipif"):
            found.append(f"{path.name}:{node.lineno} mark.{node.attr}")
    return found


def test_every_skip_goes_through_the_shared_helper():
    """A direct pytest.skip would pass silently under CI; conftest.unavailable fails there."""
    offenders = [
        s for p in sorted(TESTS.glob("*.py")) if p.name != "conftest.py" for s in _skips(p)
    ]
    assert offenders == []
    assert _skips(TESTS / "conftest.py") == [f"conftest.py:{_line_of_skip()} skip()"]


def _line_of_skip() -> int:
    source = (TESTS / "conftest.py").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(source, 1) if "pytest.skip(" in line)
