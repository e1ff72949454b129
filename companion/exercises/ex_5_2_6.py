"""Exercises of notebook 5.2.6, variational inference (变分推断): the ELBO and the Gaussian KL
(5-14)–(5-17), and a Monte Carlo KL whose checker measures the sampling itself."""

from __future__ import annotations

import math
import time

import torch

from companion.exercises.answers import CheckFailed, Precision, kind_problem
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import Case, FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.i18n import N_, _

# ---------------------------------------------------------------- 5.2.6-kl (implement)


def _kl_torch_distributions(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The independent reference: torch.distributions' closed-form Normal–Normal KL."""
    from torch.distributions import Normal, kl_divergence

    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    prior = Normal(
        torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64)
    )
    return kl_divergence(q, prior).sum(-1).to(mu.dtype)


def _kl_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(526)
    return [
        (torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)),
        (torch.randn(2, 5, 3, generator=g), 2 * torch.randn(2, 5, 3, generator=g)),
        (torch.randn(6, generator=g), torch.randn(6, generator=g)),  # one vector → a scalar
        # extreme log-variances: a collapsed posterior and a very wide one
        (
            torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]),
            torch.tensor([[-12.0, 6.0, 0.5], [0.0, 0.0, 0.0]]),
        ),
    ]


def _half(mu, lv):  # (5-16) per dimension
    return 0.5 * (mu.pow(2) + lv.exp() - 1 - lv)


#: a student who followed the book's first definition of σ in 5.2.6 is not simply wrong
LOG_STD_MESSAGE = N_(
    "you read logvar as the log of the standard deviation, so your variance is e^{2·logvar}. That "
    "is the book's first definition of σᵢ in 5.2.6 (ERRATA.md, item 8), but (5-13) and (5-17) hold "
    "only when σᵢ is log σ², the log-variance — and that is what this exercise's logvar is, as the "
    "encoder outputs it: the variance is exp(logvar). The log lets the network output any real "
    "number, negative ones included, and still mean a positive variance."
)

implement_exercise(
    id="5.2.6-kl",
    section=N_("5.2.6 (5-16), (5-17)"),
    title=N_("kl_to_standard_normal(mu, logvar): (5-17) summed over the latent dimension"),
    answer_name="kl_to_standard_normal",
    spec=FunctionSpec(cases=_kl_cases, expected=_kl_torch_distributions, rtol=1e-4, atol=1e-5),
    mistakes=(
        Mistake(
            "no-half",
            lambda ctx: lambda mu, lv: 2 * _half(mu, lv).sum(-1),
            N_(
                "your result is exactly twice the KL: check the ½ in (5-17) (the loss printed "
                "beside Fig. 5-5 drops it too)"
            ),
        ),
        Mistake(
            "negative",
            lambda ctx: lambda mu, lv: -_half(mu, lv).sum(-1),
            N_(
                "your result is minus the KL; a KL divergence is never negative: check the sign "
                "of each term in (5-17)"
            ),
        ),
        Mistake(
            "mean-over-latent",
            lambda ctx: lambda mu, lv: _half(mu, lv).mean(-1),
            N_("you averaged over the latent dimension; (5-17) sums the per-dimension terms"),
        ),
        Mistake(
            "sum-over-everything",
            lambda ctx: lambda mu, lv: _half(mu, lv).sum(),
            N_(
                "you summed over the batch as well: sum only over the last (latent) dimension "
                "and keep one KL per example"
            ),
            fix=lambda ctx: lambda mu, lv: _half(mu, lv).sum(-1),
        ),
        Mistake(
            "logvar-as-log-std",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1),
            LOG_STD_MESSAGE,
        ),
        Mistake(
            "logvar-as-variance",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv - 1 - lv.log()).sum(-1),
            N_(
                "you used logvar as the variance itself; it is its logarithm: the variance is "
                "exp(logvar)"
            ),
        ),
        Mistake(
            "no-minus-one",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(-1),
            N_(
                "the −1 in (5-17) is missing: with μ = 0 and σ = 0 (q equal to the prior) your KL "
                "is not 0"
            ),
        ),
    ),
    solution=N_(
        """\
def kl_to_standard_normal(mu, logvar):
    # (5-16) per dimension with σ = log σ² (logvar), then (5-17) sums over the latent dimension
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
"""
    ),
    solution_note=N_(
        "companion.prob.kl_to_standard_normal is the same formula with input checks; the "
        "checker compares with torch.distributions.kl_divergence."
    ),
    hints=(
        N_(
            "Per latent dimension the KL of N(μ, e^σ) from N(0, 1) is (5-16); (5-17) adds these up."
        ),
        N_(
            "σ here is logvar = log σ²: the variance is logvar.exp(), and the term −log σ² is "
            "-logvar."
        ),
        N_(
            "0.5 * (mu**2 + logvar.exp() - 1 - logvar), then .sum(-1) — keep every batch dimension."
        ),
    ),
)


