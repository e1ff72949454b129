"""Exercises of notebook 5.2.5, Monte Carlo sampling (蒙特卡洛采样), (5-7)."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_

predict_exercise(
    id="5.2.5-standard-error",
    section=N_("5.2.5 (5-7)"),
    title=N_("Spread of a Monte Carlo mean of K = 400 samples whose standard deviation is 2"),
    value=0.1,
    precision=Precision(3),
    answer_name="my_spread",
    mistakes=[
        ("divided-by-k", 2 / 400, N_("the spread falls like 1/√K, not 1/K")),
        (
            "variance",
            4 / 400,
            N_("that is the variance of the mean, σ²/K; its standard deviation is σ/√K"),
        ),
        ("no-reduction", 2.0, N_("averaging K independent samples shrinks the spread: σ/√K")),
    ],
    solution=N_(
        """\
# the standard deviation of a mean of K independent samples is σ/√K
my_spread = 2 / math.sqrt(400)  # 2 / 20 = 0.100
"""
    ),
    solution_note=N_(
        "Four times as many samples halve it: that is why the notebook's spread falls slowly "
        "with K."
    ),
    hints=(N_("Var(mean of K iid samples) = σ²/K."), N_("Take the square root: σ/√K.")),
)

predict_exercise(
    id="5.2.5-curse",
    section=N_("5.2.5 the curse of dimensionality"),
    title=N_("log₁₀ of the prior samples needed per 'useful' one, 20 dimensions, 1 in 5 per axis"),
    value=20 * math.log10(5),
    precision=Precision(1),
    answer_name="my_log10",
    mistakes=[
        (
            "added",
            math.log10(5 * 20),
            N_("you multiplied 5 by 20; probabilities of independent axes multiply: (1/5)²⁰"),
        ),
        (
            "one-axis",
            math.log10(5),
            N_("that is one dimension; all 20 must land in the posterior's region at once"),
        ),
        (
            "natural-log",
            20 * math.log(5),
            N_("that is the natural logarithm; the question asks for log₁₀"),
        ),
    ],
    solution=N_(
        """\
p_useful = (1 / 5) ** 20  # every one of 20 independent axes must land in the region
my_log10 = -math.log10(p_useful)  # 20 · log₁₀ 5 ≈ 14.0: about 10¹⁴ samples per useful one
"""
    ),
    hints=(
        N_("The 20 coordinates of a prior sample are independent."),
        N_("P(all 20 land) = (1/5)^20; take −log₁₀ of it."),
    ),
)


# ---------------------------------------------------------------- 5.2.5-log-mean-exp (implement)


def _lme_independent(values):
    """Row by row in float64 with Python's math: the maximum, then the mean of exp(v − max)."""
    flat = values.double().reshape(-1, values.shape[-1]).tolist()
    out = []
    for row in flat:
        top = max(row)
        out.append(top + math.log(sum(math.exp(v - top) for v in row) / len(row)))
    return torch.tensor(out, dtype=torch.float64).reshape(values.shape[:-1])


def _lme_cases():
    g = torch.Generator().manual_seed(525)
    return [
        (torch.randn(4, 10, generator=g),),
        (3 * torch.randn(2, 3, 7, generator=g),),
        (torch.tensor([[-3000.0, -3001.0, -2999.5], [800.0, 805.0, 790.0]]),),
        (torch.randn(6, generator=g),),
    ]


implement_exercise(
    id="5.2.5-log-mean-exp",
    section=N_("5.2.5 (5-7) in log space"),
    title=N_("log_mean_exp(values): ln( mean of exp(values) ) over the last dimension, stably"),
    answer_name="log_mean_exp",
    spec=FunctionSpec(cases=_lme_cases, expected=_lme_independent, rtol=1e-5, atol=1e-4),
    mistakes=(
        Mistake(
            "naive",
            lambda ctx: lambda v: v.exp().mean(-1).log(),
            N_(
                "exp underflows (−3000 → 0) and overflows (800 → inf): subtract the maximum "
                "first, or use torch.logsumexp"
            ),
            fix=lambda ctx: (
                lambda v: (
                    v.max(-1).values + (v - v.max(-1, keepdim=True).values).exp().mean(-1).log()
                )
            ),
        ),
        Mistake(
            "no-minus-log-k",
            lambda ctx: lambda v: torch.logsumexp(v, dim=-1),
            N_("that is ln Σ exp, the log of the *sum*: subtract ln K to get the mean"),
            fix=lambda ctx: lambda v: torch.logsumexp(v, dim=-1) - math.log(v.shape[-1]),
        ),
        Mistake(
            "mean-of-logs",
            lambda ctx: lambda v: v.mean(-1),
            N_(
                "that is the mean of the values (E[ln w] ≤ ln E[w] by Jensen, (5-11)); the "
                "exercise is ln of the mean of exp"
            ),
        ),
        Mistake(
            "max-only",
            lambda ctx: lambda v: v.max(-1).values,
            N_("you kept only the maximum; add ln of the mean of exp(v − max)"),
        ),
    ),
    solution=N_(
        """\
def log_mean_exp(values):
    m = values.max(-1, keepdim=True).values  # ln mean exp(v) = m + ln mean exp(v − m)
    return (m + (values - m).exp().mean(-1, keepdim=True).log()).squeeze(-1)
"""
    ),
    solution_note=N_(
        "Or in one line: torch.logsumexp(values, dim=-1) - math.log(values.shape[-1])."
    ),
    hints=(
        N_("(5-7) averages p(x|z_k) = exp(ln p(x|z_k)); those numbers under- or overflow."),
        N_("ln mean exp(v) = m + ln mean exp(v − m) for any m; take m = the maximum."),
        N_("torch.logsumexp(values, -1) − ln K."),
    ),
)


