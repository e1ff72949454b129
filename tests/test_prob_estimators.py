"""Estimators of log p(x) (5-4), (5-6), (5-7) and the
MLE fit (5-1)…(5-3), checked against closed forms.

Reference answers: the linear-Gaussian model's exact marginal N(b, WWᵀ + σ²I) and posterior,
computed with ``torch.distributions.MultivariateNormal``. Monte Carlo tolerances are stated next
to each check; they hold at the fixed seeds used here with a wide margin (≥ 3 standard errors).
"""

import math

import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, Normal

from companion.prob import (
    LinearGaussian,
    effective_sample_size,
    fisher_identity_surrogate,
    fit_mle,
    importance_weighted_bound,
    log_importance_weights,
    log_marginal_importance_sampling,
    log_marginal_prior_sampling,
    log_marginal_quadrature,
    log_mean_exp,
    negative_log_likelihood,
)

F64 = torch.float64


def assert_within_standard_errors(log_w, exact, n_se=4.0):
    """|log mean w − log p(x)| ≤ n_se × (delta-method
    standard error of log mean w), per data point.
    """
    w = torch.exp(log_w - log_w.max(0).values)
    rel_se = w.std(0) / (w.mean(0) * math.sqrt(log_w.shape[0]))
    error = (log_mean_exp(log_w, 0) - exact).abs()
    assert (error <= n_se * rel_se + 1e-9).all(), (error, rel_se)
    return rel_se


def model_and_data(data_dim=3, latent_dim=1, noise_std=1.0, n=5, seed=0):
    torch.manual_seed(seed)
    model = LinearGaussian.random(data_dim, latent_dim, noise_std, seed=seed, dtype=F64)
    x, _ = model.sample(n)
    return model, x


# ------------------------------------------------------------------ log-mean-exp
def test_log_mean_exp_matches_naive_formula_on_moderate_values():
    v = torch.randn(50, 4, dtype=F64)
    assert torch.allclose(log_mean_exp(v, dim=0), v.exp().mean(0).log(), atol=1e-12)
    assert log_mean_exp(v, dim=1, keepdim=True).shape == (50, 1)


def test_log_mean_exp_survives_image_sized_log_likelihoods():
    # log p(x|z) of a 784-pixel image is in the thousands of nats below zero: exp() underflows to 0
    v = -10_000.0 + torch.log(torch.tensor([1.0, 2.0, 3.0]))
    assert torch.exp(v).mean().log() == -math.inf  # the naive average collapses
    assert torch.isclose(log_mean_exp(v), torch.tensor(-10_000.0 + math.log(2.0)))
    big = 1_000.0 + torch.log(torch.tensor([1.0, 2.0, 3.0]))  # and no overflow upwards
    assert torch.isclose(log_mean_exp(big), torch.tensor(1_000.0 + math.log(2.0)))
    assert log_mean_exp(torch.full((4,), -math.inf)) == -math.inf  # mean of zeros, not NaN


@pytest.mark.parametrize(
    "bad,error",
    [
        (torch.tensor(1.0), ValueError),
        (torch.empty(0), ValueError),
        ([1.0, 2.0], TypeError),
        (torch.tensor([0.0, math.nan]), ValueError),
        (torch.tensor([0.0, math.inf]), ValueError),
    ],
)
def test_log_mean_exp_rejects_bad_input(bad, error):
    with pytest.raises(error, match="values"):
        log_mean_exp(bad)


# ------------------------------------------------------------------ (5-4) by quadrature
def test_quadrature_of_5_4_matches_closed_form_marginal():
    model, x = model_and_data(data_dim=4, latent_dim=1, noise_std=0.3)
    grid = torch.linspace(-10, 10, 4001, dtype=F64)
    approx = log_marginal_quadrature(x, model.log_likelihood, model.prior(), grid)
    assert torch.allclose(approx, model.log_marginal(x), atol=1e-6)


def test_quadrature_rejects_multidimensional_latent_and_uneven_grid():
    model, x = model_and_data(latent_dim=2)
    with pytest.raises(ValueError, match="1-D latent"):
        log_marginal_quadrature(x, model.log_likelihood, model.prior(), torch.linspace(-5, 5, 11))
    model, x = model_and_data(latent_dim=1)
    with pytest.raises(ValueError, match="evenly"):
        log_marginal_quadrature(
            x, model.log_likelihood, model.prior(), torch.tensor([0.0, 1.0, 3.0])
        )


# ------------------------------------------------------------------ (5-7) and importance sampling
def test_prior_sampling_5_7_converges_to_exact_log_marginal_in_low_dimension():
    model, x = model_and_data(data_dim=3, latent_dim=1, noise_std=1.0)
    torch.manual_seed(1)
    log_w = log_importance_weights(
        x, model.log_likelihood, model.prior(), None, 20_000, chunk_size=5_000
    )
    rel_se = assert_within_standard_errors(log_w, model.log_marginal(x))
    assert (rel_se < 0.05).all()  # and 20 000 prior samples pin log p(x) down to a few 0.01 nats
    est = log_marginal_prior_sampling(
        x, model.log_likelihood, model.prior(), 20_000, chunk_size=5_000
    )
    assert torch.allclose(est, model.log_marginal(x), atol=0.1)


