"""Exercises of notebook 5.2.6, variational inference (变分推断): the ELBO and the Gaussian KL (5-14)–(5-17)."""
from __future__ import annotations

import math

import torch

from companion.exercises.core import (CheckFailed, Exercise, Mistake, check_function, check_number,
                                      register)


# ---------------------------------------------------------------- 5.2.6-kl (implement)

def _kl_torch_distributions(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The independent reference: torch.distributions' closed-form Normal–Normal KL."""
    from torch.distributions import Normal, kl_divergence
    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    prior = Normal(torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64))
    return kl_divergence(q, prior).sum(-1)


def _kl_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(526)
    cases = [(torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)),
             (torch.randn(2, 5, 3, generator=g), 2 * torch.randn(2, 5, 3, generator=g)),
             (torch.randn(6, generator=g), torch.randn(6, generator=g)),  # one vector → a scalar
             # extreme log-variances: a collapsed posterior and a very wide one
             (torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]),
              torch.tensor([[-12.0, 6.0, 0.5], [0.0, 0.0, 0.0]]))]
    return cases


def _kl_mistakes() -> tuple[Mistake, ...]:
    half = lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - 1 - lv)  # noqa: E731  per dimension
    return (
        Mistake("no-half", lambda ctx: lambda mu, lv: 2 * half(mu, lv).sum(-1),
                "your result is exactly twice the KL: check the ½ in (5-17) (the book's (5-13) "
                "drops it too)"),
        Mistake("negative", lambda ctx: lambda mu, lv: -half(mu, lv).sum(-1),
                "your result is minus the KL; a KL divergence is never negative: check the sign "
                "of each term in (5-17)"),
        Mistake("mean-over-latent", lambda ctx: lambda mu, lv: half(mu, lv).mean(-1),
                "you averaged over the latent dimension; (5-17) sums the per-dimension terms"),
        Mistake("sum-over-everything", lambda ctx: lambda mu, lv: half(mu, lv).sum(),
                "you summed over the batch as well: sum only over the last (latent) dimension "
                "and keep one KL per example"),
        Mistake("logvar-as-log-std",
                lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1),
                "you treated logvar as log σ (so the variance became e^{2·logvar}); in (5-17) σ is "
                "the log-variance log σ², so the variance is e^σ"),
        Mistake("logvar-as-variance",
                lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv - 1 - lv.log()).sum(-1),
                "you used logvar as the variance itself; it is its logarithm: the variance is "
                "exp(logvar)"),
        Mistake("no-minus-one", lambda ctx: lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(-1),
                "the −1 in (5-17) is missing: with μ = 0 and σ = 0 (q equal to the prior) your KL "
                "is not 0"),
    )


def _check_kl(answer, context) -> str:
    # Prove the reference against torch.distributions on the same cases before trusting it.
    return check_function(answer, _kl_torch_distributions, _kl_cases(), context, _kl_mistakes(),
                          rtol=1e-4, atol=1e-5)


def _reference_kl(context):
    from companion.prob import kl_to_standard_normal
    return kl_to_standard_normal


register(Exercise(
    id="5.2.6-kl", section="5.2.6 (5-16), (5-17)", kind="implement",
    title="kl_to_standard_normal(mu, logvar): (5-17) summed over the latent dimension",
    checker=_check_kl, reference=_reference_kl,
    solution_text='''
def kl_to_standard_normal(mu, logvar):
    # (5-16) per dimension with σ = log σ² (logvar), then (5-17) sums over the latent dimension
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)

companion.prob.kl_to_standard_normal is the same function with input checks.''',
    hints=("Per latent dimension the KL of N(μ, e^σ) from N(0, 1) is (5-16); (5-17) adds these up.",
           "σ here is logvar = log σ²: the variance is logvar.exp(), and the term −log σ² is -logvar.",
           "0.5 * (mu**2 + logvar.exp() - 1 - logvar), then .sum(-1) — keep every batch dimension."),
    mistakes=_kl_mistakes(),
))
