"""Exercises of notebook 5.3.5, BLEU (双语评估替补):
clipped precision, brevity penalty (5-25), (5-26).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence

from companion.exercises.core import (
    CheckFailed,
    Exercise,
    Mistake,
    as_number,
    check_number,
    close,
    predict_exercise,
)
from companion.exercises.sequences import call_student, register

# ---------------------------------------------------------------- 5.3.5-clipped-bigram (predict)
# hypothesis "the cat the cat on the mat"; references "the cat is on the mat",
# "there is a cat on the mat". Six hypothesis bigrams; "the cat" twice but at most once in a
# reference, "cat the" nowhere, "cat on" only in reference 2 → clipped matches 1 + 1 + 1 + 1 = 4.

predict_exercise(
    id="5.3.5-clipped-bigram",
    section="5.3.5 clipped n-gram precision",
    title="The clipped bigram precision p₂ of a repetitive hypothesis, by hand",
    value=4 / 6,
    rtol=1e-3,
    mistakes=[
        (
            "unclipped",
            5 / 6,
            "5/6 counts “the cat” twice, but no reference contains it twice: clip each count at "
            "its largest count in a single reference",
        ),
        (
            "one-reference-at-a-time",
            3 / 6,
            "3/6 is the precision against one reference alone (the book's per-reference "
            "reading); BLEU clips by the maximum over all references at once, so “cat on” "
            "from reference 2 counts too",
        ),
        (
            "distinct-bigrams",
            4 / 5,
            "4/5 divides by the 5 distinct bigrams; the denominator counts every hypothesis "
            "bigram, repeats included (6)",
        ),
    ],
    solution_text="""
Hypothesis bigrams (6): the cat, cat the, the cat, cat on, on the, the mat.
Largest count in any one reference: the cat 1, cat \
the 0, cat on 1 (reference 2), on the 1, the mat 1.
Clipped matches: min(2, 1) + 0 + 1 + 1 + 1 = 4, so p₂ = 4/6 ≈ 0.667.
Check: companion.metrics.modified_precision(hyp.split(), [r.split() for r in refs], 2) \
== (4, 6).""",
    hints=(
        "List the 6 bigrams of the hypothesis, repeats included; the denominator is 6.",
        "Each bigram is credited at most as often as it occurs in the single reference where "
        "it is most frequent — both references are searched.",
        "“the cat” occurs twice in the hypothesis but at most once in a reference.",
    ),
)


# ---------------------------------------------------------------- 5.3.5-bleu2-by-hand (predict)
# hypothesis "the cat on the mat" (c = 5), reference "the cat is on the mat" (r = 6):
# p₁ = 5/5, p₂ = 3/4 (“cat on” is missing), BP = exp(1 − 6/5), BLEU-2 = BP·√(p₁p₂), ×100.
_BP = math.exp(1 - 6 / 5)
_BLEU2 = 100 * _BP * math.sqrt(1.0 * 0.75)

predict_exercise(
    id="5.3.5-bleu2-by-hand",
    section="5.3.5 (5-25), (5-26)",
    title="BLEU-2 (N = 2) of a short hypothesis, by hand",
    value=_BLEU2,
    rtol=5e-4,
    mistakes=[
        (
            "no-brevity-penalty",
            100 * math.sqrt(0.75),
            "86.6 leaves out the brevity penalty (5-25): the hypothesis (5 tokens) is shorter "
            "than the reference (6), so BP = exp(1 − 6/5) < 1",
        ),
        (
            "arithmetic-mean",
            100 * _BP * (1.0 + 0.75) / 2,
            "you averaged the precisions arithmetically; (5-26) takes the geometric mean "
            "exp(Σ wₙ log pₙ) with wₙ = 1/N",
        ),
        (
            "fraction",
            _BLEU2 / 100,
            "that is BLEU as a fraction; report it ×100, as sacrebleu and companion.metrics do",
        ),
        (
            "inverted-ratio",
            100 * math.exp(1 - 5 / 6) * math.sqrt(0.75),
            "your brevity penalty is exp(1 − c/r), above 1; (5-25) is exp(1 − r/c) with r the "
            "reference length and c the hypothesis length",
        ),
    ],
    solution_text=f"""
