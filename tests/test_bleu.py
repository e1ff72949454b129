"""BLEU (5-25), (5-26) against sacrebleu on random and real corpora, and the book's example."""

from __future__ import annotations

import math
import random

import pytest
import sacrebleu
from conftest import unavailable

from companion.data import generate_pairs
from companion.metrics import (
    BLEUResult,
    bleu_from_counts,
    brevity_penalty,
    closest_ref_length,
    corpus_bleu,
    modified_precision,
    ngrams,
    sentence_bleu,
    tokenize_for_bleu,
)

EN_WORDS = [
    "the",
    "The",
    "cat",
    "mat",
    "on",
    "is",
    "a",
    "A",
    "dog",
    "sat",
    ",",
    ".",
    "!",
    "?",
    "don't",
    "U.S.",
    "3.5",
    "(x)",
    "e-mail",
    "&amp;",
    '"quoted"',
    "NEW",
    "new",
]
ZH_WORDS = [
    "猫",
    "在",
    "垫子",
    "上",
    "。",
    "，",
    "我",
    "们",
    "喜欢",
    "狗",
    "hello",
    "3",
    "Ａ",
    "！",
]


def random_sentence(rng: random.Random, words: list[str], low: int, high: int, sep: str) -> str:
    return sep.join(rng.choice(words) for _ in range(rng.randint(low, high)))


def random_corpus(seed: int, *, zh: bool = False, max_refs: int = 4):
    """Hypotheses and variable numbers of references; some empty, short, long, or near-copies."""
    rng = random.Random(seed)
    words, sep = (ZH_WORDS, rng.choice(["", " "])) if zh else (EN_WORDS, " ")
    vocab = words[: rng.randint(4, len(words))]  # small vocabularies give many matches
    hyps, refs = [], []
    for _ in range(rng.randint(1, 40)):
        rs = [
            random_sentence(rng, vocab, 0 if rng.random() < 0.05 else 1, 18, sep)
            for _ in range(rng.randint(1, max_refs))
        ]
        kind = rng.random()
        if kind < 0.1:
            hyp = ""
        elif kind < 0.4:  # a corrupted copy of a reference
            toks = rs[0].split(sep) if sep else list(rs[0])
            toks = [t for t in toks if rng.random() > 0.2]
            hyp = sep.join(toks)
        else:
            hyp = random_sentence(rng, vocab, 1, 25, sep)
        hyps.append(hyp)
        refs.append(rs)
    return hyps, refs


def sacre_corpus(hyps, refs, **kw):
    width = max(len(r) for r in refs)
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(width)]
    return sacrebleu.corpus_bleu(hyps, streams, **kw)


def assert_matches(ours: BLEUResult, theirs) -> None:
    assert ours.score == pytest.approx(theirs.score, abs=1e-6)
    assert list(ours.precisions) == pytest.approx(theirs.precisions, abs=1e-6)
    assert ours.bp == pytest.approx(theirs.bp, abs=1e-9)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


def our_options(smooth, smooth_value, tokenize, lowercase, eff):
    return dict(
        smooth=smooth,
        smooth_value=smooth_value,
        tokenize=tokenize,
        lowercase=lowercase,
        effective_order=eff,
    )


def sacre_options(smooth, smooth_value, tokenize, lowercase, eff):
    return dict(
        smooth_method=smooth,
        smooth_value=smooth_value,
        tokenize=tokenize,
        lowercase=lowercase,
        use_effective_order=eff,
    )


