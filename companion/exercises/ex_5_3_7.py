"""Exercises of notebook 5.3.7, the English↔Chinese
translator: the chapter's parts on real sentences.
"""

from __future__ import annotations

import math

from companion.exercises.core import (
    CheckFailed,
    Exercise,
    Mistake,
    as_number,
    close,
    predict_exercise,
)
from companion.exercises.sequences import (
    call_student,
    check_bleu_measurement,
    check_fraction,
    register,
    stop_early,
)

# ---------------------------------------------------------------- 5.3.7-one-wrong-token (predict)
# A 10-token reference and a hypothesis with one wrong token in the middle: the wrong token breaks
# 1 unigram, 2 bigrams, 3 trigrams and 4 four-grams. p = 9/10, 7/9, 5/8, 3/7; BP = 1.
_P = (9 / 10, 7 / 9, 5 / 8, 3 / 7)
_ONE_WRONG = 100 * math.prod(_P) ** 0.25

predict_exercise(
    id="5.3.7-one-wrong-token",
    section="5.3.5 (5-26), applied in 5.3.7",
    title="BLEU-4 of a 10-token output with one wrong token in the middle",
    value=_ONE_WRONG,
    rtol=1e-3,
    mistakes=[
        (
            "unigrams-only",
            90.0,
            "90 is the unigram precision alone; BLEU-4 multiplies in p₂, p₃ and p₄, and a wrong "
            "token in the middle breaks 2 bigrams, 3 trigrams and 4 four-grams",
        ),
        (
            "arithmetic-mean",
            100 * sum(_P) / 4,
            "you averaged the precisions arithmetically; (5-26) takes their geometric mean",
        ),
        (
            "one-per-order",
            100 * (9 / 10 * 8 / 9 * 7 / 8 * 6 / 7) ** 0.25,
            "a wrong token in the middle lies inside n of the n-grams of order n (2 bigrams, "
            "3 trigrams, 4 four-grams), not inside one",
        ),
        ("fraction", _ONE_WRONG / 100, "that is BLEU as a fraction; report it ×100"),
    ],
    solution_text=f"""
Reference and hypothesis have 10 tokens, the same \
except token 5. The wrong token lies in 1 of the 10
unigrams, 2 of the 9 bigrams, 3 of the 8 trigrams and 4 of the 7 four-grams:
p = 9/10, 7/9, 5/8, 3/7; c = r so BP = 1; BLEU = 100 · (p₁p₂p₃p₄)^(1/4) = {_ONE_WRONG:.2f}.
For Chinese scored by character this is one wrong character; an English sentence of 10 *words* with
one wrong word loses as much, but it carries about twice the meaning per token.
Check: sacrebleu.sentence_bleu("a b c d X f g h i j", ["a b c d e f g h i j"]).score""",
    hints=(
        "Count the n-grams of each order (10, 9, 8, 7) "
        "and how many of them contain the wrong token.",
        "An n-gram contains position 5 if it starts at one of the n positions 5 − n + 1 … 5.",
        "BLEU = 100 · (9/10 · 7/9 · 5/8 · 3/7)^(1/4)",
    ),
)


# ---------------------------------------------------------------- 5.3.7-cache-size (predict)
_CACHE = 2 * 2 * 20 * 256  # layers × (keys and values) × tokens × d_model

predict_exercise(
    id="5.3.7-cache-size",
    section="5.3.6 Transformer, key/value cache in 5.3.7",
    title="How many numbers the decoder's self-attention cache holds after 20 tokens",
    value=_CACHE,
    rtol=1e-6,
    mistakes=[
        (
            "half",
            _CACHE // 2,
            "half the cache: every layer keeps both the keys and the values of every position",
        ),
        (
            "heads-multiply",
            _CACHE * 4,
            "the 4 heads split d_model = 256 into 4 × 64; they do not multiply it",
        ),
        (
            "one-position",
            2 * 2 * 256,
            "that is the cache of one position; it grows with every token written (20 here)",
        ),
        (
            "prefix-sum",
            2 * 2 * 210 * 256,
            "each position's keys and values are stored once, not once per step: 20 positions, "
            "not 1 + 2 + … + 20",
        ),
    ],
    solution_text=f"""
Per decoder layer and position the cache keeps one key and one value vector of size d_model = 256
(split over the 4 heads as 4 × 64). After 20 tokens, for one sentence:
2 layers × 2 (keys, values) × 20 positions × 256 = \
{_CACHE} numbers. The memory grows linearly with the
output length — the price of computing one position per step instead of the whole prefix.""",
    hints=(
        "The cache stores, for every layer, the keys "
        "and the values of every position written so far.",
        "Heads split d_model; they do not add numbers.",
    ),
)


