"""Exercises of notebook 5.3.3, attention (注意力机制): scores (5-21), weights (5-22), context
(5-23)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.exercises.sequences import demo_model_and_data, exact_match_exercise
from companion.i18n import N_

# ---------------------------------------------------------------- 5.3.3-masked-weights (predict)
# scores e = (ln 3, 5, 0), position 2 is padding: exp → (3, ·, 1), so α = (3/4, 0, 1/4).

predict_exercise(
    id="5.3.3-masked-weights",
    section=N_("5.3.3 (5-22)"),
    title=N_("An attention weight by hand, with a padded position"),
    value=0.75,
    precision=Precision(2, fractions=True),
    answer_name="alpha_1",
    mistakes=[
        (
            "mask-ignored",
            3 / (3 + math.exp(5) + 1),
            N_(
                "the padded position took almost all the weight: leave it out of the softmax "
                "(its score counts as −∞), so the denominator sums over the real positions only"
            ),
        ),
        (
            "uniform",
            1 / 2,
            N_(
                "1/2 is what the misprinted denominator of (5-22) gives (every weight 1/n over "
                "the real positions); the sum runs over exp(e_{t,j}), j = 1…n"
            ),
        ),
        (
            "uniform-with-padding",
            1 / 3,
            N_(
                "1/3 spreads the weight evenly over all three positions: the scores matter, and "
                "the padded one gets nothing"
            ),
        ),
        (
            "no-exp",
            1.0,
            N_(
                "you divided the raw scores by their sum (ln 3 / (ln 3 + 0) = 1); (5-22) "
                "exponentiates them first"
            ),
        ),
    ],
    solution=N_(
        """\