# ---------------------------------------------------------------- 5.2.5-importance (implement)


def _is_independent(log_lik, log_prior, log_q):
    return _lme_independent(log_lik.double() + log_prior.double() - log_q.double())


def _is_cases():
    g = torch.Generator().manual_seed(5251)
    cases = []
    for shape in [(3, 50), (2, 4, 20), (1, 1000)]:
        cases.append(
            (
                -5 + torch.randn(shape, generator=g),
                -torch.rand(shape, generator=g) * 3,
                -torch.rand(shape, generator=g) * 2,
            )
        )
    cases.append(
        (
            torch.full((2, 30), -2500.0) + torch.randn(2, 30, generator=g),
            -torch.rand(2, 30, generator=g),
            -torch.rand(2, 30, generator=g),
        )
    )
    return cases


def _lme(w):
    return torch.logsumexp(w, dim=-1) - math.log(w.shape[-1])


implement_exercise(
    id="5.2.5-importance",
    section=N_("5.2.5 importance sampling"),
    title=N_("log_marginal_is(log_lik, log_prior, log_q): ln p(x) by importance sampling"),
    answer_name="log_marginal_is",
    spec=FunctionSpec(cases=_is_cases, expected=_is_independent, rtol=1e-5, atol=1e-4),
    mistakes=(
        Mistake(
            "no-proposal",
            lambda ctx: lambda ll, lp, lq: _lme(ll + lp),
            N_("you forgot to divide by q(z|x): the weights are p(x|z) p(z) / q(z|x)"),
        ),
        Mistake(
            "proposal-sign",
            lambda ctx: lambda ll, lp, lq: _lme(ll + lp + lq),
            N_("you multiplied by q(z|x) instead of dividing: subtract log_q"),
            fix=lambda ctx: lambda ll, lp, lq: _lme(ll + lp - lq),
        ),
        Mistake(
            "elbo",
            lambda ctx: lambda ll, lp, lq: (ll + lp - lq).mean(-1),
            N_(
                "that is the mean log-weight, the ELBO (5-8) (k = 1): a lower bound. ln p(x) is "
                "the log of the mean weight"
            ),
        ),
        Mistake(
            "no-prior",
            lambda ctx: lambda ll, lp, lq: _lme(ll - lq),
            N_("the prior p(z) is missing from the weights"),
        ),
    ),
    solution=N_(
        """\
def log_marginal_is(log_lik, log_prior, log_q):
    # all [..., K]: ln p(x|z_k), ln p(z_k), ln q(z_k|x) for z_k ~ q(z|x)
    log_w = log_lik + log_prior - log_q  # the importance weights, in logs
    return torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])
"""
    ),
    hints=(
        N_("p(x) = E_{z~q}[p(x|z) p(z) / q(z|x)]: (5-7) with samples from q and reweighted."),
        N_(
            "Add and subtract the logs to get ln w_k, then take ln of the mean of w_k in log space."
        ),
    ),
)


# ---------------------------------------------------------------- 5.2.5-iw-gap (experiment)


def _gap(context) -> float:
    log_w = context["log_weights"].double()
    return (torch.logsumexp(log_w, 0) - math.log(log_w.shape[0]) - log_w.mean(0)).mean().item()


experiment_exercise(
    id="5.2.5-iw-gap",
    section=N_("5.2.5 (5-7), (5-8)"),
    title=N_("How far below the k = K estimate of ln p(x) is the ELBO, on average over images?"),
    measure=_gap,
    precision=Precision(3),
    answer_name="my_gap",
    mistakes=[
        (
            "sign",
            lambda ctx: -_gap(ctx),
            N_(
                "your gap is negative: the ELBO lies *below* ln p(x) (Jensen), so "
                "ln p̂(x) − ELBO ≥ 0"
            ),
        ),
        (
            "no-minus-log-k",
            lambda ctx: _gap(ctx) + math.log(ctx["log_weights"].shape[0]),
            N_(
                "you used logsumexp without subtracting ln K: that is the log of the sum of the "
                "weights, not of their mean"
            ),
        ),
    ],
    solution=N_(
        """\
K = log_w.shape[0]  # log_w: [K, N] from the notebook
log_px = torch.logsumexp(log_w, dim=0) - math.log(K)  # the k = K estimate of ln p(x), per image
elbo = log_w.mean(0)  # k = 1: the ELBO, per image
my_gap = (log_px - elbo).mean().item()
"""
    ),
    solution_names=lambda ctx: {"log_w": ctx["log_weights"]},
    hints=(
        N_("The notebook's log_w has one row per sample k and one column per image."),
        N_(
            "Per image: ln p̂(x) = log_mean_exp over the K rows; ELBO = the mean of the rows. "
            "Average the difference over images."
        ),
    ),
    needs=("log_weights",),
    demo_context=lambda: {
        "log_weights": -100 + 3 * torch.randn(200, 5, generator=torch.Generator().manual_seed(5))
    },
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.5-why-proposal",
    section=N_("5.2.5 importance sampling"),
    title=N_("Why sampling from the prior fails, and what q(z|x) changes"),
    answer=N_(
        "(5-7) averages p(x|z) over z drawn from the prior. For one particular image only a tiny "
        "region of z explains it; in many dimensions a prior sample almost never lands there "
        "(the curse of dimensionality), so nearly every term is ≈ 0 and the average is carried by "
        "rare lucky samples: huge variance. Importance sampling draws z from a proposal q(z|x) "
        "concentrated where the posterior is and corrects with the weight p(z)/q(z|x), so most "
        "samples count. The VAE's encoder is exactly such a q, learned for every x at once."
    ),
)