# ----------------------------------------------------------- 5.3.7-references-by-source (implement)


def _grouping_cases():
    from companion.data import Pair

    return [
        [
            Pair("I am here.", "我在这里。"),
            Pair("Go!", "走！"),
            Pair("I am here.", "我在这儿。"),
            Pair("Come here.", "过来。"),
            Pair("Go!", "去吧！"),
            Pair("Go!", "走吧。"),
        ],
        [Pair("b", "1"), Pair("a", "2"), Pair("b", "3")],
        [Pair("only", "一")],
    ]


def _group_references(pairs):
    """``(sources, references)``: distinct sources
    in order of first appearance, all their targets.
    """
    grouped: dict[str, list[str]] = {}
    for p in pairs:
        grouped.setdefault(p.src, []).append(p.tgt)
    return list(grouped), list(grouped.values())


def _grouping_variant(kind):
    def group(pairs):
        if kind == "no-grouping":
            return [p.src for p in pairs], [[p.tgt] for p in pairs]
        grouped: dict[str, list[str]] = {}
        for p in pairs:
            if kind == "last-only":
                grouped[p.src] = [p.tgt]
            else:
                grouped.setdefault(p.src, []).append(p.tgt)
        if kind == "sorted":
            keys = sorted(grouped)
            return keys, [grouped[k] for k in keys]
        return list(grouped), list(grouped.values())

    return group


_GROUPING_MISTAKES = (
    Mistake(
        "no-grouping",
        lambda ctx: _grouping_variant("no-grouping"),
        "a source appears once per translation: group the pairs so that every distinct "
        "source is scored once, against all its references",
    ),
    Mistake(
        "last-only",
        lambda ctx: _grouping_variant("last-only"),
        "only one reference per source survives: keep every translation (a later pair "
        "must not overwrite an earlier one)",
    ),
    Mistake(
        "sorted",
        lambda ctx: _grouping_variant("sorted"),
        "your sources are sorted; keep them in the order they first appear, so that the "
        "hypotheses decoded in that order line up with them",
    ),
)


def _as_grouping(got):
    if not (isinstance(got, tuple) and len(got) == 2):
        raise CheckFailed("return a pair (sources, references)")
    sources, references = got
    return [str(s) for s in sources], [[str(r) for r in refs] for refs in references]


def _check_grouping(answer, context) -> str:
    from companion.data import references_by_source

    cases = _grouping_cases()
    results = []
    for pairs in cases:
        got, failure = call_student(answer, list(pairs))
        if failure is not None:
            raise failure
        results.append(_as_grouping(got))
    expected = [references_by_source(pairs) for pairs in cases]
    if all(
        r == (list(e[0]), [list(x) for x in e[1]]) for r, e in zip(results, expected, strict=True)
    ):
        return (
            "the same grouping as companion.data.references_by_source "
            f"on {len(cases)} hidden lists."
        )
    for mistake in _GROUPING_MISTAKES:
        fn = mistake.make(context)
        if all(_as_grouping(fn(pairs)) == r for pairs, r in zip(cases, results, strict=True)):
            raise CheckFailed(mistake.message)
    raise CheckFailed(
        "your grouping differs from companion.data.references_by_source on a hidden list of pairs"
    )


register(
    Exercise(
        id="5.3.7-references-by-source",
        section="5.3.5 several references, in 5.3.7",
        kind="implement",
        title="group_references(pairs): every distinct source with all its reference translations",
        checker=_check_grouping,
        reference=lambda ctx: _group_references,
        solution_text="""
def group_references(pairs):
    grouped = {}                                  # dicts keep insertion order
    for p in pairs:
        grouped.setdefault(p.src, []).append(p.tgt)
    return list(grouped), list(grouped.values())

companion.data.references_by_source is this function; translation.corpus_bleu uses it so that BLEU
clips every n-gram by its maximum count over all translations of a sentence (5.3.5).""",
        hints=(
            "Tatoeba lists one pair per translation, so "
            "one English sentence can appear several times.",
            "A dict from source to a list of targets, filled "
            "in order, keeps the first-appearance order.",
        ),
        mistakes=_GROUPING_MISTAKES,
    )
)


# ---------------------------------------------------------------- 5.3.7-unknown-words (experiment)


