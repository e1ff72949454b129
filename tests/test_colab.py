"""Each notebook opens in Colab and installs `companion` there, and only there.

The install cell *of each notebook* is run twice with ``subprocess.run`` replaced: outside Colab it
must do nothing; with a simulated ``google.colab`` module it must ask pip for this repository
(without running pip). The badge must point at the notebook's real path in the repository.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from companion import notebooks as nbtools

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = nbtools.notebook_paths() if nbtools.NOTEBOOK_DIR.is_dir() else []
BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                   r"\((https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/([^)]+))\)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell.get("source", ""))


def _install_cell(path: Path) -> tuple[int, str]:
    code = [(i, _source(c)) for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"]
    hits = [(i, s) for i, s in code if "google.colab" in s]
    assert hits, f"{path.name} has no Colab install cell"
    return hits[0]


def _run(source: str, monkeypatch, on_colab: bool) -> list:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<install cell>", "exec"), {})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_badge_points_at_the_notebook_in_the_repository(path):
    match = BADGE.search(_source(_cells(path)[0]))
    assert match, f"{path.name}: the title cell has no 'Open in Colab' badge"
    url, repository, branch, file_path = match.groups()
    assert url == nbtools.colab_url(path.name)
    assert (repository, branch) == (nbtools.REPOSITORY, nbtools.BRANCH)
    assert file_path == path.relative_to(ROOT).as_posix(), "badge path differs from the file's path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_install_cell_does_nothing_outside_colab(path, monkeypatch):
    _, source = _install_cell(path)
    assert _run(source, monkeypatch, on_colab=False) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_install_cell_installs_this_repository_on_colab(path, monkeypatch):
    index, source = _install_cell(path)
    calls = _run(source, monkeypatch, on_colab=True)
    assert len(calls) == 1
    command, options = calls[0]
    assert command == [sys.executable, "-m", "pip", "install", "--quiet",
                       f"git+https://github.com/{nbtools.REPOSITORY}@{nbtools.BRANCH}"]
    assert options.get("check") is True, "a failed install must stop the notebook"
    first_import = next(i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"
                        and re.search(r"^\s*(import|from) companion", _source(c), re.M))
    assert index < first_import, "on Colab the install cell must run before `import companion`"
