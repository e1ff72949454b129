"""Exercises of notebook 5.3.7, the English↔Chinese translator: the chapter's parts on real
sentences."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import CheckFailed, Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.exercises.sequences import stop_early
from companion.i18n import N_, _
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.3.7-one-wrong-token (predict)
# A 10-token reference and a hypothesis with one wrong token in the middle: the wrong token breaks
# 1 unigram, 2 bigrams, 3 trigrams and 4 four-grams. p = 9/10, 7/9, 5/8, 3/7; BP = 1.
_P = (9 / 10, 7 / 9, 5 / 8, 3 / 7)
_ONE_WRONG = 100 * math.prod(_P) ** 0.25

predict_exercise(
    id="5.3.7-one-wrong-token",
    section=N_("5.3.5 (5-26), applied in 5.3.7"),
    title=N_("BLEU-4 of a 10-token output with one wrong token in the middle"),
    value=_ONE_WRONG,
    precision=Precision(1),
    answer_name="one_wrong_bleu",
    mistakes=[
        (
            "unigrams-only",
            90.0,
            N_(
                "90 is the unigram precision alone; BLEU-4 multiplies in p₂, p₃ and p₄, and a "
                "wrong token in the middle breaks 2 bigrams, 3 trigrams and 4 four-grams"
            ),
        ),
        (
            "arithmetic-mean",
            100 * sum(_P) / 4,
            N_("you averaged the precisions arithmetically; (5-26) takes their geometric mean"),
        ),
        (
            "one-per-order",
            100 * (9 / 10 * 8 / 9 * 7 / 8 * 6 / 7) ** 0.25,
            N_(
                "a wrong token in the middle lies inside n of the n-grams of order n (2 bigrams, "
                "3 trigrams, 4 four-grams), not inside one"
            ),
        ),
        ("fraction", _ONE_WRONG / 100, N_("that is BLEU as a fraction; report it ×100")),
    ],
    solution=N_(
        """\
# 10, 9, 8 and 7 n-grams of orders 1–4; the wrong token (position 5) lies in n of those of order n
p = [(10 - 1) / 10, (9 - 2) / 9, (8 - 3) / 8, (7 - 4) / 7]
# c = r, so BP = 1; (5-26) with w_n = 1/4
one_wrong_bleu = 100 * math.prod(p) ** (1 / 4)  # ≈ 65.8
"""
    ),
    solution_note=N_(
        "For Chinese scored by character this is one wrong character; an English sentence of 10 "
        "*words* with one wrong word loses as much, but it carries about twice the meaning per "
        'token. Check: sacrebleu.sentence_bleu("a b c d X f g h i j", ["a b c d e f g h i '
        'j"]).score'
    ),
    hints=(
        N_(
            "Count the n-grams of each order (10, 9, 8, 7) and how many of them contain the wrong "
            "token."
        ),
        N_("An n-gram contains position 5 if it starts at one of the n positions 5 − n + 1 … 5."),
        N_("BLEU = 100 · (9/10 · 7/9 · 5/8 · 3/7)^(1/4)"),
    ),
)


# ---------------------------------------------------------------- 5.3.7-cache-size (predict)
_CACHE = 2 * 2 * 20 * 256  # layers × (keys and values) × tokens × d_model

predict_exercise(
    id="5.3.7-cache-size",
    section=N_("5.3.6 Transformer, key/value cache in 5.3.7"),
    title=N_("How many numbers the decoder's self-attention cache holds after 20 tokens"),
    value=_CACHE,
    precision=Precision(0),
    answer_name="cache_numbers",
    mistakes=[
        (
            "half",
            _CACHE // 2,
            N_("half the cache: every layer keeps both the keys and the values of every position"),
        ),
        (
            "heads-multiply",
            _CACHE * 4,
            N_("the 4 heads split d_model = 256 into 4 × 64; they do not multiply it"),
        ),
        (
            "one-position",
            2 * 2 * 256,
            N_("that is the cache of one position; it grows with every token written (20 here)"),
        ),
        (
            "prefix-sum",
            2 * 2 * 210 * 256,
            N_(
                "each position's keys and values are stored once, not once per step: 20 "
                "positions, not 1 + 2 + … + 20"
            ),
        ),
    ],
    solution=N_(
        """\
