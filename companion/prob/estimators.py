"""Monte Carlo estimators of the marginal likelihood log p(x) (sections 5.2.4–5.2.6).

The marginal likelihood of a latent-variable model is the integral (5-4)
``p(x) = ∫ p(x|z) p(z) dz``. Section 5.2.5 estimates it by averaging ``p(x|z_j)`` over samples
``z_j ~ p(z)`` (5-7); section 5.2.6 samples from an approximate posterior ``q(z|x)`` instead.
Both are written here in log space: for a 784-pixel image ``p(x|z)`` is something like
``exp(-100)`` or smaller, which is ``0.0`` in float32, so the average is taken with
:func:`log_mean_exp` and never leaves log space.

Every estimator works with *any* model through two pieces:

* ``log_likelihood(x, z)`` — a callable returning ``log p(x|z)``; ``x`` has shape ``[N, ...]``
  and ``z`` has shape ``[K, N, d]`` (K samples for each of the N data points); it returns
  ``[K, N]``.
* ``prior`` / ``proposal`` — ``torch.distributions`` objects with event shape ``[d]``. The prior
  has batch shape ``[]`` (one p(z) for everyone) or ``[N]``; the proposal ``q(z|x)`` has batch
  shape ``[N]`` (one distribution per data point, as an encoder produces).

So the same functions serve the linear-Gaussian model of :mod:`companion.prob.linear_gaussian`
(where the exact answer is known) and a trained VAE.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor
from torch.distributions import Distribution, Independent, Normal

from companion.validation import check_bool, check_int, check_tensor

LogLikelihood = Callable[[Tensor, Tensor], Tensor]

__all__ = [
    "log_mean_exp",
    "log_importance_weights",
    "log_marginal_prior_sampling",
    "log_marginal_importance_sampling",
    "importance_weighted_bound",
    "effective_sample_size",
    "log_marginal_quadrature",
    "log_trapezoid_weights",
    "fisher_identity_surrogate",
    "LatentModelPieces",
    "vae_latent_model",
]


def log_mean_exp(values: Tensor, dim: int = 0, keepdim: bool = False) -> Tensor:
    """``log(mean(exp(values)))`` along ``dim``, computed without overflow or underflow.

    Uses ``logsumexp(values) - log(n)``: the largest value is factored out, so inputs like
    ``-10_000`` (a typical log-likelihood of an image) give ``-10_000 + ...`` instead of
    ``log(0) = -inf``. All ``-inf`` inputs give ``-inf`` (the mean of zeros), not NaN.
    """
    check_tensor(values, "values", dtype="float", min_dim=1)
    dim = _check_dim(dim, values)
    check_bool(keepdim, "keepdim")
    n = values.shape[dim]
    if n == 0:
        raise ValueError(f"values is empty along dim={dim}: cannot average over no values")
    _check_log_values(values, "values")
    return torch.logsumexp(values, dim=dim, keepdim=keepdim) - math.log(n)


def _check_dim(dim: int, values: Tensor) -> int:
    check_int(dim, "dim", min=-values.dim(), max=values.dim() - 1)
    return dim % values.dim()


def _check_log_values(values: Tensor, name: str) -> None:
    """Logs of non-negative numbers: -inf (a zero) is allowed, NaN and +inf are not."""
    if bool(torch.isnan(values).any()) or bool((values == float("inf")).any()):
        raise ValueError(
            f"{name} must hold logarithms of non-negative numbers (-inf allowed), "
            "but it contains NaN or +inf"
        )


def _check_distribution(dist: Distribution, name: str) -> None:
    if not isinstance(dist, Distribution):
        raise TypeError(
            f"{name} must be a torch.distributions.Distribution, got {type(dist).__name__}"
        )
    if len(dist.event_shape) != 1:
        raise ValueError(
            f"{name} must have a vector event shape [d] (wrap a Normal in "
            f"Independent(..., 1)); got event shape {tuple(dist.event_shape)}"
        )


def _draw(dist: Distribution, num: int, n_data: int) -> Tensor:
    """``num`` samples per data point, shape [num, n_data, d]; reparameterised when possible."""
    batch = tuple(dist.batch_shape)
    shape: tuple[int, ...]
    if batch == ():
        shape = (num, n_data)
    elif batch == (n_data,):
        shape = (num,)
    else:
        raise ValueError(
            f"distribution batch shape {batch} does not match the {n_data} data "
            f"points (expected [] or [{n_data}])"
        )
    return dist.rsample(shape) if dist.has_rsample else dist.sample(shape)


def log_importance_weights(
    x: Tensor,
    log_likelihood: LogLikelihood,
    prior: Distribution,
    proposal: Distribution | None = None,
    num_samples: int = 100,
    *,
    chunk_size: int | None = None,
) -> Tensor:
    """Log importance weights ``log p(x|z_k) + log p(z_k) - log q(z_k|x)``, shape ``[K, N]``.

    With ``proposal=None`` the samples come from the prior and the weights reduce to
    ``log p(x|z_k)``: the terms of the book's estimator (5-7). ``chunk_size`` limits how many
    samples are pushed through ``log_likelihood`` at once (memory), without changing the result.
    """
    check_tensor(x, "x", min_dim=1)
    if x.shape[0] == 0:
        raise ValueError("x must be a non-empty tensor with the data points along dim 0")
    if not callable(log_likelihood):
        raise TypeError(
            f"log_likelihood must be a function (x, z) -> log p(x|z), got "
            f"{type(log_likelihood).__name__}"
        )
    check_int(num_samples, "num_samples", min=1)
    if chunk_size is not None:
        check_int(chunk_size, "chunk_size", min=1)
    _check_distribution(prior, "prior")
    if proposal is not None:
        _check_distribution(proposal, "proposal")
        if tuple(proposal.batch_shape) != (x.shape[0],):
            raise ValueError(
                f"proposal q(z|x) needs one distribution per data point: batch shape "
                f"[{x.shape[0]}], got {list(proposal.batch_shape)}"
            )
    sampler = prior if proposal is None else proposal
    n = x.shape[0]
    chunk = chunk_size or num_samples
    pieces = []
    for start in range(0, num_samples, chunk):
        z = _draw(sampler, min(chunk, num_samples - start), n)
        log_w = log_likelihood(x, z)
        if log_w.shape != z.shape[:2]:
            raise ValueError(
                f"log_likelihood(x, z) must return shape {tuple(z.shape[:2])} "
                f"for z of shape {tuple(z.shape)}, got {tuple(log_w.shape)}"
            )
        if proposal is not None:
            log_w = log_w + prior.log_prob(z) - proposal.log_prob(z)
        pieces.append(log_w)
    return torch.cat(pieces, dim=0)


def log_marginal_prior_sampling(
    x: Tensor,
    log_likelihood: LogLikelihood,
    prior: Distribution,
    num_samples: int,
    *,
    chunk_size: int | None = None,
) -> Tensor:
    """Equation (5-7) in log space: ``log (1/m) Σ_j p(x|z_j)`` with ``z_j ~ p(z)``; shape ``[N]``.

    Unbiased for p(x) itself but, taken through the log, biased *downwards* for log p(x)
    (Jensen). Its variance explodes when the posterior p(z|x) occupies a tiny part of the prior,
    which is what happens as the latent dimension grows (section 5.2.5's "curse of dimensionality").
    """
    log_w = log_importance_weights(
        x, log_likelihood, prior, None, num_samples, chunk_size=chunk_size
    )
    return log_mean_exp(log_w, dim=0)


def log_marginal_importance_sampling(
    x: Tensor,
    log_likelihood: LogLikelihood,
    prior: Distribution,
    proposal: Distribution,
    num_samples: int,
    *,
    chunk_size: int | None = None,
) -> Tensor:
    """Importance-sampled ``log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x)``, ``z_k ~ q(z|x)``.

    With the exact posterior as proposal every weight equals p(x) and one sample suffices; with
    a good approximation (a VAE's encoder) a few hundred samples are plenty. Shape ``[N]``.
    """
    if proposal is None:
        raise ValueError(
            "importance sampling needs a proposal q(z|x); "
            "use log_marginal_prior_sampling for the prior"
        )
    log_w = log_importance_weights(
        x, log_likelihood, prior, proposal, num_samples, chunk_size=chunk_size
    )
    return log_mean_exp(log_w, dim=0)


def importance_weighted_bound(log_weights: Tensor, k: int) -> Tensor:
    """The k-sample importance-weighted bound (Burda et al., 2016) from ``[K, N]`` log weights.

    Splits the K weights of each data point into ``K // k`` groups of ``k``, takes
    :func:`log_mean_exp` inside each group and averages over groups. ``k = 1`` is the Monte Carlo
    ELBO (5-8) — the mean log weight; ``k = K`` is the importance-sampled log p(x). The bound
    rises monotonically (in expectation) towards log p(x) as k grows. Shape ``[N]``.
    """
    check_tensor(log_weights, "log_weights", dtype="float", dim=2)
    total = log_weights.shape[0]
    check_int(k, "k", min=1, max=total)
    groups = total // k
    grouped = log_weights[: groups * k].reshape(groups, k, -1)
    return log_mean_exp(grouped, dim=1).mean(dim=0)


def effective_sample_size(log_weights: Tensor, dim: int = 0) -> Tensor:
    """Kish's effective sample size ``(Σw)² / Σw²`` from log weights, computed in log space.

    Equals K when all weights are equal (a perfect proposal) and approaches 1 when a single
    sample carries all the weight (prior sampling in many dimensions).
    """
    check_tensor(log_weights, "log_weights", dtype="float", min_dim=1)
    dim = _check_dim(dim, log_weights)
    if log_weights.shape[dim] == 0:
        raise ValueError("log_weights must have a non-empty sample dimension")
    _check_log_values(log_weights, "log_weights")
    return torch.exp(2 * torch.logsumexp(log_weights, dim) - torch.logsumexp(2 * log_weights, dim))


def log_trapezoid_weights(grid: Tensor) -> Tensor:
    """Logs of the trapezoid-rule weights (Δz inside, Δz/2 at both ends) of an even 1-D grid."""
    check_tensor(grid, "grid", dtype="float", dim=1, finite=True)
    if grid.numel() < 3:
        raise ValueError(f"grid must be a 1-D tensor with at least 3 points, got {grid.numel()}")
    steps = grid.diff()
    if not torch.allclose(steps, steps[0].expand_as(steps), rtol=1e-4, atol=0) or not steps[0] > 0:
        raise ValueError("grid must be evenly spaced and increasing (use torch.linspace)")
    log_w = torch.full_like(grid, math.log(float(steps[0])))
    log_w[0] = log_w[-1] = math.log(float(steps[0]) / 2)
    return log_w


def log_marginal_quadrature(
    x: Tensor, log_likelihood: LogLikelihood, prior: Distribution, grid: Tensor
) -> Tensor:
    """(5-4) by numerical integration over a 1-D latent: ``log Σ_g p(x|z_g) p(z_g) Δz``.

    ``grid`` is an evenly spaced 1-D tensor of z values wide enough to hold the posterior mass
    (e.g. ``torch.linspace(-8, 8, 2001)`` for a standard-normal prior). Trapezoid weights, in
    log space. Shape ``[N]``.
    """
    check_tensor(x, "x", min_dim=1)
    _check_distribution(prior, "prior")
    if prior.event_shape != (1,):
        raise ValueError(
            f"quadrature is implemented for a 1-D latent, got event shape "
            f"{tuple(prior.event_shape)}"
        )
    log_trap = log_trapezoid_weights(grid)
    z = grid.reshape(-1, 1, 1).expand(-1, x.shape[0], 1)
    log_terms = log_likelihood(x, z) + prior.log_prob(z)
    return torch.logsumexp(log_terms + log_trap.unsqueeze(1), dim=0)


def fisher_identity_surrogate(log_likelihood_values: Tensor, log_weights: Tensor) -> Tensor:
    """A scalar whose gradient is the ratio of integrals in (5-6), estimated on samples or a grid.

    (5-6) reads ``∇θ log p(x) = ∫ ∇θ p(x|z;θ) p(z) dz / ∫ p(x|z;θ) p(z) dz``. Since
    ``∇p = p ∇log p``, that is the posterior average ``E_{p(z|x)}[∇θ log p(x|z;θ)]`` (Fisher's
    identity). Given ``log p(x|z_k;θ)`` (``[K, N]``, still attached to θ) and unnormalised log
    weights of the points ``z_k`` (``[K, N]``: ``log p(x|z_k) + log p(z_k)`` plus log Δz on a grid,
    or importance weights), this returns ``Σ_n Σ_k w̄_kn log p(x_n|z_kn;θ)`` with the normalised
    weights w̄ held constant, so ``.backward()`` yields the (5-6) gradient summed over data points.
    """
    check_tensor(log_likelihood_values, "log_likelihood_values", dtype="float")
    check_tensor(log_weights, "log_weights", dtype="float")
    if log_likelihood_values.shape != log_weights.shape or log_weights.dim() != 2:
        raise ValueError(
            "log_likelihood_values and log_weights must both have shape [K, N], got "
            f"{tuple(log_likelihood_values.shape)} and {tuple(log_weights.shape)}"
        )
    normalised = torch.softmax(log_weights.detach(), dim=0)
    return (normalised * log_likelihood_values).sum()


class LatentModelPieces(NamedTuple):
    """What the estimators need from a model and a batch x: log p(x|z), p(z) and q(z|x)."""

    log_likelihood: LogLikelihood
    prior: Distribution
    proposal: Distribution


def vae_latent_model(vae, x: Tensor) -> LatentModelPieces:
    """Adapt a trained VAE (:class:`companion.models.VAE`) to the estimators, for the images ``x``.

    * ``prior``: N(0, I) over the code;
    * ``proposal``: the encoder's q(z|x) = N(μ(x), diag exp(logvar(x))), batch shape [N];
    * ``log_likelihood(x, z)``: the decoder's log p(x|z) for z of shape [K, N, d] → [K, N].

    Uses only ``vae.encode(x) -> (mu, logvar)``, ``vae.decoder(z)`` and
    ``vae.decoder.log_prob(x, out)``. For a Bernoulli decoder, log p(x) is a probability of the
    image only when x is binary (0/1); on grey levels it is the usual cross-entropy criterion.
    """
    for name in ("encode", "decoder"):
        if not hasattr(vae, name):
            raise ValueError(
                f"vae must have .{name} (a companion.models.VAE), got {type(vae).__name__}"
            )
    check_tensor(x, "x", min_dim=2)
    if x.shape[0] == 0:
        raise ValueError("x must be a non-empty batch of images [N, ...]")
    mu, logvar = vae.encode(x)
    proposal = Independent(Normal(mu, (0.5 * logvar).exp()), 1)
    zeros = torch.zeros(mu.shape[-1], dtype=mu.dtype, device=mu.device)
    prior = Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    def log_likelihood(x_: Tensor, z: Tensor) -> Tensor:
        k, n = z.shape[:2]
        out = vae.decoder(z.reshape(k * n, -1))
        repeated = x_.unsqueeze(0).expand(k, *x_.shape).reshape(k * n, *x_.shape[1:])
        return vae.decoder.log_prob(repeated, out).reshape(k, n)

    return LatentModelPieces(log_likelihood, prior, proposal)