OPTIONS = [  # smooth, smooth_value, tokenize, lowercase, effective_order
    ("exp", None, "13a", False, False),
    ("exp", None, "13a", True, True),
    ("floor", None, "13a", False, False),
    ("floor", 0.3, "none", False, True),
    ("add-k", None, "none", True, False),
    ("add-k", 0.5, "13a", False, True),
    ("none", None, "13a", False, False),
    ("none", None, "none", False, True),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("seed", range(8))
def test_corpus_bleu_equals_sacrebleu_on_random_corpora(seed, options):
    hyps, refs = random_corpus(seed * 17 + len(options[0]))
    assert_matches(
        corpus_bleu(hyps, refs, **our_options(*options)),
        sacre_corpus(hyps, refs, **sacre_options(*options)),
    )


@pytest.mark.parametrize("seed", range(6))
def test_chinese_tokenizer_equals_sacrebleu(seed):
    hyps, refs = random_corpus(100 + seed, zh=True)
    for smooth in ("exp", "floor"):
        opts = (smooth, None, "zh", False, seed % 2 == 0)
        assert_matches(
            corpus_bleu(hyps, refs, **our_options(*opts)),
            sacre_corpus(hyps, refs, **sacre_options(*opts)),
        )


def test_sentence_bleu_equals_sacrebleu_on_many_sentences():
    rng = random.Random(7)
    checked = 0
    for seed in range(25):
        hyps, refs = random_corpus(1000 + seed, max_refs=3)
        for hyp, rs in zip(hyps, refs, strict=True):
            for smooth in ("exp", "floor", "add-k", "none"):
                ours = sentence_bleu(hyp, rs, smooth=smooth)
                assert_matches(ours, sacrebleu.sentence_bleu(hyp, rs, smooth_method=smooth))
                checked += 1
            one = rng.choice(rs)  # a single reference may be given as a plain string
            assert_matches(sentence_bleu(hyp, one), sacrebleu.sentence_bleu(hyp, [one]))
    assert checked > 500


def test_generated_task_corpora_equal_sacrebleu():
    """Realistic sentences: the companion's tasks, with hypotheses made by corrupting targets."""
    rng = random.Random(0)
    for task, tokenize in (
        ("summarize", "13a"),
        ("dialogue", "13a"),
        ("numbers", "zh"),
        ("dates", "zh"),
    ):
        pairs = generate_pairs(task, 300, seed=1, n_items=(1, 3))
        refs = [[p.tgt] for p in pairs]
        hyps = []
        for p in pairs:
            toks = p.tgt.split() if tokenize == "13a" else list(p.tgt)
            if rng.random() < 0.5:
                i, j = rng.randrange(len(toks)), rng.randrange(len(toks))
                toks[i], toks[j] = toks[j], toks[i]
            toks = [t for t in toks if rng.random() > 0.1]
            hyps.append((" " if tokenize == "13a" else "").join(toks))
        for eff in (False, True):
            assert_matches(
                corpus_bleu(hyps, refs, tokenize=tokenize, effective_order=eff),
                sacre_corpus(hyps, refs, tokenize=tokenize, use_effective_order=eff),
            )


def test_tatoeba_with_several_references_equals_sacrebleu(shared_data):
    """English sentences of Tatoeba with all their Chinese translations as references."""
    from companion.data.tatoeba import read_tatoeba

    path = shared_data / "tatoeba" / "cmn.txt"
    if not path.exists():
        unavailable(f"{path} is missing")
    by_source: dict[str, list[str]] = {}
    for pair in read_tatoeba(path).pairs:
        by_source.setdefault(pair.src, []).append(pair.tgt)
    groups = [(en, zh) for en, zh in by_source.items() if len(zh) >= 2][:800]
    assert len(groups) > 200 and max(len(z) for _, z in groups) >= 3
    rng = random.Random(1)
    # hypothesis: another translation of the same sentence (minus the first reference),
    # or a corruption
    hyps, refs = [], []
    for _, zh in groups:
        hyp = zh[-1] if rng.random() < 0.5 else "".join(c for c in zh[0] if rng.random() > 0.3)
        hyps.append(hyp)
        refs.append(zh[:-1] if len(zh) > 2 else zh[:1])
    for smooth in ("exp", "none"):
        assert_matches(
            corpus_bleu(hyps, refs, tokenize="zh", smooth=smooth),
            sacre_corpus(hyps, refs, tokenize="zh", smooth_method=smooth),
        )
    english = [en for en, _ in groups]
    shuffled = english[1:] + english[:1]
    assert_matches(corpus_bleu(shuffled, english), sacre_corpus(shuffled, [[e] for e in english]))


def test_book_cat_on_the_mat_example():
    """Section 5.3.5: the book's per-reference bigram
    precisions vs BLEU's clipping (ERRATA.md, item 5).
    """
    hyp = tokenize_for_bleu("The cat is on the mat.")
    ref1, ref2 = (
        tokenize_for_bleu("The cat is on the mat."),
        tokenize_for_bleu("There is a cat on the mat."),
    )
    # with the period as a token there are 6 bigrams; without it the book's 5
    book_hyp, book_r1, book_r2 = (
        s.rstrip(".").split()
        for s in ("The cat is on the mat.", "The cat is on the mat.", "There is a cat on the mat.")
    )
    assert modified_precision(book_hyp, [book_r1], 2) == (5, 5)
    assert modified_precision(book_hyp, [book_r2], 2) == (2, 5)  # the book's 2/5 = 0.4
    assert modified_precision(book_hyp, [book_r1, book_r2], 2) == (5, 5)  # clipped over both
    assert modified_precision(hyp, [ref1, ref2], 2) == (6, 6)
    assert sentence_bleu(
        "The cat is on the mat.", ["The cat is on the mat.", "There is a cat on the mat."]
    ).score == pytest.approx(100.0)


def test_clipping_counts_each_ngram_at_most_its_reference_count():
    # the classic "the the the the the the the" example of Papineni et al.
    hyp = ["the"] * 7
    assert modified_precision(
        hyp,
        [["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]],
        1,
    ) == (2, 7)
    assert ngrams(["a", "b", "a", "b"], 2) == {("a", "b"): 2, ("b", "a"): 1}


def test_brevity_penalty_5_25_and_closest_reference():
    assert brevity_penalty(10, 8) == 1.0 and brevity_penalty(8, 8) == 1.0
    assert brevity_penalty(5, 10) == pytest.approx(math.exp(1 - 10 / 5))
    assert brevity_penalty(0, 3) == 0.0
    assert closest_ref_length(7, [4, 9, 10]) == 9
    assert closest_ref_length(7, [5, 9]) == 5  # a tie goes to the shorter reference


def test_geometric_mean_5_26():
    res = bleu_from_counts([8, 6, 4, 2], [10, 9, 8, 7], 10, 12, smooth="none")
    p = [8 / 10, 6 / 9, 4 / 8, 2 / 7]
    expected = math.exp(1 - 12 / 10) * math.prod(pn**0.25 for pn in p)
    assert res.score == pytest.approx(100 * expected, rel=1e-12)
    assert res.precisions == pytest.approx(tuple(100 * x for x in p))
    assert bleu_from_counts([3, 0, 0, 0], [4, 3, 2, 1], 4, 4, smooth="none").score == 0.0
    text = str(res)
    assert (
        text.startswith(f"BLEU = {res.score:.2f}")
        and "BP = 0.819" in text
        and float(res) == res.score
    )


def test_max_order_and_lowercase():
    hyp, ref = "The Cat sat", "the cat sat on"
    for order in (1, 2, 3, 5):
        ours = corpus_bleu([hyp], [[ref]], max_order=order, lowercase=True)
        metric = sacrebleu.BLEU(max_ngram_order=order, lowercase=True)
        assert_matches(ours, metric.corpus_score([hyp], [[ref]]))
        assert len(ours.precisions) == order


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: corpus_bleu(["a", "b"], [["a"]]), ValueError, "2 hypotheses"),
        (lambda: corpus_bleu([], []), ValueError, "empty"),
        (lambda: corpus_bleu("a b", ["a b"]), TypeError, "list of strings"),
        (lambda: corpus_bleu(["a"], [[]]), ValueError, "no reference"),
        (lambda: corpus_bleu(["a"], [[None]]), TypeError, r"references\[0\]\[0\] must be a string"),
        (lambda: corpus_bleu([3], ["a"]), TypeError, r"hypotheses\[0\] must be a string"),
        (lambda: corpus_bleu(["a"], ["a"], tokenize="moses"), ValueError, "tokenize"),
        (lambda: corpus_bleu(["a"], ["a"], smooth="laplace"), ValueError, "smooth"),
        (lambda: corpus_bleu(["a"], ["a"], max_order=0), ValueError, "max_order"),
        (lambda: corpus_bleu(["a"], ["a"], max_order=True), TypeError, "max_order"),
        (lambda: corpus_bleu(["a"], ["a"], max_order=10**9), ValueError, "max_order"),
        (
            lambda: corpus_bleu(["a"], ["a"], smooth="floor", smooth_value=-1),
            ValueError,
            "smooth_value",
        ),
        (
            lambda: corpus_bleu(["a"], ["a"], smooth="add-k", smooth_value=math.inf),
            ValueError,
            "smooth_value",
        ),
        (lambda: corpus_bleu(["a"], ["a"], lowercase="yes"), TypeError, "lowercase"),
        (lambda: sentence_bleu(["a"], ["a"]), TypeError, "hypothesis must be a string"),
        (lambda: sentence_bleu("a b", None), TypeError, "references must be a list of strings"),
        (lambda: sentence_bleu("a b", [None]), TypeError, r"references\[0\] must be a string"),
        (lambda: brevity_penalty(-1, 2), ValueError, "sys_len"),
        (lambda: brevity_penalty(2.5, 3), TypeError, "sys_len"),
        (lambda: ngrams("a b c", 2), TypeError, "list of tokens"),
        (lambda: bleu_from_counts([5, 0], [2, 1], 2, 2), ValueError, "exceeds"),
        (lambda: bleu_from_counts([-1, 0], [2, 1], 2, 2), ValueError, "counts"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
