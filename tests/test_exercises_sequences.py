"""The exercises of 5.3.x: every "predict" answer re-derived from the package or an independent
library, the hidden reference of the beam-search exercise against exhaustive search, and the
messages a student sees for the typical mistakes (each exercise lists them in its `mistakes`)."""

import math

import pytest
import sacrebleu
import torch

from companion.exercises import check, reference

pytestmark = pytest.mark.usefixtures("temporary_cache")


def test_predicted_sizes_match_the_models():
    from companion.models import AdditiveScore, ContextInputDecoder, make_captioner, make_encoder

    assert (
        reference("5.3.1-receptive-field")
        == make_encoder("cnn", 10, 8, 8, num_layers=4, kernel_size=5).receptive_field
    )
    assert reference("5.3.1-gru-parameters") == sum(
        p.numel() for p in torch.nn.GRU(32, 64).parameters()
    )
    assert reference("5.3.3-additive-parameters") == sum(
        p.numel() for p in AdditiveScore(32, 48, 16).parameters()
    )
    assert (
        reference("5.3.2-decoder-weights")
        == ContextInputDecoder(10, emb_dim=16, hidden=64).rnn.weight_ih_l0.numel()
    )
    rows, cols = make_captioner(10, hidden=8).encoder.grid_shape(48, 48)
    assert reference("5.3.6-caption-grid") == rows * cols


def test_predicted_bleu_numbers_match_sacrebleu():
    from companion.metrics import modified_precision

    hyp = "the cat the cat on the mat".split()
    refs = [r.split() for r in ("the cat is on the mat", "there is a cat on the mat")]
    matches, total = modified_precision(hyp, refs, 2)
    assert reference("5.3.5-clipped-bigram") == pytest.approx(matches / total)
    bleu2 = sacrebleu.metrics.BLEU(max_ngram_order=2, tokenize="none", smooth_method="none")
    score = bleu2.corpus_score(["the cat on the mat"], [["the cat is on the mat"]]).score
    assert reference("5.3.5-bleu2-by-hand") == pytest.approx(score, rel=1e-9)


def test_predicted_attention_weight_matches_masked_softmax():
    from companion.models import masked_softmax

    weights = masked_softmax(
        torch.tensor([[[math.log(3), 5.0, 0.0]]]), torch.tensor([[True, False, True]])
    )
    assert reference("5.3.3-masked-weights") == pytest.approx(weights[0, 0, 0].item())


def test_search_counts_match_the_searches():
    from companion.decoding import beam_search, exhaustive_search
    from companion.exercises.ex_5_3_4 import RandomLanguageModel

    lm = RandomLanguageModel(5, seed=0)
    outputs = exhaustive_search(
        lm.step_fn(), torch.empty(1, 0, dtype=torch.long), bos_id=5, eos_id=0, max_len=3
    )[0]
    assert len(outputs) == reference("5.3.4-exhaustive-count")

    rows = 0
    lm10 = RandomLanguageModel(10, seed=1)

    def never_eos(prev, state):  # <eos> (id 0) impossible: every step extends K full prefixes
        nonlocal rows
        rows += prev.shape[0]
        log_probs, state = lm10.step_fn()(prev, state)
        return log_probs.index_fill(1, torch.tensor([0]), -math.inf).log_softmax(-1), state

    beam_search(
        never_eos, torch.empty(1, 0, dtype=torch.long), bos_id=10, eos_id=0, beam_width=3, max_len=4
    )
    assert rows * 10 == reference("5.3.4-beam-candidates")


@pytest.mark.parametrize("vocab,eos,max_len,seed", [(3, 0, 4, 1), (4, 2, 4, 2), (5, 1, 3, 3)])
def test_beam_reference_with_a_full_width_beam_is_exhaustive_search(vocab, eos, max_len, seed):
    from companion.decoding import exhaustive_search
    from companion.exercises.ex_5_3_4 import RandomLanguageModel

    lm = RandomLanguageModel(vocab, seed)
    best = exhaustive_search(
        lm.step_fn(),
        torch.empty(1, 0, dtype=torch.long),
        bos_id=vocab,
        eos_id=eos,
        max_len=max_len,
        n_best=1,
    )[0][0]
    tokens, score = reference("5.3.4-beam-search")(
        lm, eos_id=eos, beam_width=vocab**max_len, max_len=max_len
    )
    assert tokens == best.tokens and score == pytest.approx(best.score)


