"""The linear-Gaussian model's closed forms and the identities of 5.2.6, (5-8)…(5-12).

Each closed form is checked against something computed independently: sampling, Bayes' rule
with ``torch.distributions`` densities, or ``torch.distributions.kl_divergence``.
"""

import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from companion.prob import LinearGaussian, gaussian_moments, kl_to_standard_normal

F64 = torch.float64


@pytest.fixture
def setup():
    torch.manual_seed(0)
    model = LinearGaussian.random(6, 3, noise_std=0.5, seed=1, dtype=F64)
    x, _ = model.sample(5)
    return model, x


def random_gaussian_q(n, d, full, seed=0):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(n, d, generator=g, dtype=F64)
    if not full:
        return Independent(Normal(mean, 0.2 + torch.rand(n, d, generator=g, dtype=F64)), 1)
    a = torch.randn(n, d, d, generator=g, dtype=F64)
    return MultivariateNormal(
        mean, covariance_matrix=a @ a.transpose(-1, -2) + 0.1 * torch.eye(d, dtype=F64)
    )


def test_marginal_5_4_matches_ancestral_samples():
    model = LinearGaussian.random(4, 2, noise_std=0.3, seed=2, dtype=F64)
    x, _ = model.sample(40_000, generator=torch.Generator().manual_seed(0))
    marginal = model.marginal()
    assert torch.allclose(x.mean(0), marginal.mean, atol=0.05)
    assert torch.allclose(torch.cov(x.T), marginal.covariance_matrix, atol=0.1)


def test_posterior_obeys_bayes_rule(setup):
    model, x = setup
    z = torch.randn(7, x.shape[0], model.latent_dim, dtype=F64)
    bayes = model.log_likelihood(x, z) + model.prior().log_prob(z) - model.log_marginal(x)
    assert torch.allclose(model.posterior(x).log_prob(z), bayes, atol=1e-10)


def test_likelihood_is_a_distribution_not_a_point(setup):
    # ERRATA.md, item 4: p(x|z; θ) has spread σ²; only its mean f(z; θ) is deterministic
    model, _ = setup
    z = torch.zeros(1, model.latent_dim, dtype=F64)
    draws = model.likelihood(z).sample((2_000,))
    assert torch.allclose(draws.std(0), model.noise_std.expand(model.data_dim), rtol=0.1)


@pytest.mark.parametrize("full", [False, True])
def test_expected_log_likelihood_closed_form_matches_sampling(setup, full):
    model, x = setup
    q = random_gaussian_q(x.shape[0], model.latent_dim, full)
    torch.manual_seed(3)
    z = q.sample((50_000,))
    mc = model.log_likelihood(x, z).mean(0)
    assert torch.allclose(model.expected_log_likelihood(x, q), mc, rtol=0.02)


@pytest.mark.parametrize("full", [False, True])
def test_log_marginal_equals_elbo_plus_kl_to_posterior(setup, full):
    """(5-8)…(5-12): log p(x) = ELBO + KL(q ‖ p(z|x)), both sides computed independently."""
    model, x = setup
    q = random_gaussian_q(x.shape[0], model.latent_dim, full, seed=4)
    elbo, gap = model.elbo(x, q), model.kl_to_posterior(x, q)
    assert torch.allclose(elbo + gap, model.log_marginal(x), atol=1e-9)
    assert (elbo <= model.log_marginal(x)).all() and (
        gap > 0
    ).all()  # (5-11): ELBO is a lower bound


def test_elbo_is_tight_at_the_exact_posterior_only(setup):
    model, x = setup
    assert torch.allclose(model.elbo(x, model.posterior(x)), model.log_marginal(x), atol=1e-9)
    mean_field = model.mean_field_posterior(x)
    assert (model.elbo(x, mean_field) < model.log_marginal(x) - 1e-6).all()  # Λ is not diagonal


def test_mean_field_posterior_maximises_the_elbo_among_diagonal_gaussians(setup):
    model, x = setup
    q = model.mean_field_posterior(x)
    mean = q.mean.detach().clone().requires_grad_(True)
    log_std = q.stddev.log().detach().clone().requires_grad_(True)
    elbo = model.elbo(x, Independent(Normal(mean, log_std.exp()), 1)).sum()
    g_mean, g_log_std = torch.autograd.grad(elbo, [mean, log_std])
    assert g_mean.abs().max() < 1e-8 and g_log_std.abs().max() < 1e-8  # a stationary point
    for shift in (0.1, -0.1):
        worse = Independent(Normal(q.mean + shift, q.stddev * (1 + shift)), 1)
        assert (model.elbo(x, worse) < model.elbo(x, q)).all()


def test_kl_to_prior_matches_the_vae_formula_5_17_for_diagonal_q(setup):
    model, x = setup
    q = random_gaussian_q(x.shape[0], model.latent_dim, full=False, seed=5)
    mu, logvar = q.mean, q.variance.log()
    kl_5_17 = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)
    assert torch.allclose(model.kl_to_prior(q), kl_5_17, atol=1e-10)
    assert torch.allclose(model.kl_to_prior(q), kl_to_standard_normal(mu, logvar), atol=1e-10)


def test_gaussian_moments_and_validation(setup):
    model, x = setup
    with pytest.raises(ValueError, match="MultivariateNormal"):
        gaussian_moments(Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="shape"):
        model.log_marginal(x[:, :2])
    with pytest.raises(ValueError, match="noise_std"):
        LinearGaussian(torch.ones(3, 2), torch.zeros(3), 0.0)
    with pytest.raises(ValueError, match="bias"):
        LinearGaussian(torch.ones(3, 2), torch.zeros(2), 1.0)
    with pytest.raises(ValueError, match="n must be an integer ≥ 1, got 0"):
        model.sample(0)
