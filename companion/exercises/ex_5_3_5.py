"""Exercises of notebook 5.3.5, BLEU (双语评估替补): clipped precision, brevity penalty (5-25),
(5-26), corpus BLEU."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.i18n import N_

# ---------------------------------------------------------------- 5.3.5-clipped-bigram (predict)
# hypothesis "the cat the cat on the mat"; references "the cat is on the mat",
# "there is a cat on the mat". Six hypothesis bigrams; "the cat" twice but at most once in a
# reference, "cat the" nowhere, "cat on" only in reference 2 → clipped matches 1 + 1 + 1 + 1 = 4.

predict_exercise(
    id="5.3.5-clipped-bigram",
    section=N_("5.3.5 clipped n-gram precision"),
    title=N_("The clipped bigram precision p₂ of a repetitive hypothesis, by hand"),
    value=4 / 6,
    precision=Precision(2, fractions=True),
    answer_name="clipped_p2",
    mistakes=[
        (
            "unclipped",
            5 / 6,
            N_(
                "5/6 counts “the cat” twice, but no reference contains it twice: clip each count "
                "at its largest count in a single reference"
            ),
        ),
        (
            "one-reference-at-a-time",
            3 / 6,
            N_(
                "3/6 is the precision against one reference alone (the book's per-reference "
                "reading); BLEU clips by the maximum over all references at once, so “cat on” "
                "from reference 2 counts too"
            ),
        ),
        (
            "distinct-bigrams",
            4 / 5,
            N_(
                "4/5 divides by the 5 distinct bigrams; the denominator counts every hypothesis "
                "bigram, repeats included (6)"
            ),
        ),
    ],
    solution=N_(
        """\
# hypothesis bigrams (6): the cat, cat the, the cat, cat on, on the, the mat
# largest count in any one reference: the cat 1, cat the 0, cat on 1 (reference 2), on the 1,
# the mat 1
clipped = min(2, 1) + 0 + 1 + 1 + 1  # 4
clipped_p2 = clipped / 6  # 4/6 ≈ 0.67
"""
    ),
    solution_note=N_(
        "Check: companion.metrics.modified_precision(hyp.split(), [r.split() for r in refs], 2) "
        "== (4, 6)."
    ),
    hints=(
        N_("List the 6 bigrams of the hypothesis, repeats included; the denominator is 6."),
        N_(
            "Each bigram is credited at most as often as it occurs in the single reference where "
            "it is most frequent — both references are searched."
        ),
        N_("“the cat” occurs twice in the hypothesis but at most once in a reference."),
    ),
)


# ---------------------------------------------------------------- 5.3.5-bleu2-by-hand (predict)
# hypothesis "the cat on the mat" (c = 5), reference "the cat is on the mat" (r = 6):
# p₁ = 5/5, p₂ = 3/4 (“cat on” is missing), BP = exp(1 − 6/5), BLEU-2 = BP·√(p₁p₂), ×100.
_BP = math.exp(1 - 6 / 5)
_BLEU2 = 100 * _BP * math.sqrt(1.0 * 0.75)

predict_exercise(
    id="5.3.5-bleu2-by-hand",
    section=N_("5.3.5 (5-25), (5-26)"),
    title=N_("BLEU-2 (N = 2) of a short hypothesis, by hand"),
    value=_BLEU2,
    precision=Precision(1),
    answer_name="bleu2",
    mistakes=[
        (
            "no-brevity-penalty",
            100 * math.sqrt(0.75),
            N_(
                "86.6 leaves out the brevity penalty (5-25): the hypothesis (5 tokens) is shorter "
                "than the reference (6), so BP = exp(1 − 6/5) < 1"
            ),
        ),
        (
            "arithmetic-mean",
            100 * _BP * (1.0 + 0.75) / 2,
            N_(
                "you averaged the precisions arithmetically; (5-26) takes the geometric mean "
                "exp(Σ wₙ log pₙ) with wₙ = 1/N"
            ),
        ),
        (
            "fraction",
            _BLEU2 / 100,
            N_("that is BLEU as a fraction; report it ×100, as sacrebleu and companion.metrics do"),
        ),
        (
            "inverted-ratio",
            100 * math.exp(1 - 5 / 6) * math.sqrt(0.75),
            N_(
                "your brevity penalty is exp(1 − c/r), above 1; (5-25) is exp(1 − r/c) with r the "
                "reference length and c the hypothesis length"
            ),
        ),
    ],
    solution=N_(
        """\
