"""A latent-variable model with a *discrete* latent: first choose the digit, then write it (5.2.4).

    k ~ Categorical(π)              choose which digit to write (the latent z of (5-4))
    x | k ~ N(μ_k, Σ_k)            write it: one Gaussian of images per digit

p(x) = Σ_k π_k N(x; μ_k, Σ_k) is (5-4) with the integral over z replaced by a sum over k. Fitted
in closed form from labelled images (class frequencies, class means, class covariances shrunk
towards the identity so that 64 pixels and ~180 images per class give a proper covariance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal


@dataclass
class DigitWriter:
    """The fitted model: ``prior`` [K] = π, ``means`` [K, D], ``scale_tril`` [K, D, D]."""

    prior: torch.Tensor
    means: torch.Tensor
    scale_tril: torch.Tensor

    def components(self) -> MultivariateNormal:
        return MultivariateNormal(self.means, scale_tril=self.scale_tril)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log Σ_k π_k N(x; μ_k, Σ_k) for ``x``
        [N, D] — (5-4) as a sum over the discrete latent.
        """
        if x.dim() != 2 or x.shape[1] != self.means.shape[1]:
            raise ValueError(f"x must be [N, {self.means.shape[1]}], got {tuple(x.shape)}")
        joint = (
            self.components().log_prob(x.to(self.means.dtype)[:, None]) + self.prior.log()
        )  # [N, K]
        return torch.logsumexp(joint, dim=1)

    def posterior(self, x: torch.Tensor) -> torch.Tensor:
        """p(k | x) [N, K]: which digit the model thinks was chosen, by Bayes' rule."""
        joint = self.components().log_prob(x.to(self.means.dtype)[:, None]) + self.prior.log()
        return (joint - torch.logsumexp(joint, dim=1, keepdim=True)).exp()

    def sample(
        self, n: int, *, digit: int | None = None, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` (k, x) pairs: k from π (or fixed to ``digit``), then x ~ N(μ_k, Σ_k)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer ≥ 1, got {n!r}")
        K, D = self.means.shape
        if digit is not None and not (isinstance(digit, int) and 0 <= digit < K):
            raise ValueError(f"digit must be an integer in 0…{K - 1}, got {digit!r}")
        if digit is None:
            k = torch.multinomial(self.prior.float(), n, replacement=True, generator=generator)
        else:
            k = torch.full((n,), digit, dtype=torch.long)
        eps = torch.randn(n, D, generator=generator, dtype=self.means.dtype)
        x = self.means[k] + (self.scale_tril[k] @ eps[:, :, None])[:, :, 0]
        return k, x

    def as_torch_mixture(self) -> MixtureSameFamily:
        """The same model as a ``torch.distributions``
        object (the independent reference in tests).
        """
        return MixtureSameFamily(Categorical(probs=self.prior), self.components())


def fit_digit_writer(x: torch.Tensor, y: torch.Tensor, *, shrinkage: float = 0.1) -> DigitWriter:
    """Maximum-likelihood class frequencies and means, and class covariances shrunk towards the
    identity: Σ_k = (1 − s)·S_k + s·(tr S_k / D)·I, from images ``x`` [N, D] with labels ``y``
    [N]."""
    if x.dim() != 2 or y.dim() != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x must be [N, D] and y [N], got {tuple(x.shape)} and {tuple(y.shape)}")
    if not (isinstance(shrinkage, float) and 0 < shrinkage <= 1):
        raise ValueError(f"shrinkage must be a float in (0, 1], got {shrinkage!r}")
    x = x.double()
    classes = torch.unique(y)
    if not torch.equal(classes, torch.arange(len(classes))):
        raise ValueError(f"labels must be 0…K−1 with every class present, got {classes.tolist()}")
    D = x.shape[1]
    prior, means, trils = [], [], []
    for k in classes:
        xk = x[y == k]
        if len(xk) < 2:
            raise ValueError(f"class {int(k)} has {len(xk)} image(s); at least 2 are needed")
        m = xk.mean(0)
        S = (xk - m).T @ (xk - m) / len(xk)
        cov = (1 - shrinkage) * S + shrinkage * (S.trace() / D) * torch.eye(D, dtype=x.dtype)
        prior.append(len(xk) / len(x))
        means.append(m)
        trils.append(torch.linalg.cholesky(cov))
    return DigitWriter(torch.tensor(prior, dtype=x.dtype), torch.stack(means), torch.stack(trils))