predict_exercise(
    id="5.2.6-kl-by-hand",
    section=N_("5.2.6 (5-15), (5-16)"),
    title=N_("KL( N(1, variance 4) ‖ N(0, 1) ) by hand"),
    value=0.5 * (1 + 4 - 1 - math.log(4)),
    precision=Precision(2),
    answer_name="my_kl",
    mistakes=[
        (
            "no-half",
            1 + 4 - 1 - math.log(4),
            N_("your result is exactly twice the KL: check the ½ in (5-15)"),
        ),
        (
            "log-std",
            0.5 * (1 + 4 - 1 - math.log(2)),
            N_("you used ln σ = ln 2; (5-15) has ln σ², the log of the variance"),
        ),
        (
            "std-as-variance",
            0.5 * (1 + 2 - 1 - math.log(2)),
            N_("you used the standard deviation 2 where (5-15) wants the variance 4"),
        ),
    ],
    solution=N_(
        """\
# (5-15): KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − ln σ²) with μ = 1, σ² = 4
my_kl = 0.5 * (1**2 + 4 - 1 - math.log(4))  # ½ (4 − 1.386) ≈ 1.31 nats
"""
    ),
    hints=(
        N_("(5-15): KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − ln σ²)."),
        N_("Here σ² = 4 (the standard deviation is 2), so ln σ² = ln 4 ≈ 1.386."),
    ),
)

predict_exercise(
    id="5.2.6-kl-general",
    section=N_("5.2.6 (5-14)"),
    title=N_("KL( N(0, 1) ‖ N(1, variance 4) ) — two general Gaussians"),
    value=math.log(2) + (1 + 1) / 8 - 0.5,
    precision=Precision(2),
    answer_name="my_kl",
    mistakes=[
        (
            "printed-5-14",
            (1 + 1 - 4 + 2 * math.log(2)) / 8,
            N_(
                "that is (5-14) as printed, which divides the log term by 2σ₂² too — it can even "
                "go negative. The log term stands alone: ln(σ₂/σ₁) + (σ₁² + (μ₁−μ₂)²)/(2σ₂²) − ½"
            ),
        ),
        (
            "reversed",
            0.5 * (1 + 4 - 1 - math.log(4)),
            N_("that is KL(N(1, 4) ‖ N(0, 1)), the other direction; the KL is not symmetric"),
        ),
        (
            "std-as-variance",
            0.5 * math.log(2) + (1 + 1) / 4 - 0.5,
            N_("you used the standard deviation 2 where the formula wants the variance 4"),
        ),
    ],
    solution=N_(
        """\
# KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½
mu1, sigma1, mu2, sigma2 = 0, 1, 1, 2
my_kl = math.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5
# 0.693 + 0.25 − 0.5 ≈ 0.44 nats
"""
    ),
    solution_note=N_("(5-14) as printed divides the log term by 2σ₂² as well (ERRATA.md, item 2)."),
    hints=(
        N_(
            "Write the general KL with σ₂ and μ₂ kept; (5-14)'s printed form is wrong unless "
            "σ₂ = 1."
        ),
        N_("ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½, with σ₂ = 2 (variance 4)."),
    ),
)


