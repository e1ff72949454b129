"""Exercises of notebook 5.2.5, Monte Carlo sampling (蒙特卡洛采样), (5-7)."""

from __future__ import annotations

import math

import torch

from companion.exercises.core import (
    Mistake,
    experiment_exercise,
    implement_exercise,
    predict_exercise,
)

predict_exercise(
    id="5.2.5-standard-error",
    section="5.2.5 (5-7)",
    title="Spread of a Monte Carlo mean of K = 400 samples whose standard deviation is 2",
    value=0.1,
    rtol=1e-2,
    mistakes=[
        ("divided-by-k", 2 / 400, "the spread falls like 1/√K, not 1/K"),
        (
            "variance",
            4 / 400,
            "that is the variance of the mean, σ²/K; its standard deviation is σ/√K",
        ),
        ("no-reduction", 2.0, "averaging K independent samples shrinks the spread: σ/√K"),
    ],
    solution_text="""
The standard deviation of a mean of K independent samples is σ/√K = 2/√400 = 0.1.
Four times as many samples halve it: that is why the notebook's spread falls slowly with K.""",
    hints=("Var(mean of K iid samples) = σ²/K.", "Take the square root: σ/√K."),
)

predict_exercise(
    id="5.2.5-curse",
    section="5.2.5 the curse of dimensionality",
    title="log₁₀ of the prior samples needed per 'useful' one, 20 dimensions, 1 in 10 per axis",
    value=20.0,
    rtol=0,
    atol=0.01,
    mistakes=[
        (
            "added",
            math.log10(200),
            "you multiplied 10 by 20; probabilities of independent axes multiply: (1/10)²⁰",
        ),
        (
            "one-axis",
            1.0,
            "that is one dimension; all 20 must land in the posterior's region at once",
        ),
    ],
    solution_text="""
If the posterior covers 1/10 of the prior's mass on \
each of 20 independent axes, a prior sample lands
in it with probability 10^−20: about 10²⁰ samples per useful one. log₁₀ = 20.""",
    hints=("The 20 coordinates of a prior sample are independent.", "P(all 20 land) = (1/10)^20."),
)


# ---------------------------------------------------------------- 5.2.5-log-mean-exp (implement)


def _lme_reference(values):
    return torch.logsumexp(values.double(), dim=-1) - math.log(values.shape[-1])


def _lme_cases():
    g = torch.Generator().manual_seed(525)
    return [
        (torch.randn(4, 10, generator=g),),
        (3 * torch.randn(2, 3, 7, generator=g),),
        (torch.tensor([[-3000.0, -3001.0, -2999.5], [800.0, 805.0, 790.0]]),),
        (torch.randn(6, generator=g),),
    ]


LME_MISTAKES = (
    Mistake(
        "naive",
        lambda ctx: lambda v: v.exp().mean(-1).log(),
        "exp underflows (−3000 → 0) and overflows (800 → inf): subtract the maximum first, "
        "or use torch.logsumexp",
    ),
    Mistake(
        "no-minus-log-k",
        lambda ctx: lambda v: torch.logsumexp(v, dim=-1),
        "that is ln Σ exp, the log of the *sum*: subtract ln K to get the mean",
    ),
    Mistake(
        "mean-of-logs",
        lambda ctx: lambda v: v.mean(-1),
        "that is the mean of the values (E[ln w] ≤ ln E[w] by Jensen, (5-11)); the exercise "
        "is ln of the mean of exp",
    ),
    Mistake(
        "max-only",
        lambda ctx: lambda v: v.max(-1).values,
        "you kept only the maximum; add ln of the mean of exp(v − max)",
    ),
)

implement_exercise(
    id="5.2.5-log-mean-exp",
    section="5.2.5 (5-7) in log space",
    title="log_mean_exp(values): ln( mean of exp(values) ) over the last dimension, stably",
    expected=_lme_reference,
    cases=_lme_cases,
    solution=lambda values: torch.logsumexp(values, dim=-1) - math.log(values.shape[-1]),
    mistakes=LME_MISTAKES,
    rtol=1e-5,
    atol=1e-4,
    solution_text="""
def log_mean_exp(values):
    m = values.max(-1, keepdim=True).values
    return (m + (values - m).exp().mean(-1, keepdim=True).log()).squeeze(-1)
# or: torch.logsumexp(values, dim=-1) - math.log(values.shape[-1])""",
    hints=(
        "(5-7) averages p(x|z_k) = exp(ln p(x|z_k)); those numbers under- or overflow.",
        "ln mean exp(v) = m + ln mean exp(v − m) for any m; take m = the maximum.",
        "torch.logsumexp(values, -1) − ln K.",
    ),
)


