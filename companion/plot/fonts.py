"""Chinese characters in matplotlib figures: find a CJK font, or say once how to get one."""

from __future__ import annotations

import warnings
from pathlib import Path

# Family names of common fonts with Chinese glyphs (Linux, macOS, Windows, Colab after apt-get).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "Arial Unicode MS",
)
_FILE_HINTS = (
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "simhei",
    "msyh",
    "pingfang",
    "stheiti",
    "hiragino sans gb",
    "arial unicode",
)
INSTALL_HINT = (
    "install one, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu/Colab) or "
    "`conda install -c conda-forge font-ttf-noto-cjk`, then restart the kernel"
)
_state: dict[str, str | None] = {}


def find_cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None; changes no setting.

    Fonts installed after matplotlib built its font cache are found by scanning the system
    folders (and added to matplotlib's font list).
    """
    from matplotlib import font_manager

    def installed() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FAMILIES if n in names), None)

    family = installed()
    if family is None:
        for path in font_manager.findSystemFonts():
            if any(hint in Path(path).name.lower() for hint in _FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        family = installed()
    return family


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese characters; return the font family used, or None.

    ``companion.setup()`` calls it, so every figure a notebook draws after its set-up cell can
    show Chinese. Keeps the default Latin font and adds a CJK font (:func:`find_cjk_font`) as
    fallback for the glyphs it lacks. Without any CJK font, prints one line naming the fix
    (once) and silences the missing-glyph warnings; Chinese labels then show as boxes.
    """
    if "family" in _state:
        return _state["family"]
    from matplotlib import rcParams

    family = find_cjk_font()
    if family is not None:
        families = [f for f in rcParams["font.family"] if f != family]
        rcParams["font.family"] = families + [family]  # glyphs the default font lacks come from it
    else:
        print(
            f"No Chinese font found for plots: Chinese labels will show as boxes; {INSTALL_HINT}."
        )
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
    _state["family"] = family
    return family
