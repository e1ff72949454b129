"""The Tatoeba translator of notebook 5.3.7: settings, BLEU, training record, saving and loading."""

import pytest
import sacrebleu
import torch

from companion import translation
from companion.data import generate_pairs
from companion.data.chinese import to_simplified
from companion.data.text_tasks import Pair

TINY = dict(hidden=16, emb_dim=8, layers=1, heads=2, epochs=2, en_pieces=300, max_len=12)


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
        (dict(lr=float("nan")), "lr must be a positive number, got nan"),
        (dict(by_length="yes"), "by_length must be True or False, got 'yes'"),
        (dict(en_pieces=100), "en_pieces must be an integer ≥ 261, got 100"),
        (dict(zh_pieces=50), r"zh_pieces must be 0 \(characters\) or an integer ≥ 261, got 50"),
        (dict(label_smoothing=1.0), r"label_smoothing must lie in \[0, 1\), got 1.0"),
        (dict(schedule="cosine"), "schedule must be one of"),
        (dict(warmup=-0.1), r"warmup must lie in \[0, 1\), got -0.1"),
        # kind="gru" by default: its output layer is wider than its embeddings
        (dict(tie_embeddings=True), "tie_embeddings needs kind='transformer'"),
        (dict(tie_embeddings=1), "tie_embeddings must be True or False, got 1"),
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
        Pair("二", "Two cats sit here."),
    ]
    assert translation.translator_bleu(
        tr, multi, hypotheses=["a single one of them", "Two cats sit here."]
    ).score == pytest.approx(100)
    hyps = ["One of them", "two dogs sit here."]  # cased: "two" does not match "Two"
    expected = sacrebleu.corpus_bleu(
        hyps,
        [["just one of them", "Two cats sit here."], ["a single one of them", None]],
        tokenize="13a",
    )
    result = translation.translator_bleu(tr, multi, hypotheses=hyps)
    assert 0 < result.score < 100 and result.score == pytest.approx(expected.score)
    lowercased = sacrebleu.corpus_bleu(
        hyps,
        [["just one of them", "Two cats sit here."], ["a single one of them", None]],
        lowercase=True,
    )
    assert result.score < lowercased.score
    assert "case:mixed" in result.signature and "tok:13a" in result.signature
    assert "nrefs:var" in result.signature and f"{result.score:.1f}" in str(result)
    zh = translation.Translator(None, None, None, tiny("en-zh"))
    chinese = [Pair("a", "我喜欢猫。"), Pair("b", "他走了。")]
    expected = sacrebleu.corpus_bleu(
        ["我喜欢狗。", "他走了。"], [["我喜欢猫。", "他走了。"]], tokenize="zh"
    )
    result = translation.translator_bleu(zh, chinese, hypotheses=["我喜欢狗。", "他走了。"])
    assert 0 < result.score < 100 and result.score == pytest.approx(expected.score)
    assert "tok:zh" in result.signature
    with pytest.raises(ValueError, match="hypotheses"):
        translation.translator_bleu(zh, chinese, hypotheses=["一"])


def test_the_cpu_profile_is_the_plain_recipe_with_every_kept_change():
    kept = {}
    for step in translation.RECIPE:
        if step.kept:
            kept.update(step.change)
    for direction in translation.DIRECTIONS:
        settings = translation.settings_for("cpu", direction, "transformer")
        assert {name: getattr(settings, name) for name in kept} == kept
    # each row is measured on the kept rows above it, plus its own change
    assert translation.recipe_settings(0) == translation.RECIPE[0].change
    last = translation.recipe_settings(len(translation.RECIPE) - 1)
    for step in translation.RECIPE:
        for name, value in step.change.items():
            assert name in last  # the plain row names every setting a later row changes
            if not step.kept:
                assert last[name] != value  # a rejected change is not carried down
    with pytest.raises(ValueError, match="row"):
        translation.recipe_settings(len(translation.RECIPE))
    # every row was measured for the table's three epochs; the table prints every row
    table = translation.recipe_table().splitlines()
    assert len(table) == 1 + len(translation.RECIPE)
    for step, line in zip(translation.RECIPE, table[1:], strict=True):
        assert len(step.valid_bleu) == 3 and step.cpu_seconds > 0
        assert step.name in line and f"{step.valid_bleu[-1]:4.1f}" in line
        assert ("(not kept)" in line) == (not step.kept)


