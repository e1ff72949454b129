"""Exercises of notebook 5.3.4: teacher forcing (Teacher
Forcing, Fig. 5-11) and beam search (Beam Search).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from companion.exercises.core import CheckFailed, Exercise, Mistake, predict_exercise
from companion.exercises.sequences import (
    call_student,
    check_bleu_measurement,
    check_fraction,
    demo_model_and_data,
    register,
)

# ---------------------------------------------------------------- 5.3.4-beam-candidates (predict)
# V = 10, K = 3, 4 steps: step 1 extends only <bos> (10 candidates), steps 2–4 extend 3 prefixes
# each (3 · 10 = 30 candidates per step): 10 + 3 · 30 = 100.

predict_exercise(
    id="5.3.4-beam-candidates",
    section="5.3.4 beam search",
    title="How many extensions a beam of width 3 scores in 4 steps (V = 10)",
    value=100,
    rtol=1e-6,
    mistakes=[
        (
            "k-prefixes-from-the-start",
            4 * 3 * 10,
            "120 assumes K prefixes at step 1 too; the first step extends ⟨bos⟩ alone",
        ),
        (
            "exhaustive",
            10**4,
            "10⁴ is the number of leaves of the whole tree (exhaustive search); the beam keeps "
            "only K prefixes per step",
        ),
        (
            "kept-not-scored",
            1 + 3 * 3 + 1,
            "count the extensions that are *scored* (every live prefix × every token), not the "
            "prefixes kept",
        ),
        (
            "k-to-the-steps",
            3**4,
            "3⁴ would be a tree with K branches per node; the beam scores K · V extensions per "
            "step",
        ),
        (
            "kept",
            3 * 4,
            "that is the number of prefixes kept (K per step); the question asks how many "
            "extensions are scored",
        ),
    ],
    solution_text="""
Step 1 extends the single prefix ⟨bos⟩ by all V = 10 tokens: 10 scores. From then on K = 3 live
prefixes are each extended by 10 tokens: 30 scores at each of steps 2, 3 and 4. Total 10 + 90 = 100
(no ⟨eos⟩ is produced in this count), against 10⁴ leaves for exhaustive search.""",
    hints=(
        "Count step by step: how many live prefixes does the beam hold before step 1, and before "
        "steps 2, 3, 4?",
        "Every live prefix is extended by every one of "
        "the V tokens, and each extension gets a score.",
    ),
)


# ---------------------------------------------------------------- 5.3.4-exhaustive-count (predict)
# V = 5 tokens including <eos>, max_len = 3: sequences ending at their first <eos> after
# 1, 2, 3 tokens: 1 + 4 + 16; cut at max_len without <eos>: 4³ = 64. Total 85.

predict_exercise(
    id="5.3.4-exhaustive-count",
    section="5.3.4 exhaustive search",
    title="How many complete outputs exhaustive search scores (V = 5 with ⟨eos⟩, max_len = 3)",
    value=85,
    rtol=1e-6,
    mistakes=[
        (
            "v-to-the-t",
            5**3,
            "5³ lets ⟨eos⟩ appear in the middle; a sequence ends at its first ⟨eos⟩",
        ),
        (
            "cut-only",
            4**3,
            "64 counts only the sequences cut at max_len; those that end with ⟨eos⟩ earlier "
            "are complete outputs too",
        ),
        (
            "eos-only",
            1 + 4 + 16,
            "21 counts only the sequences that end with ⟨eos⟩; those cut at max_len without "
            "⟨eos⟩ are outputs too",
        ),
        (
            "all-prefixes",
            5 + 25 + 125,
            "155 counts every prefix of every length; a complete output ends at ⟨eos⟩ or at "
            "max_len",
        ),
    ],
    solution_text="""