def test_importance_sampling_with_exact_posterior_is_exact_with_one_sample():
    model, x = model_and_data(data_dim=6, latent_dim=3, noise_std=0.4)
    est = log_marginal_importance_sampling(
        x, model.log_likelihood, model.prior(), model.posterior(x), 1
    )
    assert torch.allclose(est, model.log_marginal(x), atol=1e-9)


def test_importance_sampling_with_mean_field_proposal_is_close():
    model, x = model_and_data(data_dim=20, latent_dim=5, noise_std=0.5)
    torch.manual_seed(2)
    q = model.mean_field_posterior(x)
    log_w = log_importance_weights(x, model.log_likelihood, model.prior(), q, 2_000)
    rel_se = assert_within_standard_errors(log_w, model.log_marginal(x))
    assert (rel_se < 0.1).all()
    est = log_marginal_importance_sampling(x, model.log_likelihood, model.prior(), q, 2_000)
    assert torch.allclose(est, model.log_marginal(x), atol=0.2)


def test_prior_sampling_at_784_dimensions_stays_finite_but_is_far_below_the_truth():
    model, x = model_and_data(data_dim=784, latent_dim=20, noise_std=0.5, n=3)
    torch.manual_seed(3)
    log_w = log_importance_weights(x, model.log_likelihood, model.prior(), None, 500)
    assert torch.exp(log_w).mean(0).eq(0).all()  # probability space: every p(x|z) underflows
    est = log_mean_exp(log_w, dim=0)
    exact = model.log_marginal(x)
    assert torch.isfinite(est).all()
    assert (est < exact - 50).all()  # the curse of dimensionality: hundreds of nats too low
    assert (effective_sample_size(log_w) < 1.5).all()  # one sample carries all the weight
    q_est = log_marginal_importance_sampling(
        x, model.log_likelihood, model.prior(), model.mean_field_posterior(x), 500
    )
    assert torch.allclose(q_est, exact, atol=0.5)


def test_importance_weighted_bounds_climb_from_elbo_to_log_marginal():
    model, x = model_and_data(data_dim=10, latent_dim=4, noise_std=0.3, n=8)
    q = model.mean_field_posterior(x)
    torch.manual_seed(4)
    log_w = log_importance_weights(x, model.log_likelihood, model.prior(), q, 4_000)
    elbo_mc = importance_weighted_bound(log_w, 1)
    assert torch.allclose(elbo_mc, log_w.mean(0))
    assert torch.allclose(importance_weighted_bound(log_w, 4_000), log_mean_exp(log_w, 0))
    # k = 1 is the Monte Carlo ELBO (5-8): compare with the closed form, tolerance 0.05 nats
    assert torch.allclose(elbo_mc, model.elbo(x, q), atol=0.05)
    bounds = torch.stack([importance_weighted_bound(log_w, k).mean() for k in (1, 10, 100, 1000)])
    assert (bounds.diff() > 0).all()
    assert bounds[-1] <= model.log_marginal(x).mean() + 0.01


def test_effective_sample_size_limits():
    assert torch.isclose(effective_sample_size(torch.zeros(100)), torch.tensor(100.0))
    lopsided = torch.tensor([0.0, -50.0, -50.0, -50.0])
    assert torch.isclose(effective_sample_size(lopsided), torch.tensor(1.0))


def test_estimators_validate_inputs():
    model, x = model_and_data(latent_dim=2)
    with pytest.raises(ValueError, match="num_samples"):
        log_marginal_prior_sampling(x, model.log_likelihood, model.prior(), 0)
    with pytest.raises(ValueError, match="one distribution per data point"):
        log_marginal_importance_sampling(
            x[:2], model.log_likelihood, model.prior(), model.posterior(x), 5
        )
    with pytest.raises(ValueError, match="event shape"):
        log_marginal_prior_sampling(x, model.log_likelihood, Normal(0.0, 1.0), 5)
    with pytest.raises(ValueError, match="must return shape"):
        log_marginal_prior_sampling(x, lambda x_, z: z.sum(-1).sum(0), model.prior(), 5)
    with pytest.raises(ValueError, match="importance_weighted|k must"):
        importance_weighted_bound(torch.zeros(5, 2), 6)


# ------------------------------------------------------------------ gradient (5-6)
def test_gradient_5_6_on_a_grid_equals_autograd_of_exact_log_marginal():
    model, x = model_and_data(data_dim=4, latent_dim=1, noise_std=0.5)
    grid = torch.linspace(-10, 10, 4001, dtype=F64)
    z = grid.reshape(-1, 1, 1).expand(-1, x.shape[0], 1)
    log_lik = model.log_likelihood(x, z)  # attached to θ = (W, b, log σ)
    log_weights = log_lik + model.prior().log_prob(z)  # even grid: Δz cancels in the ratio
    ratio = torch.autograd.grad(
        fisher_identity_surrogate(log_lik, log_weights), list(model.parameters())
    )
    exact = torch.autograd.grad(model.log_marginal(x).sum(), list(model.parameters()))
    for r, e in zip(ratio, exact, strict=True):
        assert torch.allclose(r, e, rtol=1e-6, atol=1e-8)


