"""Exercises of notebook 5.2.6, variational inference
(变分推断): the ELBO and the Gaussian KL (5-14)–(5-17).
"""

from __future__ import annotations

import math

import torch

from companion.exercises.core import (
    Mistake,
    experiment_exercise,
    implement_exercise,
    predict_exercise,
)
from companion.model_utils import model_device
from companion.prob import kl_gaussians, kl_to_standard_normal

# ---------------------------------------------------------------- 5.2.6-kl (implement)


def _kl_torch_distributions(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The independent reference: torch.distributions' closed-form Normal–Normal KL."""
    from torch.distributions import Normal, kl_divergence

    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    prior = Normal(
        torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64)
    )
    return kl_divergence(q, prior).sum(-1)


def _kl_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(526)
    cases = [
        (torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)),
        (torch.randn(2, 5, 3, generator=g), 2 * torch.randn(2, 5, 3, generator=g)),
        (torch.randn(6, generator=g), torch.randn(6, generator=g)),  # one vector → a scalar
        # extreme log-variances: a collapsed posterior and a very wide one
        (
            torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]),
            torch.tensor([[-12.0, 6.0, 0.5], [0.0, 0.0, 0.0]]),
        ),
    ]
    return cases


def _kl_mistakes() -> tuple[Mistake, ...]:
    def half(mu, lv):  # per dimension
        return 0.5 * (mu.pow(2) + lv.exp() - 1 - lv)

    return (
        Mistake(
            "no-half",
            lambda ctx: lambda mu, lv: 2 * half(mu, lv).sum(-1),
            "your result is exactly twice the KL: check the ½ in (5-17) (the loss printed "
            "beside Fig. 5-5 drops it too)",
        ),
        Mistake(
            "negative",
            lambda ctx: lambda mu, lv: -half(mu, lv).sum(-1),
            "your result is minus the KL; a KL divergence is never negative: check the sign "
            "of each term in (5-17)",
        ),
        Mistake(
            "mean-over-latent",
            lambda ctx: lambda mu, lv: half(mu, lv).mean(-1),
            "you averaged over the latent dimension; (5-17) sums the per-dimension terms",
        ),
        Mistake(
            "sum-over-everything",
            lambda ctx: lambda mu, lv: half(mu, lv).sum(),
            "you summed over the batch as well: sum only over the last (latent) dimension "
            "and keep one KL per example",
        ),
        Mistake(
            "logvar-as-log-std",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1),
            "you treated logvar as log σ (so the variance became e^{2·logvar}); in (5-17) σ is "
            "the log-variance log σ², so the variance is e^σ",
        ),
        Mistake(
            "logvar-as-variance",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv - 1 - lv.log()).sum(-1),
            "you used logvar as the variance itself; it is its logarithm: the variance is "
            "exp(logvar)",
        ),
        Mistake(
            "no-minus-one",
            lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(-1),
            "the −1 in (5-17) is missing: with μ = 0 and σ = 0 (q equal to the prior) your KL "
            "is not 0",
        ),
    )


implement_exercise(
    id="5.2.6-kl",
    section="5.2.6 (5-16), (5-17)",
    title="kl_to_standard_normal(mu, logvar): (5-17) summed over the latent dimension",
    expected=_kl_torch_distributions,
    cases=_kl_cases,
    solution=kl_to_standard_normal,
    mistakes=_kl_mistakes(),
    rtol=1e-4,
    atol=1e-5,
    solution_text="""
def kl_to_standard_normal(mu, logvar):
    # (5-16) per dimension with σ = log σ² (logvar), then (5-17) sums over the latent dimension
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)

companion.prob.kl_to_standard_normal is the same function with input checks.""",
    hints=(
        "Per latent dimension the KL of N(μ, e^σ) from N(0, 1) is (5-16); (5-17) adds these up.",
        "σ here is logvar = log σ²: the variance is logvar.exp(), and the term −log σ² is -logvar.",
        "0.5 * (mu**2 + logvar.exp() - 1 - logvar), then .sum(-1) — keep every batch dimension.",
    ),
)