An output either ends at its first ⟨eos⟩ or is cut at max_len. Ending with ⟨eos⟩ as token t: the
t − 1 tokens before it are any of the 4 others: 1 + 4 + 16 = 21. Cut at max_len = 3: 4³ = 64.
Total 85 = Σ_t (V−1)^(t−1) + (V−1)^max_len, as companion.decoding.exhaustive_search's docstring
says; len(exhaustive_search(step, state, bos_id=…, eos_id=…, max_len=3)[0]) counts them.""",
    hints=(
        "Split the outputs into those that end with ⟨eos⟩ (at step 1, 2 or 3) and those cut at "
        "max_len = 3.",
        "Before the first ⟨eos⟩ only the V − 1 = 4 other tokens can occur.",
    ),
)


# ---------------------------------------------------------------- 5.3.4-beam-search (implement)


class RandomLanguageModel:
    """A fixed random next-token distribution for every prefix: log p(· | prefix), a tensor [V]."""

    def __init__(self, vocab_size: int, seed: int, sharpness: float = 2.0):
        self.vocab_size, self.seed, self.sharpness = vocab_size, seed, sharpness
        self._cache: dict[tuple[int, ...], torch.Tensor] = {}

    def __call__(self, prefix) -> torch.Tensor:
        prefix = tuple(int(t) for t in prefix)
        if prefix not in self._cache:
            key = self.seed
            for t in prefix:
                key = (key * 1_000_003 + t + 1) % 2**61
            g = torch.Generator().manual_seed(key)
            logits = self.sharpness * torch.randn(self.vocab_size, generator=g, dtype=torch.float64)
            self._cache[prefix] = logits.log_softmax(-1)
        return self._cache[prefix].clone()

    def step_fn(self):
        """The same model behind companion.decoding's step interface (state = prefixes so far)."""

        def step(prev: torch.Tensor, state: torch.Tensor):
            state = torch.cat([state, prev[:, None]], dim=1)  # column 0 holds <bos>
            return torch.stack([self(row[1:].tolist()) for row in state]), state

        return step


_BEAM_CASES = [  # (vocab size, eos id, beam width, max_len, seed)
    (4, 0, 2, 4, 1),
    (5, 1, 2, 4, 2),
    (5, 0, 3, 5, 3),
    (4, 3, 1, 5, 4),
    (6, 2, 3, 4, 5),
    (3, 0, 30, 4, 6),
    (5, 4, 2, 5, 7),
    (4, 1, 3, 6, 8),
    (5, 0, 2, 3, 9),
    (6, 5, 4, 4, 10),
]


def _package_beam(lm: RandomLanguageModel, eos_id: int, beam_width: int, max_len: int):
    from companion.decoding import beam_search

    best = beam_search(
        lm.step_fn(),
        torch.empty(1, 0, dtype=torch.long),
        bos_id=lm.vocab_size,
        eos_id=eos_id,
        beam_width=beam_width,
        max_len=max_len,
    )[0][0]
    return best.tokens, best.score


def _beam_search(next_log_probs: Callable, *, eos_id: int, beam_width: int, max_len: int):
    """Beam search for one input; returns the best finished hypothesis ``(tokens, score)``."""
    live: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[tuple[tuple[int, ...], float]] = []
    for _ in range(max_len):
        candidates = []
        for tokens, score in live:
            log_probs = next_log_probs(tokens)
            candidates += [(tokens + (v,), score + float(lp)) for v, lp in enumerate(log_probs)]
        candidates.sort(key=lambda c: c[1], reverse=True)
        finished += [c for c in candidates[:beam_width] if c[0][-1] == eos_id]  # keep them!
        live = [c for c in candidates if c[0][-1] != eos_id][:beam_width]
    finished += live  # still live after max_len tokens: finished as they are
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens), score


