"""Exercises of notebook 5.2.3, maximum likelihood estimation (最大似然估计), (5-1)–(5-3)."""

from __future__ import annotations

import math

import torch

from companion.exercises.core import CheckFailed, Mistake, implement_exercise, predict_exercise

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

predict_exercise(
    id="5.2.3-log-product",
    section="5.2.3 (5-1) → (5-2)",
    title="ln of the likelihood (5-1) of 1,000 points that each have probability 0.01",
    value=1000 * math.log(0.01),
    rtol=1e-3,
    mistakes=[
        ("log10", 1000 * math.log10(0.01), "that is log base 10; (5-2) uses the natural logarithm"),
        (
            "positive",
            -1000 * math.log(0.01),
            "a probability below 1 has a negative logarithm: check the sign",
        ),
    ],
    solution_text="""
ln Π p_i = Σ ln p_i = 1000 · ln 0.01 ≈ −4605.2. The \
product itself, 10^−2000, underflows to 0 even in
float64 (smallest ≈ 10^−308), and ln 0 = −∞: that is why (5-2) takes the logarithm first.""",
    hints=(
        "The logarithm turns the product (5-1) into a sum (5-2).",
        "1000 · ln(0.01), natural logarithm (math.log).",
    ),
)

predict_exercise(
    id="5.2.3-bernoulli-nll",
    section="5.2.3 cross-entropy ⇔ Bernoulli NLL",
    title="Binary cross-entropy of two pixels: value 1 predicted 0.9, value 0 predicted 0.2",
    value=-math.log(0.9) - math.log(0.8),
    rtol=5e-3,
    mistakes=[
        (
            "wrong-class",
            -math.log(0.9) - math.log(0.2),
            "for a pixel whose value is 0 the likelihood is 1 − p = 0.8, not p",
        ),
        (
            "bits",
            (-math.log(0.9) - math.log(0.8)) / math.log(2),
            "that is in bits; use the natural logarithm",
        ),
        (
            "sign",
            math.log(0.9) + math.log(0.8),
            "that is the log-likelihood; the NLL (cross-entropy) is its negative",
        ),
    ],
    solution_text="""
Bernoulli likelihood: p^y (1 − p)^(1 − y). NLL = −ln \
0.9 − ln(1 − 0.2) = 0.105 + 0.223 ≈ 0.329 nats.""",
    hints=(
        "A pixel with value y and predicted probability p has likelihood p if y = 1 and 1 − p "
        "if y = 0.",
        "−ln 0.9 − ln 0.8.",
    ),
)


predict_exercise(
    id="5.2.3-mse-nll",
    section="5.2.3 MSE ⇔ Gaussian NLL",
    title="Gaussian NLL (variance 1) of a 784-pixel image reconstructed with MSE 0.04",
    value=784 * (HALF_LOG_2PI + 0.5 * 0.04),
    rtol=2e-3,
    mistakes=[
        (
            "no-constant",
            784 * 0.5 * 0.04,
            "you left out the constant ½ ln 2π per pixel; it "
            "does not change the optimum but it is part of "
            "the NLL",
        ),
        (
            "no-half",
            784 * (HALF_LOG_2PI + 0.04),
            "the squared error enters as ½ (x − μ)²: half the MSE per pixel",
        ),
        (
            "per-pixel",
            HALF_LOG_2PI + 0.5 * 0.04,
            "that is per pixel; the image has 784 pixels and their NLLs add up",
        ),
        (
            "full-log-2pi",
            784 * (2 * HALF_LOG_2PI + 0.5 * 0.04),
            "the constant is ½ ln 2π, not ln 2π",
        ),
    ],
    solution_text="""
−ln N(x; μ, 1) = ½ ln 2π + ½ (x − μ)² per pixel. Summed over 784 pixels with mean (x − μ)² = 0.04:
784 · (0.9189 + 0.02) ≈ 736.1 nats. Minimising it is minimising the MSE.""",
    hints=(
        "Write −ln N(x; μ, σ² = 1) for one pixel, then add up 784 of them.",
        "Per pixel: ½ ln(2π) + ½ (x − μ)²; the mean of (x − μ)² is the MSE.",
    ),
)

# ---------------------------------------------------------------- 5.2.3-gaussian-nll (implement)