# ---------------------------------------------------------------- 5.2.6-kl-gaussians (implement)


def _kl_gaussians_torch(mu1, logvar1, mu2, logvar2):
    from torch.distributions import Normal, kl_divergence

    p = Normal(mu1.double(), (0.5 * logvar1.double()).exp())
    q = Normal(mu2.double(), (0.5 * logvar2.double()).exp())
    return kl_divergence(p, q).sum(-1).to(mu1.dtype)


def _kl_gaussians_cases():
    g = torch.Generator().manual_seed(5214)
    return [
        tuple(torch.randn(4, 3, generator=g) for _ in range(4)),
        tuple(1.5 * torch.randn(2, 3, 5, generator=g) for _ in range(4)),
        (
            torch.tensor([0.3, -2.0]),
            torch.tensor([-8.0, 4.0]),  # extreme log-variances
            torch.tensor([1.0, 0.0]),
            torch.tensor([3.0, -5.0]),
        ),
    ]


def _printed_5_14(m1, l1, m2, l2):  # (5-14) as printed, with σ² = e^{logvar}
    return (((m1 - m2) ** 2 + l1.exp() - l2.exp() + (l2 - l1)) / (2 * l2.exp())).sum(-1)


def _correct_kl(m1, l1, m2, l2):
    return 0.5 * (l2 - l1 + (l1 - l2).exp() + (m1 - m2) ** 2 / l2.exp() - 1).sum(-1)


implement_exercise(
    id="5.2.6-kl-gaussians",
    section=N_("5.2.6 (5-14)"),
    title=N_("kl_gaussians(mu1, logvar1, mu2, logvar2): the general diagonal Gaussian KL"),
    answer_name="kl_gaussians",
    spec=FunctionSpec(
        cases=_kl_gaussians_cases, expected=_kl_gaussians_torch, rtol=1e-4, atol=1e-4
    ),
    mistakes=(
        Mistake(
            "printed-5-14",
            lambda ctx: _printed_5_14,
            N_(
                "you implemented (5-14) as printed: its log term must not be divided by 2σ₂² "
                "(it agrees only when σ₂ = 1)"
            ),
        ),
        Mistake(
            "reversed",
            lambda ctx: lambda m1, l1, m2, l2: _correct_kl(m2, l2, m1, l1),
            N_(
                "you computed KL(q ‖ p), the other direction: the first Gaussian is the one the "
                "expectation is taken under"
            ),
        ),
        Mistake(
            "no-half",
            lambda ctx: lambda m1, l1, m2, l2: 2 * _correct_kl(m1, l1, m2, l2),
            N_("your result is exactly twice the KL: check the ½"),
        ),
        Mistake(
            "standard-normal",
            lambda ctx: lambda m1, l1, m2, l2: 0.5 * (m1**2 + l1.exp() - 1 - l1).sum(-1),
            N_(
                "you computed the KL to N(0, 1), ignoring mu2 and logvar2 ((5-17) is only the "
                "special case μ₂ = 0, σ₂ = 1)"
            ),
        ),
    ),
    solution=N_(
        """\
def kl_gaussians(mu1, logvar1, mu2, logvar2):
    # per dimension: ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½, written with log-variances
    per_dim = (
        logvar2 - logvar1 + (logvar1 - logvar2).exp() + (mu1 - mu2) ** 2 / logvar2.exp() - 1
    )
    return 0.5 * per_dim.sum(-1)
"""
    ),
    solution_note=N_("companion.prob.kl_gaussians is the same formula with input checks."),
    hints=(
        N_("Start from the correct univariate KL: ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½."),
        N_(
            "With log-variances: ln(σ₂/σ₁) = ½(logvar2 − logvar1) and σ₁²/σ₂² = "
            "exp(logvar1 − logvar2)."
        ),
        N_(
            "Sum the per-dimension terms over the last dimension; check yourself against "
            "torch.distributions.kl_divergence."
        ),
    ),
)


