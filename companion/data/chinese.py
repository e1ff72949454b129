"""One Chinese script: Traditional → Simplified characters with OpenCC (开放中文转换).

The Tatoeba corpus mixes both scripts, sometimes within one sentence (請/请, 這/这, 們/们). A
character-level model would learn each pair as two unrelated tokens and split their examples.
:func:`to_simplified` maps the whole corpus to Simplified characters with OpenCC's ``t2s``
conversion (phrase-aware, so 乾燥 → 干燥 but 乾隆 stays), through ``opencc-py``: OpenCC's own
pure-Python implementation, installed from the package index as a small wheel on every platform.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _converter():
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ImportError(
            "Converting Traditional to Simplified Chinese needs OpenCC: pip install opencc-py"
        ) from exc
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters replaced by Simplified ones (other text unchanged)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return _converter().convert(text) if text else text
