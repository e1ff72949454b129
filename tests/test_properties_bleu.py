"""Property-based tests: BLEU (5-25), (5-26) equals sacrebleu on random corpora and options.

hypothesis draws corpora from small vocabularies (so that n-grams match often) with ASCII and
accented words, punctuation and Chinese characters; empty hypotheses; one to three references per
sentence, of different lengths; and every smoothing/tokeniser/effective-order option.
"""

from __future__ import annotations

import math

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.metrics import corpus_bleu, sentence_bleu

FAST = settings(max_examples=60, deadline=None)
WORDS = [
    "the",
    "The",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "dog",
    ",",
    ".",
    "!",
    "don't",
    "3.5",
    "café",
    "Zürich",
    "猫",
    "在",
    "垫子",
    "上",
    "。",
    "(x)",
    "e-mail",
    "NEW",
    "new",
]

sentences = st.lists(st.sampled_from(WORDS), min_size=0, max_size=14).map(" ".join)
references = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join), min_size=1, max_size=3
)
corpora = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.lists(sentences, min_size=n, max_size=n), st.lists(references, min_size=n, max_size=n)
    )
)
options = st.fixed_dictionaries(
    {
        "smooth": st.sampled_from(["exp", "floor", "add-k", "none"]),
        "tokenize": st.sampled_from(["13a", "zh", "none"]),
        "lowercase": st.booleans(),
        "effective_order": st.booleans(),
        "max_order": st.integers(1, 5),
    }
)


def sacre_options(opts: dict) -> dict:
    return dict(
        smooth_method=opts["smooth"],
        tokenize=opts["tokenize"],
        lowercase=opts["lowercase"],
        effective_order=opts["effective_order"],
    )


def assert_matches(ours, theirs) -> None:
    assert ours.score == pytest.approx(theirs.score, abs=1e-6)
    assert list(ours.precisions) == pytest.approx(theirs.precisions, abs=1e-6)
    assert ours.bp == pytest.approx(theirs.bp, abs=1e-9)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


@FAST
@given(corpus=corpora, opts=options)
def test_corpus_bleu_equals_sacrebleu(corpus, opts):
    hyps, refs = corpus
    width = max(len(r) for r in refs)
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(width)]
    metric = sacrebleu.BLEU(max_ngram_order=opts["max_order"], **sacre_options(opts))
    ours = corpus_bleu(hyps, refs, **opts)
    assert_matches(ours, metric.corpus_score(hyps, streams))
    assert 0.0 <= ours.score <= 100.0 and 0.0 <= ours.bp <= 1.0


@FAST
@given(hyp=sentences, refs=references, opts=options)
def test_sentence_bleu_equals_sacrebleu(hyp, refs, opts):
    opts = {**opts, "effective_order": True}
    metric = sacrebleu.BLEU(max_ngram_order=opts["max_order"], **sacre_options(opts))
    assert_matches(sentence_bleu(hyp, refs, **opts), metric.sentence_score(hyp, refs))


@FAST
@given(corpus=corpora)
def test_a_perfect_corpus_scores_100_and_reference_order_does_not_matter(corpus):
    _, refs = corpus
    hyps = [r[0] for r in refs]
    assert corpus_bleu(hyps, refs, tokenize="none", effective_order=True).score == pytest.approx(
        100.0
    )
    reordered = [list(reversed(r)) for r in refs]
    assert corpus_bleu(hyps, reordered).score == pytest.approx(corpus_bleu(hyps, refs).score)


@FAST
@given(corpus=corpora, value=st.sampled_from([math.nan, math.inf, -1.0, -math.inf]))
def test_bad_smooth_values_are_refused(corpus, value):
    hyps, refs = corpus
    with pytest.raises(ValueError, match="smooth_value"):
        corpus_bleu(hyps, refs, smooth="floor", smooth_value=value)
