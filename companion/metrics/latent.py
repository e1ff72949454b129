"""How much of a 2-D latent square the codes fill
(5.2.1, 5.2.2): empty tiles and Gaussian coverage.
"""

from __future__ import annotations

import math

import torch

from companion.prob.gaussian import standardised_square


def _square(lims: tuple[float, float], n: int) -> tuple[float, float]:
    lo, hi = (float(v) for v in lims)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"lims must be two finite numbers lo < hi, got {lims}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer ≥ 1, got {n!r}")
    return lo, hi


def _codes(t: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor) or t.dim() != 2 or t.shape[1] != 2 or len(t) == 0:
        raise ValueError(
            f"{name} must be a non-empty [N, 2] tensor, got {getattr(t, 'shape', type(t))}"
        )
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t.detach().cpu().double()


def empty_tile_fraction(codes: torch.Tensor, lims: tuple[float, float], n: int) -> float:
    """Cut the square [lo, hi]² into n × n tiles; the fraction of tiles that hold no code."""
    lo, hi = _square(lims, n)
    codes = _codes(codes, "codes")
    inside = ((codes >= lo) & (codes < hi)).all(1)
    idx = ((codes[inside] - lo) / (hi - lo) * n).long().clamp(0, n - 1)
    filled = torch.zeros(n, n, dtype=torch.bool)
    filled[idx[:, 0], idx[:, 1]] = True
    return 1.0 - filled.double().mean().item()


def bell_coverage(
    mu: torch.Tensor, logvar: torch.Tensor, lims: tuple[float, float], n: int, *, n_std: float = 2.0
) -> float:
    """Fraction of the n × n grid of tile centres in [lo, hi]² that lie within ``n_std`` standard
    deviations (the ellipse Σ((g − μ)/σ)² ≤ n_std²) of at least one image's N(μ, e^logvar)."""
    lo, hi = _square(lims, n)
    mu, logvar = _codes(mu, "mu"), _codes(logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and "
            f"{tuple(logvar.shape)}"
        )
    if not n_std > 0:
        raise ValueError(f"n_std must be > 0, got {n_std}")
    centres = lo + (torch.arange(n, dtype=torch.float64) + 0.5) * (hi - lo) / n
    grid = torch.cartesian_prod(centres, centres)  # [n², 2]
    covered = torch.zeros(len(grid), dtype=torch.bool)
    for m, lv in zip(mu.split(512), logvar.split(512), strict=True):
        diff = grid[:, None] - m[None]  # [n², chunk, 2]
        dist2 = standardised_square(diff, lv[None].to(diff.dtype)).sum(-1)  # no 0/0 at σ → 0
        covered |= (dist2 <= n_std**2).any(1)
    return covered.double().mean().item()
