"""The Tatoeba loader: both line formats, bad lines, filters, splits, folders and errors."""

import pytest
from conftest import unavailable

from companion.data import Pair
from companion.data.tatoeba import (
    FIXTURE,
    TatoebaNotFoundError,
    filter_pairs,
    load_tatoeba,
    parse_tatoeba,
    read_tatoeba,
    references_by_source,
    sentence_groups,
    split_by_component,
    tatoeba_path,
)


def test_fixture_reads_both_formats_and_counts_bad_lines():
    corpus = read_tatoeba(FIXTURE)
    assert corpus.n_lines == 17 and corpus.n_bad == 5  # the blank line is not counted
    assert Pair("Hi.", "你好。") in corpus.pairs  # two columns
    assert Pair("Run!", "快跑！") in corpus.pairs  # three columns
    assert Pair("I see.", "我懂了。") in corpus.pairs
    reasons = " | ".join(corpus.bad_examples)
    assert "line 8: 1 tab-separated fields" in reasons
    assert "line 9: an empty English or Chinese side" in reasons
    assert "line 11: no Latin letter" in reasons
    assert "line 14: 4 tab-separated fields" in reasons
    assert "5 bad lines skipped" in corpus.summary()


def test_bad_bytes_and_bom_are_handled():
    lines = ["\ufeffHi.\t你好。\n".encode(), b"Oops\t\xff\xfe\n", "Yes.\t是的。\r\n".encode()]
    corpus = parse_tatoeba(lines)
    assert corpus.pairs == [Pair("Hi.", "你好。"), Pair("Yes.", "是的。")]
    assert corpus.n_bad == 1 and "not valid UTF-8" in corpus.bad_examples[0]


def test_filter_drops_duplicates_and_long_pairs():
    pairs = read_tatoeba(FIXTURE).pairs
    kept, n_dup, n_long = filter_pairs(pairs, max_src_len=8, max_tgt_len=10)
    assert n_dup == 1 and n_long == 1 and len(kept) == len(pairs) - 2
    assert all(not p.src.startswith("We will meet") for p in kept)
    with pytest.raises(ValueError, match="max_src_len must be an integer ≥ 1, got 0"):
        filter_pairs(pairs, max_src_len=0, max_tgt_len=10)


def test_sentence_groups_are_the_connected_components():
    pairs = [
        Pair("A", "一"),
        Pair("B", "二"),
        Pair("A", "三"),  # joins A's group through "A"
        Pair("C", "三"),  # joins it through "三"
        Pair("D", "四"),
        Pair("E", "二"),  # joins B's group through "二"
        Pair("C", "五"),
    ]
    assert sentence_groups(pairs) == [[0, 2, 3, 6], [1, 5], [4]]
    assert sentence_groups([]) == []


def _brute_force_groups(pairs):
    """Components by repeated merging of overlapping sentence sets: slow, obviously right."""
    groups = [({p.src}, {p.tgt}, {i}) for i, p in enumerate(pairs)]
    merged = True
    while merged:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if groups[a][0] & groups[b][0] or groups[a][1] & groups[b][1]:
                    groups[a] = tuple(x | y for x, y in zip(groups[a], groups[b], strict=True))
                    del groups[b]
                    merged = True
                    break
            if merged:
                break
    return sorted(sorted(g[2]) for g in groups)


def test_sentence_groups_agree_with_brute_force():
    import random

    rng = random.Random(0)
    for _ in range(20):
        pairs = [Pair(f"e{rng.randrange(12)}", f"z{rng.randrange(12)}") for _ in range(15)]
        assert sorted(sentence_groups(pairs)) == _brute_force_groups(pairs)


def _assert_disjoint(parts):
    for side in ("src", "tgt"):
        sets = [{getattr(p, side) for p in part} for part in parts]
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                assert not sets[i] & sets[j], f"{side} sentences shared by parts {i} and {j}"


def test_split_shares_no_sentence_on_either_side_and_is_seeded():
    # some English sentences have two translations, some Chinese sentences translate two
    # English ones, so groups chain across both sides (68 pairs, 40 groups of 1 to 4 pairs)
    pairs = [Pair(f"sentence {i}.", f"句子{i}。") for i in range(50)]
    pairs += [Pair(f"sentence {i}.", f"句子{i + 1}。") for i in range(0, 50, 5)]
    pairs += [Pair(f"another {i}.", f"句子{i}。") for i in range(0, 50, 7)]
    assert len(sentence_groups(pairs)) == 40
    parts = split_by_component(pairs, (0.6, 0.2, 0.2), seed=3)
    assert sorted(map(repr, sum(parts, []))) == sorted(map(repr, pairs))
    _assert_disjoint(parts)
    assert parts == split_by_component(pairs, (0.6, 0.2, 0.2), seed=3)
    assert parts != split_by_component(pairs, (0.6, 0.2, 0.2), seed=4)
    srcs, refs = references_by_source(pairs)
    assert srcs[:2] == ["sentence 0.", "sentence 1."] and refs[0] == ["句子0。", "句子1。"]


