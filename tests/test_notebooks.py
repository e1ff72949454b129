"""Execute every notebook in smoke mode with papermill, then let nbval re-run the executed copy.

The notebooks executed are the Chinese edition's (``notebooks/zh/``): their code cells are the
English cells, AST for AST, with ``language = "zh"`` as the one difference
(``tests/test_chinese_edition.py`` proves it), so one execution covers both languages' code and
the Chinese exercise messages as well. The English notebooks run with their default parameters
in ``make run-notebooks``, which CI runs after the tests.

papermill proves the notebook runs top to bottom with injected parameters; nbval (``--nbval-lax``)
re-executes that copy and compares the outputs of cells tagged ``nbval-check-output`` — numbers
that must follow from the seed alone. The run uses ``solutions=True``, so every exercise check at
the end must pass (the stub code still runs first in each answer cell). The other mode, untouched
stubs, needs no kernel: each answer cell's stub part is executed on its own and its check must
say "not attempted yet" (an explain question's: "not written yet"). The kernels save exercise
progress in a temporary cache folder, never in the real ``~/.cache/companion``.
"""

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from companion import exercises
from companion.exercises.core import get as get_exercise
from companion.notebooks import notebook_paths, run_notebook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "test-notebooks"
NOTEBOOKS = notebook_paths(root=ROOT / "notebooks" / "zh")
# Two pytest workers share two cores: one BLAS thread per kernel avoids oversubscription.
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONPATH": str(ROOT),
}


@pytest.fixture(scope="session")
def _kernel_cache(tmp_path_factory) -> str:
    """A cache folder for the kernels: exercise progress never goes to the real ~/.cache."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch, _kernel_cache, temporary_cache):
    for key, value in KERNEL_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", _kernel_cache)


# Signs that the kernel machinery, not the notebook, failed (e.g. a kernel that never answered
# while the machine was overloaded). Such a run is retried once; a cell's own error never is.
INFRASTRUCTURE_FAILURES = (
    "CellTimeoutError",
    "DeadKernelError",
    "Kernel died",
    "Kernel didn't respond",
    "TimeoutError",
)
CELL_TIMEOUT = 300  # seconds; smoke-mode cells take a few seconds each


def _papermill(path, out=OUT, **parameters):
    def run():
        return run_notebook(
            path, out, smoke=True, device="cpu", timeout=CELL_TIMEOUT, parameters=parameters
        )

    result = run()
    if any(sign in result.error for sign in INFRASTRUCTURE_FAILURES):
        result = run()
    return result


def check_cell_outputs(executed: Path) -> dict[str, str]:
    """{exercise id: printed output} for every
    ``check("<id>", ...)`` cell of an executed notebook.
    """
    outputs = {}
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("check("):
            exercise_id = source.split('"')[1]
            outputs[exercise_id] = "".join(
                "".join(o.get("text", ""))
                if o["output_type"] == "stream"
                else f"{o['output_type']}: {o.get('ename', '')} {o.get('evalue', '')}"
                for o in cell["outputs"]
            )
    return outputs


def _registered(path: Path) -> list[str]:
    """The ids of the exercises registered for this notebook, in the package's order."""
    return [e.id for e in exercises.list_exercises(path.name.split("-")[0])]


def exercise_stubs(path: Path, call: str = "check") -> list[tuple[str, str, str]]:
    """(exercise id, answer variable, stub code) per ``check`` cell (or ``explain`` cell): the
    statements of the answer cell above it that bind the answer (``name = ...`` or ``def name``),
    before its ``if solutions:``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    stubs = []
    for above, cell in zip(cells, cells[1:], strict=False):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"{call}("):
            found = re.match(rf'{call}\("([^"]+)", ([A-Za-z_]\w*)', source)
            assert found, f"{path.name}: unexpected check cell {source!r}"
            answer_cell = "".join(above["source"])
            assert "if solutions:" in answer_cell, (
                f"{path.name}: no `if solutions:` above {source!r}"
            )
            stub = [
                node
                for node in ast.parse(answer_cell.split("if solutions:")[0]).body
                if found[2]
                in {
                    getattr(node, "name", None),
                    *(getattr(t, "id", None) for t in getattr(node, "targets", ())),
                }
            ]
            assert stub, f"{path.name}: the cell above {source!r} does not define {found[2]}"
            stubs.append((found[1], found[2], ast.unparse(ast.Module(stub, type_ignores=[]))))
    return stubs


def _nbval(executed):
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-o",
        "addopts=",
        f"--nbval-cell-timeout={CELL_TIMEOUT}",
        str(executed),
    ]

    def run():
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=executed.parent,
            env={**os.environ, **KERNEL_ENV},  # with the test's XDG_CACHE_HOME (see _kernel_env)
        )

    done = run()
    if done.returncode != 0 and any(sign in done.stdout for sign in INFRASTRUCTURE_FAILURES):
        done = run()
    return done


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_its_exercises_pass_and_checked_outputs_reproduce(path):
    result = _papermill(path, solutions=True)
    assert not result.error, result.error
    checks = check_cell_outputs(result.output)
    assert sorted(checks) == sorted(_registered(path)), "every registered exercise is checked"
    failed = {i: out for i, out in checks.items() if not out.startswith(f"✓ {i}")}
    assert not failed, f"with solutions=True these checks did not pass: {failed}"
    nbval = _nbval(result.output)
    assert nbval.returncode == 0, (
        f"nbval found a difference in {path.name}:\n{nbval.stdout[-4000:]}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_untouched_stubs_are_not_attempted(path, capsys):
    stubs = exercise_stubs(path)
    assert [exercise_id for exercise_id, _, _ in stubs] == _registered(path)
    for exercise_id, answer_name, stub in stubs:
        namespace = {"torch": torch, "math": math}
        exec(stub, namespace)  # the notebook's own stub code
        objects = {key: None for key in get_exercise(exercise_id).needs}  # a stub never reads them
        result = exercises.check(exercise_id, namespace[answer_name], **objects)
        assert not result.attempted and not result.passed, (exercise_id, result.message)
        assert result.message.startswith(f"not attempted yet — {exercise_id}"), result.message
    questions = exercise_stubs(path, call="explain")
    assert questions, f"{path.name} has no explain question"
    capsys.readouterr()
    for question_id, answer_name, stub in questions:
        namespace: dict = {}
        exec(stub, namespace)  # the notebook's own stub code
        exercises.explain(question_id, namespace[answer_name])
        assert capsys.readouterr().out.startswith(f"not written yet — {question_id}")
