"""The data folder shared by every downloaded data set (MNIST, Tatoeba).

The folder is, first match wins: the ``root`` argument, the ``COMPANION_DATA`` environment
variable, or the user cache ``~/.cache/companion`` (``$XDG_CACHE_HOME/companion``). Each data set
keeps its own sub-folder (``mnist/``, ``tatoeba/``).
"""

from __future__ import annotations

import os
from pathlib import Path


class DataUnavailableError(RuntimeError):
    """The data set is neither in the cache folder nor downloadable (e.g. offline). Notebooks catch
    this and fall back to data that ships with a package."""


def data_root(root: str | Path | None = None) -> Path:
    """The data folder: ``root``, else ``$COMPANION_DATA``,
    else the user cache (``~/.cache/companion``).
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("COMPANION_DATA"):
        return Path(os.environ["COMPANION_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "companion"


def write_file(target: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``target`` through a ``.part`` file, so an interrupted download never
    leaves a truncated file under the real name; creates the folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(payload)
    partial.replace(target)
    return target
