"""Exercises of notebook 5.3.4: teacher forcing (Teacher Forcing, Fig. 5-11) and beam search (Beam
Search)."""

from __future__ import annotations

import functools
import math

import torch

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import Case, FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.exercises.sequences import demo_model_and_data
from companion.i18n import N_, _

# ---------------------------------------------------------------- 5.3.4-beam-candidates (predict)
# V = 10, K = 3, 4 steps: step 1 extends only <bos> (10 candidates), steps 2–4 extend 3 prefixes
# each (3 · 10 = 30 candidates per step): 10 + 3 · 30 = 100.

predict_exercise(
    id="5.3.4-beam-candidates",
    section=N_("5.3.4 beam search"),
    title=N_("How many extensions a beam of width 3 scores in 4 steps (V = 10)"),
    value=100,
    precision=Precision(0),
    answer_name="beam_scored",
    mistakes=[
        (
            "k-prefixes-from-the-start",
            4 * 3 * 10,
            N_("120 assumes K prefixes at step 1 too; the first step extends ⟨bos⟩ alone"),
        ),
        (
            "exhaustive",
            10**4,
            N_(
                "10⁴ is the number of leaves of the whole tree (exhaustive search); the beam "
                "keeps only K prefixes per step"
            ),
        ),
        (
            "kept-not-scored",
            1 + 3 * 3 + 1,
            N_(
                "count the extensions that are *scored* (every live prefix × every token), not "
                "the prefixes kept"
            ),
        ),
        (
            "k-to-the-steps",
            3**4,
            N_(
                "3⁴ would be a tree with K branches per node; the beam scores K · V extensions "
                "per step"
            ),
        ),
        (
            "kept",
            3 * 4,
            N_(
                "that is the number of prefixes kept (K per step); the question asks how many "
                "extensions are scored"
            ),
        ),
    ],
    solution=N_(
        """\
V, K, steps = 10, 3, 4
# step 1 extends the single prefix ⟨bos⟩ by all V tokens; steps 2–4 extend K live prefixes each
beam_scored = V + (steps - 1) * K * V  # 10 + 3 · 30 = 100
"""
    ),
    solution_note=N_(
        "No ⟨eos⟩ is produced in this count. Exhaustive search would score the 10⁴ leaves of the "
        "whole tree."
    ),
    hints=(
        N_(
            "Count step by step: how many live prefixes does the beam hold before step 1, and "
            "before steps 2, 3, 4?"
        ),
        N_(
            "Every live prefix is extended by every one of the V tokens, and each extension gets "
            "a score."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.4-exhaustive-count (predict)
# V = 5 tokens including <eos>, max_len = 3: sequences ending at their first <eos> after
# 1, 2, 3 tokens: 1 + 4 + 16; cut at max_len without <eos>: 4³ = 64. Total 85.

predict_exercise(
    id="5.3.4-exhaustive-count",
    section=N_("5.3.4 exhaustive search"),
    title=N_("How many complete outputs exhaustive search scores (V = 5 with ⟨eos⟩, max_len = 3)"),
    value=85,
    precision=Precision(0),
    answer_name="exhaustive_outputs",
    mistakes=[
        (
            "v-to-the-t",
            5**3,
            N_("5³ lets ⟨eos⟩ appear in the middle; a sequence ends at its first ⟨eos⟩"),
        ),
        (
            "cut-only",
            4**3,
            N_(
                "64 counts only the sequences cut at max_len; those that end with ⟨eos⟩ earlier "
                "are complete outputs too"
            ),
        ),
        (
            "eos-only",
            1 + 4 + 16,
            N_(
                "21 counts only the sequences that end with ⟨eos⟩; those cut at max_len without "
                "⟨eos⟩ are outputs too"
            ),
        ),
        (
            "all-prefixes",
            5 + 25 + 125,
            N_(
                "155 counts every prefix of every length; a complete output ends at ⟨eos⟩ or at "
                "max_len"
            ),
        ),
    ],
    solution=N_(
        """\
V, max_len = 5, 3
# ending with ⟨eos⟩ as token t: the t − 1 tokens before it are any of the V − 1 others
ended = sum((V - 1) ** (t - 1) for t in range(1, max_len + 1))  # 1 + 4 + 16 = 21
cut = (V - 1) ** max_len  # no ⟨eos⟩ within max_len tokens: 64
exhaustive_outputs = ended + cut  # 85
"""
    ),
    solution_note=N_(
        "companion.decoding.exhaustive_search's docstring gives the same count; "
        "len(exhaustive_search(step, state, bos_id=…, eos_id=…, max_len=3)[0]) counts them."
    ),
    hints=(
        N_(
            "Split the outputs into those that end with ⟨eos⟩ (at step 1, 2 or 3) and those cut "
            "at max_len = 3."
        ),
        N_("Before the first ⟨eos⟩ only the V − 1 = 4 other tokens can occur."),
    ),
)


# ---------------------------------------------------------------- 5.3.4-length-penalty (predict)
# A: 4 tokens (<eos> included), log p = −2.4; B: 9 tokens, log p = −4.5. Scores Σ log p / L^α tie
# when (9/4)^α = 4.5/2.4: α = ln 1.875 / ln 2.25 ≈ 0.775. Below it A wins, above it B.

predict_exercise(
    id="5.3.4-length-penalty",
    section=N_("5.3.4 beam search, length penalty"),
    title=N_("From which length penalty α on does beam search prefer the longer output?"),
    value=math.log(4.5 / 2.4) / math.log(9 / 4),
    precision=Precision(2),
    answer_name="my_alpha",
    mistakes=[
        (
            "no-eos",
            math.log(4.5 / 2.4) / math.log(8 / 3),
            N_(
                "you counted the lengths without ⟨eos⟩; here, as in companion.decoding, L counts "
                "every token of the output, ⟨eos⟩ included: 4 and 9"
            ),
        ),
        (
            "alpha-one",
            1.0,
            N_(
                "at α = 1 the longer output already wins (−4.5/9 = −0.5 against −2.4/4 = −0.6), "
                "but it starts to win earlier: find the α at which the two scores are equal"
            ),
        ),
        (
            "inverted",
            math.log(9 / 4) / math.log(4.5 / 2.4),
            N_(
                "you inverted the ratio: the scores tie when (9/4)^α = 4.5/2.4, so "
                "α = ln(4.5/2.4) / ln(9/4)"
            ),
        ),
        (
            "sign",
            -math.log(4.5 / 2.4) / math.log(9 / 4),
            N_(
                "α comes out negative: divide the two negative log-probabilities, −4.5/−2.4 = "
                "1.875 > 1, and compare with the length ratio 9/4"
            ),
        ),
    ],
    solution=N_(
        """\
score_a, length_a = -2.4, 4  # log p(A | x) and |A|, ⟨eos⟩ included
score_b, length_b = -4.5, 9
# ranked by score / L^α: equal when −2.4 / 4^α = −4.5 / 9^α, i.e. (9/4)^α = 4.5/2.4
my_alpha = math.log(score_b / score_a) / math.log(length_b / length_a)  # ≈ 0.78
"""
    ),
    solution_note=N_(
        "With α = 0 (no penalty) the short output wins, because every extra token multiplies in "
        "another probability below 1; α = 1 ranks by the mean log-probability per token and "
        "prefers B. The last table of the notebook shows what this does to BLEU."
    ),
    hints=(
        N_(
            "Write both scores as functions of α: −2.4 / 4^α and −4.5 / 9^α. Which is larger at "
            "α = 0, and at α = 1?"
        ),
        N_("Set them equal and take logarithms: α · ln(9/4) = ln(4.5/2.4)."),
    ),
)


# ---------------------------------------------------------------- 5.3.4-beam-search (implement)


class RandomLanguageModel:
    """A fixed random next-token distribution for every prefix: log p(· | prefix), a tensor [V].

    ``never`` is a token the model never produces (log-probability −∞), e.g. ⟨eos⟩: a search that
    waits for it instead of stopping at max_len then never ends.
    """

    def __init__(
        self, vocab_size: int, seed: int, sharpness: float = 2.0, never: int | None = None
    ):
        self.vocab_size, self.seed, self.sharpness, self.never = vocab_size, seed, sharpness, never
        self._cache: dict[tuple[int, ...], torch.Tensor] = {}

    def __call__(self, prefix) -> torch.Tensor:
        prefix = tuple(int(t) for t in prefix)
        if prefix not in self._cache:
            key = self.seed
            for t in prefix:
                key = (key * 1_000_003 + t + 1) % 2**61
            g = torch.Generator().manual_seed(key)
            logits = self.sharpness * torch.randn(self.vocab_size, generator=g, dtype=torch.float64)
            if self.never is not None:
                logits[self.never] = -math.inf
            self._cache[prefix] = logits.log_softmax(-1)
        return self._cache[prefix].clone()

    def step_fn(self):
        """The same model behind companion.decoding's step interface (state = prefixes so far)."""

        def step(prev: torch.Tensor, state: torch.Tensor):
            state = torch.cat([state, prev[:, None]], dim=1)  # column 0 holds <bos>
            return torch.stack([self(row[1:].tolist()) for row in state]), state

        return step


#: (vocab size, eos id, beam width, max_len, seed, eos never produced)
_BEAM_CASES = [
    (4, 0, 2, 4, 1, False),
    (5, 1, 2, 4, 2, False),
    (5, 0, 3, 5, 3, False),
    (4, 3, 1, 5, 4, False),
    (6, 2, 3, 4, 5, False),
    (3, 0, 30, 4, 6, False),
    (5, 4, 2, 5, 7, False),
    (4, 1, 3, 6, 8, False),
    (5, 0, 2, 3, 9, False),
    (6, 5, 4, 4, 10, False),
    (4, 0, 2, 4, 12, False),  # an ⟨eos⟩ extension outside the K best matters here
    (5, 1, 2, 5, 15, False),
    (5, 2, 2, 6, 20, True),  # ⟨eos⟩ never comes: the search must stop at max_len
]


@functools.cache
def _models() -> tuple[RandomLanguageModel, ...]:
    return tuple(
        RandomLanguageModel(v, seed, never=eos if never else None)
        for v, eos, _k, _m, seed, never in _BEAM_CASES
    )


def _beam_cases() -> list[Case]:
    return [
        Case(
            (lm,),
            {"eos_id": eos, "beam_width": width, "max_len": max_len},
            label=_(
                "a hidden model with V={vocab}, eos_id={eos}, beam_width={width}, max_len={max_len}"
            ).format(vocab=vocab, eos=eos, width=width, max_len=max_len),
        )
        for lm, (vocab, eos, width, max_len, _seed, _never) in zip(
            _models(), _BEAM_CASES, strict=True
        )
    ]


def _package_beam(lm: RandomLanguageModel, *, eos_id: int, beam_width: int, max_len: int):
    """The independent reference: companion.decoding.beam_search, batched over beams."""
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


def _beam_variant(
    *, keep_finished=True, stop_at_eos=True, width=None, accumulate=True, finish_all=False
):
    """The typical wrong beam searches, for the diagnosis of a wrong answer."""

    def search(next_log_probs, *, eos_id, beam_width, max_len):
        k = width or beam_width
        live: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
        finished: list[tuple[tuple[int, ...], float]] = []
        for _t in range(max_len):
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
                pool = candidates if finish_all else candidates[:k]
                finished += [c for c in pool if c[0][-1] == eos_id]
            live = [c for c in candidates if c[0][-1] != eos_id][:k]
        tokens, score = max(finished + live, key=lambda c: c[1])
        return list(tokens), score

    return search


implement_exercise(
    id="5.3.4-beam-search",
    section=N_("5.3.4 beam search, steps 1–4"),
    title=N_(
        "beam_search(next_log_probs, eos_id, beam_width, max_len) that keeps finished hypotheses"
    ),
    answer_name="my_beam_search",
    spec=FunctionSpec(
        cases=_beam_cases,
        expected=_package_beam,
        rtol=0,
        atol=1e-6,
        success=N_(
            "same hypotheses and scores as companion.decoding.beam_search on {n} hidden random "
            "models (and exhaustive search where the beam is wide enough)."
        ),
    ),
    timeout_hint=N_("does your loop stop after max_len steps, even when no ⟨eos⟩ comes?"),
    mistakes=(
        Mistake(
            "forgets-finished",
            lambda ctx: _beam_variant(keep_finished=False),
            N_(
                "your beam forgets finished hypotheses: an extension ending in ⟨eos⟩ that ranks "
                "among the K best must be set aside as a candidate answer, not dropped"
            ),
        ),
        Mistake(
            "finishes-every-eos",
            lambda ctx: _beam_variant(finish_all=True),
            N_(
                "you set aside every extension that ends in ⟨eos⟩; the beam keeps only those "
                "among the K best extensions of the step — a finished hypothesis must earn its "
                "place in the beam like any other"
            ),
        ),
        Mistake(
            "extends-after-eos",
            lambda ctx: _beam_variant(stop_at_eos=False),
            N_(
                "your hypothesis continues after ⟨eos⟩: a prefix ending in ⟨eos⟩ is finished and "
                "must not be extended"
            ),
        ),
        Mistake(
            "greedy",
            lambda ctx: _beam_variant(width=1),
            N_("your result is greedy search's: keep the K best prefixes at every step, not one"),
        ),
        Mistake(
            "not-accumulated",
            lambda ctx: _beam_variant(accumulate=False),
            N_(
                "a hypothesis' score is the sum of all its token log-probabilities, "
                "log p(y|x) = Σ_t log p(y_t | y_<t, x), not the last token's"
            ),
        ),
    ),
    solution=N_(
        """\
def my_beam_search(next_log_probs, *, eos_id, beam_width, max_len):
    live, finished = [((), 0.0)], []  # (tokens, summed log-probability)
    for _t in range(max_len):  # never more than max_len steps
        candidates = []
        for tokens, score in live:  # every live prefix × every token
            log_probs = next_log_probs(tokens)
            candidates += [(tokens + (v,), score + float(lp)) for v, lp in enumerate(log_probs)]
        candidates.sort(key=lambda c: c[1], reverse=True)
        finished += [c for c in candidates[:beam_width] if c[0][-1] == eos_id]  # set aside
        live = [c for c in candidates if c[0][-1] != eos_id][:beam_width]  # K still growing
    finished += live  # cut at max_len: finished as they are
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens), score
"""
    ),
    solution_note=N_(
        "companion.decoding.beam_search does the same batched over inputs and beams, with an "
        "early stop that never changes the result."
    ),
    hints=(
        N_(
            "Keep two lists: `live` prefixes (at most K, still growing) and `finished` hypotheses "
            "(ended with ⟨eos⟩). Start with live = [((), 0.0)]."
        ),
        N_(
            "Each step: extend every live prefix by every token (add log-probabilities), sort all "
            "candidates; those ending in ⟨eos⟩ among the K best go to `finished`; the K best that "
            "do not end in ⟨eos⟩ become the new `live`."
        ),
        N_(
            "After max_len steps add the remaining live prefixes to `finished` and return the best."
        ),
    ),
)


# ---------------------------------------------------------- 5.3.4-early-exposure-bias (experiment)


def _exposure_gap(context) -> float:
    from companion.inference import decode_data
    from companion.metrics import position_accuracy, teacher_forced_predictions

    model, data = context["model"], context["data"]
    eos = model.eos_id
    refs = [t + [eos] for t in data.tgt_ids]
    free, counts = position_accuracy(
        [h[0].tokens for h in decode_data(model, data, max_len=40)], refs
    )
    forced, _counts = position_accuracy(teacher_forced_predictions(model, data), refs)
    total = sum(counts)
    return sum((a - b) * c for a, b, c in zip(forced, free, counts, strict=False)) / total


def _gap_names(context) -> dict:
    from companion.inference import decode_data
    from companion.metrics import position_accuracy, teacher_forced_predictions

    return {
        "early": context["model"],
        "test_data": context["data"],
        "EOS": context["model"].eos_id,
        "decode_data": decode_data,
        "position_accuracy": position_accuracy,
        "teacher_forced_predictions": teacher_forced_predictions,
    }


experiment_exercise(
    id="5.3.4-early-exposure-bias",
    section=N_("5.3.4 exposure bias (曝光偏差)"),
    title=N_("Exposure bias of the early (less trained) ratio-1 model"),
    measure=_exposure_gap,
    precision=Precision(3),
    answer_name="early_gap",
    mistakes=[
        (
            "sign",
            lambda ctx: -_exposure_gap(ctx),
            N_("your gap has the wrong sign: teacher-forced minus free-running accuracy"),
        )
    ],
    solution=N_(
        """\
refs = [t + [EOS] for t in test_data.tgt_ids]
hyps = decode_data(early, test_data, max_len=40)
free_acc, counts = position_accuracy([h[0].tokens for h in hyps], refs)
forced_acc, _ = position_accuracy(teacher_forced_predictions(early, test_data), refs)
early_gap = sum((f - g) * c for f, g, c in zip(forced_acc, free_acc, counts)) / sum(counts)
"""
    ),
    solution_names=_gap_names,
    solution_note=N_(
        "A less certain model makes more early mistakes in free running, and every mistake shifts "
        "the prefix it conditions on away from anything seen in training: its gap is larger."
    ),
    success=N_(
        "{value} is right. Compare it with the fully trained ratio-1 model's gap printed above."
    ),
    hints=(
        N_(
            "The exposure-bias cell computes exactly this for models[ratio]: run the same lines "
            "for `early` (the ratio-1 snapshot after early_epoch epochs)."
        ),
        N_(
            "The gap is weighted(forced_acc) − weighted(free_acc), weighting each position by its "
            "number of references; decode with max_len=40."
        ),
    ),
    needs=("model", "data"),
    demo_context=lambda: demo_model_and_data("numbers", "attention", "zh", "en"),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.4-exposure-bias",
    section=N_("5.3.4 teacher forcing, exposure bias"),
    title=N_("Why teacher forcing leaves a gap between training and decoding"),
    answer=N_(
        "With teacher forcing the decoder always reads the true previous token, so it is trained "
        "only on correct prefixes. At test time it reads its own outputs; after its first "
        "mistake it conditions on a prefix unlike anything it saw in training, where its "
        "predictions are less reliable, so errors can compound along the sentence (exposure "
        "bias). Training partly on its own predictions (a teacher-forcing ratio below 1, or "
        "scheduled sampling) shows it such prefixes, at the price of slower, noisier training."
    ),
)

explain_question(
    id="5.3.4-wider-beam",
    section=N_("5.3.4 beam search"),
    title=N_("Why a wider beam can give a worse translation"),
    answer=N_(
        "Beam search looks for the output the model scores highest; a wider beam finds outputs "
        "with higher log p(y|x) more often (fewer search errors). But the model's favourite is "
        "not always the best translation (a model error): summed log-probabilities favour short "
        "outputs, so a wide beam may find a truncated sentence or an early ⟨eos⟩ that the narrow "
        "beam missed, and BLEU drops through the brevity penalty. A length penalty (α > 0) "
        "counters this bias; the remaining gap is the model's, not the search's."
    ),
)
