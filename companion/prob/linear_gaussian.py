"""The linear-Gaussian latent-variable model: a VAE whose every integral has a closed form.

    z ~ N(0, I_d),        x | z ~ N(W z + b, σ² I_D)

(probabilistic PCA). It is the decoder of section 5.2.4 with f(z; θ) = W z + b, and because
everything stays Gaussian we know exactly

* the marginal (5-4):      p(x)   = N(b, W Wᵀ + σ² I)
* the posterior:           p(z|x) = N(Λ⁻¹ Wᵀ (x − b) / σ², Λ⁻¹),   Λ = I + Wᵀ W / σ²
* the ELBO (5-8)/(5-12) of any Gaussian q(z|x), and its gap KL(q ‖ p(z|x)).

That makes it the test bench for the estimators of :mod:`companion.prob.estimators` and for the
identities of section 5.2.6. The exact densities come from ``torch.distributions``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal, kl_divergence

from companion.validation import check_float, check_int, check_seed

__all__ = ["LinearGaussian", "gaussian_moments"]


def gaussian_moments(q: Distribution) -> tuple[Tensor, Tensor]:
    """Mean ``[..., d]`` and covariance ``[..., d, d]`` of a Gaussian ``q`` over a vector.

    Accepts a ``MultivariateNormal`` or an ``Independent(Normal(...), 1)`` (diagonal, as a VAE
    encoder produces).
    """
    if isinstance(q, MultivariateNormal):
        return q.loc, q.covariance_matrix
    if (
        isinstance(q, Independent)
        and isinstance(q.base_dist, Normal)
        and q.reinterpreted_batch_ndims == 1
    ):
        return q.mean, torch.diag_embed(q.variance)
    raise ValueError(
        "q must be a MultivariateNormal or Independent(Normal(loc, scale), 1), "
        f"got {type(q).__name__}"
    )


class LinearGaussian(nn.Module):
    """z ~ N(0, I), x|z ~ N(Wz + b, σ²I). Parameters
    ``weight`` [D, d], ``bias`` [D], ``log_noise_std``.

    ``log_likelihood(x, z)`` follows the estimator convention of
    :mod:`companion.prob.estimators`: x ``[N, D]``, z ``[K, N, d]`` → ``[K, N]``.
    """

    def __init__(self, weight: Tensor, bias: Tensor, noise_std: float | Tensor):
        super().__init__()
        weight = torch.as_tensor(weight)
        if weight.dim() != 2 or 0 in weight.shape:
            raise ValueError(
                f"weight must be a [data_dim, latent_dim] matrix, got shape {tuple(weight.shape)}"
            )
        bias = torch.as_tensor(bias, dtype=weight.dtype)
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"bias must have shape [{weight.shape[0]}] to match weight, got {tuple(bias.shape)}"
            )
        noise_std = torch.as_tensor(noise_std, dtype=weight.dtype)
        if noise_std.numel() != 1 or not 0 < float(noise_std) < math.inf:
            raise ValueError(f"noise_std must be one positive finite number, got {noise_std}")
        if not bool(torch.isfinite(weight).all() and torch.isfinite(bias).all()):
            raise ValueError("weight and bias must be finite (no NaN or inf)")
        self.weight = nn.Parameter(weight.clone())
        self.bias = nn.Parameter(bias.clone())
        self.log_noise_std = nn.Parameter(noise_std.reshape(()).log())

    @classmethod
    def random(
        cls,
        data_dim: int,
        latent_dim: int,
        noise_std: float = 0.5,
        *,
        weight_scale: float = 1.0,
        seed: int = 0,
        dtype: torch.dtype | None = None,
    ) -> LinearGaussian:
        """A model with W ~ N(0, weight_scale²) entries and b ~ N(0, 1), drawn from ``seed``.

        ``dtype`` defaults to ``torch.get_default_dtype()``.
        """
        check_int(data_dim, "data_dim", min=1)
        check_int(latent_dim, "latent_dim", min=1)
        check_float(weight_scale, "weight_scale", min=0.0)
        check_seed(seed)
        g = torch.Generator().manual_seed(seed)
        dtype = dtype or torch.get_default_dtype()
        weight = weight_scale * torch.randn(data_dim, latent_dim, generator=g, dtype=dtype)
        bias = torch.randn(data_dim, generator=g, dtype=dtype)
        return cls(weight, bias, noise_std)

    # ------------------------------------------------------------------ sizes and pieces
    @property
    def data_dim(self) -> int:
        return self.weight.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.weight.shape[1]

    @property
    def noise_std(self) -> Tensor:
        return self.log_noise_std.exp()

    def _eye(self, n: int) -> Tensor:
        return torch.eye(n, dtype=self.weight.dtype, device=self.weight.device)

    def _check_x(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != self.data_dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must have shape [N, {self.data_dim}], got {shape}")
        return x

    def prior(self) -> Independent:
        """p(z) = N(0, I_d)."""
        zeros = torch.zeros(self.latent_dim, dtype=self.weight.dtype, device=self.weight.device)
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    def decode(self, z: Tensor) -> Tensor:
        """f(z; θ) = W z + b — the deterministic part of the decoder (section 5.2.4)."""
        return z @ self.weight.T + self.bias

    def likelihood(self, z: Tensor) -> Independent:
        """p(x|z; θ) = N(Wz + b, σ²I): a distribution, not a point (ERRATA.md, item 4)."""
        mean = self.decode(z)
        return Independent(Normal(mean, self.noise_std.expand_as(mean)), 1)

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z; θ) for x [N, D] and z [..., N, d] → [..., N]."""
        return self.likelihood(z).log_prob(self._check_x(x))

    # ------------------------------------------------------------------ exact answers
    def marginal(self) -> MultivariateNormal:
        """p(x) = ∫ p(x|z) p(z) dz = N(b, W Wᵀ + σ² I) — equation (5-4) in closed form."""
        cov = self.weight @ self.weight.T + self.noise_std**2 * self._eye(self.data_dim)
        return MultivariateNormal(self.bias, covariance_matrix=cov)

    def log_marginal(self, x: Tensor) -> Tensor:
        """Exact log p(x), shape [N]; ``-log_marginal(x).sum()`` is the loss (5-5)."""
        return self.marginal().log_prob(self._check_x(x))

    def posterior_precision(self) -> Tensor:
        """Λ = I + Wᵀ W / σ² (the same for every x)."""
        return self._eye(self.latent_dim) + self.weight.T @ self.weight / self.noise_std**2

    def posterior(self, x: Tensor) -> MultivariateNormal:
        """Exact p(z|x) = N(Λ⁻¹ Wᵀ (x − b) / σ², Λ⁻¹), batch shape [N]."""
        x = self._check_x(x)
        precision = self.posterior_precision()
        mean = (
            torch.linalg.solve(precision, self.weight.T @ (x - self.bias).T).T / self.noise_std**2
        )
        return MultivariateNormal(mean, precision_matrix=precision.expand(x.shape[0], -1, -1))

    def mean_field_posterior(self, x: Tensor) -> Independent:
        """The best *diagonal* Gaussian q(z|x) (maximal ELBO): posterior mean, variances 1/Λ_ii.

        This is what variational inference with a factorised q — a VAE encoder's ``(mu, logvar)`` —
        can reach at best; its gap KL(q ‖ p(z|x)) is zero only when Λ is diagonal.
        """
        mean = self.posterior(x).loc
        std = self.posterior_precision().diagonal().rsqrt().expand_as(mean)
        return Independent(Normal(mean, std), 1)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw n pairs by ancestral sampling: z ~ p(z), then x ~ p(x|z). Returns (x, z)."""
        check_int(n, "n", min=1)
        with torch.no_grad():
            dtype, device = self.weight.dtype, self.weight.device
            z = torch.randn(n, self.latent_dim, dtype=dtype, device=device, generator=generator)
            noise = torch.randn(n, self.data_dim, dtype=dtype, device=device, generator=generator)
            x = self.decode(z) + self.noise_std * noise
        return x, z

    # ------------------------------------------------------------------ the ELBO in closed form
    def expected_log_likelihood(self, x: Tensor, q: Distribution) -> Tensor:
        """E_{q(z|x)}[log p(x|z)] for a Gaussian q = N(m, S), exactly; shape [N].

        E‖x − Wz − b‖² = ‖x − Wm − b‖² + tr(W S Wᵀ), so the "reconstruction" term of (5-8) is
        −D/2·log(2πσ²) − (‖x − Wm − b‖² + tr(W S Wᵀ)) / (2σ²).
        """
        x = self._check_x(x)
        mean, cov = gaussian_moments(q)
        sq_err = (x - self.decode(mean)).pow(2).sum(-1)
        spread = torch.einsum("ij,...jk,ik->...", self.weight, cov, self.weight)
        var = self.noise_std**2
        return -0.5 * self.data_dim * torch.log(2 * math.pi * var) - (sq_err + spread) / (2 * var)

    def kl_to_prior(self, q: Distribution) -> Tensor:
        """KL(q(z|x) ‖ p(z)), the second term of (5-8), from ``torch.distributions``; shape [N]."""
        mean, cov = gaussian_moments(q)
        std_normal = MultivariateNormal(
            torch.zeros_like(mean), covariance_matrix=self._eye(self.latent_dim)
        )
        return kl_divergence(MultivariateNormal(mean, covariance_matrix=cov), std_normal)

    def elbo(self, x: Tensor, q: Distribution) -> Tensor:
        """ELBO (5-8)/(5-12) = E_q[log p(x|z)] − KL(q
        ‖ p(z)), exactly, for a Gaussian q; shape [N].
        """
        return self.expected_log_likelihood(x, q) - self.kl_to_prior(q)

    def kl_to_posterior(self, x: Tensor, q: Distribution) -> Tensor:
        """KL(q(z|x) ‖ p(z|x)) — the gap log p(x) − ELBO, computed directly; shape [N]."""
        mean, cov = gaussian_moments(q)
        return kl_divergence(MultivariateNormal(mean, covariance_matrix=cov), self.posterior(x))
