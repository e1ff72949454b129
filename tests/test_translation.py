"""The Tatoeba translator of notebook 5.3.7: settings, BLEU, training record, saving and loading."""

import pytest
import sacrebleu
import torch

from companion import translation
from companion.data import generate_pairs
from companion.data.chinese import to_simplified
from companion.data.text_tasks import Pair

TINY = dict(hidden=16, emb_dim=8, layers=1, heads=2, epochs=2, min_freq=1, max_len=12)


def tiny(direction="en-zh", kind="gru", **kw):
    return translation.TranslatorSettings(direction=direction, kind=kind, **{**TINY, **kw})


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs("numbers", 60, seed=1)  # English numbers → Chinese numerals


def test_to_simplified_uses_one_script_and_leaves_other_text_alone():
    assert to_simplified("請問這個東西多少錢？") == "请问这个东西多少钱？"
    assert to_simplified("我没事。Tom 1") == "我没事。Tom 1"
    with pytest.raises(TypeError, match="text must be a string, got NoneType"):
        to_simplified(None)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(direction="en-fr"), r"direction must be one of \['en-zh', 'zh-en'\], got 'en-fr'"),
        (dict(kind="lstm"), r"kind must be one of \['gru', 'transformer'\], got 'lstm'"),
        (dict(hidden=0), "hidden must be a positive integer, got 0"),
        (dict(epochs=1.5), "epochs must be a positive integer, got 1.5"),
        (dict(dropout=1.0), r"dropout must lie in \[0, 1\), got 1.0"),
        (dict(lr=float("nan")), "lr must be positive, got nan"),
        (dict(by_length="yes"), "by_length must be True or False, got 'yes'"),
    ],
)
def test_bad_settings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        translation.TranslatorSettings(**bad)
    with pytest.raises(ValueError, match="profile"):
        translation.settings_for("laptop", "en-zh", "gru")


def test_oriented_swaps_the_sides_for_chinese_to_english():
    p = [Pair("hello", "你好")]
    assert translation.oriented(p, "en-zh") == p
    assert translation.oriented(p, "zh-en") == [Pair("你好", "hello")]


def test_translator_bleu_groups_references_by_source_like_sacrebleu(pairs):
    tr = translation.Translator(None, None, None, tiny("zh-en"))
    multi = [
        Pair("一", "just one of them"),
        Pair("一", "a single one of them"),
        Pair("二", "two cats sit here"),
    ]
    assert translation.translator_bleu(
        tr, multi, hypotheses=["a single one of them", "two cats sit here"]
    ).score == pytest.approx(100)
    hyps = ["One of them", "two dogs sit here"]
    expected = sacrebleu.corpus_bleu(
        hyps,
        [["just one of them", "two cats sit here"], ["a single one of them", None]],
        tokenize="13a",
        lowercase=True,
    )
    score = translation.translator_bleu(tr, multi, hypotheses=hyps).score
    assert 0 < score < 100 and score == pytest.approx(expected.score)
    zh = translation.Translator(None, None, None, tiny("en-zh"))
    chinese = [Pair("a", "我喜欢猫。"), Pair("b", "他走了。")]
    expected = sacrebleu.corpus_bleu(
        ["我喜欢狗。", "他走了。"], [["我喜欢猫。", "他走了。"]], tokenize="zh"
    )
    score = translation.translator_bleu(zh, chinese, hypotheses=["我喜欢狗。", "他走了。"]).score
    assert 0 < score < 100 and score == pytest.approx(expected.score)
    with pytest.raises(ValueError, match="hypotheses"):
        translation.translator_bleu(zh, chinese, hypotheses=["一"])


@pytest.mark.parametrize("kind", translation.KINDS)
def test_train_save_load_gives_the_same_model_and_a_cached_copy_is_reused(pairs, tmp_path, kind):
    settings = tiny(kind=kind)
    train, valid = pairs[:48], pairs[48:]
    tr, message = translation.load_or_train(
        train, settings, cache_dir=tmp_path, valid_pairs=valid, progress=False
    )
    assert message.startswith("trained") and "no saved model" in message
    assert [round(s, 6) for s, _ in tr.curve] == sorted(round(s, 6) for s, _ in tr.curve)
    assert len(tr.curve) == 2 and all(0 <= b <= 100 for _, b in tr.curve)
    path = translation.translator_path(tmp_path, settings)
    assert torch.load(path, weights_only=True)["settings"]["kind"] == kind

    again, message = translation.load_or_train(train, settings, cache_dir=tmp_path, progress=False)
    assert message.startswith("loaded")
    assert again.src_vocab.itos == tr.src_vocab.itos and again.tgt_vocab.itos == tr.tgt_vocab.itos
    src, lengths = tr.encode_source([p.src for p in valid[:4]])
    with torch.no_grad():
        tgt = torch.ones(4, 3, dtype=torch.long)
        assert torch.allclose(
            again.model(src, lengths, tgt), tr.model(src, lengths, tgt), atol=1e-6
        )
    assert translation.translate_sentences(
        again, [p.src for p in valid]
    ) == translation.translate_sentences(tr, [p.src for p in valid])

    assert (
        "other data"
        in translation.load_or_train(train[:40], settings, cache_dir=tmp_path, progress=False)[1]
    )
    assert (
        "retraining as asked"
        in translation.load_or_train(
            train[:40], settings, cache_dir=tmp_path, retrain=True, progress=False
        )[1]
    )


def test_a_corrupt_saved_model_is_retrained_with_the_reason(pairs, tmp_path):
    settings = tiny(epochs=1)
    path = translation.translator_path(tmp_path, settings)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="delete it"):
        translation.load_translator(path)
    _, message = translation.load_or_train(pairs[:20], settings, cache_dir=tmp_path, progress=False)
    assert "could not be used" in message
    assert translation.load_translator(path).settings == settings


def test_translate_sentences_greedy_equals_beam_search_of_width_one(pairs):
    """Greedy decoding (the default) against the beam-search code itself at width 1; a beam of
    width 4 against beam_search of width 4, which on this model changes some outputs."""
    from companion.data.vocab import detokenize
    from companion.decoding import beam_search

    tr = translation.train_translator(
        pairs[:30], tiny(kind="transformer", epochs=1), progress=False
    )
    sentences = [p.src for p in pairs[30:40]]
    src, lengths = tr.encode_source(sentences)
    model = tr.model.eval()
    ids = dict(bos_id=model.bos_id, eos_id=model.eos_id, max_len=tr.settings.max_len)
    with torch.no_grad():
        one = beam_search(model.step, model.init_state(src, lengths), beam_width=1, **ids)
        four = beam_search(model.step, model.init_state(src, lengths), beam_width=4, **ids)
    as_text = lambda hyps: [  # noqa: E731
        detokenize(tr.tgt_vocab.decode(h[0].tokens), tr.tgt_lang) for h in hyps
    ]
    assert translation.translate_sentences(tr, sentences) == as_text(one)
    assert translation.translate_sentences(tr, sentences, beam_width=4) == as_text(four)
    # the two widths differ here, so the equalities above tell greedy and beam search apart
    assert any(b[0].tokens != a[0].tokens for a, b in zip(one, four, strict=True))
    with pytest.raises(ValueError, match="empty"):
        tr.encode_source(["   "])