def test_split_fills_each_part_to_its_fraction():
    pairs = [Pair(f"e{i}", f"z{i}") for i in range(1000)]  # 1000 groups of one pair
    assert [len(p) for p in split_by_component(pairs, (0.8, 0.1, 0.1))] == [800, 100, 100]
    with pytest.raises(ValueError, match="sum to 1"):
        split_by_component(pairs, (0.8, 0.1))


def test_load_from_a_path_and_from_a_root(tmp_path):
    splits = load_tatoeba(path=FIXTURE, max_src_len=8, max_tgt_len=10, fractions=(0.5, 0.25, 0.25))
    assert len(splits.train) + len(splits.valid) + len(splits.test) == 10
    assert "5 bad lines" in splits.summary()
    (tmp_path / "tatoeba").mkdir()
    (tmp_path / "tatoeba" / "cmn.txt").write_bytes(FIXTURE.read_bytes())
    again = load_tatoeba(
        tmp_path, download=False, max_src_len=8, max_tgt_len=10, fractions=(0.5, 0.25, 0.25)
    )
    assert again.train == splits.train and again.path == tmp_path / "tatoeba" / "cmn.txt"


def test_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path / "env"))
    assert tatoeba_path(tmp_path / "arg") == tmp_path / "arg" / "tatoeba" / "cmn.txt"
    assert tatoeba_path() == tmp_path / "env" / "tatoeba" / "cmn.txt"
    monkeypatch.delenv("COMPANION_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert tatoeba_path() == tmp_path / "cache" / "companion" / "tatoeba" / "cmn.txt"


def test_missing_or_empty_file_gives_a_clear_error(tmp_path):
    with pytest.raises(TatoebaNotFoundError, match="COMPANION_DATA"):
        load_tatoeba(tmp_path, download=False)
    with pytest.raises(TatoebaNotFoundError, match="manythings"):
        read_tatoeba(tmp_path / "nothing.txt")
    junk = tmp_path / "junk.txt"
    junk.write_text("just some text\nwithout tabs\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no English<TAB>Chinese lines"):
        read_tatoeba(junk)
    with pytest.raises(ValueError, match="raise the limits"):
        load_tatoeba(path=FIXTURE, max_src_len=1, max_tgt_len=1)


def test_the_real_corpus(shared_data):
    path = tatoeba_path(shared_data)
    if not path.is_file():
        unavailable(f"no Tatoeba copy at {path}")
    splits = load_tatoeba(shared_data, download=False, max_src_len=8, max_tgt_len=12)
    assert splits.corpus.n_lines > 10_000 and splits.corpus.n_bad < 0.01 * splits.corpus.n_lines
    n = len(splits.train) + len(splits.valid) + len(splits.test)
    assert 0.75 < len(splits.train) / n < 0.85
    _assert_disjoint([splits.train, splits.valid, splits.test])
    simplified = load_tatoeba(
        shared_data, download=False, max_src_len=15, max_tgt_len=20, simplified=True
    )
    _assert_disjoint([simplified.train, simplified.valid, simplified.test])


class _FakeResponse:
    def __init__(self, payload):
        self.payload = payload

    def read(self):
        return self.payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_extracts_cmn_txt_into_the_cache(monkeypatch, tmp_path):
    import io
    import urllib.request
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cmn.txt", FIXTURE.read_bytes())
        archive.writestr("_about.txt", "licence")
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda request, timeout: _FakeResponse(buffer.getvalue())
    )
    splits = load_tatoeba(tmp_path, max_src_len=8, max_tgt_len=10, fractions=(0.5, 0.25, 0.25))
    assert (tmp_path / "tatoeba" / "cmn.txt").read_bytes() == FIXTURE.read_bytes()
    assert splits.path == tmp_path / "tatoeba" / "cmn.txt"


def test_failed_download_is_a_clear_error(monkeypatch, tmp_path):
    import urllib.request

    def offline(request, timeout):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(TatoebaNotFoundError, match="could not download.*COMPANION_DATA"):
        load_tatoeba(tmp_path)
    assert not (tmp_path / "tatoeba" / "cmn.txt").exists()