# ---------------------------------------------------------------- 5.2.6-mc-kl (implement)
# The checker measures the sampling itself: reproducible with a given generator, random across
# seeds, unbiased (the mean over many seeds approaches (5-17)), and a spread that halves when the
# number of samples grows four times (1/√n). Its statistics use fixed seeds, so a check is
# deterministic; the bounds are wide (4 standard errors) so a correct estimator never fails.

_SEEDS = 200
_SMALL, _LARGE = 100, 400
#: seconds per call (n_samples = 100) above which 400 calls would make the check take minutes
_SLOW = 0.02

_NOT_REPRODUCIBLE = N_(
    "with the same generator your function gave two different estimates: draw the noise with "
    "torch.randn(..., generator=generator), so that a run can be repeated"
)
_NOT_SAMPLING = N_(
    "your estimate does not change from one draw to the next: it does not sample (is it the "
    "closed form (5-17)?). Estimate the KL as the mean of ln q(z|x) − ln p(z) over z ~ q"
)
_NO_SHRINK = N_(
    "the spread of your estimates does not shrink when n_samples grows four times: average "
    "ln q − ln p over all n_samples draws (the standard error falls like 1/√n)"
)
_PRIOR_SAMPLES = N_(
    "your samples come from the prior N(0, I): the expectation in KL(q ‖ p) is over z ~ q(z|x), "
    "so draw z = mu + exp(logvar / 2) · ε"
)
_MEAN_OVER_LATENT = N_(
    "your estimates average to the KL divided by the latent dimension: sum ln q − ln p over the "
    "latent dimension (the last one) before averaging over the samples"
)
_LOG_STD_MC = N_(
    "your samples have variance e^{2·logvar}: logvar is log σ², so the standard deviation is "
    "exp(logvar / 2), not exp(logvar)"
)


def _mc_cases() -> list[Case]:
    """μ and log σ² away from the prior, so that the estimator's variance is clearly positive."""
    g = torch.Generator().manual_seed(5260)
    mu = torch.randn(3, 4, generator=g)
    logvar = torch.randn(3, 4, generator=g) - 0.5
    return [Case((mu, logvar, _SMALL, torch.Generator().manual_seed(0)))]


def _closed(mu, logvar):
    return 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1 - logvar.double()).sum(-1)


def _mc_with(*, source="q", reduce="sum", std_power=0.5, draws=None):
    """A Monte Carlo KL estimator, right or with one typical slip (for the diagnosis)."""

    def estimate(mu, logvar, n_samples, generator):
        n = draws or n_samples
        std = (std_power * logvar).exp()
        eps = torch.randn(n, *mu.shape, generator=generator)
        z = eps if source == "prior" else mu + std * eps
        log_q = -0.5 * ((z - mu) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)
        log_p = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
        terms = log_q - log_p
        return (terms.sum(-1) if reduce == "sum" else terms.mean(-1)).mean(0)

    return estimate


def _estimates(fn, mu, logvar, n: int) -> torch.Tensor:
    return torch.stack(
        [
            torch.as_tensor(fn(mu, logvar, n, torch.Generator().manual_seed(seed))).double()
            for seed in range(_SEEDS)
        ]
    )


