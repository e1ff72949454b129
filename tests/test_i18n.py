"""companion.i18n: the language switch and the catalog lookup."""

import polib
import pytest

import companion
from companion import i18n


@pytest.fixture(autouse=True)
def _english_after(monkeypatch):
    monkeypatch.delenv("COMPANION_LANGUAGE", raising=False)
    yield
    i18n._language = None
    i18n.translations.cache_clear()


def test_english_is_the_default_and_returns_the_text_itself():
    assert i18n.get_language() == "en"
    assert i18n._("{value} is too large") == "{value} is too large"
    assert i18n.N_("a hint") == "a hint"


def test_setup_switches_the_language_and_bad_codes_are_refused(monkeypatch):
    companion.setup(seed=0, device="cpu", language="zh", quiet=True)
    assert i18n.get_language() == "zh"
    with pytest.raises(ValueError, match="language must be one of 'en'"):
        i18n.set_language("fr")
    i18n._language = None
    monkeypatch.setenv("COMPANION_LANGUAGE", "de")
    with pytest.raises(ValueError, match="COMPANION_LANGUAGE must be one of"):
        i18n.get_language()


def test_finished_entries_translate_and_fuzzy_or_empty_ones_fall_back(tmp_path, monkeypatch):
    po = polib.POFile()
    po.append(polib.POEntry(msgid="{value} is too large", msgstr="{value} 偏大"))
    po.append(polib.POEntry(msgid="stale", msgstr="过时", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="empty", msgstr=""))
    path = tmp_path / "zh_CN" / "LC_MESSAGES" / "companion.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    i18n.set_language("zh")
    assert i18n._("{value} is too large").format(value=3) == "3 偏大"
    assert i18n._("stale") == "stale" and i18n._("empty") == "empty"
    assert i18n._("not in the catalog") == "not in the catalog"


def test_words_and_widths_count_chinese_characters():
    assert i18n.count_words("the KL term pulls q towards the prior") == 8
    assert i18n.count_words("KL项把近似后验拉向先验。") == 12  # KL + 10 characters + 。
    assert i18n.display_width("通过") == 4 and i18n.display_width("passed") == 6
    assert i18n.pad("通过", 6) == "通过  " and i18n.pad("passed", 4) == "passed"
