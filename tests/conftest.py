import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# `make test` runs two pytest workers on two cores. The tests' models are tiny, and with torch's
# default of one thread per core each worker's small operations wait for a busy core: one thread
# per worker runs the model-training tests several times faster.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data copies beside the project (COMPANION_DATA or ../shared/data), or skip."""
    root = Path(os.environ.get("COMPANION_DATA", SHARED_DATA))
    if not root.is_dir():
        pytest.skip(f"no shared data folder at {root} (set COMPANION_DATA to a copy)")
    return root


@pytest.fixture
def temporary_cache(monkeypatch, tmp_path) -> Path:
    """A private cache folder (``$XDG_CACHE_HOME``) for the test: exercise progress and anything
    else saved "in the user's cache" goes there, never into the real ``~/.cache/companion``."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    from companion.exercises import core, store

    monkeypatch.setattr(store, "_memory", None)
    monkeypatch.setattr(core, "_RESULTS", {})  # and a fresh "kernel": no results of other tests
    monkeypatch.setattr(core, "_WRITTEN", set())
    return cache