def _beam_variant(*, keep_finished=True, stop_at_eos=True, width=None, accumulate=True):
    """The typical wrong beam searches, for the diagnosis of a wrong answer."""

    def search(next_log_probs, *, eos_id, beam_width, max_len):
        k = width or beam_width
        live: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
        finished: list[tuple[tuple[int, ...], float]] = []
        for _ in range(max_len):
            candidates = []
            for tokens, score in live:
                log_probs = next_log_probs(tokens)
                candidates += [
                    (tokens + (v,), (score if accumulate else 0.0) + float(lp))
                    for v, lp in enumerate(log_probs)
                ]
            candidates.sort(key=lambda c: c[1], reverse=True)
            if not stop_at_eos:
                live = candidates[:k]
                continue
            if keep_finished:
                finished += [c for c in candidates[:k] if c[0][-1] == eos_id]
            live = [c for c in candidates if c[0][-1] != eos_id][:k]
        tokens, score = max(finished + live, key=lambda c: c[1])
        return list(tokens), score

    return search


_BEAM_MISTAKES = (
    Mistake(
        "forgets-finished",
        lambda ctx: _beam_variant(keep_finished=False),
        "your beam forgets finished hypotheses: an extension ending in ⟨eos⟩ that ranks "
        "among the K best must be set aside as a candidate answer, not dropped",
    ),
    Mistake(
        "extends-after-eos",
        lambda ctx: _beam_variant(stop_at_eos=False),
        "your hypothesis continues after ⟨eos⟩: a prefix ending in ⟨eos⟩ is finished and "
        "must not be extended",
    ),
    Mistake(
        "greedy",
        lambda ctx: _beam_variant(width=1),
        "your result is greedy search's: keep the K best prefixes at every step, not one",
    ),
    Mistake(
        "not-accumulated",
        lambda ctx: _beam_variant(accumulate=False),
        "a hypothesis' score is the sum of all its token log-probabilities, "
        "log p(y|x) = Σ_t log p(y_t | y_<t, x), not the last token's",
    ),
)


def _as_hypothesis(got, case_text: str) -> tuple[list[int], float]:
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise CheckFailed(f"return a pair (tokens, score); got {type(got).__name__} on {case_text}")
    tokens, score = got
    try:
        tokens = [int(t) for t in tokens]
        score = float(score)
    except (TypeError, ValueError):
        raise CheckFailed(f"return (list of token ids, score as a number); got {got!r}") from None
    return tokens, score


def _check_beam(answer, context) -> str:
    results = []
    for vocab, eos, width, max_len, seed in _BEAM_CASES:
        lm = RandomLanguageModel(vocab, seed)
        text = f"a hidden case (V={vocab}, eos_id={eos}, beam_width={width}, max_len={max_len})"
        got, failure = call_student(
            partial(answer, eos_id=eos, beam_width=width, max_len=max_len), lm
        )
        if failure is not None:
            raise failure
        tokens, score = _as_hypothesis(got, text)
        if not tokens or any(not 0 <= t < vocab for t in tokens):
            raise CheckFailed(
                f"on {text} your tokens {tokens} are not a non-empty list of ids "
                f"0…{vocab - 1} (leave ⟨bos⟩ out)"
            )
        if eos in tokens[:-1]:
            raise CheckFailed(_BEAM_MISTAKES[1].message + f" (tokens {tokens} on {text})")
        if len(tokens) > max_len or (tokens[-1] != eos and len(tokens) < max_len):
            raise CheckFailed(
                f"on {text} your hypothesis {tokens} neither ends with ⟨eos⟩ nor "
                f"has max_len = {max_len} tokens"
            )
        results.append((tokens, score))
    expected = [_package_beam(RandomLanguageModel(v, s), e, w, m) for v, e, w, m, s in _BEAM_CASES]
    wrong = [
        k
        for k, (got, exp) in enumerate(zip(results, expected, strict=True))
        if got[0] != exp[0] or abs(got[1] - exp[1]) > 1e-6
    ]
    if not wrong:
        return (
            f"same hypotheses and scores as companion.decoding.beam_search on {len(_BEAM_CASES)} "
            "hidden random models (and exhaustive search where the beam is wide enough)."
        )
    for mistake in _BEAM_MISTAKES:
        fn = mistake.make(context)
        if all(
            _same(fn(RandomLanguageModel(v, s), eos_id=e, beam_width=w, max_len=m), r)
            for (v, e, w, m, s), r in zip(_BEAM_CASES, results, strict=True)
        ):
            raise CheckFailed(mistake.message)
    k = wrong[0]
    (tokens, score), (ref_tokens, ref_score) = results[k], expected[k]
    lm = RandomLanguageModel(_BEAM_CASES[k][0], _BEAM_CASES[k][4])
    true_score = sum(float(lm(tokens[:i])[t]) for i, t in enumerate(tokens))
    if abs(true_score - score) > 1e-6:
        raise CheckFailed(
            f"the score you return for {tokens} is {score:.4f}, but the sum of its "
            f"token log-probabilities is {true_score:.4f}"
        )
    return_case = dict(
        zip(("V", "eos_id", "beam_width", "max_len"), _BEAM_CASES[k][:4], strict=True)
    )
    raise CheckFailed(
        f"on a hidden case {return_case} you return {tokens} (score {score:.4f}); "
        f"the beam described in the exercise finds {ref_tokens} (score {ref_score:.4f})"
    )