c, r = 5, 6  # hypothesis and reference lengths
p1 = 5 / 5  # every hypothesis word is in the reference
p2 = 3 / 4  # the cat ✓, cat on ✗, on the ✓, the mat ✓
bp = math.exp(1 - r / c)  # (5-25): c < r, so BP ≈ 0.8187
bleu2 = 100 * bp * math.sqrt(p1 * p2)  # (5-26) with w₁ = w₂ = ½: ≈ 70.9
"""
    ),
    solution_note=N_(
        'Check: companion.metrics.sentence_bleu("the cat on the mat", "the cat is on the '
        'mat", max_order=2).'
    ),
    hints=(
        N_("Count c and r, then p₁ and p₂ (split on spaces)."),
        N_("The hypothesis is shorter than the reference, so BP = exp(1 − r/c)."),
        N_("BLEU-2 = 100 · BP · √(p₁ · p₂)."),
    ),
)


# ---------------------------------------------------------------- 5.3.5-corpus-bleu (predict)
# hypotheses "the cat sat on a mat" | "a dog ran", references "the cat sat on the mat" |
# "a dog ran in the park". Corpus BLEU pools the counts: p₁ = (5 + 3)/(6 + 3), p₂ = (3 + 2)/(5 + 2),
# c = 9, r = 12 — not the mean of the two sentence scores (70.7 and 36.8).
_P1, _P2 = 8 / 9, 5 / 7
_CORPUS = 100 * math.exp(1 - 12 / 9) * math.sqrt(_P1 * _P2)
_SENTENCES = (100 * math.sqrt(5 / 6 * 3 / 5), 100 * math.exp(1 - 6 / 3))

predict_exercise(
    id="5.3.5-corpus-bleu",
    section=N_("5.3.5 corpus BLEU (5-25), (5-26)"),
    title=N_("Corpus BLEU-2 of two sentences is not the mean of their sentence BLEUs"),
    value=_CORPUS,
    precision=Precision(1),
    answer_name="corpus_bleu2",
    mistakes=[
        (
            "mean-of-sentences",
            sum(_SENTENCES) / 2,
            N_(
                "that is the mean of the two sentence BLEUs; corpus BLEU adds up the clipped "
                "matches, the n-gram counts and the lengths over all sentences first, then applies "
                "(5-25) and (5-26) once"
            ),
        ),
        (
            "mean-of-precisions",
            100 * math.exp(1 - 12 / 9) * math.sqrt((5 / 6 + 1) / 2 * (3 / 5 + 1) / 2),
            N_(
                "you averaged the sentences' precisions; pool their counts instead: p₁ = (5 + 3) "
                "matches over (6 + 3) unigrams, and likewise for p₂"
            ),
        ),
        (
            "no-brevity-penalty",
            100 * math.sqrt(_P1 * _P2),
            N_(
                "the brevity penalty is missing: the hypotheses have 9 tokens in all, the "
                "references 12"
            ),
        ),
        (
            "fraction",
            _CORPUS / 100,
            N_("that is BLEU as a fraction; report it ×100"),
        ),
    ],
    solution=N_(
        """\
# pool the counts of both sentences: sentence 1 has 5/6 unigrams and 3/5 bigrams matched,
# sentence 2 has 3/3 and 2/2
p1 = (5 + 3) / (6 + 3)
p2 = (3 + 2) / (5 + 2)
c, r = 6 + 3, 6 + 6  # total hypothesis and reference lengths
corpus_bleu2 = 100 * math.exp(1 - r / c) * math.sqrt(p1 * p2)  # ≈ 57.1
"""
    ),
    solution_note=N_(
        "The sentence BLEUs are 70.7 and 36.8 (mean 53.8): the short second hypothesis is "
        "penalised on its own, whereas in the corpus its shortness is measured against all the "
        "text. Check: companion.metrics.corpus_bleu(hyps, refs, max_order=2)."
    ),
    hints=(
        N_(
            "Corpus BLEU does not average sentence scores: it adds up the matches and the n-gram "
            "counts of all sentences, and the lengths c and r, then applies (5-26) and (5-25) once."
        ),
        N_(
            "Sentence 1: 5 of 6 unigrams and 3 of 5 bigrams match; sentence 2: 3 of 3 and 2 of 2. "
            "c = 9, r = 12."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.5-brevity-penalty (implement)


def _bp_sacrebleu(hyp_len: int, ref_len: int) -> float:
    """The independent reference: sacrebleu's brevity penalty, read off its BLEU computation."""
    from sacrebleu.metrics.bleu import BLEU

    return BLEU.compute_bleu([1], [1], hyp_len, ref_len, max_ngram_order=1).bp


_BP_CASES = [(5, 6), (6, 5), (10, 10), (1, 20), (30, 12), (3, 4), (17, 40), (0, 7)]