# ---------------------------------------------------------------- 5.2.5-importance (implement)


def _is_reference(log_lik, log_prior, log_q):
    w = log_lik.double() + log_prior.double() - log_q.double()
    return torch.logsumexp(w, dim=-1) - math.log(w.shape[-1])


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


IS_MISTAKES = (
    Mistake(
        "no-proposal",
        lambda ctx: lambda ll, lp, lq: _lme(ll + lp),
        "you forgot to divide by q(z|x): the weights are p(x|z) p(z) / q(z|x)",
    ),
    Mistake(
        "proposal-sign",
        lambda ctx: lambda ll, lp, lq: _lme(ll + lp + lq),
        "you multiplied by q(z|x) instead of dividing: subtract log_q",
    ),
    Mistake(
        "elbo",
        lambda ctx: lambda ll, lp, lq: (ll + lp - lq).mean(-1),
        "that is the mean log-weight, the ELBO (5-8) (k = 1): a lower bound. ln p(x) is the "
        "log of the mean weight",
    ),
    Mistake(
        "no-prior",
        lambda ctx: lambda ll, lp, lq: _lme(ll - lq),
        "the prior p(z) is missing from the weights",
    ),
)

implement_exercise(
    id="5.2.5-importance",
    section="5.2.5 importance sampling",
    title="log_marginal_is(log_lik, log_prior, log_q): ln p(x) by importance sampling",
    expected=_is_reference,
    cases=_is_cases,
    solution=lambda log_lik, log_prior, log_q: _lme(log_lik + log_prior - log_q),
    mistakes=IS_MISTAKES,
    rtol=1e-5,
    atol=1e-4,
    solution_text="""
def log_marginal_is(log_lik, log_prior, log_q):
    # all [..., K]: ln p(x|z_k), ln p(z_k), ln q(z_k|x) for z_k ~ q(z|x)
    log_w = log_lik + log_prior - log_q                    # importance weights, in logs
    return torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])""",
    hints=(
        "p(x) = E_{z~q}[p(x|z) p(z) / q(z|x)]: (5-7) with samples from q and reweighted.",
        "Add and subtract the logs to get ln w_k, then take ln of the mean of w_k in log space.",
    ),
)


# ---------------------------------------------------------------- 5.2.5-iw-gap (experiment)


def _gap(context) -> float:
    log_w = context["log_weights"].double()
    return (torch.logsumexp(log_w, 0) - math.log(log_w.shape[0]) - log_w.mean(0)).mean().item()


experiment_exercise(
    id="5.2.5-iw-gap",
    section="5.2.5 (5-7), (5-8)",
    title="How far below the k = K estimate of ln p(x) is the ELBO, on average over images?",
    measure=_gap,
    rtol=1e-3,
    atol=1e-4,
    mistakes=[
        (
            "sign",
            lambda ctx: -_gap(ctx),
            "your gap is negative: the ELBO lies *below* ln p(x) (Jensen), so ln p̂(x) − ELBO ≥ 0",
        ),
        (
            "no-minus-log-k",
            lambda ctx: _gap(ctx) + math.log(ctx["log_weights"].shape[0]),
            "you used logsumexp without subtracting ln K: that is the log of the sum of the "
            "weights, not of their mean",
        ),
    ],
    solution_text="""
K = log_w.shape[0]                                       # log_w: [K, N] from the notebook
log_px = torch.logsumexp(log_w, dim=0) - math.log(K)     # k = K estimate of ln p(x), per image
elbo = log_w.mean(0)                                     # k = 1: the ELBO, per image
my_gap = (log_px - elbo).mean().item()""",
    hints=(
        "The notebook's log_w has one row per sample k and one column per image.",
        "Per image: ln p̂(x) = log_mean_exp over the K rows; ELBO = the mean of the rows. "
        "Average the difference over images.",
    ),
    needs=("log_weights",),
    demo_context=lambda: {
        "log_weights": -100 + 3 * torch.randn(200, 5, generator=torch.Generator().manual_seed(5))
    },
)
