"""Exercises of notebook 5.2.3, maximum likelihood estimation (最大似然估计), (5-1)–(5-3)."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import CheckFailed, Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.i18n import N_, _

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

predict_exercise(
    id="5.2.3-log-product",
    section=N_("5.2.3 (5-1) → (5-2)"),
    title=N_("ln of the likelihood (5-1) of 1,000 points that each have probability 0.01"),
    value=1000 * math.log(0.01),
    precision=Precision(0),
    answer_name="my_log_likelihood",
    mistakes=[
        (
            "log10",
            1000 * math.log10(0.01),
            N_("that is log base 10; (5-2) uses the natural logarithm"),
        ),
        (
            "positive",
            -1000 * math.log(0.01),
            N_("a probability below 1 has a negative logarithm: check the sign"),
        ),
    ],
    solution=N_(
        """\
# ln Π p_i = Σ ln p_i: the logarithm turns the product (5-1) into the sum (5-2)
my_log_likelihood = 1000 * math.log(0.01)  # ≈ −4605
"""
    ),
    solution_note=N_(
        "The product itself, 10^−2000, underflows to 0 even in float64 (whose smallest number is "
        "about 10^−308), and ln 0 = −∞: that is why (5-2) takes the logarithm first."
    ),
    hints=(
        N_("The logarithm turns the product (5-1) into a sum (5-2)."),
        N_("1000 · ln(0.01), natural logarithm (math.log)."),
    ),
)

predict_exercise(
    id="5.2.3-bernoulli-nll",
    section=N_("5.2.3 cross-entropy ⇔ Bernoulli NLL"),
    title=N_("Binary cross-entropy of two pixels: value 1 predicted 0.9, value 0 predicted 0.2"),
    value=-math.log(0.9) - math.log(0.8),
    precision=Precision(3),
    answer_name="my_nll",
    mistakes=[
        (
            "wrong-class",
            -math.log(0.9) - math.log(0.2),
            N_("for a pixel whose value is 0 the likelihood is 1 − p = 0.8, not p"),
        ),
        (
            "bits",
            (-math.log(0.9) - math.log(0.8)) / math.log(2),
            N_("that is in bits; use the natural logarithm"),
        ),
        (
            "sign",
            math.log(0.9) + math.log(0.8),
            N_("that is the log-likelihood; the NLL (cross-entropy) is its negative"),
        ),
    ],
    solution=N_(
        """\
# Bernoulli likelihood of a pixel y with predicted p: p^y (1 − p)^(1 − y)
my_nll = -math.log(0.9) - math.log(1 - 0.2)  # 0.105 + 0.223 ≈ 0.329 nats
"""
    ),
    hints=(
        N_(
            "A pixel with value y and predicted probability p has likelihood p if y = 1 and "
            "1 − p if y = 0."
        ),
        N_("−ln 0.9 − ln 0.8."),
    ),
)


predict_exercise(
    id="5.2.3-mse-nll",
    section=N_("5.2.3 MSE ⇔ Gaussian NLL"),
    title=N_("Gaussian NLL (variance 1) of a 784-pixel image reconstructed with MSE 0.04"),
    value=784 * (HALF_LOG_2PI + 0.5 * 0.04),
    precision=Precision(1),
    answer_name="my_nll",
    mistakes=[
        (
            "no-constant",
            784 * 0.5 * 0.04,
            N_(
                "you left out the constant ½ ln 2π per pixel; it does not change the optimum but "
                "it is part of the NLL"
            ),
        ),
        (
            "no-half",
            784 * (HALF_LOG_2PI + 0.04),
            N_("the squared error enters as ½ (x − μ)²: half the MSE per pixel"),
        ),
        (
            "per-pixel",
            HALF_LOG_2PI + 0.5 * 0.04,
            N_("that is per pixel; the image has 784 pixels and their NLLs add up"),
        ),
        (
            "full-log-2pi",
            784 * (2 * HALF_LOG_2PI + 0.5 * 0.04),
            N_("the constant is ½ ln 2π, not ln 2π"),
        ),
    ],
    solution=N_(
        """\
