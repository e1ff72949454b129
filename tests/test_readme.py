"""README.md: a first screen that says what this is, shows one picture and the two commands, and
where to start; links that resolve; a picture that tools/readme_figure.py draws. README.zh-CN.md,
written from README.md (tests/test_chinese_edition.py checks that), has the same first screen in
Chinese, pointing at the Chinese notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CHINESE_README = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
PICTURE = ROOT / "docs" / "figures" / "fig-5-7-seq2seq.png"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def first_screen(text: str = README) -> str:
    """Everything above the first ``##`` heading."""
    return text.split("\n## ", 1)[0]


def test_the_first_screen_has_what_it_is_a_picture_the_two_commands_and_where_to_start():
    screen = first_screen()
    assert len([line for line in screen.splitlines() if line.strip()]) <= 32
    assert "Chapter 5" in screen and "编码器-解码器模型" in screen
    assert screen.count("![") == 1 and "(docs/figures/fig-5-7-seq2seq.png)" in screen
    assert re.search(r"^make lab\b", screen, re.M) and re.search(r"^make test\b", screen, re.M)
    assert "(notebooks/5.1-encoder-decoder-basics.ipynb)" in screen
    assert "docs/install.md" in screen  # the other install routes are one link away
    assert "(README.zh-CN.md)" in screen.split("\n\n", 2)[1]  # the Chinese README, at the top


def test_the_chinese_first_screen_has_the_same_picture_commands_and_start_in_chinese():
    screen, english = first_screen(CHINESE_README), first_screen()
    assert len([line for line in screen.splitlines() if line.strip()]) <= 32
    assert "第5章" in screen and "编码器-解码器模型" in screen
    assert screen.count("![") == 1 and "(docs/figures/fig-5-7-seq2seq.png)" in screen
    commands = re.search(r"^```bash\n.*?^```\n", english, re.M | re.S)
    assert commands and commands.group(0) in screen  # the same two set-up commands
    assert "(notebooks/zh/5.1-encoder-decoder-basics.ipynb)" in screen
    assert "(docs/install.md)" in screen and "(README.md)" in screen


def test_no_stale_or_unreproducible_timing_is_left():
    for stale in ("under 4 minutes", "539 tests", "3 min 43 s", "about 1.5 minutes"):
        assert stale not in README and stale not in CHINESE_README
    assert "to be measured after the final merge" in README or re.search(
        r"\d+ tests", first_screen()
    )


def _documents() -> list[Path]:
    readmes = [ROOT / "README.md", ROOT / "README.zh-CN.md"]
    return [*readmes, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    text = path.read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert missing == [], f"{path.name} links to missing files: {missing}"


def test_the_picture_is_small_and_is_what_the_script_draws(tmp_path, capsys):
    import matplotlib.pyplot as plt
    from PIL import Image

    from tools import readme_figure

    assert PICTURE.stat().st_size < 100_000
    out = tmp_path / "figure.png"
    assert readme_figure.main(["--out", str(out)]) == 0
    plt.close("all")
    assert "'你好，世界'" in capsys.readouterr().out  # the model writes the book's Fig. 5-7 output
    assert Image.open(out).size == Image.open(PICTURE).size