c = 5, r = 6. p₁ = 5/5 = 1; bigrams: the cat ✓, cat on ✗, on the ✓, the mat ✓ → p₂ = 3/4.
BP = exp(1 − 6/5) = {_BP:.4f} (5-25);  BLEU-2 = BP · (p₁ · p₂)^(1/2) \
= {_BP:.4f} · {math.sqrt(0.75):.4f}
= {_BLEU2 / 100:.4f} → {_BLEU2:.2f} (5-26).
Check: companion.metrics.sentence_bleu("the cat on the mat", \
"the cat is on the mat", max_order=2).""",
    hints=(
        "Count c and r, then p₁ and p₂ (split on spaces).",
        "The hypothesis is shorter than the reference, so BP = exp(1 − r/c).",
        "BLEU-2 = 100 · BP · √(p₁ · p₂).",
    ),
)


# ---------------------------------------------------------------- 5.3.5-brevity-penalty (implement)


def _bp_sacrebleu(hyp_len: int, ref_len: int) -> float:
    """The independent reference: sacrebleu's brevity penalty, read off its BLEU computation."""
    from sacrebleu.metrics.bleu import BLEU

    return BLEU.compute_bleu([1], [1], hyp_len, ref_len, max_ngram_order=1).bp


def _bp_reference(context):
    from companion.metrics import brevity_penalty

    return brevity_penalty


_BP_CASES = [(5, 6), (6, 5), (10, 10), (1, 20), (30, 12), (3, 4), (17, 40), (0, 7)]

_BP_MISTAKES = (
    Mistake(
        "swapped",
        lambda ctx: lambda c, r: _bp_sacrebleu(r, c),
        "you swapped the lengths: the penalty applies when the hypothesis (c, hyp_len) is "
        "shorter than the reference (r, ref_len)",
    ),
    Mistake(
        "no-cap",
        lambda ctx: lambda c, r: math.exp(1 - r / c) if c else 0.0,
        "your penalty exceeds 1 for hypotheses longer than the reference; (5-25) is 1 when "
        "c > r — longer outputs are not rewarded",
    ),
    Mistake(
        "inverted-ratio",
        lambda ctx: lambda c, r: 1.0 if c >= r else math.exp(1 - c / r),
        "you used exp(1 − c/r); (5-25) is exp(1 − r/c), which falls to 0 as c → 0",
    ),
    Mistake(
        "zero-length",
        lambda ctx: lambda c, r: 1.0 if c >= r else math.exp(1 - r / c),
        "an empty hypothesis (c = 0) must get BP = 0, the limit of exp(1 − r/c) as c → 0: "
        "guard the division",
    ),
)


def _check_bp(answer, context) -> str:
    wrong_fns = [(m, m.make(context)) for m in _BP_MISTAKES]
    for c, r in _BP_CASES:
        expected = _bp_sacrebleu(c, r)
        got, failure = call_student(answer, c, r)
        if c == 0 and (failure is not None or not _finite(got)):
            raised = f" (your function raised {type(failure.error).__name__})" if failure else ""
            raise CheckFailed(_BP_MISTAKES[-1].message + raised)
        if failure is not None:
            raise failure
        value = as_number(got, f"brevity_penalty({c}, {r})")
        if close(value, expected, rtol=1e-6, atol=1e-9):
            continue
        for mistake, wrong_fn in wrong_fns:
            try:
                wrong = wrong_fn(c, r)
            except ZeroDivisionError:
                continue
            if close(value, wrong, rtol=1e-6, atol=1e-9):
                raise CheckFailed(f"brevity_penalty({c}, {r}) = {value:.4g}: {mistake.message}")
        raise CheckFailed(
            f"brevity_penalty(hyp_len={c}, ref_len={r}) returned {value:.6g}, "
            f"expected {expected:.6g}"
        )
    return f"agrees with sacrebleu's brevity penalty on {len(_BP_CASES)} hidden length pairs."


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True  # not a number at all: as_number reports that


register(
    Exercise(
        id="5.3.5-brevity-penalty",
        section="5.3.5 (5-25)",
        kind="implement",
        title="brevity_penalty(hyp_len, ref_len): the brevity penalty (5-25)",
        checker=_check_bp,
        reference=_bp_reference,
        solution_text="""
import math

def brevity_penalty(hyp_len, ref_len):
    if hyp_len >= ref_len:        # long enough (c = r gives 1 in both cases of (5-25))
        return 1.0
    if hyp_len == 0:              # the limit of exp(1 - r/c) as c -> 0
        return 0.0
    return math.exp(1 - ref_len / hyp_len)

companion.metrics.brevity_penalty is the same function with input checks.""",
        hints=(
            "(5-25) has two cases: c > r gives 1, otherwise "
            "exp(1 − r/c); c is the hypothesis length.",
            "What should an empty hypothesis (c = 0) get? Look at exp(1 − r/c) as c → 0.",
            "if hyp_len >= ref_len: 1.0; elif hyp_len == "
            "0: 0.0; else math.exp(1 - ref_len / hyp_len)",
        ),
        mistakes=_BP_MISTAKES,
    )
)