def _same(a, b) -> bool:
    return list(a[0]) == list(b[0]) and abs(a[1] - b[1]) <= 1e-6


register(
    Exercise(
        id="5.3.4-beam-search",
        section="5.3.4 beam search, steps 1–4",
        kind="implement",
        title="beam_search(next_log_probs, eos_id, beam_width, max_len) that keeps finished "
        "hypotheses",
        checker=_check_beam,
        reference=lambda ctx: _beam_search,
        solution_text="""
def beam_search(next_log_probs, *, eos_id, beam_width, max_len):
    live, finished = [((), 0.0)], []                 # (tokens, summed log-probability)
    for t in range(max_len):
        candidates = []
        for tokens, score in live:                   # every live prefix × every token
            log_probs = next_log_probs(tokens)
            candidates += [(tokens + (v,), score + float(lp)) for v, lp in enumerate(log_probs)]
        candidates.sort(key=lambda c: c[1], reverse=True)
        finished += [c for c in candidates[:beam_width] if c[0][-1] == eos_id]   # set aside
        live = [c for c in candidates if c[0][-1] != eos_id][:beam_width]        # K still growing
    finished += live                                 # cut at max_len: finished as they are
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens), score

companion.decoding.beam_search does the same batched over inputs and beams, with an early stop
that never changes the result.""",
        hints=(
            "Keep two lists: `live` prefixes (at most K, still growing) and `finished` hypotheses "
            "(ended with ⟨eos⟩). Start with live = [((), 0.0)].",
            "Each step: extend every live prefix by every token (add log-probabilities), "
            "sort all candidates; those ending in ⟨eos⟩ among the K best go to "
            "`finished`; the K best that do not end in ⟨eos⟩ become the new `live`.",
            "After max_len steps add the remaining live "
            "prefixes to `finished` and return the best.",
        ),
        mistakes=_BEAM_MISTAKES,
    )
)


# ----------------------------------------------------------- 5.3.4-early-exposure-bias (experiment)


def _exposure_gap(context) -> float:
    from companion.inference import decode_data
    from companion.metrics import position_accuracy, teacher_forced_predictions

    model, data = context["model"], context["data"]
    eos = model.eos_id
    refs = [t + [eos] for t in data.tgt_ids]
    free, counts = position_accuracy(
        [h[0].tokens for h in decode_data(model, data, max_len=40)], refs
    )
    forced, _ = position_accuracy(teacher_forced_predictions(model, data), refs)
    total = sum(counts)
    return sum((a - b) * c for a, b, c in zip(forced, free, counts, strict=True)) / total


