"""BLEU (Papineni et al., 2002), written from the book's formulas in section 5.3.5.

For each order n = 1…N, the *modified n-gram precision* p_n counts every hypothesis n-gram at
most as often as it occurs in the single reference where it is most frequent ("clipping"), summed
over the corpus and divided by the number of hypothesis n-grams. The brevity penalty (5-25)

    BP = 1 if c > r, else exp(1 − r / c)

compares the total hypothesis length c with the total length r of the references closest in
length to each hypothesis, and the score is (5-26)

    BLEU = BP · Π_n p_n ** w_n,   w_n = 1 / N   (a geometric mean of the precisions).

Everything is reported ×100 like sacrebleu, whose options and results this module reproduces
(``tokenize``, ``lowercase``, ``smooth``, ``effective_order``). Only the tokenisers are borrowed
from sacrebleu; counting, clipping and the arithmetic are here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from companion.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_str,
    check_str_sequence,
    describe,
)

#: the largest n-gram order accepted (BLEU uses 4; beyond a sentence's length every order is empty)
MAX_ORDER = 100
SMOOTHING_DEFAULTS: dict[str, float | None] = {
    "exp": None,
    "floor": 0.1,
    "add-k": 1.0,
    "none": None,
}
_TOKENIZER_CLASSES = {
    "13a": ("sacrebleu.tokenizers.tokenizer_13a", "Tokenizer13a"),
    "zh": ("sacrebleu.tokenizers.tokenizer_zh", "TokenizerZh"),
    "none": ("sacrebleu.tokenizers.tokenizer_none", "NoneTokenizer"),
}
_tokenizers: dict[str, Callable[[str], str]] = {}


@dataclass(frozen=True)
class BLEUResult:
    """A BLEU score and the statistics it was computed from.

    ``score`` is 0–100; ``precisions`` are the (smoothed) n-gram precisions p_n in %; ``counts``
    and ``totals`` are the clipped matches and hypothesis n-grams per order before smoothing;
    ``bp`` is the brevity penalty (5-25); ``sys_len``/``ref_len`` are c and r.
    """

    score: float
    precisions: tuple[float, ...]
    bp: float
    sys_len: int
    ref_len: int
    counts: tuple[int, ...]
    totals: tuple[int, ...]

    @property
    def ratio(self) -> float:
        """Hypothesis length over reference length, c / r."""
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __float__(self) -> float:
        return self.score

    def __str__(self) -> str:
        prec = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {prec} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.sys_len} ref_len = {self.ref_len})"
        )


# ----------------------------------------------------------------------------- the pieces
def _check_tokens(tokens: Sequence, name: str = "tokens") -> None:
    if isinstance(tokens, str):
        raise TypeError(
            f"{name} must be a list of tokens, got the string {describe(tokens)}; "
            "split it first, e.g. with tokenize_for_bleu(text)"
        )
    if not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a list of tokens, got {describe(tokens)}")


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (as tuples) of one token sequence."""
    _check_tokens(tokens)
    check_int(n, "n", min=1)
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def ngram_counts(tokens: Sequence[str], max_order: int) -> Counter:
    """Counts of all n-grams of orders 1…max_order together (a tuple's length is its order)."""
    _check_tokens(tokens)
    check_int(max_order, "max_order", min=1)
    counts: Counter = Counter()
    for n in range(1, min(max_order, len(tokens)) + 1):
        counts.update(zip(*(tokens[i:] for i in range(n)), strict=False))
    return counts


def modified_precision(
    hypothesis: Sequence[str], references: Sequence[Sequence[str]], n: int
) -> tuple[int, int]:
    """Clipped n-gram matches and the number of hypothesis n-grams: ``(matches, total)``.

    Each hypothesis n-gram counts at most ``max_r count_r(n-gram)`` times — clipped by its largest
    count in any single reference, all references at once (not one reference at a time).
    """
    _check_tokens(hypothesis, "hypothesis")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError(f"references must be a list of token lists, got {describe(references)}")
    if not references:
        raise ValueError("give at least one reference")
    for i, ref in enumerate(references):
        _check_tokens(ref, f"references[{i}]")
    hyp = ngrams(hypothesis, n)
    best: Counter = Counter()
    for ref in references:
        best |= ngrams(ref, n)  # | keeps the maximum count of every n-gram
    matches = sum(min(count, best[gram]) for gram, count in hyp.items())
    return matches, sum(hyp.values())