# the padded position is left out of (5-22): exp(ln 3) = 3 and exp(0) = 1 over the real positions
real = [math.exp(math.log(3)), math.exp(0)]
alpha_1 = real[0] / sum(real)  # α = (3/4, 0, 1/4): 0.75
"""
    ),
    solution_note=N_(
        "The score 5 of the padding plays no role. Check: "
        "masked_softmax(torch.tensor([[[math.log(3), "
        "5., 0.]]]), torch.tensor([[True, False, True]]))."
    ),
    hints=(
        N_("The padded position gets weight exactly 0 and does not enter the denominator."),
        N_("exp(ln 3) = 3 and exp(0) = 1."),
    ),
)


# ---------------------------------------------------------------- 5.3.3-masked-softmax (implement)


def _softmax_independent(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """exp(e − max over the allowed positions), zero where masked, divided by its sum (float64)."""
    s = scores.double()
    mask = mask.expand_as(s)
    top = s.masked_fill(~mask, -math.inf).amax(-1, keepdim=True)
    e = torch.where(mask, (s - top).exp(), torch.zeros_like(s))
    return (e / e.sum(-1, keepdim=True)).to(scores.dtype)


def _random_mask(g: torch.Generator, *shape: int) -> torch.Tensor:
    mask = torch.rand(*shape, generator=g) < 0.6
    mask[..., 0] = True  # every row keeps at least one position
    return mask[..., torch.randperm(shape[-1], generator=g)]


def _softmax_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(533)
    lengths = torch.tensor([6, 2, 4, 1])  # padding masks of four sentences, as in a batch
    padding = torch.arange(6)[None, :] < lengths[:, None]
    big = torch.randn(2, 7, generator=g) * 1000  # overflows a naive exp
    big_mask = _random_mask(g, 2, 7)
    trap = torch.zeros(1, 1, 4)
    trap[..., 3] = 50.0  # a huge score on a padded position
    return [
        (torch.randn(2, 5, generator=g), _random_mask(g, 2, 5)),
        (torch.randn(2, 3, 5, generator=g), _random_mask(g, 2, 3, 5)),
        (torch.randn(4, 3, 6, generator=g), padding[:, None, :]),  # [B, 1, S] broadcasts
        (trap, torch.tensor([[[True, True, True, False]]])),
        (big, big_mask),
    ]


implement_exercise(
    id="5.3.3-masked-softmax",
    section=N_("5.3.3 (5-22)"),
    title=N_("masked_softmax(scores, mask): attention weights that ignore padding"),
    answer_name="masked_softmax",
    spec=FunctionSpec(cases=_softmax_cases, expected=_softmax_independent, rtol=1e-4, atol=1e-6),
    mistakes=(
        Mistake(
            "wrong-axis",
            lambda ctx: lambda s, m: s.masked_fill(~m, float("-inf")).softmax(dim=1),
            N_(
                "your weights sum to 1 over the wrong axis: (5-22) normalises over the source "
                "positions j, the last axis (dim=-1)"
            ),
        ),
        Mistake(
            "no-mask",
            lambda ctx: lambda s, m: s.softmax(-1),
            N_("the mask is not used: positions where mask is False must get weight 0"),
        ),
        Mistake(
            "mask-after-softmax",
            lambda ctx: lambda s, m: s.softmax(-1) * m,
            N_(
                "you applied the mask after the softmax: the padded positions still took part in "
                "the denominator, and the real ones no longer sum to 1. Mask the scores before "
                "the softmax: scores.masked_fill(~mask, float('-inf'))"
            ),
            fix=lambda ctx: lambda s, m: s.masked_fill(~m, float("-inf")).softmax(-1),
        ),
        Mistake(
            "mask-inverted",
            lambda ctx: lambda s, m: s.masked_fill(m, float("-inf")).softmax(-1),
            N_("your mask is inverted: True marks a position that MAY be attended to"),
        ),
        Mistake(
            "zero-not-minus-inf",
            lambda ctx: lambda s, m: s.masked_fill(~m, 0.0).softmax(-1),
            N_(
                "masked positions still get weight: a score of 0 is not “no weight” (exp(0) = 1); "
                "use −∞ (float('-inf')) or a very negative number such as −1e9"
            ),
            fix=lambda ctx: lambda s, m: s.masked_fill(~m, -1e9).softmax(-1),
        ),
        Mistake(
            "naive-exp",
            lambda ctx: lambda s, m: (s.exp() * m) / (s.exp() * m).sum(-1, keepdim=True),
            N_(
                "large scores overflow (NaN or inf): set the masked scores to −∞ first and let "
                "torch.softmax subtract each row's maximum before exp: "
                "scores.masked_fill(~mask, float('-inf')).softmax(-1)"
            ),
            fix=lambda ctx: lambda s, m: s.masked_fill(~m, float("-inf")).softmax(-1),
        ),
    ),
    solution=N_(
        """\
def masked_softmax(scores, mask):
    # a forbidden position's score becomes -inf, so exp() gives it exactly 0 weight and it drops
    # out of the denominator of (5-22); softmax subtracts the row maximum (no overflow)
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
"""
    ),
    solution_note=N_(
        "companion.models.masked_softmax does the same for scores [B, T, S] and a padding mask "
        "[B, S]."
    ),
    hints=(
        N_("(5-22) is a softmax over the last axis (the source positions j)."),
        N_(
            "Padding must not enter the denominator: change the masked scores *before* the softmax."
        ),
        N_("scores.masked_fill(~mask, float('-inf')).softmax(dim=-1)"),
    ),
)


# ------------------------------------------------------------- 5.3.3-attention-context (implement)


def _context_sdpa(query, keys, values, mask) -> torch.Tensor:
    """The independent reference: PyTorch's fused attention, scale switched off (the dot score)."""
    return F.scaled_dot_product_attention(
        query.double(), keys.double(), values.double(), attn_mask=mask[:, None, :], scale=1.0
    ).to(query.dtype)


