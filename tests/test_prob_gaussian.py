"""Gaussian KL (5-14)…(5-17), reparameterisation
and the ELBO (5-12), against torch.distributions.
"""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from companion.prob import (
    bernoulli_log_prob,
    book_kl_5_14,
    elbo,
    fig_5_5_loss,
    gaussian_log_prob,
    kl_gaussians,
    kl_to_standard_normal,
    reparameterize,
)


def _diag_normal(mu, logvar):
    return Independent(Normal(mu, (0.5 * logvar).exp()), 1)


def _random_params(shape, lo=-3.0, hi=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    logvar = torch.empty(shape, dtype=torch.float64).uniform_(lo, hi, generator=g)
    return mu, logvar


@pytest.mark.parametrize("lo,hi", [(-3, 3), (-20, -10), (10, 20)])  # incl. extreme log-variances
def test_kl_to_standard_normal_matches_torch_5_17(lo, hi):
    mu, logvar = _random_params((64, 5), lo, hi)
    expected = kl_divergence(
        _diag_normal(mu, logvar), _diag_normal(torch.zeros_like(mu), torch.zeros_like(logvar))
    )
    got = kl_to_standard_normal(mu, logvar)
    assert got.shape == (64,)
    assert torch.allclose(got, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("lo,hi", [(-3, 3), (-20, -10), (10, 20), (-20, 20)])
def test_kl_gaussians_matches_torch_general_diagonal_5_14(lo, hi):
    mu1, lv1 = _random_params((32, 4), lo, hi, seed=1)
    mu2, lv2 = _random_params((32, 4), lo, hi, seed=2)
    expected = kl_divergence(_diag_normal(mu1, lv1), _diag_normal(mu2, lv2))
    assert torch.allclose(kl_gaussians(mu1, lv1, mu2, lv2), expected, rtol=1e-9, atol=1e-9)


def test_kl_gaussians_reduces_to_5_17_and_is_zero_for_equal_arguments():
    mu, logvar = _random_params((10, 3))
    zeros = torch.zeros_like(mu)
    assert torch.allclose(kl_gaussians(mu, logvar, zeros, zeros), kl_to_standard_normal(mu, logvar))
    assert torch.allclose(kl_gaussians(mu, logvar, mu, logvar), torch.zeros(10, dtype=mu.dtype))


def test_book_5_14_as_printed_is_right_only_when_sigma2_is_one():
    mu1, mu2 = torch.tensor([0.3]), torch.tensor([-0.5])
    var1 = torch.tensor([0.7])
    for var2, agrees in [(1.0, True), (4.0, False), (0.25, False)]:
        v2 = torch.tensor([var2])
        correct = kl_divergence(Normal(mu1, var1.sqrt()), Normal(mu2, v2.sqrt()))
        printed = book_kl_5_14(mu1, var1, mu2, v2)
        assert torch.allclose(printed, correct, atol=1e-6) == agrees


def test_fig_5_5_loss_is_twice_the_kl_5_13_5_17():
    mu, logvar = _random_params((8, 6))
    assert torch.allclose(fig_5_5_loss(mu, logvar), 2 * kl_to_standard_normal(mu, logvar))


def test_log_densities_match_torch():
    x = torch.rand(7, 1, 4, 4, dtype=torch.float64)
    mean = torch.randn_like(x)
    logvar = torch.randn_like(x)
    expected = Normal(mean, (0.5 * logvar).exp()).log_prob(x).reshape(7, -1).sum(-1)
    assert torch.allclose(gaussian_log_prob(x, mean, logvar), expected)
    expected_fixed = Normal(mean, 1.0).log_prob(x).reshape(7, -1).sum(-1)
    assert torch.allclose(gaussian_log_prob(x, mean), expected_fixed)
    binary = (x > 0.5).double()
    logits = torch.randn_like(x) * 5
    expected_b = Bernoulli(logits=logits).log_prob(binary).reshape(7, -1).sum(-1)
    assert torch.allclose(bernoulli_log_prob(binary, logits), expected_b)


def test_reparameterize_gradients_reach_mu_and_logvar():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.2, -0.4]], requires_grad=True)
    g = torch.Generator().manual_seed(0)
    z = reparameterize(mu, logvar, generator=g)
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(0))
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    # dz/dlogvar = ½ exp(logvar/2) ε: the noise weight is the standard deviation exp(σ/2)
    assert torch.allclose(logvar.grad, 0.5 * (0.5 * logvar.detach()).exp() * eps)


def test_reparameterize_has_the_right_moments_and_zero_noise_is_the_mean():
    mu = torch.full((200_000, 1), 1.5)
    logvar = torch.full((200_000, 1), math.log(4.0))
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert abs(z.mean().item() - 1.5) < 0.02 and abs(z.std().item() - 2.0) < 0.02
    assert torch.equal(reparameterize(mu, logvar, noise_scale=0.0), mu)
    with pytest.raises(ValueError, match="noise_scale must be a finite number ≥ 0, got -1"):
        reparameterize(mu, logvar, noise_scale=-1)


def test_elbo_terms_and_loss_dict():
    mu, logvar = _random_params((5, 3))
    loglik = -torch.arange(5, dtype=torch.float64)
    out = elbo(loglik, mu, logvar)
    kl = kl_to_standard_normal(mu, logvar).mean()
    assert torch.isclose(out["recon"], torch.tensor(2.0, dtype=torch.float64))
    assert torch.isclose(out["kl"], kl)
    assert torch.isclose(out["loss"], 2.0 + kl) and torch.isclose(out["elbo"], -(2.0 + kl))
    assert torch.isclose(elbo(loglik, mu, logvar, beta=0.5)["loss"], 2.0 + 0.5 * kl)