predict_exercise(
    id="5.2.6-kl-by-hand",
    section="5.2.6 (5-15), (5-16)",
    title="KL( N(1, variance 4) ‖ N(0, 1) ) by hand",
    value=0.5 * (1 + 4 - 1 - math.log(4)),
    rtol=5e-3,
    mistakes=[
        (
            "no-half",
            1 + 4 - 1 - math.log(4),
            "your result is exactly twice the KL: check the ½ in (5-15)",
        ),
        (
            "log-std",
            0.5 * (1 + 4 - 1 - math.log(2)),
            "you used ln σ = ln 2; (5-15) has ln σ², the log of the variance",
        ),
        (
            "std-as-variance",
            0.5 * (1 + 2 - 1 - math.log(2)),
            "you used the standard deviation 2 where (5-15) wants the variance 4",
        ),
    ],
    solution_text="""
(5-15) with μ = 1, σ² = 4: ½ (μ² + σ² − 1 − ln σ²) = ½ \
(1 + 4 − 1 − ln 4) = ½ (4 − 1.386) ≈ 1.307 nats.""",
    hints=(
        "(5-15): KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − ln σ²).",
        "Here σ² = 4 (the standard deviation is 2), so ln σ² = ln 4 ≈ 1.386.",
    ),
)

predict_exercise(
    id="5.2.6-kl-general",
    section="5.2.6 (5-14)",
    title="KL( N(0, 1) ‖ N(1, variance 4) ) — two general Gaussians",
    value=math.log(2) + (1 + 1) / 8 - 0.5,
    rtol=5e-3,
    mistakes=[
        (
            "printed-5-14",
            (1 + 1 - 4 + 2 * math.log(2)) / 8,
            "that is (5-14) as printed, which divides the log term by 2σ₂² too — it can even go "
            "negative. The log term stands alone: ln(σ₂/σ₁) + (σ₁² + (μ₁−μ₂)²)/(2σ₂²) − ½",
        ),
        (
            "reversed",
            0.5 * (1 + 4 - 1 - math.log(4)),
            "that is KL(N(1, 4) ‖ N(0, 1)), the other direction; the KL is not symmetric",
        ),
        (
            "std-as-variance",
            0.5 * math.log(2) + (1 + 1) / 4 - 0.5,
            "you used the standard deviation 2 where the formula wants the variance 4",
        ),
    ],
    solution_text="""
KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½
with μ₁ = 0, σ₁ = 1, μ₂ = 1, σ₂ = 2:  ln 2 + (1 + 1)/8 − ½ ≈ 0.693 + 0.25 − 0.5 = 0.443 nats.""",
    hints=(
        "Write the general KL with σ₂ and μ₂ kept; (5-14)'s printed form is wrong unless σ₂ = 1.",
        "ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½, with σ₂ = 2 (variance 4).",
    ),
)


# ---------------------------------------------------------------- 5.2.6-kl-gaussians (implement)


def _kl_gaussians_torch(mu1, logvar1, mu2, logvar2):
    from torch.distributions import Normal, kl_divergence

    p = Normal(mu1.double(), (0.5 * logvar1.double()).exp())
    q = Normal(mu2.double(), (0.5 * logvar2.double()).exp())
    return kl_divergence(p, q).sum(-1)


def _kl_gaussians_cases():
    g = torch.Generator().manual_seed(5214)
    cases = [
        tuple(torch.randn(4, 3, generator=g) for _ in range(4)),
        tuple(1.5 * torch.randn(2, 3, 5, generator=g) for _ in range(4)),
        (
            torch.tensor([0.3, -2.0]),
            torch.tensor([-8.0, 4.0]),  # extreme log-variances
            torch.tensor([1.0, 0.0]),
            torch.tensor([3.0, -5.0]),
        ),
    ]
    return cases


def _kl_gaussians_mistakes() -> tuple[Mistake, ...]:
    def printed(m1, l1, m2, l2):  # (5-14) as printed, with σ² = e^{logvar}
        return (((m1 - m2) ** 2 + l1.exp() - l2.exp() + (l2 - l1)) / (2 * l2.exp())).sum(-1)

    def correct(m1, l1, m2, l2):
        return 0.5 * (l2 - l1 + (l1 - l2).exp() + (m1 - m2) ** 2 / l2.exp() - 1).sum(-1)

    return (
        Mistake(
            "printed-5-14",
            lambda ctx: printed,
            "you implemented (5-14) as printed: its log term must not be divided by 2σ₂² "
            "(it agrees only when σ₂ = 1)",
        ),
        Mistake(
            "reversed",
            lambda ctx: lambda m1, l1, m2, l2: correct(m2, l2, m1, l1),
            "you computed KL(q ‖ p), the other direction: the first Gaussian is the one the "
            "expectation is taken under",
        ),
        Mistake(
            "no-half",
            lambda ctx: lambda m1, l1, m2, l2: 2 * correct(m1, l1, m2, l2),
            "your result is exactly twice the KL: check the ½",
        ),
        Mistake(
            "standard-normal",
            lambda ctx: lambda m1, l1, m2, l2: 0.5 * (m1**2 + l1.exp() - 1 - l1).sum(-1),
            "you computed the KL to N(0, 1), ignoring mu2 and logvar2 ((5-17) is only the "
            "special case μ₂ = 0, σ₂ = 1)",
        ),
    )