def _nll_reference(x, mean, logvar):
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


NLL_MISTAKES = (
    Mistake(
        "no-constant",
        lambda ctx: _nll_with(const=0.0),
        "the constant ½ ln 2π is missing (it matters when you compare NLLs across models)",
    ),
    Mistake(
        "no-half", lambda ctx: _nll_with(sq=1.0), "the squared error needs the ½: (x − μ)² / (2σ²)"
    ),
    Mistake(
        "log-std",
        lambda ctx: _nll_with(var=lambda lv: (2 * lv).exp(), logterm=lambda lv: lv),
        "you treated logvar as ln σ; it is ln σ², so σ² = exp(logvar) and ln σ = ½ logvar",
    ),
    Mistake(
        "no-log-sigma",
        lambda ctx: _nll_with(logterm=lambda lv: 0 * lv),
        "the term ln σ = ½ logvar is missing: without it a wider Gaussian would always look better",
    ),
    Mistake(
        "log-likelihood",
        lambda ctx: _nll_with(sign=-1.0),
        "you returned the log-likelihood; the NLL is its negative",
    ),
)

implement_exercise(
    id="5.2.3-gaussian-nll",
    section="5.2.3 (5-2)",
    title="gaussian_nll(x, mean, logvar): −ln N(x; mean, e^logvar), elementwise",
    expected=_nll_reference,
    cases=_nll_cases,
    solution=_nll_with(),
    mistakes=NLL_MISTAKES,
    rtol=1e-4,
    atol=1e-4,
    solution_text="""
def gaussian_nll(x, mean, logvar):
    return 0.5 * math.log(2 * math.pi) + 0.5 * logvar + 0.5 * (x - mean) ** 2 / logvar.exp()
# check: -torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(x)""",
    hints=(
        "ln N(x; μ, σ²) = −½ ln(2π) − ln σ − (x − μ)² / (2σ²).",
        "With logvar = ln σ²: ln σ = ½ logvar and σ² = logvar.exp().",
    ),
)


# ---------------------------------------------------------------- 5.2.3-gaussian-mle (implement)


def _mle_reference(x):
    mean = x.mean(0)
    return mean, (x - mean).pow(2).mean(0)


def _stack_pair(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed("return a pair: (mean, variance)")
    return torch.stack([torch.as_tensor(r, dtype=torch.float64) for r in result])


def _mle_cases():
    g = torch.Generator().manual_seed(5231)
    return [
        (2 + 1.5 * torch.randn(5, generator=g),),
        (torch.randn(8, 3, generator=g) * 3,),
        (torch.tensor([1.0, 1.0, 4.0]),),
    ]


MLE_MISTAKES = (
    Mistake(
        "unbiased",
        lambda ctx: lambda x: (x.mean(0), x.var(0)),
        "you divided by N − 1 (torch.var's default, the unbiased estimate); the maximum of "
        "the likelihood divides by N: x.var(0, correction=0)",
    ),
    Mistake(
        "std",
        lambda ctx: lambda x: (x.mean(0), x.std(0, correction=0)),
        "that is the standard deviation; return the variance σ²",
    ),
    Mistake(
        "wrong-dim",
        lambda ctx: (
            lambda x: (
                x.mean(-1) if x.dim() > 1 else x.mean(0),
                x.var(-1, correction=0) if x.dim() > 1 else x.var(0, correction=0),
            )
        ),
        "average over the data points (dimension 0), not over the features",
    ),
)

implement_exercise(
    id="5.2.3-gaussian-mle",
    section="5.2.3 (5-2), (5-3)",
    title="gaussian_mle(x): the closed-form maximum-likelihood mean and variance",
    expected=_mle_reference,
    cases=_mle_cases,
    solution=_mle_reference,
    mistakes=MLE_MISTAKES,
    compare_as=_stack_pair,
    rtol=1e-5,
    atol=1e-6,
    solution_text="""
def gaussian_mle(x):
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)        # divide by N: the maximum of (5-2), slightly biased
    return mean, var""",
    hints=(
        "Set the gradient (5-3) of the log-likelihood to zero for μ and for σ².",
        "μ̂ is the sample mean; σ̂² is the mean squared deviation from μ̂ — dividing by N, not N − 1.",
    ),
)