# ---------------------------------------------------------------- 5.3.5-sentence-bleu (implement)


def _ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _bleu_variant(
    hyp, refs, max_order=4, *, mean="geometric", bp=True, ref_len="closest", clip=True, scale=100.0
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
    elif min(precisions) == 0:
        return 0.0
    else:
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
        ("a b c".split(), ["x y z w".split()], 4),
    ]  # nothing matches
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


_BLEU_MISTAKES = (
    Mistake(
        "fraction",
        lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, scale=1.0),
        "your score is BLEU as a fraction; return it ×100 (0–100), like sacrebleu",
    ),
    Mistake(
        "no-brevity-penalty",
        lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, bp=False),
        "short hypotheses score too high: multiply by the brevity penalty (5-25)",
    ),
    Mistake(
        "arithmetic-mean",
        lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, mean="arithmetic"),
        "you averaged the precisions arithmetically; (5-26) is a geometric mean, "
        "exp(Σ wₙ log pₙ) with wₙ = 1/N",
    ),
    Mistake(
        "unclipped",
        lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, clip=False),
        "repeated n-grams are over-credited: clip each count at its largest count in a "
        "single reference",
    ),
    Mistake(
        "shortest-reference",
        lambda ctx: lambda h, r, n=4: _bleu_variant(h, r, n, ref_len="shortest"),
        "your brevity penalty uses the shortest reference; r is the reference length "
        "closest to the hypothesis length (the shorter one on a tie)",
    ),
)


def _check_bleu(answer, context) -> str:
    cases = _bleu_cases()
    values = []
    for hyp, refs, order in cases:
        got, failure = call_student(answer, list(hyp), [list(r) for r in refs], order)
        if failure is not None:
            if (
                isinstance(failure.error, (ValueError, ZeroDivisionError))
                and _bleu_sacrebleu(hyp, refs, order) == 0
            ):
                raise CheckFailed(
                    f"your function raised {type(failure.error).__name__} for a "
                    f"hypothesis with no matching {order}-gram: a zero precision makes "
                    "BLEU 0 (the geometric mean), do not take log(0)"
                )
            raise failure
        values.append(as_number(got, "bleu(...)"))
    expected = [_bleu_sacrebleu(*case) for case in cases]
    wrong = [
        k
        for k, (v, e) in enumerate(zip(values, expected, strict=True))
        if not close(v, e, rtol=1e-6, atol=1e-6)
    ]
    if not wrong:
        return f"equals sacrebleu (no smoothing) on {len(cases)} hidden sentences."
    for mistake in _BLEU_MISTAKES:  # a mistake is named only if it explains every answer
        wrong_fn = mistake.make(context)
        if all(
            close(v, wrong_fn(*case), rtol=1e-6, atol=1e-6)
            for v, case in zip(values, cases, strict=True)
        ):
            raise CheckFailed(mistake.message)
    hyp, _, order = cases[wrong[0]]
    raise CheckFailed(
        f"on hidden case {wrong[0] + 1} of {len(cases)} (max_order={order}, "
        f"hypothesis {' '.join(hyp)!r}) you returned {values[wrong[0]]:.4f}, "
        f"sacrebleu says {expected[wrong[0]]:.4f}"
    )


def _bleu_reference(context) -> Callable:
    from companion.metrics import sentence_bleu

    def bleu(hypothesis, references, max_order=4):
        return sentence_bleu(
            " ".join(hypothesis),
            [" ".join(r) for r in references],
            max_order=max_order,
            smooth="none",
            tokenize="none",
            effective_order=False,
        ).score

    return bleu


