"""Property-based tests of the Gaussian functions of 5.2 against torch.distributions.

Over wide ranges (means up to ±1e3, log-variances from -30 to 30, in float64) the KL divergences
(5-14)…(5-17) and the log-densities equal torch.distributions; NaN, ±inf and values whose result
overflows are refused with a ValueError instead of returning inf or NaN.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Independent, Normal, kl_divergence

from companion.prob import (
    elbo,
    fig_5_5_loss,
    gaussian_log_prob,
    kl_gaussians,
    kl_to_standard_normal,
    reparameterize,
)

FAST = settings(max_examples=60, deadline=None)

shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))
means = st.floats(-1e3, 1e3)
logvars = st.floats(-30.0, 30.0)


def tensors(shape, elements):
    """A float64 tensor of ``shape`` whose entries hypothesis draws from ``elements``."""
    n = shape[0] * shape[1]
    return st.lists(elements, min_size=n, max_size=n).map(
        lambda xs: torch.tensor(xs, dtype=torch.float64).reshape(shape)
    )


def pairs(elements_a, elements_b):
    return shapes.flatmap(lambda s: st.tuples(tensors(s, elements_a), tensors(s, elements_b)))


def diag_normal(mu, logvar):
    return Independent(Normal(mu, (0.5 * logvar).exp()), 1)


def close(a, b):
    return torch.allclose(a, b, rtol=1e-7, atol=1e-6)


@FAST
@given(params=pairs(means, logvars))
def test_kl_to_standard_normal_equals_torch_5_17(params):
    mu, logvar = params
    expected = kl_divergence(diag_normal(mu, logvar), diag_normal(0 * mu, 0 * logvar))
    got = kl_to_standard_normal(mu, logvar)
    assert close(got, expected) and (got >= -1e-12).all()  # ≥ 0 up to rounding
    assert close(fig_5_5_loss(mu, logvar), 2 * got)


@FAST
@given(params=shapes.flatmap(lambda s: st.tuples(*(tensors(s, e) for e in (means, logvars) * 2))))
def test_kl_gaussians_equals_torch_5_14(params):
    mu1, lv1, mu2, lv2 = params
    expected = kl_divergence(diag_normal(mu1, lv1), diag_normal(mu2, lv2))
    got = kl_gaussians(mu1, lv1, mu2, lv2)
    assert torch.allclose(got, expected, rtol=1e-6, atol=1e-5) and (got >= -1e-9).all()


@FAST
@given(params=pairs(means, means), logvar=logvars)
def test_gaussian_log_prob_equals_torch(params, logvar):
    x, mean = params
    expected = Normal(mean, math.exp(0.5 * logvar)).log_prob(x).sum(-1)
    assert torch.allclose(gaussian_log_prob(x, mean, logvar), expected, rtol=1e-9, atol=1e-6)


bad_values = st.sampled_from([math.nan, math.inf, -math.inf])


@FAST
@given(
    params=pairs(means, logvars),
    bad=bad_values,
    where=st.integers(0, 10**6),
    which=st.sampled_from(["mu", "logvar"]),
)
def test_non_finite_inputs_are_refused(params, bad, where, which):
    mu, logvar = params
    target = mu if which == "mu" else logvar
    target.view(-1)[where % target.numel()] = bad
    with pytest.raises(ValueError, match=f"{which} must be finite"):
        kl_to_standard_normal(mu, logvar)
    with pytest.raises(ValueError, match="must be finite"):
        kl_gaussians(mu, logvar, torch.zeros_like(mu), torch.zeros_like(mu))


@FAST
@given(
    shape=shapes, huge=st.floats(90.0, 1e300), dtype=st.sampled_from([torch.float32, torch.float64])
)
def test_results_that_overflow_are_refused(shape, huge, dtype):
    """exp(logvar) or μ² beyond the dtype's range: a ValueError, not an infinite KL."""
    mu = torch.zeros(shape, dtype=dtype)
    logvar = torch.full(shape, min(huge, torch.finfo(dtype).max), dtype=dtype)
    overflows = not torch.isfinite(torch.exp(logvar)).all()
    if overflows:
        with pytest.raises(ValueError, match="overflows"):
            kl_to_standard_normal(mu, logvar)
    else:
        assert torch.isfinite(kl_to_standard_normal(mu, logvar)).all()
    big_mu = torch.full(
        shape, 1e200 if dtype == torch.float64 else 1e20, dtype=dtype
    )  # μ² overflows
    with pytest.raises(ValueError, match="overflows"):
        kl_to_standard_normal(big_mu, torch.zeros(shape, dtype=dtype))


@FAST
@given(scale=st.one_of(bad_values, st.floats(max_value=-1e-9)))
def test_bad_scalars_are_refused(scale):
    mu = logvar = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="noise_scale"):
        reparameterize(mu, logvar, noise_scale=scale)
    with pytest.raises(ValueError, match="beta"):
        elbo(torch.zeros(2), mu, logvar, beta=scale)


@FAST
@given(
    params=pairs(means, st.floats(-400.0, 400.0)),
    equal=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_float32_log_density_is_finite_wherever_the_true_value_is(params, equal):
    """Log-variances far outside float32's exp range, and x equal to the mean in some places:
    never NaN (no 0 · ∞), and equal to torch.distributions in float64 wherever that fits."""
    mean, logvar = (t.float().reshape(-1, 1) for t in params)
    x = mean + 1.0
    pick = torch.tensor(equal[: len(x)])[:, None]
    x = torch.where(pick, mean, x)
    got = gaussian_log_prob(x, mean, logvar)
    want = Normal(mean.double(), (0.5 * logvar.double()).exp()).log_prob(x.double())[:, 0]
    assert not torch.isnan(got).any()
    fits = want.abs() < torch.finfo(torch.float32).max / 2
    assert torch.allclose(got[fits].double(), want[fits], rtol=1e-4, atol=1e-3)
    assert (got[want < -2 * torch.finfo(torch.float32).max] == -math.inf).all()
