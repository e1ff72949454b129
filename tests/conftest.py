import os
from pathlib import Path
from typing import NoReturn

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


def under_ci() -> bool:
    """True when the ``CI`` environment variable is set (``.ci/run`` sets ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose tool, data or network is missing here, saying what is missing.

    Under CI the same test fails instead: ``.ci/run`` installs the tools (Chromium, npm assets) and
    points at the data, so a skip there would hide a broken set-up. Every test that would skip for
    a missing tool calls this (``from conftest import unavailable``).
    """
    if under_ci():
        pytest.fail(f"{reason} — CI is set, so this must not be missing", pytrace=False)
    pytest.skip(reason)


# The slowest kinds of test first: the two workers of `make test` start on them, and the many
# quick unit tests fill in at the end instead of one worker idling while the other finishes a
# notebook. Within a kind, the usual order.
SLOW_FIRST = ("install", "browser", "notebook")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (k for k, mark in enumerate(SLOW_FIRST) if item.get_closest_marker(mark)),
            len(SLOW_FIRST),
        )

    items.sort(key=rank)
    if getattr(config.option, "loadgroup", False):
        _keep_groups_together(items)


def _keep_groups_together(items: list[pytest.Item]) -> None:
    """Keep each ``xdist_group`` on one worker under ``--dist loadgroup``.

    pytest-xdist marks a grouped test by appending ``@group`` to its node id (setting
    ``item._nodeid``), which pytest 9 no longer reads: node ids live in ``item._id``. Without the
    suffix the group's tests spread over both workers and each builds the group's expensive
    fixture (the install venv, the test site) again. Done here as xdist does it, on the worker.
    """
    for item in items:
        marks = item.iter_markers("xdist_group")
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
        )
        if groups and "@" not in item.nodeid.rpartition("]")[2]:  # pytest 8 kept xdist's suffix
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data copies beside the project (COMPANION_DATA or ../shared/data)."""
    root = Path(os.environ.get("COMPANION_DATA", SHARED_DATA))
    if not root.is_dir():
        unavailable(f"no shared data folder at {root} (set COMPANION_DATA to a copy)")
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