implement_exercise(
    id="5.2.6-kl-gaussians",
    section="5.2.6 (5-14)",
    title="kl_gaussians(mu1, logvar1, mu2, logvar2): the general diagonal Gaussian KL",
    expected=_kl_gaussians_torch,
    cases=_kl_gaussians_cases,
    solution=kl_gaussians,
    mistakes=_kl_gaussians_mistakes(),
    rtol=1e-4,
    atol=1e-4,
    solution_text="""
def kl_gaussians(mu1, logvar1, mu2, logvar2):
    # per dimension: ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½, written with log-variances
    return 0.5 * (logvar2 - logvar1 + (logvar1 - logvar2).exp()
                  + (mu1 - mu2) ** 2 / logvar2.exp() - 1).sum(-1)""",
    hints=(
        "Start from the correct univariate KL: ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½.",
        "With log-variances: ln(σ₂/σ₁) = ½(logvar2 − "
        "logvar1) and σ₁²/σ₂² = exp(logvar1 − logvar2).",
        "Sum the per-dimension terms over the last dimension; check yourself against "
        "torch.distributions.kl_divergence.",
    ),
)


# ---------------------------------------------------------------- 5.2.6-mc-kl (experiment)


def _closed_form_kl(context) -> float:
    model, images = context["model"], context["images"][:1]
    device = model_device(model)
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(images.to(device))
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum().item()


def _latent_dim(context) -> int:
    with torch.no_grad():
        model = context["model"]
        return model.encode(context["images"][:1].to(model_device(model)))[0].shape[-1]


def _demo_vae() -> dict:
    from companion.exercises.ex_5_2_1 import _DemoEncoderVAE

    return {
        "model": _DemoEncoderVAE(),
        "images": torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2)) + 0.5,
    }


experiment_exercise(
    id="5.2.6-mc-kl",
    section="5.2.6 (5-8)–(5-17)",
    title="KL(q(z|x) ‖ p(z)) of one held-out image by Monte Carlo, against (5-17)",
    measure=_closed_form_kl,
    rtol=3e-2,
    atol=0.05,
    mistakes=[
        (
            "per-dimension",
            lambda ctx: _closed_form_kl(ctx) / _latent_dim(ctx),
            "your estimate is the KL divided by the latent dimension: sum ln q − ln p over the "
            "latent dimensions before averaging over samples",
        ),
        (
            "reversed-sign",
            lambda ctx: -_closed_form_kl(ctx),
            "your estimate is negative: the KL is E_q[ln q(z|x) − ln p(z)], not ln p − ln q",
        ),
        (
            "no-half",
            lambda ctx: 2 * _closed_form_kl(ctx),
            "your number is twice the KL — did you use the "
            "loss beside Fig. 5-5 (no ½) instead of sampling?",
        ),
    ],
    solution_text="""
with torch.no_grad():
    mu, logvar = vae.encode(x_eval[:1])
q = Normal(mu, (0.5 * logvar).exp())
z = q.sample((10_000,))                                   # [10000, 1, d]
log_ratio = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1)
my_kl = log_ratio.mean().item()                          # ≈ kl_to_standard_normal(mu, logvar)""",
    hints=(
        "KL(q ‖ p) = E_{z~q}[ln q(z|x) − ln p(z)]: sample z from q and average the difference.",
        "torch.distributions.Normal(mu, (0.5 * logvar).exp()) is q; .log_prob(z).sum(-1) sums "
        "over the latent dimensions. 10,000 samples are plenty.",
    ),
    needs=("model", "images"),
    demo_context=_demo_vae,
)