def closest_ref_length(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """The reference length closest to ``hyp_len`` (the shorter one on a tie): r of (5-25)."""
    check_int(hyp_len, "hyp_len", min=0)
    if isinstance(ref_lens, str) or not isinstance(ref_lens, Sequence):
        raise TypeError(f"ref_lens must be a list of lengths, got {describe(ref_lens)}")
    if not ref_lens:
        raise ValueError("give at least one reference length")
    for i, r in enumerate(ref_lens):
        check_int(r, f"ref_lens[{i}]", min=0)
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


def brevity_penalty(sys_len: int, ref_len: int) -> float:
    """(5-25): 1 when the hypothesis is longer than the reference, ``exp(1 − r/c)`` otherwise.

    The two cases agree at c = r (BP = 1), which also covers c = r = 0; an empty hypothesis
    against a non-empty reference gets BP = 0 (the limit of exp(1 − r/c) as c → 0).
    """
    check_int(sys_len, "sys_len (c, a token count)", min=0)
    check_int(ref_len, "ref_len (r, a token count)", min=0)
    if sys_len >= ref_len:
        return 1.0
    return math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0


def bleu_from_counts(
    counts: Sequence[int],
    totals: Sequence[int],
    sys_len: int,
    ref_len: int,
    *,
    smooth: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BLEUResult:
    """(5-26) from corpus statistics: ``BP · exp(Σ_n w_n log p_n)`` with ``w_n = 1/N``, ×100.

    Smoothing of zero precisions (Chen & Cherry, 2014): ``"none"`` (BLEU is 0 if any p_n is 0),
    ``"floor"`` (a zero count becomes ``smooth_value``, default 0.1), ``"add-k"`` (add
    ``smooth_value``, default 1, to counts and totals of orders ≥ 2), ``"exp"`` (the k-th zero
    precision becomes 1 / (2^k · total), as in mteval-v13a). With ``effective_order`` orders for
    which the hypotheses have no n-grams at all are left out of the mean (useful for short
    sentences); otherwise such an order makes BLEU 0.
    """
    for name, seq in (("counts", counts), ("totals", totals)):
        if isinstance(seq, str) or not isinstance(seq, Sequence):
            raise TypeError(
                f"{name} must be a list with one count per n-gram order, got {describe(seq)}"
            )
    if len(counts) != len(totals) or not counts:
        raise ValueError("counts and totals need one entry per n-gram order")
    for n, (c, t) in enumerate(zip(counts, totals, strict=True)):
        check_int(c, f"counts[{n}]", min=0)
        check_int(t, f"totals[{n}]", min=0)
        if c > t:
            raise ValueError(
                f"counts[{n}]={c} exceeds totals[{n}]={t}: there cannot be more "
                "matching n-grams than n-grams"
            )
    check_int(sys_len, "sys_len", min=0)
    check_int(ref_len, "ref_len", min=0)
    _check_smoothing(smooth, smooth_value)
    check_bool(effective_order, "effective_order")
    # the smoothing constant of "floor" and "add-k" ("exp" and "none" have none)
    default = SMOOTHING_DEFAULTS[smooth]
    k = float(smooth_value) if smooth_value is not None else (default or 0.0)
    max_order = len(counts)
    bp = brevity_penalty(sys_len, ref_len)
    precisions = [0.0] * max_order
    raw = (tuple(counts), tuple(totals))
    if not any(counts):  # nothing matches at all
        return BLEUResult(0.0, tuple(precisions), bp, sys_len, ref_len, *raw)

    orders, halvings = max_order, 0
    for n in range(max_order):
        matches, total = float(counts[n]), float(totals[n])
        if smooth == "add-k" and n > 0:
            matches, total = matches + k, total + k
        if total == 0:  # no hypothesis n-grams of this order (or higher)
            orders = n if effective_order else max_order
            break
        if matches > 0:
            precisions[n] = matches / total
        elif smooth == "exp":
            halvings += 1
            precisions[n] = 1.0 / (2**halvings * total)
        elif smooth == "floor":
            precisions[n] = k / total
    used = precisions[:orders]
    if min(used) <= 0.0:
        score = 0.0
    else:
        score = 100.0 * bp * math.exp(sum(math.log(p) for p in used) / orders)
    return BLEUResult(score, tuple(100.0 * p for p in precisions), bp, sys_len, ref_len, *raw)


def _check_smoothing(smooth: str, smooth_value: float | None) -> None:
    check_choice(smooth, "smooth", SMOOTHING_DEFAULTS)
    if smooth_value is not None:
        check_float(smooth_value, "smooth_value", min=0.0)


# ----------------------------------------------------------------------------- tokenising
def tokenize_for_bleu(text: str, tokenize: str = "13a", lowercase: bool = False) -> list[str]:
    """Split a sentence into BLEU tokens: ``"13a"`` (mteval-v13a, the WMT standard), ``"zh"``
    (every Chinese character is a token, the rest as 13a) or ``"none"`` (split on spaces only)."""
    check_str(text, "text")
    check_bool(lowercase, "lowercase")
    return _tokenizer(tokenize)((text.lower() if lowercase else text).rstrip()).split()


def _tokenizer(name: str) -> Callable[[str], str]:
    check_choice(name, "tokenize", _TOKENIZER_CLASSES)
    if name not in _tokenizers:
        import importlib

        module, cls = _TOKENIZER_CLASSES[name]
        _tokenizers[name] = getattr(importlib.import_module(module), cls)()
    return _tokenizers[name]


# ----------------------------------------------------------------------------- scores
def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str] | str],
    *,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str = "13a",
    lowercase: bool = False,
    effective_order: bool = False,
) -> BLEUResult:
    """Corpus BLEU: statistics are summed over all sentences before (5-25) and (5-26).

    ``references[i]`` holds the reference(s) of ``hypotheses[i]``: a string, or a list of
    strings (the number may differ between sentences). Note that sacrebleu's ``corpus_bleu``
    takes the transpose (one list per reference *stream*). With the same options the two agree.
    """
    if isinstance(hypotheses, str) or not isinstance(hypotheses, Sequence):
        raise TypeError(
            f"hypotheses must be a list of strings (use sentence_bleu for one "
            f"sentence), got {describe(hypotheses)}"
        )
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError(
            f"references must be a list with the reference(s) of every hypothesis, "
            f"got {describe(references)}"
        )
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses but references for {len(references)}")
    if len(hypotheses) == 0:
        raise ValueError("cannot score an empty corpus")
    check_int(max_order, "max_order", min=1, max=MAX_ORDER)
    _check_smoothing(smooth, smooth_value)
    check_bool(lowercase, "lowercase")
    check_bool(effective_order, "effective_order")
    tok = _tokenizer(tokenize)

    def split(text: str, name: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {describe(text)}")
        return tok((text.lower() if lowercase else text).rstrip()).split()

    counts, totals = [0] * max_order, [0] * max_order
    sys_len = ref_len = 0
    for i, (hyp, refs) in enumerate(zip(hypotheses, references, strict=True)):
        refs = [refs] if isinstance(refs, str) else refs
        if not isinstance(refs, Sequence):
            raise TypeError(
                f"references[{i}] must be a string or a list of strings, got {describe(refs)}"
            )
        if not refs:
            raise ValueError(f"hypothesis {i} has no reference (references[{i}] is empty)")
        hyp_tokens = split(hyp, f"hypotheses[{i}]")
        ref_tokens = [split(r, f"references[{i}][{j}]") for j, r in enumerate(refs)]
        best = ngram_counts(ref_tokens[0], max_order)
        for other in ref_tokens[1:]:
            for gram, c in ngram_counts(other, max_order).items():  # clip by the max over refs
                if c > best[gram]:
                    best[gram] = c
        for gram, c in ngram_counts(hyp_tokens, max_order).items():
            n = len(gram) - 1
            totals[n] += c
            r = best.get(gram)
            if r:
                counts[n] += c if c < r else r
        sys_len += len(hyp_tokens)
        ref_len += closest_ref_length(len(hyp_tokens), [len(r) for r in ref_tokens])
    return bleu_from_counts(
        counts,
        totals,
        sys_len,
        ref_len,
        smooth=smooth,
        smooth_value=smooth_value,
        effective_order=effective_order,
    )


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str] | str,
    *,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str = "13a",
    lowercase: bool = False,
    effective_order: bool = True,
) -> BLEUResult:
    """BLEU of one sentence against one reference (a string) or several (a list of strings).

    ``effective_order`` defaults to True here, as in sacrebleu's ``sentence_bleu``: a sentence
    shorter than ``max_order`` tokens is scored on the orders it has.
    """
    check_str(hypothesis, "hypothesis")
    references = (
        [references]
        if isinstance(references, str)
        else check_str_sequence(references, "references")
    )
    return corpus_bleu(
        [hypothesis],
        [references],
        max_order=max_order,
        smooth=smooth,
        smooth_value=smooth_value,
        tokenize=tokenize,
        lowercase=lowercase,
        effective_order=effective_order,
    )