def _context_cases():
    g = torch.Generator().manual_seed(5330)
    cases = []
    for b, t, s, d, dv in ((2, 1, 5, 4, 3), (3, 4, 6, 8, 5), (1, 2, 3, 2, 2)):
        lengths = torch.randint(1, s + 1, (b,), generator=g)
        lengths[0] = s
        mask = torch.arange(s)[None, :] < lengths[:, None]
        cases.append(
            (
                torch.randn(b, t, d, generator=g),
                torch.randn(b, s, d, generator=g),
                torch.randn(b, s, dv, generator=g),
                mask,
            )
        )
    return cases


def _weights(q, k, m, scale=1.0, dim=-1):
    return (
        ((q @ k.transpose(-2, -1)) * scale).masked_fill(~m[:, None, :], float("-inf")).softmax(dim)
    )


implement_exercise(
    id="5.3.3-attention-context",
    section=N_("5.3.3 (5-21)–(5-23)"),
    title=N_(
        "attention_context(query, keys, values, mask): the context vector c_t with the dot score"
    ),
    answer_name="attention_context",
    spec=FunctionSpec(cases=_context_cases, expected=_context_sdpa, rtol=1e-4, atol=1e-5),
    mistakes=(
        Mistake(
            "scaled",
            lambda ctx: lambda q, k, v, m: _weights(q, k, m, 1 / math.sqrt(q.shape[-1])) @ v,
            N_(
                "you divided the scores by √d: that is the Transformer's scaled dot product; the "
                "dot score of this exercise is plain sᵀh"
            ),
        ),
        Mistake(
            "no-mask",
            lambda ctx: lambda q, k, v, m: (q @ k.transpose(-2, -1)).softmax(-1) @ v,
            N_("padding leaks into c_t: mask the scores of padded positions before the softmax"),
        ),
        Mistake(
            "keys-as-values",
            lambda ctx: lambda q, k, v, m: _weights(q, k, m) @ k,
            N_("you summed the keys; (5-23) sums the values (here a separate tensor)"),
        ),
        Mistake(
            "uniform",
            lambda ctx: (
                lambda q, k, v, m: (
                    (m[:, None, :].double() / m.sum(-1)[:, None, None])
                    .expand(-1, q.shape[1], -1)
                    .to(v.dtype)
                    @ v
                )
            ),
            N_(
                "your c_t is the plain mean of the real values: the weights must come from the "
                "scores (5-21), not be 1/n (the misprinted (5-22))"
            ),
        ),
        Mistake(
            "wrong-axis",
            lambda ctx: lambda q, k, v, m: _weights(q, k, m, dim=1).nan_to_num() @ v,
            N_(
                "your softmax normalises over the decoder steps; (5-22) normalises over the "
                "source positions (the last axis of the scores)"
            ),
        ),
    ),
    solution=N_(
        """\
def attention_context(query, keys, values, mask):
    scores = query @ keys.transpose(-2, -1)  # (5-21) e = sᵀh   [B, T, S]
    weights = scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)  # (5-22)
    return weights @ values  # (5-23) Σ_i α_ti v_i   [B, T, Dv]
"""
    ),
    solution_note=N_(
        "It equals torch.nn.functional.scaled_dot_product_attention(query, keys, values, "
        'attn_mask=mask[:, None, :], scale=1.0), and companion.models.Attention(d, d, "dot") '
        "when the values are the keys."
    ),
    hints=(
        N_(
            "Three steps: scores [B, T, S] from a batched matrix product, masked softmax over S, "
            "weighted sum of the values."
        ),
        N_(
            "query @ keys.transpose(-2, -1) gives e_{t,i}; mask[:, None, :] broadcasts the "
            "padding mask over the decoder steps T."
        ),
        N_("weights @ values computes Σ_i α_{t,i} v_i for every t at once."),
    ),
)


# ------------------------------------------------------------- 5.3.3-additive-parameters (predict)
# AdditiveScore(query_dim=32, key_dim=48, attn_dim=16): W_s 16×32 (no bias) + W_h 16×48 + 16 + v 16.
_ADDITIVE = 16 * 32 + 16 * 48 + 16 + 16