def _unknown_rate(context, *, distinct: bool = False) -> float:
    from companion.data import references_by_source
    from companion.data.vocab import tokenize

    translator, pairs = context["translator"], context["pairs"]
    sources, _ = references_by_source(pairs)
    words = [w for s in sources for w in tokenize(s, translator.src_lang)]
    if distinct:
        words = list(dict.fromkeys(words))
    if not words:
        raise ValueError("the pairs contain no source words")
    return sum(w not in translator.src_vocab for w in words) / len(words)


def _check_unknown(answer, context) -> str:
    expected = _unknown_rate(context)
    value = as_number(answer, "your rate")
    by_type = _unknown_rate(context, distinct=True)
    if (
        abs(value - expected) > 5e-4
        and close(value, by_type, rtol=1e-3)
        and not close(by_type, expected, rtol=1e-3)
    ):
        raise CheckFailed(
            "you counted distinct words; the rate asked for counts every word of "
            "every distinct source sentence (tokens), as the model reads them"
        )
    check_fraction(answer, expected, "your rate", atol=5e-4)
    return (
        f"{expected:.1%} of the test words are <unk> for this model ({by_type:.1%} of the "
        "distinct words): rare words are where a vocabulary with min_freq loses information."
    )


def _demo_translator() -> dict:
    import companion
    from companion import translation
    from companion.data import Vocab, generate_pairs
    from companion.data.vocab import tokenize

    pairs = generate_pairs("numbers", 60, seed=0)
    settings = translation.settings_for("smoke", "en-zh", "gru", hidden=8, emb_dim=8, max_len=8)
    src_vocab = Vocab.build((tokenize(p.src, "en") for p in pairs[:30]), min_freq=2)
    tgt_vocab = Vocab.build(tokenize(p.tgt, "zh") for p in pairs)
    companion.seed_everything(0)
    model = stop_early(translation.build_model(settings, len(src_vocab), len(tgt_vocab)).eval())
    tr = translation.Translator(model, src_vocab, tgt_vocab, settings)
    return {"translator": tr, "pairs": pairs[30:]}


register(
    Exercise(
        id="5.3.7-unknown-words",
        section="5.3.7 vocabularies and <unk>",
        kind="experiment",
        title="How many words of the English test sentences are <unk> for the translator?",
        checker=_check_unknown,
        reference=_unknown_rate,
        solution_text="""
tr = translators["en-zh", "gru"]
sources, _ = translation.references_by_source(test["en-zh"])
words = [w for s in sources for w in companion.data.tokenize(s, "en")]
answer = sum(w not in tr.src_vocab for w in words) / len(words)
Every such word reaches the encoder as the same <unk> vector; a sentence with a rare name or noun
loses that word entirely — one reason for subword vocabularies (BPE) in real systems.""",
        hints=(
            "Group the test pairs by source (translation.references_by_source) so every English "
            "sentence counts once, and tokenise with companion.data.tokenize(s, 'en').",
            "A word is unknown when `word not in "
            "tr.src_vocab`; divide by the number of word tokens.",
        ),
        needs=("translator", "pairs"),
        demo_context=_demo_translator,
    )
)


# ---------------------------------------------------------------- 5.3.7-beam-3 (experiment)


def _bleu_beam3(context) -> float:
    from companion import translation

    return translation.corpus_bleu(context["translator"], context["pairs"], beam_width=3).score


def _check_beam3(answer, context) -> str:
    expected = _bleu_beam3(context)
    check_bleu_measurement(
        answer,
        expected,
        "score translators['zh-en', 'gru'] on "
        "test['zh-en'][:200] with translation.corpus_bleu(..., beam_width=3)",
    )
    return (
        f"BLEU {expected:.1f} with a beam of 3: compare it with greedy search and the beam of "
        "`beam_width` in the table of section 3."
    )


register(
    Exercise(
        id="5.3.7-beam-3",
        section="5.3.4 beam search, 5.3.5 BLEU, in 5.3.7",
        kind="experiment",
        title="Chinese→English with a beam of 3: BLEU on 200 test pairs",
        checker=_check_beam3,
        reference=_bleu_beam3,
        solution_text="""
answer = translation.corpus_bleu(translators["zh-en", "gru"], \
test["zh-en"][:200], beam_width=3).score
Compare with greedy search on the same pairs (beam_width=1): on real sentences a small beam usually
helps a little, unlike the well-trained number translator of 5.3.4.""",
        hints=(
            "translation.corpus_bleu(translator, pairs, "
            "beam_width=...) decodes and scores in one call.",
            "Use translators['zh-en', 'gru'] and the first "
            "200 pairs of test['zh-en']; report .score.",
        ),
        needs=("translator", "pairs"),
        demo_context=_demo_translator,
    )
)
