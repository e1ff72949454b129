"""The package installs the way users install it, and the notebooks run against that install.

One fresh virtual environment stands in for a Colab runtime: the local CPU torch wheel,
ipywidgets 7.7 (what Colab ships), an older matplotlib and NumPy, ipykernel and papermill. In it:

1. *Simulated Colab*: a fake ``google.colab`` module is imported and each notebook's own install
   cell runs, pointed at a ``file://`` clone of this repository (the committed HEAD) instead of
   GitHub, with ``apt-get`` replaced by a recorder. No preinstalled package may change version,
   and a notebook with widgets then runs in smoke mode with ipywidgets 7.
2. *The wheel*: ``python -m build`` makes a wheel, it replaces the git install (non-editable), and
   the installed notebook harness runs a notebook from a folder outside the source tree.

Both need the network to the package index for the small dependencies (pip's cache makes reruns
fast) and a local torch wheel (``/opt/wheels`` or ``$COMPANION_TORCH_WHEEL``), so that no
multi-GB CUDA build is downloaded; without one they skip and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import unavailable

from companion import notebooks as nbtools

ROOT = Path(__file__).resolve().parent.parent
# one worker runs both tests, so the Colab-like venv (the module fixture) is built once
pytestmark = [pytest.mark.slow, pytest.mark.install, pytest.mark.xdist_group("install-venv")]

# What a Colab runtime has before the install cell runs: Colab's ipywidgets, IPython and
# ipykernel, and a matplotlib and NumPy older than the newest (papermill only runs the notebook).
COLAB_LIKE = [
    "ipywidgets==7.7.1",
    "ipython==7.34.0",
    "ipykernel==6.17.1",
    "matplotlib==3.8.4",
    "numpy==1.26.4",
    "papermill",
]
WIDGET_NOTEBOOK = "5.1.3"  # has a slider cell (ipywidgets.interactive)
PLAIN_NOTEBOOK = "5.2.3"


def _torch_wheel() -> Path | None:
    if os.environ.get("COMPANION_TORCH_WHEEL"):
        return Path(os.environ["COMPANION_TORCH_WHEEL"])
    return next(iter(sorted(Path("/opt/wheels").glob("torch-*.whl"))), None)


def _clean_env(venv: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell in ``venv``: no PYTHONPATH into this source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _run(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _freeze(python: Path, env: dict[str, str], cwd: Path) -> dict[str, str]:
    lines = _run([str(python), "-m", "pip", "list", "--format=json"], env=env, cwd=cwd)
    return {row["name"].lower(): row["version"] for row in json.loads(lines)}


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory) -> dict:
    wheel = _torch_wheel()
    if wheel is None or not wheel.is_file():
        unavailable("no local torch wheel (set COMPANION_TORCH_WHEEL=path/to/torch-*.whl to run)")
    if shutil.which("git") is None:
        unavailable("git is needed to install from a git URL")
    home = tmp_path_factory.mktemp("colab")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = _clean_env(venv)
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-compile", str(wheel), *COLAB_LIKE],
        env=env,
        cwd=home,
    )
    return {"home": home, "venv": venv, "python": python, "env": env}


def _install_cell(name: str) -> str:
    path = nbtools.notebook_paths([name], root=ROOT / "notebooks")[0]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next(
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "google.colab" in "".join(c["source"])
    )


def _copy_notebooks(names: list[str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in nbtools.notebook_paths(names, root=ROOT / "notebooks"):
        shutil.copy(path, folder / path.name)
    return folder


def test_simulated_colab_installs_from_git_without_upgrading_anything(colab_like):
    home, python = colab_like["home"], colab_like["python"]
    clone = home / "repository"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()
    # google.colab is imported by Colab's kernel before any cell runs; apt-get only records.
    fake = home / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text("")
    (fake / "bin").mkdir()
    (fake / "bin" / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {fake / "apt.log"}\n')
    (fake / "bin" / "apt-get").chmod(0o755)
    env = dict(
        colab_like["env"],
        PYTHONPATH=str(fake),
        PATH=f"{fake / 'bin'}{os.pathsep}{colab_like['env']['PATH']}",
    )

    cell = _install_cell(WIDGET_NOTEBOOK)
    github = nbtools.colab_source()
    assert github in cell
    # "localhost": older pip rejects git+file URLs without a host
    cell = cell.replace(github, f"git+file://localhost{clone}@{commit}")
    before = _freeze(python, env, home)
    _run([str(python), "-c", "import google.colab\n" + cell], env=env, cwd=home)
    after = _freeze(python, env, home)

    assert after.get(nbtools.DISTRIBUTION) == "0.1.0", (
        "the install cell did not install the package"
    )
    changed = {
        name: (version, after.get(name))
        for name, version in before.items()
        if after.get(name) != version
    }
    assert changed == {}, f"the install cell changed preinstalled packages: {changed}"
    assert nbtools.CJK_FONT_PACKAGE in (fake / "apt.log").read_text()

    # The notebook runs against the installed package, outside the source tree, widgets on v7.
    work = _copy_notebooks([WIDGET_NOTEBOOK], home / "student" / "notebooks").parent
    out = home / "executed"
    out.mkdir()
    _run(
        [
            str(python),
            "-m",
            "papermill",
            "--cwd",
            str(work / "notebooks"),
            "-p",
            "smoke",
            "True",
            "-p",
            "device",
            "cpu",
            str(next((work / "notebooks").glob("*.ipynb"))),
            str(out / "nb.ipynb"),
        ],
        env=dict(env, MPLBACKEND="Agg", OMP_NUM_THREADS="1"),
        cwd=work,
    )
    executed = (out / "nb.ipynb").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-view+json" in executed, "no widget was built"
    location = _run(
        [
            str(python),
            "-c",
            "import companion, ipywidgets; "
            "print(companion.__file__); print(ipywidgets.__version__)",
        ],
        env=env,
        cwd=work,
    )
    module_file, widgets_version = location.split()
    assert str(colab_like["venv"]) in module_file and str(ROOT) not in module_file
    assert widgets_version.startswith("7.7")


def test_wheel_installs_non_editable_and_runs_a_notebook_outside_the_tree(colab_like, tmp_path):
    home, python = colab_like["home"], colab_like["python"]
    dist = tmp_path / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd=tmp_path,
    )
    wheel = next(dist.glob("encoder_decoder_companion-*.whl"))
    env = colab_like["env"]
    # First the wheel's dependencies (already there when the Colab test ran first on this venv),
    # then the wheel itself in place of any git install of the same version.
    pip_install = [str(python), "-m", "pip", "install", "--quiet"]
    _run([*pip_install, str(wheel)], env=env, cwd=home)
    _run([*pip_install, "--force-reinstall", "--no-deps", str(wheel)], env=env, cwd=home)
    _run([str(python), "-m", "pip", "check"], env=env, cwd=home)

    student = tmp_path / "student"
    _copy_notebooks([PLAIN_NOTEBOOK], student / "notebooks")
    report = _run(
        [
            str(python),
            "-m",
            "companion.notebooks",
            "run",
            PLAIN_NOTEBOOK,
            "--smoke",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "executed"),
        ],
        env=dict(env, MPLBACKEND="Agg", OMP_NUM_THREADS="1"),
        cwd=student,
    )
    assert "FAILED" not in report and PLAIN_NOTEBOOK in report
    location = _run(
        [str(python), "-c", "import companion; print(companion.__file__)"], env=env, cwd=student
    )
    assert "site-packages" in location and str(ROOT) not in location
    with pytest.raises(AssertionError, match="found no notebooks"):  # helpful error elsewhere
        _run([str(python), "-m", "companion.notebooks", "run", "--smoke"], env=env, cwd=tmp_path)
