"""The "translate your own sentence" callback of notebook 5.3.7, on small untrained models."""

import pytest
import torch

from companion import translation
from companion.data.subwords import SubwordVocab
from companion.inference import nbest
from companion.widgets import translator as own

ENGLISH = ["I like tea.", "You like cats?", "I like cats.", "You like tea."]
CHINESE = ["我喜欢茶。", "你喜欢猫？", "我喜欢猫。", "你喜欢茶。"]


def make_translators(kind):
    torch.manual_seed(0)
    en = SubwordVocab.train(ENGLISH, lang="en", vocab_size=300)
    zh = SubwordVocab.train(CHINESE, lang="zh")
    out = {}
    for direction, (src, tgt) in (("en-zh", (en, zh)), ("zh-en", (zh, en))):
        settings = translation.TranslatorSettings(
            direction=direction, kind=kind, hidden=16, emb_dim=8, layers=1, heads=2, max_len=8
        )
        model = translation.build_model(settings, len(src), len(tgt)).eval()
        out[direction] = translation.Translator(model, src, tgt, settings)
    return out


@pytest.fixture(scope="module", params=translation.KINDS)
def translators(request):
    return make_translators(request.param)


def sequence_log_prob(tr, text, tokens):
    """log p(y | x) summed over the tokens of y,
    teacher-forced: an independent check of the scores.
    """
    model = tr.model
    src = torch.tensor([tr.src_vocab.encode_text(text)])
    tgt_in = torch.tensor([[model.bos_id] + tokens[:-1]])
    with torch.no_grad():
        log_probs = model(src, torch.tensor([src.shape[1]]), tgt_in).log_softmax(-1)[0]
    return log_probs[torch.arange(len(tokens)), torch.tensor(tokens)].sum().item()


def test_nbest_scores_are_the_models_log_probabilities_best_first(translators):
    result = own.translate_own_sentence(translators, "I like tea.", "en-zh", 4)
    assert not result.message and len(result.nbest) == 4
    scores = [s for _, s in result.nbest]
    assert scores == sorted(scores, reverse=True)
    tr = translators["en-zh"]
    best = [tr.tgt_vocab.stoi[t] for t in result.output_tokens]
    assert sequence_log_prob(tr, "I like tea.", best) == pytest.approx(scores[0], abs=1e-4)
    assert (
        result.translation == translation.translate_sentences(tr, ["I like tea."], beam_width=4)[0]
    )
    assert result.source_tokens == tr.src_vocab.pieces("I like tea.")
    # the n-best list is the one of companion.inference, the entry of every decode
    rows = nbest(tr.model, tr, "I like tea.", beam_width=4, max_len=tr.settings.max_len)
    assert result.nbest == [(r.text, r.log_prob) for r in rows]
    assert best == list(rows[0].tokens)


def test_attention_weights_of_the_best_hypothesis(translators):
    result = own.translate_own_sentence(translators, "我喜欢猫。", "zh-en", 3)
    assert result.source_tokens == list("我喜欢猫。")
    assert result.weights.shape == (len(result.output_tokens), 5)
    assert torch.allclose(result.weights.sum(-1), torch.ones(len(result.output_tokens)), atol=1e-5)
    fig = own.translation_figure(result)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == result.source_tokens
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == result.output_tokens


def test_unseen_words_get_a_one_line_warning_naming_them(translators):
    result = own.translate_own_sentence(translators, "i like green tea, I!", "en-zh", 2)
    assert result.unseen == ["green"]  # case does not matter; punctuation is no word
    warnings = [line for line in result.summary().splitlines() if "never saw" in line]
    assert len(warnings) == 1 and "“green”" in warnings[0] and "tea" not in warnings[0]
    capital = own.translate_own_sentence(translators, "Tea", "en-zh", 2)
    assert capital.unseen == ["Tea"]  # a capital T never occurred: it falls back to bytes
    assert "<unk>" not in result.summary() and "<unk>" not in result.source_tokens
    chinese = own.translate_own_sentence(translators, "我喜欢狗和咖啡。", "zh-en", 2)
    assert chinese.unseen == ["狗", "和", "咖", "啡"]
    assert own.translate_own_sentence(translators, "You like cats?", "en-zh", 2).unseen == []
    assert "never saw" not in own.translate_own_sentence(translators, "I like tea.").summary()


def test_the_warning_and_messages_speak_the_notebooks_language(translators):
    from companion.i18n import using_language

    with using_language("zh"):
        summary = own.translate_own_sentence(translators, "i like green tea", "en-zh", 2).summary()
        empty = own.translate_own_sentence(translators, "", "en-zh", 2).message
    warning = summary.splitlines()[-1]
    assert warning.startswith("注意：") and "“green”" in warning and "never saw" not in warning
    assert empty == "请输入一个要翻译的句子。"


@pytest.mark.parametrize(
    "text, words", [("", "Type a sentence"), ("   ", "Type a sentence"), ("tea " * 41, "pieces")]
)
def test_empty_or_too_long_input_gives_one_line(translators, text, words):
    result = own.translate_own_sentence(translators, text, "en-zh", 3)
    assert words in result.message and "\n" not in result.message
    assert result.summary() == result.message and result.weights is None
    assert own.translation_figure(result) is None


def test_bad_controls_raise_clear_errors(translators):
    for bad, error in ((0, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="beam_width must be an integer ≥ 1"):
            own.translate_own_sentence(translators, "tea", "en-zh", bad)
    with pytest.raises(ValueError, match=r"direction must be one of \['en-zh', 'zh-en'\]"):
        own.translate_own_sentence(translators, "tea", "en-fr", 2)
    with pytest.raises(TypeError, match="text must be a string, got NoneType"):
        own.translate_own_sentence(translators, None, "en-zh", 2)
