"""Execute every notebook in smoke mode with papermill, then let nbval re-run the executed copy.

papermill proves the notebook runs top to bottom with injected parameters; nbval (``--nbval-lax``)
re-executes that copy and compares the outputs of cells tagged ``nbval-check-output`` — numbers
that must follow from the seed alone.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.notebooks import notebook_paths, run_notebook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "test-notebooks"
NOTEBOOKS = notebook_paths()
# Two pytest workers share two cores: one BLAS thread per kernel avoids oversubscription.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
              "PYTHONPATH": str(ROOT)}


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch):
    for key, value in KERNEL_ENV.items():
        monkeypatch.setenv(key, value)


# Signs that the kernel machinery, not the notebook, failed (e.g. a kernel that never answered
# while the machine was overloaded). Such a run is retried once; a cell's own error never is.
INFRASTRUCTURE_FAILURES = ("CellTimeoutError", "DeadKernelError", "Kernel died",
                           "Kernel didn't respond", "TimeoutError")
CELL_TIMEOUT = 300  # seconds; smoke-mode cells take a few seconds each


def _papermill(path):
    result = run_notebook(path, OUT, smoke=True, device="cpu", timeout=CELL_TIMEOUT)
    if any(sign in result.error for sign in INFRASTRUCTURE_FAILURES):
        result = run_notebook(path, OUT, smoke=True, device="cpu", timeout=CELL_TIMEOUT)
    return result


def _nbval(executed):
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
               "-p", "no:xdist", "-o", "addopts=", f"--nbval-cell-timeout={CELL_TIMEOUT}",
               str(executed)]
    run = lambda: subprocess.run(command, capture_output=True, text=True,  # noqa: E731
                                 cwd=executed.parent, env={**os.environ, **KERNEL_ENV})
    done = run()
    if done.returncode != 0 and any(sign in done.stdout for sign in INFRASTRUCTURE_FAILURES):
        done = run()
    return done


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_checked_outputs_reproduce(path):
    result = _papermill(path)
    assert not result.error, result.error
    nbval = _nbval(result.output)
    assert nbval.returncode == 0, f"nbval found a difference in {path.name}:\n{nbval.stdout[-4000:]}"