# −ln N(x; μ, 1) = ½ ln 2π + ½ (x − μ)² per pixel; the mean of (x − μ)² is the MSE, 0.04
per_pixel = 0.5 * math.log(2 * math.pi) + 0.5 * 0.04  # 0.9189 + 0.02
my_nll = 784 * per_pixel  # ≈ 736.1 nats
"""
    ),
    solution_note=N_("Minimising this NLL is minimising the MSE: the rest is a constant."),
    hints=(
        N_("Write −ln N(x; μ, σ² = 1) for one pixel, then add up 784 of them."),
        N_("Per pixel: ½ ln(2π) + ½ (x − μ)²; the mean of (x − μ)² is the MSE."),
    ),
)

# ---------------------------------------------------------------- 5.2.3-gaussian-nll (implement)


def _nll_independent(x, mean, logvar):
    from torch.distributions import Normal

    return -Normal(mean.double(), (0.5 * logvar.double()).exp()).log_prob(x.double())


def _nll_cases():
    g = torch.Generator().manual_seed(523)
    return [
        tuple(torch.randn(5, generator=g) for _ in range(3)),
        (
            torch.randn(3, 4, generator=g),
            torch.randn(3, 4, generator=g),
            2 * torch.randn(3, 4, generator=g),
        ),
        (torch.tensor([0.0, 3.0]), torch.tensor([0.0, -1.0]), torch.tensor([-6.0, 5.0])),
    ]


def _nll_with(
    const=HALF_LOG_2PI, sq=0.5, var=lambda lv: lv.exp(), logterm=lambda lv: 0.5 * lv, sign=1.0
):
    return lambda x, m, lv: sign * (const + logterm(lv) + sq * (x - m) ** 2 / var(lv))


implement_exercise(
    id="5.2.3-gaussian-nll",
    section=N_("5.2.3 (5-2)"),
    title=N_("gaussian_nll(x, mean, logvar): −ln N(x; mean, e^logvar), elementwise"),
    answer_name="gaussian_nll",
    spec=FunctionSpec(cases=_nll_cases, expected=_nll_independent, rtol=1e-4, atol=1e-4),
    mistakes=(
        Mistake(
            "no-constant",
            lambda ctx: _nll_with(const=0.0),
            N_("the constant ½ ln 2π is missing (it matters when you compare NLLs across models)"),
        ),
        Mistake(
            "no-half",
            lambda ctx: _nll_with(sq=1.0),
            N_("the squared error needs the ½: (x − μ)² / (2σ²)"),
        ),
        Mistake(
            "log-std",
            lambda ctx: _nll_with(var=lambda lv: (2 * lv).exp(), logterm=lambda lv: lv),
            N_("you treated logvar as ln σ; it is ln σ², so σ² = exp(logvar) and ln σ = ½ logvar"),
        ),
        Mistake(
            "no-log-sigma",
            lambda ctx: _nll_with(logterm=lambda lv: 0 * lv),
            N_(
                "the term ln σ = ½ logvar is missing: without it a wider Gaussian would always "
                "look better"
            ),
        ),
        Mistake(
            "log-likelihood",
            lambda ctx: _nll_with(sign=-1.0),
            N_("you returned the log-likelihood; the NLL is its negative"),
        ),
    ),
    solution=N_(
        """\
def gaussian_nll(x, mean, logvar):
    # −ln N(x; μ, σ²) = ½ ln 2π + ln σ + (x − μ)² / (2σ²), with ln σ = ½ logvar
    return 0.5 * math.log(2 * math.pi) + 0.5 * logvar + 0.5 * (x - mean) ** 2 / logvar.exp()
"""
    ),
    solution_note=N_(
        "Check: -torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(x) gives the same."
    ),
    hints=(
        N_("ln N(x; μ, σ²) = −½ ln(2π) − ln σ − (x − μ)² / (2σ²)."),
        N_("With logvar = ln σ²: ln σ = ½ logvar and σ² = logvar.exp()."),
    ),
)


# ---------------------------------------------------------------- 5.2.3-gaussian-mle (implement)


def _mle_independent(x):
    """Where the gradient (5-3) vanishes, computed in float64 with explicit sums over N."""
    data = x.double()
    mean = data.sum(0) / data.shape[0]
    variance = ((data - mean) ** 2).sum(0) / data.shape[0]
    return mean.to(x.dtype), variance.to(x.dtype)


def _stack_pair(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(_("return a pair: (mean, variance)"))
    return torch.stack([torch.as_tensor(r, dtype=torch.float64) for r in result])


def _mle_cases():
    g = torch.Generator().manual_seed(5231)
    return [
        (2 + 1.5 * torch.randn(5, generator=g),),
        (torch.randn(8, 3, generator=g) * 3,),
        (torch.tensor([1.0, 1.0, 4.0]),),
    ]


implement_exercise(
    id="5.2.3-gaussian-mle",
    section=N_("5.2.3 (5-2), (5-3)"),
    title=N_("gaussian_mle(x): the closed-form maximum-likelihood mean and variance"),
    answer_name="gaussian_mle",
    spec=FunctionSpec(
        cases=_mle_cases, expected=_mle_independent, normalise=_stack_pair, rtol=1e-5, atol=1e-6
    ),
    mistakes=(
        Mistake(
            "unbiased",
            lambda ctx: lambda x: (x.mean(0), x.var(0)),
            N_(
                "you divided by N − 1 (torch.var's default, the unbiased estimate); the maximum "
                "of the likelihood divides by N: x.var(0, correction=0)"
            ),
            fix=lambda ctx: lambda x: (x.mean(0), x.var(0, correction=0)),
        ),
        Mistake(
            "std",
            lambda ctx: lambda x: (x.mean(0), x.std(0, correction=0)),
            N_("that is the standard deviation; return the variance σ²"),
        ),
        Mistake(
            "wrong-dim",
            lambda ctx: (
                lambda x: (
                    x.mean(-1) if x.dim() > 1 else x.mean(0),
                    x.var(-1, correction=0) if x.dim() > 1 else x.var(0, correction=0),
                )
            ),
            N_("average over the data points (dimension 0), not over the features"),
        ),
    ),
    solution=N_(
        """\
def gaussian_mle(x):
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)  # divide by N: the maximum of (5-2), slightly biased
    return mean, var
"""
    ),
    hints=(
        N_("Set the gradient (5-3) of the log-likelihood to zero for μ and for σ²."),
        N_(
            "μ̂ is the sample mean; σ̂² is the mean squared deviation from μ̂ — dividing by N, "
            "not N − 1."
        ),
    ),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.3-why-log",
    section=N_("5.2.3 (5-1) → (5-2)"),
    title=N_("Why maximise the log-likelihood instead of the likelihood"),
    answer=N_(
        "The logarithm is increasing, so both have the same maximum. But the likelihood (5-1) is a "
        "product of many numbers below 1, which underflows to 0 in floating point for a few "
        "hundred data points — and the gradient of 0 is useless. The log turns the product into a "
        "sum (5-2), which stays in range, whose gradient is a sum of per-example gradients (so "
        "minibatches estimate it), and whose terms for Gaussians and Bernoullis become the "
        "familiar squared error and cross-entropy."
    ),
)