def test_warmup_decay_rises_linearly_then_falls_to_zero():
    settings = tiny(schedule="warmup-decay", warmup=0.1)
    factors = [translation.lr_factor(step, 100, settings) for step in range(100)]
    assert factors[:10] == pytest.approx([(k + 1) / 10 for k in range(10)])  # warm-up
    assert factors[9] == 1.0 and factors[10:] == pytest.approx(
        [(100 - k) / 90 for k in range(10, 100)]
    )
    assert factors[-1] == pytest.approx(1 / 90)  # the last step still learns; then 0
    assert translation.lr_factor(100, 100, settings) == 0.0
    assert {translation.lr_factor(k, 100, tiny()) for k in range(100)} == {1.0}


@pytest.mark.parametrize("kind", translation.KINDS)
def test_train_save_load_gives_the_same_model_and_a_cached_copy_is_reused(pairs, tmp_path, kind):
    settings = tiny(kind=kind)
    train, valid = pairs[:48], pairs[48:]
    tr, message = translation.load_or_train(
        train, settings, cache_dir=tmp_path, valid_pairs=valid, progress=False
    )
    assert message.startswith("trained") and "no saved model" in message
    assert [r.epoch for r in tr.curve] == [1, 2] and all(0 <= r.bleu <= 100 for r in tr.curve)
    for field in ("seconds", "cpu_seconds"):
        times = [getattr(r, field) for r in tr.curve]
        assert 0 < times[0] < times[1]
    path = translation.translator_path(tmp_path, settings)
    payload = torch.load(path, weights_only=True)
    assert payload["settings"]["kind"] == kind
    assert isinstance(payload["src_vocab"]["model"], bytes)  # the SentencePiece model travels

    again, message = translation.load_or_train(train, settings, cache_dir=tmp_path, progress=False)
    assert message.startswith("loaded")
    assert again.src_vocab.state() == tr.src_vocab.state()
    assert again.tgt_vocab.state() == tr.tgt_vocab.state()
    assert again.curve == tr.curve and again.train_cpu_seconds == tr.train_cpu_seconds
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

    def as_text(hyps):
        return [tr.tgt_vocab.decode_text(h[0].tokens, tr.tgt_lang) for h in hyps]

    assert translation.translate_sentences(tr, sentences) == as_text(one)
    assert translation.translate_sentences(tr, sentences, beam_width=4) == as_text(four)
    # the two widths differ here, so the equalities above tell greedy and beam search apart
    assert any(b[0].tokens != a[0].tokens for a, b in zip(one, four, strict=True))
    with pytest.raises(ValueError, match="empty"):
        tr.encode_source(["   "])


def test_english_output_is_cased_and_detokenised_and_never_unk(pairs):
    """A Chinese→English model that learned a few sentences writes them back exactly."""
    sentences = [
        Pair("我不知道该做什么。", "I don't know what to do."),
        Pair("汤姆在看书。", "Tom is reading a book."),
        Pair("请把窗户关上。", "Please close the window."),
        Pair("你好，世界。", "Hello, world!"),
    ]
    settings = tiny(
        "zh-en",
        kind="transformer",
        hidden=32,
        heads=2,
        epochs=150,
        lr=3e-3,
        dropout=0.0,
        batch_size=4,
        max_len=40,
    )
    tr = translation.train_translator(sentences, settings, progress=False)
    out = translation.translate_sentences(tr, [p.src for p in sentences], beam_width=3)
    assert out == [p.tgt for p in sentences]
    assert tr.tgt_vocab.unk_id not in tr.tgt_vocab.encode_text("Zürich 🙂")


def test_tied_embeddings_share_one_matrix_and_survive_saving(pairs, tmp_path):
    settings = tiny(kind="transformer", tie_embeddings=True, epochs=1)
    tr = translation.train_translator(pairs[:30], settings, progress=False)
    decoder = tr.model.decoder
    assert decoder.out.weight is decoder.embed.weight
    untied = translation.build_model(tiny(kind="transformer"), len(tr.src_vocab), len(tr.tgt_vocab))
    n = sum(p.numel() for p in tr.model.parameters())
    assert n == sum(p.numel() for p in untied.parameters()) - decoder.embed.weight.numel()
    path = translation.save_translator(tr, tmp_path / "tied.pt")
    again = translation.load_translator(path)
    assert again.model.decoder.out.weight is again.model.decoder.embed.weight
    assert torch.equal(again.model.decoder.out.weight, decoder.out.weight)
    sentences = [p.src for p in pairs[30:40]]
    assert translation.translate_sentences(again, sentences) == translation.translate_sentences(
        tr, sentences
    )