predict_exercise(
    id="5.3.3-additive-parameters",
    section=N_("5.3.3 (5-21), additive score"),
    title=N_("Parameters of Bahdanau's additive score vᵀ tanh(W_s s + W_h h + b)"),
    value=_ADDITIVE,
    precision=Precision(0),
    answer_name="additive_parameters",
    mistakes=[
        (
            "matrices-only",
            16 * 32 + 16 * 48,
            N_("1280 counts W_s and W_h only: add the vector v (A numbers) and the bias of W_h"),
        ),
        (
            "one-vector-missing",
            _ADDITIVE - 16,
            N_("one vector of length A = 16 is missing: count both v and the bias inside tanh"),
        ),
        (
            "two-biases",
            _ADDITIVE + 16,
            N_(
                "W_s s + W_h h needs only one bias: two biases added together act as one, so the "
                "model has a single bias vector"
            ),
        ),
        (
            "square",
            2 * 48 * 48 + 2 * 48,
            N_("the attention size A = 16 sets the rows of W_s and W_h, not the key size"),
        ),
    ],
    solution=N_(
        """\
query, key, attention = 32, 48, 16
# W_s: 16 × 32, W_h: 16 × 48, one bias b inside tanh: 16, and v: 16
additive_parameters = attention * query + attention * key + attention + attention  # 1,312
"""
    ),
    solution_note=N_(
        "Check: sum(p.numel() for p in companion.models.AdditiveScore(32, 48, 16).parameters())."
    ),
    hints=(
        N_(
            "Query size 32, key size 48, attention size A = 16: W_s maps 32 → 16, W_h maps 48 → 16."
        ),
        N_(
            "Besides the two matrices there is one bias of size A inside tanh and the vector v of "
            "size A."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.3-five-dates (experiment)

exact_match_exercise(
    id="5.3.3-five-dates",
    section=N_("5.3.3, Fig. 5-10"),
    title=N_("Attention on inputs longer than any in training: five dates"),
    task="dates",
    n=100,
    seed=1,
    n_items=5,
    max_len=70,
    answer_name="five_dates_exact",
    solution=N_(
        """\
pairs5 = generate_pairs("dates", 100, seed=1, n_items=5)
preds = translate(attention_model, data, [p.src for p in pairs5], max_len=70)
five_dates_exact = exact_match(preds, [p.tgt for p in pairs5])
"""
    ),
    solution_names=lambda ctx: {"attention_model": ctx["model"], "data": ctx["data"]},
    solution_note=N_(
        "Training never showed more than four dates, so no decoder state was trained to write a "
        "fifth date (or the fourth comma before it). Attention can still look the dates up, but "
        "the decoder must also learn *when to stop*: compare where the outputs end with the "
        "references."
    ),
    hints=(
        N_(
            "generate_pairs('dates', 100, seed=1, n_items=5) gives the inputs; translate(...) "
            "with max_len=70 decodes them greedily."
        ),
        N_("exact_match(predictions, references) from companion.metrics gives the fraction."),
    ),
    demo_context=lambda: demo_model_and_data("dates", "attention", "en", "zh"),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.3-what-attention-buys",
    section=N_("5.3.3 (5-21)–(5-23)"),
    title=N_("What attention gives the decoder, and what it costs"),
    answer=N_(
        "Without attention the decoder sees the input only through one vector c, fixed before it "
        "writes anything. With attention it computes a new context c_t at every step: a weighted "
        "average of all the encoder states, with weights (5-22) from how well each state matches "
        "the decoder's current state (5-21). So it can look up the source word it needs now, long "
        "inputs no longer have to fit in one vector, and the weights show an alignment "
        "(Fig. 5-10). "
        "The price is a score for every source position at every output step — work proportional "
        "to the product of the two lengths — and the encoder states must be kept in memory."
    ),
)
