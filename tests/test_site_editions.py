"""The site in two languages (tools/editions.py, tools/site.py): where each edition's files go,
the links between twins, the Chinese words and lang attribute, and the one line without a CJK
font. The browser half is in tests/test_browser.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion import notebooks as nbtools
from companion.i18n import get_language, using_language
from tools import front_page
from tools.editions import CHINESE, ENGLISH, href, set_html_lang, twin_href


def test_twins_link_to_each_other_and_to_the_shared_assets():
    assert twin_href("page", "5.1-x", ENGLISH, CHINESE) == "../zh/notebooks/5.1-x.html"
    assert twin_href("page", "5.1-x", CHINESE, ENGLISH) == "../../notebooks/5.1-x.html"
    assert twin_href("slides", "5.1-x", CHINESE, ENGLISH) == "../../slides/5.1-x.slides.html"
    assert twin_href("index", "", ENGLISH, CHINESE) == "zh/index.html"
    assert twin_href("index", "", CHINESE, ENGLISH) == "../index.html"
    assert (ENGLISH.asset_prefix, CHINESE.asset_prefix) == ("../assets", "../../assets")
    assert href("zh/index.html", "assets") == "../assets"
    assert CHINESE.repository_name("5.1-x.ipynb") == "zh/5.1-x.ipynb"
    assert set_html_lang('<html lang="en">\n<p lang="en">', "zh-CN") == (
        '<html lang="zh-CN">\n<p lang="en">'
    )


def test_language_is_switched_for_a_block_and_restored():
    before = get_language()
    with using_language("zh"):
        assert get_language() == "zh"
    assert get_language() == before


def test_chinese_front_page_and_nav_bar(tmp_path):
    english = nbtools.new_notebook("5.1-basics", "Basics", "基础", root=tmp_path)
    chinese = tmp_path / "zh" / english.name
    chinese.parent.mkdir()
    nb = json.loads(english.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = "# 5.1 编码器-解码器模型基础\n"
    chinese.write_text(json.dumps(nb), encoding="utf-8")
    item = type("Built", (), {"path": chinese, "error": "cell 3 raised ValueError"})
    with using_language("zh"):
        html = front_page.write(tmp_path / "zh.html", [item], mode="smoke", twin=ENGLISH)
        nav = front_page.nav_html(english.name, ENGLISH)
    page = html.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "编码器-解码器模型基础" in page
    assert 'href="../index.html" hreflang="en"' in page  # the English front page
    assert 'href="../../notebooks/5.1-basics.html"' in page  # each notebook's English twin
    assert nbtools.colab_url("zh/5.1-basics.ipynb") in page
    assert "执行失败：cell 3 raised ValueError" in page
    assert "全部笔记本" in nav and nbtools.colab_url("zh/5.1-basics.ipynb") in nav
    assert 'href="../../notebooks/5.1-basics.html" hreflang="en"' in nav


@pytest.fixture
def two_editions(tmp_path, monkeypatch):
    """A notebooks folder with one notebook and its Chinese twin, and no offline assets needed."""
    import tools.site

    english = nbtools.new_notebook("5.1-basics", "Basics", "基础", root=tmp_path / "nb")
    (tmp_path / "nb" / "zh").mkdir()
    (tmp_path / "nb" / "zh" / english.name).write_text(english.read_text(encoding="utf-8"))
    monkeypatch.setattr(tools.site, "install_assets", lambda out: out)
    return tmp_path


def test_the_build_writes_both_editions_and_one_line_without_a_cjk_font(
    two_editions, monkeypatch, capsys
):
    import companion.plot.fonts
    from tools.site import NO_CJK_FONT, build

    monkeypatch.setattr(companion.plot.fonts, "find_cjk_font", lambda: None)
    site = two_editions / "site"
    built = build("site", run=False, out=site, notebook_root=two_editions / "nb")
    assert [b.language for b in built] == ["en", "zh"]
    for path in ("notebooks/5.1-basics.html", "slides/5.1-basics.slides.html", "index.html"):
        assert (site / path).exists() and (site / "zh" / path).exists()
    deck = (site / "zh" / "slides" / "5.1-basics.slides.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in deck and 'href="../../slides/5.1-basics.slides.html"' in deck
    assert capsys.readouterr().out.count(NO_CJK_FONT) == 1

    build("site", run=False, out=two_editions / "en", notebook_root=two_editions / "nb",
          languages=["en"])  # fmt: skip
    assert not (two_editions / "en" / "zh").exists()
    assert "companion-twin" not in (two_editions / "en" / "index.html").read_text()


def test_asking_for_a_missing_edition_names_the_fix(two_editions):
    from tools.site import build

    (two_editions / "nb" / "zh" / "5.1-basics.ipynb").unlink()
    built = build("slides", run=False, out=two_editions / "site", notebook_root=two_editions / "nb")
    assert [b.language for b in built] == ["en"]  # by default, English alone
    with pytest.raises(ValueError, match="companion.notebooks translate"):
        build("slides", run=False, out=two_editions / "s", notebook_root=two_editions / "nb",
              languages=["zh"])  # fmt: skip


def test_site_words_come_from_the_catalog():
    """Every word the site shows has a finished Chinese translation (they are few and stable)."""
    import polib

    from companion.catalogs import state

    catalog = polib.pofile(
        str(Path(__file__).resolve().parents[1] / "companion/locale/zh_CN/LC_MESSAGES/companion.po")
    )
    site = [e for e in catalog if any(p.startswith("tools/") for p, _ in e.occurrences)]
    assert len(site) >= 20
    assert [e.msgid for e in site if state(e) != "translated"] == []