implement_exercise(
    id="5.3.5-brevity-penalty",
    section=N_("5.3.5 (5-25)"),
    title=N_("brevity_penalty(hyp_len, ref_len): the brevity penalty (5-25)"),
    answer_name="brevity_penalty",
    spec=FunctionSpec(
        cases=lambda: _BP_CASES,
        expected=_bp_sacrebleu,
        rtol=1e-6,
        atol=1e-9,
        success=N_("agrees with sacrebleu's brevity penalty on {n} hidden length pairs."),
    ),
    mistakes=(
        Mistake(
            "swapped",
            lambda ctx: lambda c, r: _bp_sacrebleu(r, c),
            N_(
                "you swapped the lengths: the penalty applies when the hypothesis (c, hyp_len) is "
                "shorter than the reference (r, ref_len)"
            ),
        ),
        Mistake(
            "no-cap",
            lambda ctx: lambda c, r: math.exp(1 - r / c) if c else 0.0,
            N_(
                "your penalty exceeds 1 for hypotheses longer than the reference; (5-25) is 1 "
                "when c > r — longer outputs are not rewarded"
            ),
        ),
        Mistake(
            "inverted-ratio",
            lambda ctx: lambda c, r: 1.0 if c >= r else math.exp(1 - c / r),
            N_("you used exp(1 − c/r); (5-25) is exp(1 − r/c), which falls to 0 as c → 0"),
        ),
        Mistake(
            "zero-length",
            lambda ctx: lambda c, r: 1.0 if c >= r else math.exp(1 - r / c),
            N_(
                "an empty hypothesis (c = 0) must get BP = 0, the limit of exp(1 − r/c) as "
                "c → 0: guard the division"
            ),
            fix=lambda ctx: (
                lambda c, r: 1.0 if c >= r else (0.0 if c == 0 else math.exp(1 - r / c))
            ),
        ),
    ),
    solution=N_(
        """\
def brevity_penalty(hyp_len, ref_len):
    if hyp_len >= ref_len:  # long enough (c = r gives 1 in both cases of (5-25))
        return 1.0
    if hyp_len == 0:  # the limit of exp(1 − r/c) as c → 0
        return 0.0
    return math.exp(1 - ref_len / hyp_len)
"""
    ),
    solution_note=N_("companion.metrics.brevity_penalty is the same function with input checks."),
    hints=(
        N_(
            "(5-25) has two cases: c > r gives 1, otherwise exp(1 − r/c); c is the hypothesis "
            "length."
        ),
        N_("What should an empty hypothesis (c = 0) get? Look at exp(1 − r/c) as c → 0."),
        N_(
            "if hyp_len >= ref_len: 1.0; elif hyp_len == 0: 0.0; else "
            "math.exp(1 - ref_len / hyp_len)"
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.5-sentence-bleu (implement)


def _ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _bleu_variant(
    hyp,
    refs,
    max_order=4,
    *,
    mean="geometric",
    bp=True,
    ref_len="closest",
    clip=True,
    scale=100.0,
    zero="zero",
) -> float:
    """BLEU of one tokenised sentence without smoothing, and the typical ways to get it wrong."""
    precisions = []
    for n in range(1, max_order + 1):
        hyp_counts = _ngram_counts(hyp, n)
        best: Counter = Counter()
        for ref in refs:
            best |= _ngram_counts(ref, n)
        if clip:
            matches = sum(min(c, best[g]) for g, c in hyp_counts.items())
        else:
            matches = sum(c for g, c in hyp_counts.items() if best[g])
        total = sum(hyp_counts.values())
        precisions.append(matches / total if total else 0.0)
    if mean == "arithmetic":
        core = sum(precisions) / max_order
    elif min(precisions) == 0 and zero == "zero":
        return 0.0
    else:  # zero == "log": math.log(0) raises, as a slip in the student's code would
        core = math.exp(sum(math.log(p) for p in precisions) / max_order)
    lengths = [len(r) for r in refs]
    r = {
        "closest": min(lengths, key=lambda x: (abs(x - len(hyp)), x)),
        "shortest": min(lengths),
        "longest": max(lengths),
    }[ref_len]
    c = len(hyp)
    penalty = 1.0 if (not bp or c >= r) else (math.exp(1 - r / c) if c else 0.0)
    return scale * penalty * core


def _bleu_sacrebleu(hyp, refs, max_order=4) -> float:
    """The independent reference: sacrebleu on space-joined tokens, no smoothing, no tokeniser."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(tokenize="none", smooth_method="none", max_ngram_order=max_order)
    return metric.corpus_score([" ".join(hyp)], [[" ".join(r)] for r in refs]).score


def _bleu_cases() -> list[tuple]:
    rng = random.Random(535)
    words = "the cat dog sat on a mat is there".split()
    cases = [
        (
            "the cat sat on the mat".split(),
            ["the cat is on the mat".split(), "there is a cat on the mat".split()],
            4,
        ),
        ("the the the the".split(), ["the cat is on the mat".split()], 2),  # clipping
        ("cat on".split(), ["the cat is on the mat".split(), "a cat on a mat".split()], 2),
        ("a b c".split(), ["x y z w".split()], 4),  # nothing matches
    ]
    for _ in range(8):
        ref = [rng.choice(words) for _ in range(rng.randint(6, 12))]
        hyp = list(ref)
        for _ in range(rng.randint(1, 3)):  # a few edits keep matches at every order
            op = rng.random()
            k = rng.randrange(len(hyp))
            if op < 0.4:
                hyp[k] = rng.choice(words)
            elif op < 0.7 and len(hyp) > 4:
                del hyp[k]
            else:
                hyp.insert(k, rng.choice(words))
        other = [rng.choice(words) for _ in range(rng.randint(4, 14))]
        cases.append((hyp, [ref, other], rng.choice([2, 3, 4])))
    return cases


implement_exercise(
    id="5.3.5-sentence-bleu",
    section=N_("5.3.5 (5-25), (5-26)"),
    title=N_("bleu(hypothesis, references, max_order): sentence BLEU from the two formulas"),
    answer_name="bleu",
    spec=FunctionSpec(
        cases=_bleu_cases,
        expected=_bleu_sacrebleu,
        rtol=1e-6,
        atol=1e-6,
        success=N_("equals sacrebleu (no smoothing) on {n} hidden sentences."),
    ),
    mistakes=(
        Mistake(
            "fraction",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, scale=1.0),
            N_("your score is BLEU as a fraction; return it ×100 (0–100), like sacrebleu"),
        ),
        Mistake(
            "no-brevity-penalty",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, bp=False),
            N_("short hypotheses score too high: multiply by the brevity penalty (5-25)"),
        ),
        Mistake(
            "arithmetic-mean",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, mean="arithmetic"),
            N_(
                "you averaged the precisions arithmetically; (5-26) is a geometric mean, "
                "exp(Σ wₙ log pₙ) with wₙ = 1/N"
            ),
        ),
        Mistake(
            "unclipped",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, clip=False),
            N_(
                "repeated n-grams are over-credited: clip each count at its largest count in a "
                "single reference"
            ),
        ),
        Mistake(
            "shortest-reference",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, ref_len="shortest"),
            N_(
                "your brevity penalty uses the shortest reference; r is the reference length "
                "closest to the hypothesis length (the shorter one on a tie)"
            ),
        ),
        Mistake(
            "log-of-zero",
            lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, zero="log"),
            N_(
                "your function fails when some n-gram order has no match: a zero precision makes "
                "the geometric mean (5-26), and so BLEU, 0 — return 0.0 instead of taking log(0)"
            ),
            fix=lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, zero="zero"),
        ),
    ),
    solution=N_(
        """\
from collections import Counter


def bleu(hypothesis, references, max_order=4):
    def grams(tokens, n):
        return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    log_sum = 0.0
    for n in range(1, max_order + 1):
        best = Counter()
        for ref in references:
            best |= grams(ref, n)  # the largest count in any one reference
        hyp = grams(hypothesis, n)
        matches = sum(min(c, best[g]) for g, c in hyp.items())  # clipping
        total = sum(hyp.values())
        if matches == 0:
            return 0.0  # a geometric mean with a zero factor
        log_sum += math.log(matches / total) / max_order  # w_n = 1/N, (5-26)
    c = len(hypothesis)
    r = min((len(ref) for ref in references), key=lambda x: (abs(x - c), x))
    bp = 1.0 if c >= r else math.exp(1 - r / c)  # (5-25)
    return 100 * bp * math.exp(log_sum)
"""
    ),
    hints=(
        N_(
            "Three pieces: clipped precisions p₁…p_N, the brevity penalty (5-25) with r the "
            "closest reference length, and the geometric mean (5-26)."
        ),
        N_(
            "Clip every hypothesis n-gram count by its maximum count over the references "
            "(Counter's | operator keeps maxima). If any pₙ is 0, BLEU is 0."
        ),
        N_("100 · BP · exp(Σₙ log(pₙ) / N)"),
    ),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.5-bleu-limits",
    section=N_("5.3.5 BLEU"),
    title=N_("What BLEU cannot see"),
    answer=N_(
        "BLEU counts n-grams shared with the references. A correct translation that uses "
        'synonyms or another word order than every reference ("the feline sat on the rug") '
        "shares few n-grams and scores low, which is why several references help. Conversely a "
        "fluent-looking output with the right words can score well although one word reverses the "
        'meaning ("not" missing costs one unigram). BLEU is meant for corpora: per sentence it is '
        "noisy and often 0 without smoothing, and numbers are comparable only with the same "
        "references and tokenisation."
    ),
)