@pytest.mark.parametrize(
    "exercise,answer,words",
    [
        ("5.3.3-masked-softmax", lambda s, m: s.softmax(-1) * m, "after the softmax"),
        (
            "5.3.3-masked-softmax",
            lambda s, m: s.masked_fill(~m, -math.inf).softmax(1),
            "wrong axis",
        ),
        ("5.3.3-masked-softmax", lambda s, m: s.masked_fill(m, -math.inf).softmax(-1), "inverted"),
        ("5.3.5-brevity-penalty", lambda c, r: 1.0 if r >= c else math.exp(1 - c / r), "swapped"),
        ("5.3.5-brevity-penalty", lambda c, r: 1.0 if c >= r else math.exp(1 - r / c), "c = 0"),
        ("5.3.5-brevity-penalty", lambda c, r: math.exp(1 - r / c) if c else 0.0, "exceeds 1"),
        ("5.3.5-clipped-bigram", 5 / 6, "clip"),
        ("5.3.4-beam-candidates", 120, "first step"),
    ],
)
def test_typical_mistakes_are_named(exercise, answer, words):
    result = check(exercise, answer)
    assert result.attempted and not result.passed
    assert words in result.message


def test_a_beam_that_forgets_finished_hypotheses_is_named():
    from companion.exercises.ex_5_3_4 import _beam_variant

    result = check("5.3.4-beam-search", _beam_variant(keep_finished=False))
    assert not result.passed and "forgets finished hypotheses" in result.message


def test_experiments_remeasure_on_the_students_objects():
    from companion.exercises.sequences import tiny_seq2seq

    model, data = tiny_seq2seq("numbers", "attention", "zh", "en")
    gap = reference("5.3.4-early-exposure-bias", model=model, data=data)
    assert check("5.3.4-early-exposure-bias", gap, model=model, data=data).passed
    assert not check("5.3.4-early-exposure-bias", gap + 0.05, model=model, data=data).passed
    with pytest.raises(ValueError, match="data"):
        check("5.3.4-early-exposure-bias", gap, model=model)


def test_predicted_cache_size_matches_the_transformer_cache():
    from companion.models import make_transformer

    model = make_transformer(10, 12, d_model=256, nhead=4, num_layers=2, dim_feedforward=512).eval()
    src, lengths = torch.tensor([[3, 4, 5, 6, 7]]), torch.tensor([5])
    with torch.no_grad():
        state = model.init_state(src, lengths)
        token = torch.tensor([model.bos_id])
        for _ in range(20):  # <bos> and 19 generated tokens: 20 positions
            _, state = model.step(token, state)
            token = torch.tensor([4])
    caches = state[-1]
    assert reference("5.3.7-cache-size") == sum(k.numel() + v.numel() for k, v, *_ in caches)


def test_one_wrong_token_matches_sacrebleu():
    score = sacrebleu.sentence_bleu("a b c d X f g h i j", ["a b c d e f g h i j"]).score
    assert reference("5.3.7-one-wrong-token") == pytest.approx(score)


def test_predicted_corpus_bleu_matches_sacrebleu_and_is_not_the_mean_of_sentences():
    bleu2 = sacrebleu.metrics.BLEU(max_ngram_order=2, tokenize="none", smooth_method="none")
    hyps, refs = (
        ["the cat sat on a mat", "a dog ran"],
        ["the cat sat on the mat", "a dog ran in the park"],
    )
    score = bleu2.corpus_score(hyps, [refs]).score
    assert reference("5.3.5-corpus-bleu") == pytest.approx(score, rel=1e-9)
    sentences = [bleu2.corpus_score([h], [[r]]).score for h, r in zip(hyps, refs, strict=True)]
    assert abs(sum(sentences) / 2 - score) > 1  # the exercise's point


def test_predicted_length_penalty_is_where_the_ranking_flips():
    from companion.decoding import _length_term

    alpha = reference("5.3.4-length-penalty")

    def prefers_the_long_one(a: float) -> bool:
        return -4.5 / _length_term(9, a) > -2.4 / _length_term(4, a)

    assert not prefers_the_long_one(alpha - 0.01) and prefers_the_long_one(alpha + 0.01)
