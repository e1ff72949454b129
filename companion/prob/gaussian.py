"""Diagonal Gaussians for the VAE (5.2): KL divergences
(5-14)…(5-17), reparameterisation, the ELBO (5-12).

Conventions used throughout:

* ``logvar`` is log σ² (what a VAE encoder outputs, "σ" in the book's (5-16)/(5-17)).
* The last dimension is the latent/event dimension; functions sum over it and keep the batch
  dimensions, so ``kl_to_standard_normal(mu, logvar)`` of shape ``[N, d]`` inputs is ``[N]``.
* Everything is in nats.

Arguments are checked before any arithmetic: tensors of floating point, matching shapes, and —
for the stand-alone formulas (the KL divergences) — finite values, with a ``ValueError`` when
the result itself overflows (e.g. ``exp(logvar)`` beyond float32's range: use float64). The
functions a model calls at every training step (:func:`reparameterize`, :func:`elbo`, the
log-densities) check types, shapes and scalars but not every tensor value, so they add no
device synchronisation; a NaN there becomes a non-finite loss, which
:func:`companion.train.fit` reports with its step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from companion.validation import check_float, check_same_shape, check_tensor

LOG_2PI = math.log(2 * math.pi)


def standardised_square(diff: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``diff² / e^logvar`` (the squared difference in standard deviations), elementwise.

    Computed in log space, ``exp(2 ln|diff| − logvar)``, so that it is finite wherever the true
    value is: a variance that underflows to 0 (``logvar`` below about −200 in float32) never
    meets a zero difference as 0 · ∞ = NaN, and a tiny difference over a tiny variance keeps its
    value. Exactly 0 where ``diff`` is 0, with a zero gradient there.
    """
    zero = diff == 0
    safe = torch.where(zero, torch.ones_like(diff), diff)
    log_value = torch.where(zero, torch.zeros_like(diff), 2 * safe.abs().log() - logvar)
    return torch.where(zero, torch.zeros_like(diff), log_value.exp())


def _check_same_shape(*, finite: bool = False, **tensors: torch.Tensor) -> None:
    for name, t in tensors.items():
        check_tensor(t, name, dtype="float", min_dim=1, finite=finite)
        if t.shape[-1] == 0:
            raise ValueError(f"{name} has an empty latent dimension (last dimension of size 0)")
    check_same_shape(**tensors)


def _finite_result(result: torch.Tensor, what: str) -> torch.Tensor:
    """Finite inputs can still overflow (exp(logvar)
    > 3.4e38 in float32): say so, not return inf.
    """
    if not bool(torch.isfinite(result).all()):
        raise ValueError(
            f"{what} overflows {result.dtype} for these inputs (a log-variance far "
            "above 80, or a huge mean): compute in float64 (tensor.double()) or "
            "check the inputs"
        )
    return result


def _kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) ‖ N(0, I) ), summed over the last dimension — equation (5-17).

    Per dimension this is ½(μ² + e^σ − 1 − σ) with σ = log σ², i.e. (5-16); (5-17) sums it over
    the latent dimension; (5-13) in 5.2.6 is the same sum. The unnumbered loss printed beside Fig.
    5-5 in 5.2.1 drops the factor ½ (see :func:`fig_5_5_loss`).
    """
    _check_same_shape(mu=mu, logvar=logvar, finite=True)
    return _finite_result(_kl_to_standard_normal(mu, logvar), "KL(q ‖ N(0, I))")


def kl_gaussians(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor
) -> torch.Tensor:
    """KL( N(mu1, diag e^logvar1) ‖ N(mu2, diag e^logvar2) ), summed over the last dimension.

    The general diagonal case of (5-14), in its *correct* form. Per dimension:

        log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½

    (5-14) as printed also divides the log term by 2σ₂²; that agrees with this only when σ₂ = 1
    (see :func:`book_kl_5_14`). With mu2 = 0, logvar2 = 0 it reduces to (5-17).
    """
    _check_same_shape(mu1=mu1, logvar1=logvar1, mu2=mu2, logvar2=logvar2, finite=True)
    var_ratio = (logvar1 - logvar2).exp()
    mean_term = standardised_square(mu1 - mu2, logvar2)  # (μ₁ − μ₂)² / σ₂², never 0 · ∞
    kl = 0.5 * (logvar2 - logvar1 + var_ratio + mean_term - 1.0).sum(-1)
    return _finite_result(kl, "KL(q1 ‖ q2)")


def book_kl_5_14(
    mu1: torch.Tensor, var1: torch.Tensor, mu2: torch.Tensor, var2: torch.Tensor
) -> torch.Tensor:
    """Equation (5-14) exactly as printed (univariate,
    elementwise; takes variances, not log-variances).

    ((μ₁−μ₂)² + σ₁² − σ₂² + 2(log σ₂ − log σ₁)) / (2σ₂²). It is **wrong** unless σ₂ = 1: the log
    term must not be divided by 2σ₂². Kept only so notebooks and tests can show the difference
    from :func:`kl_gaussians`.
    """
    _check_same_shape(mu1=mu1, var1=var1, mu2=mu2, var2=var2, finite=True)
    for name, var in (("var1", var1), ("var2", var2)):
        if not bool((var > 0).all()):
            raise ValueError(
                f"{name} holds variances and must be > 0 everywhere, got a minimum "
                f"of {float(var.min()):g} (this function takes σ², not log σ²)"
            )
    log_ratio = 0.5 * (var2.log() - var1.log())  # log σ₂ − log σ₁
    return ((mu1 - mu2).pow(2) + var1 - var2 + 2 * log_ratio) / (2 * var2)


def fig_5_5_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The extra VAE loss printed (unnumbered) beside Fig. 5-5 in 5.2.1: Σ(exp(σ) − (1 + σ) + μ²).

    It has no factor ½, unlike the numbered (5-13) in 5.2.6, which equals (5-17).

    With σ = log σ² this is exactly twice :func:`kl_to_standard_normal` ((5-17)), so it has the
    same minimiser but weights the KL twice as much against the reconstruction term.
    """
    _check_same_shape(mu=mu, logvar=logvar, finite=True)
    return _finite_result((logvar.exp() - (1.0 + logvar) + mu.pow(2)).sum(-1), "the Fig. 5-5 loss")