layers, d_model, positions = 2, 256, 20
# per layer and position: one key and one value of size d_model (split over the heads as 4 × 64)
cache_numbers = layers * 2 * positions * d_model  # 20,480 numbers for one sentence
"""
    ),
    solution_note=N_(
        "The memory grows linearly with the output length — the price of computing one position "
        "per step instead of the whole prefix."
    ),
    hints=(
        N_(
            "The cache stores, for every layer, the keys and the values of every position written "
            "so far."
        ),
        N_("Heads split d_model; they do not add numbers."),
    ),
)


# ---------------------------------------------------------- 5.3.7-references-by-source (implement)


def _grouping_cases():
    from companion.data import Pair

    return [
        (
            [
                Pair("I am here.", "我在这里。"),
                Pair("Go!", "走！"),
                Pair("I am here.", "我在这儿。"),
                Pair("Come here.", "过来。"),
                Pair("Go!", "去吧！"),
                Pair("Go!", "走吧。"),
            ],
        ),
        ([Pair("b", "1"), Pair("a", "2"), Pair("b", "3")],),
        ([Pair("only", "一")],),
    ]


def _package_grouping(pairs):
    """The independent reference: companion.data.references_by_source."""
    from companion.data import references_by_source

    sources, references = references_by_source(pairs)
    return list(sources), [list(r) for r in references]


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


def _as_grouping(result):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise CheckFailed(_("return a pair (sources, references)"))
    sources, references = result
    return [str(s) for s in sources], [[str(r) for r in refs] for refs in references]


implement_exercise(
    id="5.3.7-references-by-source",
    section=N_("5.3.5 several references, in 5.3.7"),
    title=N_("group_references(pairs): every distinct source with all its reference translations"),
    answer_name="group_references",
    spec=FunctionSpec(
        cases=_grouping_cases,
        expected=_package_grouping,
        normalise=_as_grouping,
        success=N_("the same grouping as companion.data.references_by_source on {n} hidden lists."),
    ),
    mistakes=(
        Mistake(
            "no-grouping",
            lambda ctx: _grouping_variant("no-grouping"),
            N_(
                "a source appears once per translation: group the pairs so that every distinct "
                "source is scored once, against all its references"
            ),
        ),
        Mistake(
            "last-only",
            lambda ctx: _grouping_variant("last-only"),
            N_(
                "only one reference per source survives: keep every translation (a later pair "
                "must not overwrite an earlier one)"
            ),
            fix=lambda ctx: _grouping_variant("first-appearance"),
        ),
        Mistake(
            "sorted",
            lambda ctx: _grouping_variant("sorted"),
            N_(
                "your sources are sorted; keep them in the order they first appear, so that the "
                "hypotheses decoded in that order line up with them"
            ),
        ),
    ),
    solution=N_(
        """\
def group_references(pairs):
    grouped = {}  # dicts keep insertion order: the first appearance of each source
    for p in pairs:
        grouped.setdefault(p.src, []).append(p.tgt)
    return list(grouped), list(grouped.values())
"""
    ),
    solution_note=N_(
        "companion.data.references_by_source is this function; translation.translator_bleu uses it "
        "so that BLEU clips every n-gram by its maximum count over all translations of a sentence "
        "(5.3.5)."
    ),
    hints=(
        N_(
            "Tatoeba lists one pair per translation, so one English sentence can appear several "
            "times."
        ),
        N_(
            "A dict from source to a list of targets, filled in order, keeps the "
            "first-appearance order."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.7-unseen-words (experiment)


def _unseen_rate(context, *, per: str = "sentence") -> float:
    """The fraction of distinct source sentences with a word the translator never saw in
    training (``per="pair"``: of the pairs; ``per="word"``: of the word tokens)."""
    from companion.data import references_by_source
    from companion.data.subwords import words_of

    translator, pairs = context["translator"], context["pairs"]
    if per == "word":
        sources, _refs = references_by_source(pairs)
        words = [w for s in sources for w in words_of(s, translator.src_lang)]
        if not words:
            raise ValueError("the pairs contain no source words")
        return sum(bool(translator.unseen_words(w)) for w in words) / len(words)
    sources = [p.src for p in pairs] if per == "pair" else references_by_source(pairs)[0]
    if not sources:
        raise ValueError("there are no source sentences")
    return sum(bool(translator.unseen_words(s)) for s in sources) / len(sources)


def _demo_translator() -> dict:
    """A tiny untrained translator whose English pieces were learned from half of the pairs, so
    that some sentences of the other half have words it never saw."""
    import companion
    from companion import translation
    from companion.data import generate_pairs
    from companion.data.subwords import SubwordVocab

    pairs = generate_pairs("numbers", 60, seed=0)
    settings = translation.settings_for("smoke", "en-zh", "gru", hidden=8, emb_dim=8, max_len=8)
    src_vocab = SubwordVocab.train([p.src for p in pairs[:30]], lang="en", vocab_size=300)
    tgt_vocab = SubwordVocab.train([p.tgt for p in pairs], lang="zh")
    companion.seed_everything(0)
    model = stop_early(translation.build_model(settings, len(src_vocab), len(tgt_vocab)).eval())
    tr = translation.Translator(model, src_vocab, tgt_vocab, settings)
    return {"translator": tr, "pairs": pairs[30:]}


def _translator_names(context) -> dict:
    import companion
    from companion import translation

    return {
        "translators": {
            ("en-zh", "transformer"): context["translator"],
            ("en-zh", "gru"): context["translator"],
        },
        "test": {"en-zh": context["pairs"]},
        "translation": translation,
        "companion": companion,
        "device": model_device(context["translator"].model),
    }


experiment_exercise(
    id="5.3.7-unseen-words",
    section=N_("5.3.7 subword pieces and the words a model never saw"),
    title=N_("How many English test sentences have a word the translator never saw in training?"),
    measure=_unseen_rate,
    precision=Precision(3),
    answer_name="unseen_rate",
    mistakes=[
        (
            "pairs",
            lambda ctx: _unseen_rate(ctx, per="pair"),
            N_(
                "you counted pairs; an English sentence with several Chinese translations appears "
                "in several pairs — count each distinct source sentence once"
            ),
        ),
        (
            "words",
            lambda ctx: _unseen_rate(ctx, per="word"),
            N_(
                "that is the fraction of words; the question asks for the fraction of sentences "
                "with at least one unseen word (those the translator box warns about)"
            ),
        ),
        (
            "percentage",
            lambda ctx: 100 * _unseen_rate(ctx),
            N_("that looks like a percentage; give the fraction (0…1)"),
        ),
    ],
    solution=N_(
        """\