def _check_mc(answer, context) -> str:
    (case,) = _mc_cases()
    mu, logvar, _n, _generator = case.args
    closed = _closed(mu, logvar)
    what = _("your function's result")
    first = answer(mu, logvar, _SMALL, torch.Generator().manual_seed(0))
    problem = kind_problem(first, closed.float(), what)
    if problem:
        raise CheckFailed(problem)
    if not torch.isfinite(first).all():
        raise CheckFailed(
            _("your estimate contains NaN or inf: check the logarithms (ln of a variance ≤ 0?)")
        )
    start = time.perf_counter()
    again = answer(mu, logvar, _SMALL, torch.Generator().manual_seed(0))
    seconds = time.perf_counter() - start
    if not torch.allclose(first, again, rtol=0, atol=0, equal_nan=True):
        raise CheckFailed(_(_NOT_REPRODUCIBLE))
    if seconds > _SLOW:  # 400 calls would take minutes: say why instead of making them
        raise CheckFailed(
            _(
                "your function takes about {seconds:.2f} s for n_samples = {n}, and measuring a "
                "sampler takes {calls} calls: draw all the samples at once, "
                "torch.randn(n_samples, *mu.shape, generator=generator), instead of looping "
                "over them in Python"
            ).format(seconds=seconds, n=_SMALL, calls=2 * _SEEDS)
        )
    small, large = _estimates(answer, mu, logvar, _SMALL), _estimates(answer, mu, logvar, _LARGE)
    spread_small, spread_large = small.std(0), large.std(0)
    if (spread_small < 1e-9).all():
        raise CheckFailed(_(_NOT_SAMPLING))
    # unbiased: the mean of 200 estimates with n = 400 lies within 4 standard errors of (5-17)
    error = (large.mean(0) - closed).abs()
    if (error > 4 * spread_large / math.sqrt(_SEEDS) + 1e-6).any():
        for wrong, message in (
            (_mc_with(source="prior"), _PRIOR_SAMPLES),
            (_mc_with(reduce="mean"), _MEAN_OVER_LATENT),
            (_mc_with(std_power=1.0), _LOG_STD_MC),
        ):
            theirs = _estimates(wrong, mu, logvar, _LARGE).mean(0)
            if (
                (large.mean(0) - theirs).abs() <= 4 * spread_large / math.sqrt(_SEEDS) + 1e-6
            ).all():
                raise CheckFailed(_(message))
        high = (large.mean(0) - closed).mean() > 0
        raise CheckFailed(
            _(
                "averaged over {seeds} seeds your estimates settle on values that are too high: "
                "the estimator is biased. Check ln q(z|x) − ln p(z) and that z ~ q(z|x)"
            ).format(seeds=_SEEDS)
            if high
            else _(
                "averaged over {seeds} seeds your estimates settle on values that are too low: "
                "the estimator is biased. Check ln q(z|x) − ln p(z) and that z ~ q(z|x)"
            ).format(seeds=_SEEDS)
        )
    ratio = float((spread_large / spread_small).mean())
    if ratio > 0.8:
        raise CheckFailed(_(_NO_SHRINK))
    if not 0.35 <= ratio <= 0.65:
        raise CheckFailed(
            _(
                "when n_samples grows four times the spread of your estimates changes by a factor "
                "{ratio:.2f}; for an average of independent draws it halves (1/√n)"
            ).format(ratio=ratio)
        )
    return _(
        "unbiased over {seeds} seeds, reproducible with a generator, and its spread shrinks by "
        "{ratio:.2f} when n grows four times (1/√4 = 0.5)."
    ).format(seeds=_SEEDS, ratio=ratio)


