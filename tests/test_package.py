"""The package's layout: every sub-module is reachable as an attribute of ``companion``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import companion

PACKAGE = Path(__file__).resolve().parent.parent / "companion"


def submodules_on_disk() -> list[str]:
    """``*.py`` files and folders with an ``__init__.py`` directly under companion/."""
    modules = [p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"]
    packages = [p.parent.name for p in PACKAGE.glob("*/__init__.py")]
    return sorted(modules + packages)


def test_every_submodule_is_an_attribute_of_the_package():
    names = submodules_on_disk()
    assert {"translation", "validation", "inference", "decoding", "exercises"} <= set(names)
    # A fresh interpreter, so that each attribute goes through the lazy __getattr__ (here, another
    # test may already have imported the module, which sets the attribute by itself).
    code = (
        "import importlib, json, companion\n"
        f"names = {names!r}\n"
        "listed = set(dir(companion))\n"
        "found = {n: getattr(companion, n) is importlib.import_module('companion.' + n) "
        "for n in names}\n"
        "print(json.dumps({'found': found, 'listed': sorted(listed & set(names))}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out)
    assert result["found"] == {name: True for name in names}
    assert result["listed"] == names  # dir(companion) shows them too (tab completion)


def test_an_unknown_attribute_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'translations'"):
        companion.translations  # noqa: B018 — the attribute access is the test


def test_plots_never_import_widgets():
    """Widgets draw with companion.plot; a plot that imported a widget would close a cycle."""
    offenders = []
    for path in sorted((PACKAGE / "plot").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("companion.widgets")]
    assert offenders == []


def test_no_public_name_is_defined_twice():
    """One name per idea: a function or class name is defined in one module only (``main``, the
    entry point of every ``python -m`` tool, excepted)."""
    where = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                where[node.name].append(str(path.relative_to(PACKAGE)))
    twice = {name: paths for name, paths in where.items() if len(paths) > 1 and name != "main"}
    assert twice == {}


def test_shipped_code_does_not_import_unittest():
    """Test doubles (``unittest.mock``) belong in tests/, not in the package or the build tools."""
    shipped = [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "tools").rglob("*.py")]
    offenders = []
    for path in shipped:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "unittest"]
    assert offenders == []
