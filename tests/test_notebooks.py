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


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_checked_outputs_reproduce(path):
    result = run_notebook(path, OUT, smoke=True, device="cpu", timeout=600)
    assert not result.error, result.error
    nbval = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-o", "addopts=", "--nbval-cell-timeout=600", str(result.output)],
        capture_output=True, text=True, cwd=path.parent, env={**os.environ, **KERNEL_ENV})
    assert nbval.returncode == 0, f"nbval found a difference in {path.name}:\n{nbval.stdout[-4000:]}"
