"""Exercises of notebook 5.2.2, the latent space (潜空间): continuity, interpolation, arithmetic."""

from __future__ import annotations

import math

import torch

from companion.exercises.core import (
    Mistake,
    experiment_exercise,
    implement_exercise,
    predict_exercise,
)
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.2.2-interpolate (implement)


def _interpolate_reference(z0, z1, steps):
    t = torch.linspace(0, 1, steps, dtype=z0.dtype).reshape(-1, *([1] * z0.dim()))
    return (1 - t) * z0 + t * z1


def _interpolate_cases():
    g = torch.Generator().manual_seed(522)
    return [
        (torch.randn(2, generator=g), torch.randn(2, generator=g), 5),
        (torch.randn(16, generator=g), torch.randn(16, generator=g), 9),
        (torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g), 3),
        (torch.zeros(2), torch.ones(2), 2),
    ]


def _lerp_with(ts_fn):
    def interpolate(z0, z1, steps):
        t = ts_fn(steps).to(z0.dtype).reshape(-1, *([1] * z0.dim()))
        return (1 - t) * z0 + t * z1

    return interpolate


INTERPOLATE_MISTAKES = (
    Mistake(
        "no-end-point",
        lambda ctx: _lerp_with(lambda n: torch.arange(n) / n),
        "your path stops one step short of z1: the last point must be z1 itself "
        "(torch.linspace(0, 1, steps) includes both ends)",
    ),
    Mistake(
        "reversed",
        lambda ctx: lambda z0, z1, steps: _interpolate_reference(z1, z0, steps),
        "your path runs from z1 to z0 (are the weights swapped?): at t = 0 the point must be z0, "
        "i.e. (1 − t)·z0 + t·z1",
    ),
    Mistake(
        "no-steps-dim",
        lambda ctx: lambda z0, z1, steps: 0.5 * (z0 + z1),
        "you returned one point; return all `steps` points stacked along a new first dimension",
    ),
)

implement_exercise(
    id="5.2.2-interpolate",
    section="5.2.2 continuity (连续性)",
    title="interpolate(z0, z1, steps): evenly spaced codes on the line from z0 to z1",
    expected=_interpolate_reference,
    cases=_interpolate_cases,
    solution=_interpolate_reference,
    mistakes=INTERPOLATE_MISTAKES,
    solution_text="""
def interpolate(z0, z1, steps):
    t = torch.linspace(0, 1, steps).reshape(-1, *([1] * z0.dim()))   # [steps, 1, ...]
    return (1 - t) * z0 + t * z1                                     # [steps, *z0.shape]""",
    hints=(
        "The points are (1 − t)·z0 + t·z1 for t evenly spaced from 0 to 1, both ends included.",
        "torch.linspace(0, 1, steps) gives the t's; give them shape [steps, 1] (or [steps, 1, 1] "
        "for 2-D codes) so that they broadcast against z0.",
    ),
)


# --------------------------------------------------------------- 5.2.2-attribute-vector (implement)


def _attribute_reference(codes, has_attribute):
    return codes[has_attribute].mean(0) - codes[~has_attribute].mean(0)


def _attribute_cases():
    g = torch.Generator().manual_seed(5222)
    cases = []
    for n, d in [(40, 16), (25, 2), (60, 5)]:
        codes = torch.randn(n, d, generator=g)
        has = torch.rand(n, generator=g) < 0.3
        codes[has] += 1.5
        cases.append((codes, has))
    return cases


ATTRIBUTE_MISTAKES = (
    Mistake(
        "reversed",
        lambda ctx: lambda c, h: c[~h].mean(0) - c[h].mean(0),
        "your vector points the wrong way: codes *with* the attribute minus codes without it",
    ),
    Mistake(
        "against-all",
        lambda ctx: lambda c, h: c[h].mean(0) - c.mean(0),
        "you subtracted the mean of *all* codes; subtract the mean of the codes without the "
        "attribute",
    ),
    Mistake(
        "sums",
        lambda ctx: lambda c, h: c[h].sum(0) - c[~h].sum(0),
        "you subtracted sums, which depend on how many images each group has: use means",
    ),
    Mistake(
        "mean-over-dims",
        lambda ctx: lambda c, h: c[h].mean(1) - c[~h].mean(1).mean(),
        "average over the images (dimension 0), not over the latent dimensions",
    ),
)

implement_exercise(
    id="5.2.2-attribute-vector",
    section="5.2.2 operability (可操作性)",
    title="attribute_vector(codes, has_attribute): the latent direction of an attribute",
    expected=_attribute_reference,
    cases=_attribute_cases,
    solution=_attribute_reference,
    mistakes=ATTRIBUTE_MISTAKES,
    solution_text="""
def attribute_vector(codes, has_attribute):
    # codes [N, d]; has_attribute [N] bool (e.g. thick strokes)
    return codes[has_attribute].mean(0) - codes[~has_attribute].mean(0)""",
    hints=(
        "The notebook's 'thicker' vector is the mean code of thick digits minus that of thin ones.",
        "codes[has_attribute] selects rows; .mean(0) averages over images; ~has_attribute is "
        "the other group.",
    ),
)