implement_exercise(
    id="5.2.6-mc-kl",
    section=N_("5.2.6 (5-8)–(5-17), 5.2.5 (5-7)"),
    title=N_("mc_kl(mu, logvar, n_samples, generator): the KL by sampling, with a 1/√n spread"),
    answer_name="mc_kl",
    spec=FunctionSpec(cases=_mc_cases, expected=lambda mu, lv, n, g: _closed(mu, lv).float()),
    checker=_check_mc,
    secrets=lambda ctx: [_closed(*_mc_cases()[0].args[:2])],
    mistakes=(
        Mistake(
            "closed-form",
            lambda ctx: lambda mu, lv, n, g: _closed(mu, lv).float(),
            _NOT_SAMPLING,
            by_cases=False,
        ),
        Mistake(
            "global-random",
            lambda ctx: lambda mu, lv, n, g: _mc_with()(mu, lv, n, None),
            _NOT_REPRODUCIBLE,
            by_cases=False,
        ),
        Mistake("one-draw", lambda ctx: _mc_with(draws=1), _NO_SHRINK, by_cases=False),
        Mistake(
            "prior-samples", lambda ctx: _mc_with(source="prior"), _PRIOR_SAMPLES, by_cases=False
        ),
        Mistake(
            "mean-over-latent",
            lambda ctx: _mc_with(reduce="mean"),
            _MEAN_OVER_LATENT,
            by_cases=False,
        ),
        Mistake("log-std", lambda ctx: _mc_with(std_power=1.0), _LOG_STD_MC, by_cases=False),
    ),
    solution=N_(
        """\
def mc_kl(mu, logvar, n_samples, generator):
    std = (0.5 * logvar).exp()
    eps = torch.randn(n_samples, *mu.shape, generator=generator)  # [n, B, d]
    z = mu + std * eps  # n samples of z ~ q(z|x), by the reparameterisation trick
    log_q = (-0.5 * eps**2 - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    return (log_q - log_p).mean(0)  # [B]: the average over the samples, (5-7)
"""
    ),
    solution_note=N_(
        "Each estimate is random, but its mean over many seeds is (5-17) and its standard error "
        "falls like 1/√n: 4 times as many samples, half the spread. The closed form (5-17) has "
        "no spread at all — which is why a VAE uses it when it can."
    ),
    hints=(
        N_(
            "KL(q ‖ p) = E_{z~q}[ln q(z|x) − ln p(z)]: draw n_samples values of z from q and "
            "average the difference, summed over the latent dimension."
        ),
        N_(
            "z = mu + exp(logvar / 2) · ε with ε = torch.randn(n_samples, *mu.shape, "
            "generator=generator); ln q and ln p are Gaussian log-densities "
            "(torch.distributions.Normal(...).log_prob works too)."
        ),
        N_("Sum the log-ratio over the last dimension, then .mean(0) over the samples."),
    ),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.6-why-log-variance",
    section=N_("5.2.6 (5-13), (5-17)"),
    title=N_("Why the encoder outputs log σ², and what the log protects"),
    answer=N_(
        "A network's output is an unconstrained real number, but a variance must be positive. "
        "Letting the network output σ = log σ² and using e^σ as the variance turns any output, "
        "negative ones included, into a valid variance, and keeps small variances (σ² = 10⁻⁴, "
        "σ = −9.2) as easy to reach as large ones. So the log keeps the *variance* positive; the "
        "output itself can be and often is negative — the book's reason, that it keeps the "
        "output non-negative, is wrong, and its two definitions of σ (log of the standard "
        "deviation, then log σ²) disagree (ERRATA.md, item 8). (5-13)/(5-17) are correct for "
        "σ = log σ²."
    ),
)

explain_question(
    id="5.2.6-elbo-gap",
    section=N_("5.2.6 (5-8)–(5-12)"),
    title=N_("What the gap between ln p(x) and the ELBO is"),
    answer=N_(
        "ln p(x) = ELBO + KL(q(z|x) ‖ p(z|x)): the gap is the KL divergence from the encoder's "
        "q(z|x) to the true posterior. It is never negative, so the ELBO is a lower bound, and it "
        "is zero exactly when q equals the posterior. Maximising the ELBO therefore does two "
        "things "
        "at once: it raises the likelihood of the data and it pulls q towards the posterior. A "
        "diagonal Gaussian q cannot always match the posterior, so some gap usually remains — the "
        "importance-weighted estimate of 5.2.5 closes part of it."
    ),
)
