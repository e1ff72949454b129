"""Encoder–Decoder Companion: runnable code for Chapter 5 (编码器-解码器模型).

Sub-modules are imported lazily so that ``import companion`` stays cheap:
``companion.data``, ``companion.models``, ``companion.train`` and friends load
the first time you touch them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from companion.runtime import resolve_device, seed_everything, setup

__version__ = "0.1.0"
__all__ = ["setup", "seed_everything", "resolve_device", "__version__"]

# Every module and sub-package of the folder, found on disk, so a new one cannot be forgotten.
_SUBMODULES = {info.name for info in pkgutil.iter_modules(__path__)}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"companion.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'companion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