predict_exercise(
    id="5.2.2-prior-mass",
    section="5.2.2 the latent manifold grid",
    title="Fraction of the 2-D prior N(0, I) inside the grid's square [−2.5, 2.5]²",
    value=math.erf(2.5 / math.sqrt(2)) ** 2,
    rtol=2e-3,
    mistakes=[
        (
            "one-dimension",
            math.erf(2.5 / math.sqrt(2)),
            "that is the mass of one coordinate in [−2.5, 2.5]; both must be: square it",
        ),
        (
            "disc",
            1 - math.exp(-(2.5**2) / 2),
            "that is the mass of the disc of radius 2.5; the square also holds its corners",
        ),
    ],
    solution_text="""
The coordinates are independent N(0, 1): P(|z₁| ≤ 2.5) = erf(2.5/√2) ≈ 0.9876, so the square holds
0.9876² ≈ 0.9753 of the prior — the grid of the notebook covers almost all of it.""",
    hints=(
        "The two coordinates are independent: multiply the probabilities.",
        "P(|z| ≤ 2.5) for z ~ N(0, 1) is math.erf(2.5 / math.sqrt(2)).",
    ),
)


predict_exercise(
    id="5.2.2-midpoint-norm",
    section="5.2.2 interpolation",
    title="Expected squared length of the midpoint of two codes drawn from N(0, I₁₆)",
    value=8.0,
    rtol=1e-2,
    mistakes=[
        (
            "like-a-sample",
            16.0,
            "a single draw from N(0, I₁₆) has E‖z‖² = 16, but the "
            "midpoint averages two independent draws: its variance "
            "per dimension is ¼ + ¼",
        ),
        ("quarter", 4.0, "(z₀ + z₁)/2 has variance ¼·1 + ¼·1 = ½ per dimension, not ¼"),
        ("zero", 0.0, "the *mean* of the midpoint is 0, but its squared length is not"),
    ],
    solution_text="""
m = (z₀ + z₁)/2 has independent coordinates with variance ¼ + ¼ = ½, so E‖m‖² = 16 · ½ = 8,
while a typical code has E‖z‖² = 16. Straight lines between codes pass through a region
(smaller norms) where the prior rarely puts its samples in high dimensions.""",
    hints=(
        "E‖m‖² = Σ over dimensions of the variance of each coordinate (the mean is 0).",
        "Var((z₀ + z₁)/2) = (Var z₀ + Var z₁)/4 per coordinate.",
    ),
)

# ---------------------------------------------------------------- 5.2.2-class-distance (experiment)


def _class_means(context) -> tuple[torch.Tensor, torch.Tensor]:
    model, images, labels = context["model"], context["images"], context["labels"]
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(images.to(model_device(model)))
    mu = mu.cpu()
    return mu[labels == 0].mean(0), mu[labels == 1].mean(0)


def _mean_difference(context) -> torch.Tensor:
    """Mean code of the 0s minus mean code of the 1s."""
    zeros, ones = _class_means(context)
    return zeros - ones


def _demo_labelled() -> dict:
    from companion.exercises.ex_5_2_1 import _DemoEncoderVAE

    g = torch.Generator().manual_seed(3)
    labels = torch.arange(20) % 3
    images = torch.rand(20, 1, 8, 8, generator=g) + labels.reshape(-1, 1, 1, 1)
    return {"model": _DemoEncoderVAE(), "images": images, "labels": labels}


experiment_exercise(
    id="5.2.2-class-distance",
    section="5.2.2 latent space",
    title="Distance between the mean codes of the digits 0 and 1 in the 2-D VAE",
    measure=lambda ctx: _mean_difference(ctx).norm().item(),
    mistakes=[
        (
            "squared",
            lambda ctx: _mean_difference(ctx).pow(2).sum().item(),
            "that is the squared distance: take the square root",
        ),
        (
            "manhattan",
            lambda ctx: _mean_difference(ctx).abs().sum().item(),
            "that is the L1 (city-block) distance; use the Euclidean one, (a − b).norm()",
        ),
    ],
    solution_text="""
with torch.no_grad():
    mu, _ = vae2.encode(test_x.to(device))
mu = mu.cpu()
my_distance = (mu[test_y == 0].mean(0) - mu[test_y == 1].mean(0)).norm().item()""",
    hints=(
        "Encode the held-out images with vae2.encode (its first output is μ), then average the "
        "codes of each class.",
        "The Euclidean distance of two vectors a, b is (a - b).norm().",
    ),
    needs=("model", "images", "labels"),
    demo_context=_demo_labelled,
)