def _demo_numbers_zh_en() -> dict:
    return demo_model_and_data("numbers", "attention", "zh", "en")


def _check_gap(answer, context) -> str:
    from companion.exercises.core import as_number

    expected = _exposure_gap(context)
    value = as_number(answer, "your gap")
    if abs(value - expected) <= 0.005:
        return (
            f"gap {expected:.3f} for the early model. Compare it with the fully trained "
            "ratio-1 model's gap printed above."
        )
    if abs(value + expected) <= 0.005 and abs(expected) > 0.005:
        raise CheckFailed("your gap has the wrong sign: teacher-forced minus free-running accuracy")
    return check_fraction(answer, expected, "your gap")


register(
    Exercise(
        id="5.3.4-early-exposure-bias",
        section="5.3.4 exposure bias (曝光偏差)",
        kind="experiment",
        title="Exposure bias of the early (less trained) ratio-1 model",
        checker=_check_gap,
        reference=_exposure_gap,
        solution_text="""
refs = [t + [EOS] for t in test_data.tgt_ids]
hyps = decode_data(early, test_data, max_len=40)
free_acc, counts = position_accuracy([h[0].tokens for h in hyps], refs)
forced_acc, _ = position_accuracy(teacher_forced_predictions(early, test_data), refs)
answer = sum((f - g) * c for f, g, c in zip(forced_acc, free_acc, counts)) / sum(counts)
A less certain model makes more early mistakes in free running, and every mistake shifts the
prefix it conditions on away from anything seen in training: its gap is larger.""",
        hints=(
            "The exposure-bias cell computes exactly this for models[ratio]: run the "
            "same lines for `early` (the ratio-1 snapshot after early_epoch epochs).",
            "The gap is weighted(forced_acc) − weighted(free_acc), weighting each position by its "
            "number of references; decode with max_len=40.",
        ),
        needs=("model", "data"),
        demo_context=_demo_numbers_zh_en,
    )
)


# ---------------------------------------------------------------- 5.3.4-length-penalty (experiment)


def _bleu_with_penalty(context) -> float:
    from companion.data import detokenize
    from companion.inference import decode_data
    from companion.metrics import corpus_bleu

    model, data = context["model"], context["data"]
    hyps = decode_data(model, data, beam_width=5, max_len=40, length_penalty=0.5)
    texts = [detokenize(data.tgt_vocab.decode(h[0].tokens), data.tgt_lang) for h in hyps]
    return corpus_bleu(texts, [p.tgt for p in data.pairs]).score


def _check_penalty(answer, context) -> str:
    expected = _bleu_with_penalty(context)
    check_bleu_measurement(
        answer,
        expected,
        "decode `early` with beam_width=5, max_len=40, "
        "length_penalty=0.5 and score with corpus_bleu",
    )
    return (
        f"BLEU {expected:.2f} with α = 0.5; place it between the α = 0 and α = 1 rows of "
        "the table above."
    )


register(
    Exercise(
        id="5.3.4-length-penalty",
        section="5.3.4 beam search, length penalty",
        kind="experiment",
        title="BLEU of the early model with a beam of 5 and a milder length penalty α = 0.5",
        checker=_check_penalty,
        reference=_bleu_with_penalty,
        solution_text="""
hyps = decode_data(early, test_data, beam_width=5, max_len=40, length_penalty=0.5)
answer = corpus_bleu(to_text(hyps), test_refs).score
α = 0.5 divides the summed log-probability by √L: it offsets part of the preference for short
outputs, so BLEU (and BP) usually land between the α = 0 and α = 1 results.""",
        hints=(
            "The BLEU cell loops over settings; you need one more: model `early`, beam 5, α = 0.5.",
            "decode_data(early, test_data, beam_width=5, max_len=40, length_penalty=0.5), then "
            "corpus_bleu(to_text(hyps), test_refs).score",
        ),
        needs=("model", "data"),
        demo_context=_demo_numbers_zh_en,
    )
)
