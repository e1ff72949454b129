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
NOTEBOOKS = nbtools.notebook_paths(root=ROOT / "notebooks")
BADGE = re.compile(
    r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
    r"\((https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/([^)]+))\)"
)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell.get("source", ""))


def _install_cell(path: Path) -> tuple[int, str]:
    code = [(i, _source(c)) for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"]
    hits = [(i, s) for i, s in code if "google.colab" in s]
    assert hits, f"{path.name} has no Colab install cell"
    return hits[0]


def _run(source: str, monkeypatch, on_colab: bool, pip_fails: bool = False) -> list:
    calls = []

    def fake_run(cmd, **kw):
        calls.append((cmd, kw))
        failed = pip_fails and "pip" in cmd
        return subprocess.CompletedProcess(
            cmd,
            1 if failed else 0,
            stdout="",
            stderr="fatal: repository not found" if failed else "",
        )

    monkeypatch.setattr(subprocess, "run", fake_run)
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
    (pip_cmd, pip_options), (font_cmd, _) = _run(source, monkeypatch, on_colab=True)
    # By distribution name and git URL: pip can never fetch the unrelated "companion" project.
    assert pip_cmd == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        f"{nbtools.DISTRIBUTION} @ git+https://github.com/{nbtools.REPOSITORY}@{nbtools.BRANCH}",
    ]
    assert "--upgrade" not in pip_cmd and "-U" not in pip_cmd
    assert pip_options.get("capture_output") is True
    assert f"apt-get install -y -qq {nbtools.CJK_FONT_PACKAGE}" in font_cmd
    first_import = next(
        i
        for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and re.search(r"^\s*(import|from) companion", _source(c), re.M)
    )
    assert index < first_import, "on Colab the install cell must run before `import companion`"


def test_a_failed_install_stops_with_one_plain_sentence(monkeypatch):
    with pytest.raises(SystemExit) as stop:
        _run(nbtools.colab_install_source(), monkeypatch, on_colab=True, pip_fails=True)
    message = str(stop.value.code)
    assert message.startswith("Could not install the companion from git+https://github.com/")
    assert "check that this runtime is online" in message
    assert "repository not found" in message and "Traceback" not in message


def test_clean_points_badges_and_install_cells_at_a_new_repository(tmp_path, monkeypatch):
    path = nbtools.new_notebook("5.9-demo", "Demo", "演示", root=tmp_path)
    monkeypatch.setattr(nbtools, "REPOSITORY", "a-fork/companion")
    assert nbtools.notebook_problems(path), "the old badge and install cell must be reported"
    assert nbtools.clean_notebook(path)
    assert nbtools.notebook_problems(path) == []
    text = path.read_text(encoding="utf-8")
    assert "github/a-fork/companion/blob/main/notebooks/5.9-demo.ipynb" in text
    assert "git+https://github.com/a-fork/companion@main" in text