register(
    Exercise(
        id="5.3.5-sentence-bleu",
        section="5.3.5 (5-25), (5-26)",
        kind="implement",
        title="bleu(hypothesis, references, max_order): sentence BLEU from the two formulas",
        checker=_check_bleu,
        reference=_bleu_reference,
        solution_text="""
import math
from collections import Counter

def bleu(hypothesis, references, max_order=4):
    def grams(tokens, n):
        return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    log_sum = 0.0
    for n in range(1, max_order + 1):
        best = Counter()
        for ref in references:
            best |= grams(ref, n)                     # max count over the references
        hyp = grams(hypothesis, n)
        matches = sum(min(c, best[g]) for g, c in hyp.items())   # clipping
        total = sum(hyp.values())
        if matches == 0:
            return 0.0                                # geometric mean with a zero factor
        log_sum += math.log(matches / total) / max_order         # w_n = 1/N  (5-26)
    c = len(hypothesis)
    r = min((len(ref) for ref in references), key=lambda x: (abs(x - c), x))
    bp = 1.0 if c >= r else math.exp(1 - r / c)                  # (5-25)
    return 100 * bp * math.exp(log_sum)""",
        hints=(
            "Three pieces: clipped precisions p₁…p_N, the brevity penalty (5-25) with r the "
            "closest reference length, and the geometric mean (5-26).",
            "Clip every hypothesis n-gram count by its maximum count over the references "
            "(Counter's | operator keeps maxima). If any pₙ is 0, BLEU is 0.",
            "100 · BP · exp(Σₙ log(pₙ) / N)",
        ),
        mistakes=_BLEU_MISTAKES,
    )
)


# ---------------------------------------------------------------- 5.3.5-bleu-orders (experiment)


def _bleu2(context) -> float:
    from companion.metrics import corpus_bleu

    return corpus_bleu(context["hypotheses"], context["references"], max_order=2).score


def _bleu_orders_mistakes() -> tuple[Mistake, ...]:
    from companion.metrics import corpus_bleu, sentence_bleu

    return (
        Mistake(
            "bleu-4",
            lambda ctx: corpus_bleu(ctx["hypotheses"], ctx["references"]).score,
            "that is BLEU-4 (max_order=4, the default); the exercise asks for max_order=2",
        ),
        Mistake(
            "mean-of-sentences",
            lambda ctx: (
                sum(
                    sentence_bleu(h, r, max_order=2).score
                    for h, r in zip(ctx["hypotheses"], ctx["references"], strict=True)
                )
                / len(ctx["hypotheses"])
            ),
            "that is the mean of sentence BLEU-2 scores; corpus BLEU sums the counts and "
            "lengths over all sentences first (corpus_bleu)",
        ),
        Mistake(
            "fraction",
            lambda ctx: _bleu2(ctx) / 100,
            "that is a fraction; report BLEU ×100 as corpus_bleu prints it",
        ),
    )


def _check_bleu_orders(answer, context) -> str:
    expected = _bleu2(context)
    bleu4 = _bleu_orders_mistakes()[0].make(context)
    check_number(answer, expected, context, _bleu_orders_mistakes(), rtol=1e-3, atol=1e-3)
    return (
        f"BLEU-2 = {expected:.2f} against BLEU-4 = {bleu4:.2f}: the higher orders are where a "
        "noisy system loses most, since one wrong word breaks up to four 4-grams."
    )


def _bleu_orders_demo() -> dict:
    hyps = ["farmer bought the a cow", "a cat sat the mat ; dog the ran", "the dog away"]
    refs = [
        ["the farmer bought a cow", "the farmer bought the cow"],
        ["the cat sat on the mat ; the dog ran", "a cat sat on a mat ; a dog ran"],
        ["the dog ran off", "a dog ran away"],
    ]
    return {"hypotheses": hyps, "references": refs}


register(
    Exercise(
        id="5.3.5-bleu-orders",
        section="5.3.5 (5-26), N",
        kind="experiment",
        title="Corpus BLEU-2 of the noisiest simulated system: how much do the high orders cost?",
        checker=_check_bleu_orders,
        reference=_bleu2,
        solution_text="""
corpus_bleu(hyps, references, max_order=2).score
`hyps` still holds the outputs of the last (noisiest) system of the loop. With N = 2 only unigram
and bigram precisions enter the geometric mean (5-26); they are much higher than p₃ and p₄, so
BLEU-2 is far above BLEU-4 for the same outputs.""",
        hints=(
            "`hyps` and `references` from the corpus cell are still defined: reuse them.",
            "companion.metrics.corpus_bleu takes max_order=…",
        ),
        needs=("hypotheses", "references"),
        demo_context=_bleu_orders_demo,
        mistakes=_bleu_orders_mistakes(),
    )
)
