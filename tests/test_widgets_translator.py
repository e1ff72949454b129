"""The "translate your own sentence" callback of notebook 5.3.7, on small untrained models."""

import pytest
import torch

from companion import translation
from companion.data.vocab import Vocab
from companion.inference import nbest
from companion.widgets import translator as own


def make_translators(kind):
    torch.manual_seed(0)
    en = Vocab("i like tea cats you . ?".split())
    zh = Vocab(list("我喜欢茶猫你。？"))
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


def sequence_log_prob(tr, src_words, tokens):
    """log p(y | x) summed over the tokens of y,
    teacher-forced: an independent check of the scores.
    """
    model = tr.model
    src = torch.tensor([tr.src_vocab.encode(src_words)])
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
    assert sequence_log_prob(tr, "i like tea .".split(), best) == pytest.approx(scores[0], abs=1e-4)
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


def test_unknown_words_become_unk_with_a_note(translators):
    result = own.translate_own_sentence(translators, "I like green tea", "en-zh", 2)
    assert result.unknown == ["green"]
    assert result.source_tokens == ["i", "like", "<unk>", "tea"]
    assert "green" in result.summary() and "<unk>" in result.summary()


@pytest.mark.parametrize(
    "text, words", [("", "Type a sentence"), ("   ", "Type a sentence"), ("tea " * 31, "31 words")]
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