tr = translators["en-zh", "transformer"]
sources, _ = translation.references_by_source(test["en-zh"])
unseen_rate = sum(bool(tr.unseen_words(s)) for s in sources) / len(sources)
"""
    ),
    solution_names=_translator_names,
    solution_note=N_(
        "With subword pieces nothing becomes <unk>: an unseen word is spelled from smaller pieces "
        "(or bytes) and reaches the encoder. But the model never learned what those pieces mean "
        "together, so it guesses — often a frequent word with similar pieces. Names, rare nouns "
        "and typos are where a small corpus like Tatoeba runs out."
    ),
    success=N_(
        "{value} is right: that many test sentences make the translator box warn about a word."
    ),
    hints=(
        N_(
            "Group the test pairs by source (translation.references_by_source) so every English "
            "sentence counts once."
        ),
        N_(
            "tr.unseen_words(sentence) lists the words of a sentence that never occurred in the "
            "training sentences; a sentence counts when that list is not empty."
        ),
    ),
    needs=("translator", "pairs"),
    demo_context=_demo_translator,
)


# ---------------------------------------------------------------- 5.3.7-search-errors (experiment)


def _scores(context) -> tuple[list[float], list[tuple[list[int], float]], list[list[int]]]:
    """log p(reference | x) by teacher forcing, greedy's (tokens, score), and the references."""
    from companion.data import Seq2SeqData
    from companion.inference import decode_data

    translator, pairs = context["translator"], context["pairs"]
    data = Seq2SeqData(
        list(pairs),
        translator.src_lang,
        translator.tgt_lang,
        translator.src_vocab,
        translator.tgt_vocab,
    )
    model = translator.model
    batch = data.batch(list(range(len(data)))).to(model_device(model))
    model.eval()
    with torch.no_grad():
        log_probs = model(batch.src, batch.src_lengths, batch.tgt_in).log_softmax(-1)
        per_token = log_probs.gather(-1, batch.tgt_out[..., None]).squeeze(-1)
        reference = (per_token * batch.tgt_mask).sum(-1).tolist()
    greedy = [
        (h[0].tokens, h[0].score)
        for h in decode_data(model, data, max_len=translator.settings.max_len)
    ]
    eos = translator.tgt_vocab.eos_id
    return reference, greedy, [ids + [eos] for ids in data.tgt_ids]


def _search_errors(context, *, any_difference: bool = False) -> float:
    reference, greedy, targets = _scores(context)
    errors = [
        tokens != target and (any_difference or ref > score)
        for ref, (tokens, score), target in zip(reference, greedy, targets, strict=True)
    ]
    return sum(errors) / len(errors)