def test_elbo_is_below_log_evidence_on_a_linear_gaussian_model():
    # x = z + noise, z ~ N(0,1), noise ~ N(0, s²): p(x) = N(0, 1 + s²); posterior is Gaussian.
    s2, x = 0.5, torch.tensor([[1.3]], dtype=torch.float64)
    log_px = Normal(0.0, math.sqrt(1 + s2)).log_prob(x).sum()
    post_var = s2 / (1 + s2)
    post_mu = x / (1 + s2)

    def mc_elbo(mu, logvar, n=200_000):
        z = reparameterize(
            mu.expand(n, 1), logvar.expand(n, 1), generator=torch.Generator().manual_seed(0)
        )
        loglik = gaussian_log_prob(x.expand(n, 1), z, math.log(s2))
        return -elbo(loglik, mu.expand(n, 1), logvar.expand(n, 1))["loss"]

    exact = mc_elbo(post_mu, torch.tensor([[math.log(post_var)]], dtype=torch.float64))
    worse = mc_elbo(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))
    assert abs(exact - log_px) < 0.01  # tight at the true posterior (KL(q‖p(z|x)) = 0)
    assert worse < log_px - 0.1  # a bound below log p(x) elsewhere


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: kl_to_standard_normal(torch.zeros(3, 2), torch.zeros(3, 3)),
            r"shapes must match, got mu \[3, 2\], logvar \[3, 3\]",
        ),
        (
            lambda: kl_to_standard_normal(torch.tensor(0.0), torch.tensor(0.0)),
            r"mu must have at least 1 dimension\(s\), got shape \[\]",
        ),
        (
            lambda: kl_gaussians(torch.zeros(2), torch.zeros(2), torch.zeros(3), torch.zeros(2)),
            r"shapes must match, got mu1 \[2\], logvar1 \[2\], mu2 \[3\]",
        ),
        (
            lambda: elbo(torch.zeros(4), torch.zeros(3, 2), torch.zeros(3, 2)),
            r"log_likelihood must have shape \[N\] = \[3\], got \(4,\)",
        ),
        (
            lambda: gaussian_log_prob(torch.zeros(2, 3), torch.zeros(2, 4)),
            r"x and mean must have the same shape, got \(2, 3\) and \(2, 4\)",
        ),
    ],
)
def test_bad_shapes_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


EXTREME_LOGVARS = [-400.0, -300.0, -200.0, -150.0, -100.0, -30.0, 0.0, 30.0, 100.0, 200.0, 400.0]


def test_log_density_stays_finite_at_extreme_log_variances_as_torch_in_float64():
    """float32 inputs against torch.distributions in float64 (where e^logvar is representable):
    wherever the true value fits in float32 ours is finite and equal; never NaN (no 0 · ∞)."""
    logvar = torch.tensor(EXTREME_LOGVARS).repeat_interleave(4)[:, None]  # [44, 1]
    mean = torch.full_like(logvar, 0.25)
    diffs = torch.tensor([0.0, 1e-30, 1e-3, 2.0]).repeat(len(EXTREME_LOGVARS))[:, None]
    x = mean + diffs
    x[::4] = mean[::4]  # exactly equal: the case that was 0 / 0
    got = gaussian_log_prob(x, mean, logvar)  # one element per row
    want = Normal(mean.double(), (0.5 * logvar.double()).exp()).log_prob(x.double())[:, 0]
    assert not torch.isnan(got).any()
    largest = torch.finfo(torch.float32).max
    fits, beyond = want.abs() < largest / 2, want.abs() > 2 * largest
    assert fits.sum() >= 30  # most cases, e.g. x = mean at every log-variance, are representable
    assert torch.allclose(got[fits].double(), want[fits], rtol=1e-5, atol=1e-4)
    assert beyond.any() and (got[beyond] == float("-inf")).all()  # as the true value rounds


def test_log_density_gradient_at_a_zero_difference_and_a_vanishing_variance():
    x = torch.zeros(1, 3, requires_grad=True)
    logvar = torch.full((1, 3), -300.0, requires_grad=True)
    gaussian_log_prob(x, torch.zeros(1, 3), logvar).sum().backward()
    assert torch.equal(x.grad, torch.zeros(1, 3))  # d/dx of -(x - μ)² / 2σ² at x = μ
    assert torch.allclose(logvar.grad, torch.full((1, 3), -0.5))  # d/dlogvar of -logvar / 2


@pytest.mark.parametrize("logvar2", [-300.0, -150.0, 150.0])
def test_kl_gaussians_at_extreme_variances_equals_torch_in_float64(logvar2):
    mu1 = torch.tensor([0.5, 0.5, 0.5])
    mu2 = torch.tensor([0.5, 0.5 + 1e-20, 0.5])
    lv1 = torch.tensor([logvar2, logvar2, logvar2 + 1.0])
    lv2 = torch.full((3,), logvar2)
    want = kl_divergence(
        Normal(mu1.double(), (0.5 * lv1.double()).exp()),
        Normal(mu2.double(), (0.5 * lv2.double()).exp()),
    )
    got = torch.stack(
        [
            kl_gaussians(mu1[i : i + 1], lv1[i : i + 1], mu2[i : i + 1], lv2[i : i + 1])
            for i in range(3)
        ]
    )
    assert torch.allclose(got.double(), want, rtol=1e-5, atol=1e-5)


def test_bell_coverage_counts_a_point_mass_on_a_tile_centre():
    from companion.metrics import bell_coverage

    mu = torch.tensor([[0.5, 0.5]])
    for logvar in (-2000.0, -2.0):  # σ = e^-1000 = 0 even in float64, and an ordinary σ
        assert bell_coverage(mu, torch.full((1, 2), logvar), (-1.0, 1.0), 2) == 0.25
