"""Execute every notebook in smoke mode with papermill, then let nbval re-run the executed copy.

papermill proves the notebook runs top to bottom with injected parameters; nbval (``--nbval-lax``)
re-executes that copy and compares the outputs of cells tagged ``nbval-check-output`` — numbers
that must follow from the seed alone. The run uses ``solutions=True``, so every exercise check at
the end must pass (the stub code still runs first in each answer cell). The other mode, untouched
stubs, needs no kernel: each answer cell's stub part is executed on its own and its check must
say "not attempted yet".
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
NOTEBOOKS = notebook_paths()
# Two pytest workers share two cores: one BLAS thread per kernel avoids oversubscription.
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONPATH": str(ROOT),
}


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch):
    for key, value in KERNEL_ENV.items():
        monkeypatch.setenv(key, value)


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


def exercise_stubs(path: Path) -> list[tuple[str, str, str]]:
    """(exercise id, answer variable, stub code) per check cell: the statements of the answer cell
    above it that bind the answer (``name = ...`` or ``def name``), before its ``if solutions:``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    stubs = []
    for above, cell in zip(cells, cells[1:], strict=False):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("check("):
            found = re.match(r'check\("([^"]+)", ([A-Za-z_]\w*)', source)
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
            env={**os.environ, **KERNEL_ENV},
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
    assert len(checks) >= 4, f"{path.name} has {len(checks)} exercise check cells, expected >= 4"
    failed = {i: out for i, out in checks.items() if not out.startswith(f"✓ {i}")}
    assert not failed, f"with solutions=True these checks did not pass: {failed}"
    nbval = _nbval(result.output)
    assert nbval.returncode == 0, (
        f"nbval found a difference in {path.name}:\n{nbval.stdout[-4000:]}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_untouched_stubs_are_not_attempted(path, capsys):
    stubs = exercise_stubs(path)
    assert len(stubs) >= 4, f"{path.name} has {len(stubs)} exercise check cells, expected >= 4"
    for exercise_id, answer_name, stub in stubs:
        namespace = {"torch": torch, "math": math}
        exec(stub, namespace)  # the notebook's own stub code
        objects = {key: None for key in get_exercise(exercise_id).needs}  # a stub never reads them
        result = exercises.check(exercise_id, namespace[answer_name], **objects)
        assert not result.attempted and not result.passed, (exercise_id, result.message)
        assert result.message.startswith(f"not attempted yet — {exercise_id}"), result.message
