"""Maximum likelihood estimation by gradient descent (section 5.2.3, equations (5-1)…(5-3)).

The likelihood (5-1) is a product over data points; its negative logarithm (5-2) is a sum, and
the gradient (5-3) is the sum of per-point gradients, which autograd supplies. :func:`fit_mle`
minimises (5-2) for any ``torch.distributions`` family whose parameters are given as
unconstrained tensors (use a log for a standard deviation, logits for mixture weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.distributions import Distribution

from companion.validation import check_int, check_positive_float, check_tensor

__all__ = ["MLEFit", "fit_mle", "negative_log_likelihood"]


def negative_log_likelihood(dist: Distribution, data: Tensor) -> Tensor:
    """(5-2): ``-Σ_i log p(x_i; θ)``, the log of the likelihood (5-1) with its sign flipped."""
    if not isinstance(dist, Distribution):
        raise TypeError(
            f"dist must be a torch.distributions.Distribution, got {type(dist).__name__}"
        )
    check_tensor(data, "data", nonempty=True, finite=True)
    return -dist.log_prob(data).sum()


@dataclass
class MLEFit:
    """Result of :func:`fit_mle`: the fitted unconstrained parameters and the NLL per step."""

    params: dict[str, Tensor]
    nll: list[float] = field(default_factory=list)

    def distribution(self, make_dist: Callable[..., Distribution]) -> Distribution:
        return make_dist(**self.params)


def fit_mle(
    make_dist: Callable[..., Distribution],
    init: Mapping[str, Tensor],
    data: Tensor,
    *,
    steps: int = 500,
    lr: float = 0.05,
) -> MLEFit:
    """Minimise (5-2) over the tensors in ``init`` with Adam, using the gradient (5-3).

    ``make_dist(**params)`` builds the model distribution (e.g.
    ``lambda mu, log_sigma: Normal(mu, log_sigma.exp())``). The NLL is divided by the number of
    points for the optimiser (same minimiser, step size independent of n); ``nll`` records the
    full sum (5-2) at every step.
    """
    if not callable(make_dist):
        raise TypeError(
            f"make_dist must be a function params -> Distribution, got {type(make_dist).__name__}"
        )
    check_int(steps, "steps", min=1)
    lr = check_positive_float(lr, "lr")
    check_tensor(data, "data", dtype="float", nonempty=True, finite=True)
    if not isinstance(init, Mapping) or not init:
        raise ValueError(
            "init must be a dict naming at least one parameter tensor, e.g. "
            "{'mu': torch.tensor(0.0)}"
        )
    params = {
        k: torch.as_tensor(v, dtype=data.dtype).detach().clone().requires_grad_(True)
        for k, v in init.items()
    }
    optimiser = torch.optim.Adam(params.values(), lr=lr)
    n = data.shape[0] if data.dim() else 1
    history: list[float] = []
    for _ in range(steps):
        optimiser.zero_grad()
        nll = negative_log_likelihood(make_dist(**params), data)
        if not torch.isfinite(nll):
            raise ValueError(
                f"the negative log-likelihood became {nll.item()} at step {len(history)}; "
                "lower lr or start from better initial values"
            )
        (nll / n).backward()  # (5-3): autograd sums the per-point gradients
        optimiser.step()
        history.append(nll.item())
    return MLEFit({k: v.detach() for k, v in params.items()}, history)