def test_gradient_5_6_by_posterior_samples_matches_autograd_in_several_dimensions():
    model, x = model_and_data(data_dim=8, latent_dim=3, noise_std=0.7, n=4)
    torch.manual_seed(5)
    z = model.posterior(x).sample((20_000,))  # exact p(z|x): equal self-normalised weights
    log_lik = model.log_likelihood(x, z)
    surrogate = fisher_identity_surrogate(log_lik, torch.zeros_like(log_lik))
    mc = torch.autograd.grad(surrogate, list(model.parameters()))
    exact = torch.autograd.grad(model.log_marginal(x).sum(), list(model.parameters()))
    for m, e in zip(mc, exact, strict=True):
        assert torch.allclose(m, e, atol=0.1 + 0.02 * e.abs().max())  # Monte Carlo tolerance


# ------------------------------------------------------------------ MLE (5-1)…(5-3)
def test_fit_mle_recovers_sample_mean_and_variance():
    torch.manual_seed(6)
    data = 3.0 + 2.0 * torch.randn(500, dtype=F64)

    def make(mu, log_sigma):
        return Normal(mu, log_sigma.exp())

    fit = fit_mle(
        make, {"mu": torch.tensor(0.0), "log_sigma": torch.tensor(0.0)}, data, steps=1500, lr=0.05
    )
    assert abs(fit.params["mu"] - data.mean()) < 1e-3
    assert (
        abs(fit.params["log_sigma"].exp() ** 2 - data.var(unbiased=False)) < 1e-3
    )  # MLE divides by n
    assert fit.nll[-1] <= fit.nll[0]
    closed = negative_log_likelihood(Normal(data.mean(), data.std(unbiased=False)), data)
    assert fit.nll[-1] == pytest.approx(closed.item(), abs=1e-6)


def test_fit_mle_mixture_beats_single_gaussian_on_bimodal_data():
    torch.manual_seed(7)
    data = torch.cat([torch.randn(300) - 3, torch.randn(300) + 3]).double()
    single = fit_mle(
        lambda mu, log_sigma: Normal(mu, log_sigma.exp()),
        {"mu": torch.tensor(0.0), "log_sigma": torch.tensor(0.0)},
        data,
        steps=800,
    )

    def mix(logits, means, log_stds):
        return MixtureSameFamily(Categorical(logits=logits), Normal(means, log_stds.exp()))

    two = fit_mle(
        mix,
        {"logits": torch.zeros(2), "means": torch.tensor([-1.0, 1.0]), "log_stds": torch.zeros(2)},
        data,
        steps=800,
    )
    assert two.nll[-1] < single.nll[-1] - 100
    assert sorted(two.params["means"].tolist()) == pytest.approx([-3, 3], abs=0.3)


def test_fit_mle_validates():
    with pytest.raises(ValueError, match="steps must be an integer ≥ 1, got 0"):
        fit_mle(lambda mu: Normal(mu, 1.0), {"mu": torch.tensor(0.0)}, torch.randn(5), steps=0)
    with pytest.raises(ValueError, match=r"data must not be empty, got shape \[0\]"):
        negative_log_likelihood(Normal(0.0, 1.0), torch.empty(0))


# ---------------------------------------------------------------- a VAE through the same estimators
def test_vae_adapter_importance_sampling_matches_quadrature_for_a_1d_code():
    from companion.models import make_vae
    from companion.prob import vae_latent_model

    torch.manual_seed(8)
    vae = make_vae((1, 4, 4), code_dim=1, widths=(16,), likelihood="bernoulli").double()
    x = (torch.rand(6, 1, 4, 4, dtype=F64) > 0.5).double()
    with torch.no_grad():
        pieces = vae_latent_model(vae, x)
        assert tuple(pieces.proposal.batch_shape) == (6,) and tuple(pieces.prior.event_shape) == (
            1,
        )
        exact = log_marginal_quadrature(
            x, pieces.log_likelihood, pieces.prior, torch.linspace(-9, 9, 3001, dtype=F64)
        )
        log_w = log_importance_weights(
            x, pieces.log_likelihood, pieces.prior, pieces.proposal, 4_000, chunk_size=1_000
        )
    assert log_w.shape == (4_000, 6)
    assert_within_standard_errors(log_w, exact)
    assert (importance_weighted_bound(log_w, 1) <= exact + 1e-9).all()  # ELBO below ln p(x)


def test_vae_adapter_rejects_non_vae():
    from companion.prob import vae_latent_model

    with pytest.raises(ValueError, match="encode"):
        vae_latent_model(torch.nn.Linear(2, 2), torch.zeros(3, 2))
