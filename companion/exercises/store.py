"""Progress across kernel restarts: a small JSON file in the user's cache folder.

The file is ``exercises/progress.json`` under the cache folder the translators use
(``$XDG_CACHE_HOME/companion`` or ``~/.cache/companion``)::

    {"format": 1,
     "exercises": {"5.2.6-kl": {"best": "passed", "attempts": 3, "last": "failed"}},
     "explain": {"5.2.6-why-log-variance": {"written": true}}}

``best`` keeps the best result of all attempts, so a later failed attempt never erases a pass.
Every write re-reads the file and replaces it atomically (a temporary file, then ``os.replace``):
the file is never half-written, and two notebooks open at once keep each other's results (only
two saves within the same few milliseconds can lose one attempt). Where the folder cannot be
written (a read-only home), progress is kept for this kernel only, and a one-line note says so.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from companion.i18n import _

FORMAT = 1
_RANK = {"not attempted": 0, "failed": 1, "passed": 2}
_memory: dict[str, Any] | None = None  # used when the file cannot be written
_warned = False


def progress_file() -> Path:
    from companion.translation import default_cache_dir

    return default_cache_dir() / "exercises" / "progress.json"


def _empty() -> dict[str, Any]:
    return {"format": FORMAT, "exercises": {}, "explain": {}}


def load_progress() -> dict[str, Any]:
    """The saved progress (an empty record if there is none or the file is unreadable)."""
    if _memory is not None:
        return _memory
    path = progress_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _empty()
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return _empty()
    record = _empty()
    for key in ("exercises", "explain"):
        if isinstance(data.get(key), dict):
            record[key] = data[key]
    return record


def best(*statuses: str) -> str:
    """The best of several results: passed > failed > not attempted."""
    return max(statuses, key=lambda s: _RANK.get(s, 0))


def _save(record: dict[str, Any]) -> None:
    global _memory, _warned
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".part", delete=False
        ) as part:
            json.dump(record, part, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(part.name, path)
    except OSError as error:
        _memory = record
        if not _warned:
            _warned = True
            print(
                _(
                    "(Progress is kept for this kernel only: {path} cannot be written ({error}).)"
                ).format(path=path, error=error)
            )


def record(exercise_id: str, status: str) -> None:
    """Save one attempt's result; the best result so far is kept."""
    data = load_progress()
    entry = data["exercises"].setdefault(exercise_id, {"best": "not attempted", "attempts": 0})
    entry["best"] = best(entry.get("best", "not attempted"), status)
    entry["attempts"] = int(entry.get("attempts", 0)) + 1
    entry["last"] = status
    _save(data)


def record_written(question_id: str) -> None:
    """Save that an explain question was answered."""
    data = load_progress()
    data["explain"][question_id] = {"written": True}
    _save(data)