def _demo_search() -> dict:
    """A tiny untrained translator whose references are, for every other pair, its own beam-search
    outputs: where the beam found an output greedy search missed, the model prefers the
    reference — a search error, so that ``verify`` sees both kinds of sentence."""
    import companion
    from companion import translation
    from companion.data import Pair, Vocab, generate_pairs
    from companion.data.vocab import tokenize

    pairs = generate_pairs("numbers", 40, seed=0)
    settings = translation.settings_for("smoke", "en-zh", "gru", hidden=8, emb_dim=8, max_len=6)
    src_vocab = Vocab.build(tokenize(p.src, "en") for p in pairs)
    tgt_vocab = Vocab.build(tokenize(p.tgt, "zh") for p in pairs)
    companion.seed_everything(0)
    model = translation.build_model(settings, len(src_vocab), len(tgt_vocab)).eval()
    translator = translation.Translator(model, src_vocab, tgt_vocab, settings)
    sources = [p.src for p in pairs]
    beams = translation.translate_sentences(translator, sources, beam_width=4)
    pairs = [
        Pair(p.src, beam) if k % 2 and beam else p
        for k, (p, beam) in enumerate(zip(pairs, beams, strict=True))
    ]
    return {"translator": translator, "pairs": pairs}


experiment_exercise(
    id="5.3.7-search-errors",
    section=N_("5.3.4 greedy and beam search, in 5.3.7"),
    title=N_("Search errors: how often does the model prefer the reference to its greedy output?"),
    measure=_search_errors,
    precision=Precision(2),
    answer_name="search_errors",
    mistakes=[
        (
            "any-difference",
            lambda ctx: _search_errors(ctx, any_difference=True),
            N_(
                "that is the fraction of outputs that differ from the reference; a search error is "
                "one where the model itself gives the reference a higher log p(y|x) than the "
                "output greedy search found"
            ),
        ),
    ],
    solution=N_(
        """\
from companion.data import Seq2SeqData
from companion.inference import decode_data

tr = translators["en-zh", "gru"]
pairs = test["en-zh"][:100]
data = Seq2SeqData(pairs, "en", "zh", tr.src_vocab, tr.tgt_vocab)
batch = data.batch(list(range(len(data)))).to(device)
tr.model.eval()
with torch.no_grad():
    log_probs = tr.model(batch.src, batch.src_lengths, batch.tgt_in).log_softmax(-1)
    per_token = log_probs.gather(-1, batch.tgt_out[..., None]).squeeze(-1)  # log p(y_t | y_<t, x)
    reference_score = (per_token * batch.tgt_mask).sum(-1).tolist()  # log p(reference | x)
greedy = decode_data(tr.model, data, max_len=tr.settings.max_len)
eos = tr.tgt_vocab.eos_id
errors = [
    h[0].tokens != ids + [eos] and score > h[0].score  # the model prefers what greedy missed
    for h, ids, score in zip(greedy, data.tgt_ids, reference_score)
]
search_errors = sum(errors) / len(errors)
"""
    ),
    solution_names=_translator_names,
    solution_note=N_(
        "Every search error is a sentence on which a better search — beam search — could find an "
        "output the model likes more. The other wrong outputs are model errors: there the model "
        "prefers its own output to the reference, and no search can help; only a better model "
        "(or more data) can. On real sentences model errors usually dominate, which is why a beam "
        "raises BLEU only a little."
    ),
    hints=(
        N_(
            "Build a Seq2SeqData of the first 100 test pairs with the translator's vocabularies: "
            "its batch gives tgt_in, tgt_out and tgt_mask, and the model's forward pass with "
            "teacher forcing gives log p of every reference token."
        ),
        N_(
            "log p(reference | x) is the masked sum of the reference tokens' log-probabilities "
            "(⟨eos⟩ included); decode_data(model, data, max_len=...) gives greedy's outputs with "
            "their scores h[0].score on the same scale."
        ),
        N_(
            "Count the pairs whose greedy output differs from the reference although the reference "
            "scores higher, and divide by the number of pairs."
        ),
    ),
    needs=("translator", "pairs"),
    demo_context=_demo_search,
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.7-real-sentences",
    section=N_("5.3.7 the translator"),
    title=N_("Why the translator scores far below the generated tasks"),
    answer=N_(
        "The generated tasks have a small closed vocabulary and a fixed grammar, so a model can "
        "learn them completely; real sentences use thousands of words, most of them rare, many "
        "seen once or never (subword pieces spell them, but the model never learned what they "
        "mean), and one meaning has many correct translations while Tatoeba gives one or a few as "
        "references. The translator is also small and trained "
        "for minutes on about twenty thousand pairs, where real systems use millions. BLEU then "
        "counts every legitimate rewording as an error, so even a useful translation scores "
        "low."
    ),
)