def reparameterize(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    noise_scale: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw z = μ + noise_scale · exp(logvar / 2) · ε
    with ε ~ N(0, I): the reparameterisation trick.

    The randomness sits in ε alone, so gradients flow to ``mu`` and ``logvar``. The noise weight is
    exp(σ/2) — the standard deviation — when σ = log σ² (Fig. 5-5's text says exp(σ), which would
    be the weight only if σ were log σ). ``noise_scale = 0`` returns μ: a plain autoencoder.
    """
    _check_same_shape(mu=mu, logvar=logvar)
    noise_scale = check_float(noise_scale, "noise_scale", min=0.0)
    if noise_scale == 0:
        return mu
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + noise_scale * (0.5 * logvar).exp() * eps


def gaussian_log_prob(
    x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """log N(x; mean, diag e^logvar), summed over every dimension but the first (batch) one.

    ``logvar`` is a tensor of the same shape or one number (a fixed variance for every element).
    Finite wherever the true value is, at extreme log-variances too (see
    :func:`standardised_square`).
    """
    check_tensor(x, "x", dtype="float", min_dim=1)
    check_tensor(mean, "mean", dtype="float")
    if x.shape != mean.shape:
        raise ValueError(
            f"x and mean must have the same shape, got {tuple(x.shape)} and {tuple(mean.shape)}"
        )
    if isinstance(logvar, torch.Tensor):
        check_tensor(logvar, "logvar", dtype="float")
    else:
        logvar = check_float(logvar, "logvar")
    logvar = torch.as_tensor(logvar, dtype=mean.dtype, device=mean.device).expand_as(mean)
    per_element = -0.5 * (LOG_2PI + logvar + standardised_square(x - mean, logvar))
    return per_element.reshape(x.shape[0], -1).sum(-1)


def bernoulli_log_prob(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log Bernoulli(x; sigmoid(logits)), summed over every dimension but the first (batch) one.

    ``x`` may hold grey levels in [0, 1], as most VAE code for MNIST does; this is then minus the
    binary cross-entropy (a training criterion, not a normalised density of grey levels).
    """
    check_tensor(x, "x", dtype="float", min_dim=1)
    check_tensor(logits, "logits", dtype="float")
    if x.shape != logits.shape:
        raise ValueError(
            f"x and logits must have the same shape, got {tuple(x.shape)} and {tuple(logits.shape)}"
        )
    per_element = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_element.reshape(x.shape[0], -1).sum(-1)


def elbo(
    log_likelihood: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *, beta: float = 1.0
) -> dict[str, torch.Tensor]:
    """The ELBO (5-12) of a VAE with prior N(0, I), as a loss dict for :func:`companion.train.fit`.

    ``log_likelihood`` is log p(x|z) for one sample z ~ q(z|x) per example (shape ``[N]``);
    ``mu``/``logvar`` describe q(z|x). Returns batch means in nats per example:

    * ``"loss"`` — −(reconstruction term) + beta · KL, i.e. the negative ELBO when beta = 1;
    * ``"recon"`` — −log p(x|z), the reconstruction error;
    * ``"kl"`` — KL(q(z|x) ‖ N(0, I)) by (5-17);
    * ``"elbo"`` — the ELBO itself (recon and KL always at beta = 1).
    """
    _check_same_shape(mu=mu, logvar=logvar)
    check_tensor(log_likelihood, "log_likelihood", dtype="float")
    if log_likelihood.dim() != 1 or log_likelihood.shape[0] != mu.shape[0]:
        raise ValueError(
            f"log_likelihood must have shape [N] = [{mu.shape[0]}], got "
            f"{tuple(log_likelihood.shape)}"
        )
    beta = check_float(beta, "beta", min=0.0)
    recon = -log_likelihood.mean()
    kl = _kl_to_standard_normal(mu, logvar).mean()
    return {
        "loss": recon + beta * kl,
        "recon": recon.detach(),
        "kl": kl.detach(),
        "elbo": -(recon + kl).detach(),
    }
