"""Exercises of notebook 5.2.2, the latent space (潜空间): continuity, interpolation, arithmetic."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.2.2-interpolate (implement)


def _interpolate_independent(z0, z1, steps):
    """Point by point, t = i / (steps − 1)."""
    if steps == 1:
        return z0[None].clone()
    return torch.stack([z0 + (i / (steps - 1)) * (z1 - z0) for i in range(steps)])


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


implement_exercise(
    id="5.2.2-interpolate",
    section=N_("5.2.2 continuity (连续性)"),
    title=N_("interpolate(z0, z1, steps): evenly spaced codes on the line from z0 to z1"),
    answer_name="interpolate",
    spec=FunctionSpec(cases=_interpolate_cases, expected=_interpolate_independent),
    mistakes=(
        Mistake(
            "no-end-point",
            lambda ctx: _lerp_with(lambda n: torch.arange(n) / n),
            N_(
                "your path stops one step short of z1: the last point must be z1 itself "
                "(torch.linspace(0, 1, steps) includes both ends)"
            ),
            fix=lambda ctx: _lerp_with(lambda n: torch.linspace(0, 1, n)),
        ),
        Mistake(
            "reversed",
            lambda ctx: lambda z0, z1, steps: _interpolate_independent(z1, z0, steps),
            N_(
                "your path runs from z1 to z0 (are the weights swapped?): at t = 0 the point must "
                "be z0, i.e. (1 − t)·z0 + t·z1"
            ),
        ),
        Mistake(
            "no-steps-dim",
            lambda ctx: lambda z0, z1, steps: 0.5 * (z0 + z1),
            N_(
                "you returned one point; return all `steps` points stacked along a new first "
                "dimension"
            ),
        ),
    ),
    solution=N_(
        """\
def interpolate(z0, z1, steps):
    t = torch.linspace(0, 1, steps).reshape(-1, *([1] * z0.dim()))  # [steps, 1, ...]
    return (1 - t) * z0 + t * z1  # [steps, *z0.shape]
"""
    ),
    hints=(
        N_("The points are (1 − t)·z0 + t·z1 for t evenly spaced from 0 to 1, both ends included."),
        N_(
            "torch.linspace(0, 1, steps) gives the t's; give them shape [steps, 1] (or "
            "[steps, 1, 1] for 2-D codes) so that they broadcast against z0."
        ),
    ),
)


# -------------------------------------------------------------- 5.2.2-attribute-vector (implement)


def _attribute_independent(codes, has_attribute):
    with_it = [c for c, h in zip(codes, has_attribute.tolist(), strict=True) if h]
    without = [c for c, h in zip(codes, has_attribute.tolist(), strict=True) if not h]
    return sum(with_it) / len(with_it) - sum(without) / len(without)


def _attribute_cases():
    g = torch.Generator().manual_seed(5222)
    cases = []
    for n, d in [(40, 16), (25, 2), (60, 5)]:
        codes = torch.randn(n, d, generator=g)
        has = torch.rand(n, generator=g) < 0.3
        codes[has] += 1.5
        cases.append((codes, has))
    return cases


implement_exercise(
    id="5.2.2-attribute-vector",
    section=N_("5.2.2 operability (可操作性)"),
    title=N_("attribute_vector(codes, has_attribute): the latent direction of an attribute"),
    answer_name="attribute_vector",
    spec=FunctionSpec(cases=_attribute_cases, expected=_attribute_independent),
    mistakes=(
        Mistake(
            "reversed",
            lambda ctx: lambda c, h: c[~h].mean(0) - c[h].mean(0),
            N_(
                "your vector points the wrong way: codes *with* the attribute minus codes "
                "without it"
            ),
        ),
        Mistake(
            "against-all",
            lambda ctx: lambda c, h: c[h].mean(0) - c.mean(0),
            N_(
                "you subtracted the mean of *all* codes; subtract the mean of the codes without "
                "the attribute"
            ),
        ),
        Mistake(
            "sums",
            lambda ctx: lambda c, h: c[h].sum(0) - c[~h].sum(0),
            N_("you subtracted sums, which depend on how many images each group has: use means"),
        ),
        Mistake(
            "mean-over-dims",
            lambda ctx: lambda c, h: c[h].mean(1) - c[~h].mean(1).mean(),
            N_("average over the images (dimension 0), not over the latent dimensions"),
        ),
    ),
    solution=N_(
        """\
def attribute_vector(codes, has_attribute):
    # codes [N, d]; has_attribute [N] bool (e.g. thick strokes)
    return codes[has_attribute].mean(0) - codes[~has_attribute].mean(0)
"""
    ),
    hints=(
        N_(
            "The notebook's 'thicker' vector is the average code of thick digits minus that of "
            "thin ones."
        ),
        N_(
            "codes[has_attribute] selects rows; .mean(0) averages over images; ~has_attribute is "
            "the other group."
        ),
    ),
)


predict_exercise(
    id="5.2.2-prior-mass",
    section=N_("5.2.2 the latent manifold grid"),
    title=N_("Fraction of the 2-D prior N(0, I) inside the grid's square [−2.5, 2.5]²"),
    value=math.erf(2.5 / math.sqrt(2)) ** 2,
    precision=Precision(3),
    answer_name="my_fraction",
    mistakes=[
        (
            "one-dimension",
            math.erf(2.5 / math.sqrt(2)),
            N_("that is the mass of one coordinate in [−2.5, 2.5]; both must be: square it"),
        ),
        (
            "disc",
            1 - math.exp(-(2.5**2) / 2),
            N_("that is the mass of the disc of radius 2.5; the square also holds its corners"),
        ),
    ],
    solution=N_(
        """\
one_axis = math.erf(2.5 / math.sqrt(2))  # P(|z₁| ≤ 2.5) for z₁ ~ N(0, 1): ≈ 0.9876
my_fraction = one_axis**2  # the coordinates are independent: ≈ 0.975
"""
    ),
    solution_note=N_("The grid of the notebook covers almost all of the prior."),
    hints=(
        N_("The two coordinates are independent: multiply the probabilities."),
        N_("P(|z| ≤ 2.5) for z ~ N(0, 1) is math.erf(2.5 / math.sqrt(2))."),
    ),
)


predict_exercise(
    id="5.2.2-midpoint-norm",
    section=N_("5.2.2 interpolation"),
    title=N_("Expected squared length of the midpoint of two codes drawn from N(0, I₁₆)"),
    value=8.0,
    precision=Precision(0),
    answer_name="my_value",
    mistakes=[
        (
            "like-a-sample",
            16.0,
            N_(
                "a single draw from N(0, I₁₆) has E‖z‖² = 16, but the midpoint averages two "
                "independent draws: its variance per dimension is ¼ + ¼"
            ),
        ),
        ("quarter", 4.0, N_("(z₀ + z₁)/2 has variance ¼·1 + ¼·1 = ½ per dimension, not ¼")),
        ("zero", 0.0, N_("the *mean* of the midpoint is 0, but its squared length is not")),
    ],
    solution=N_(
        """\
variance_per_dimension = 0.25 * 1 + 0.25 * 1  # Var((z₀ + z₁)/2) = (Var z₀ + Var z₁)/4 = ½
my_value = 16 * variance_per_dimension  # E‖m‖² = Σ variances (the mean is 0): 8
"""
    ),
    solution_note=N_(
        "A typical code has E‖z‖² = 16. Straight lines between codes pass through a region of "
        "smaller norms, where the prior rarely puts its samples in high dimensions."
    ),
    hints=(
        N_("E‖m‖² = Σ over dimensions of the variance of each coordinate (the mean is 0)."),
        N_("Var((z₀ + z₁)/2) = (Var z₀ + Var z₁)/4 per coordinate."),
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


def _between_means(context, how: str) -> float:
    zeros, ones = _class_means(context)
    difference = zeros - ones
    if how == "squared":
        return difference.pow(2).sum().item()
    if how == "manhattan":
        return difference.abs().sum().item()
    return difference.norm().item()


def _demo_labelled() -> dict:
    from companion.exercises.ex_5_2_1 import _DemoEncoderVAE

    g = torch.Generator().manual_seed(3)
    labels = torch.arange(20) % 3
    images = torch.rand(20, 1, 8, 8, generator=g) + labels.reshape(-1, 1, 1, 1)
    return {"model": _DemoEncoderVAE(), "images": images, "labels": labels}


experiment_exercise(
    id="5.2.2-class-distance",
    section=N_("5.2.2 latent space"),
    title=N_("Distance between the average codes of the digits 0 and 1 in the 2-D VAE"),
    measure=lambda ctx: _between_means(ctx, "euclidean"),
    precision=Precision(3),
    answer_name="my_distance",
    mistakes=[
        (
            "squared",
            lambda ctx: _between_means(ctx, "squared"),
            N_("that is the squared distance: take the square root"),
        ),
        (
            "manhattan",
            lambda ctx: _between_means(ctx, "manhattan"),
            N_("that is the L1 (city-block) distance; use the Euclidean one, (a − b).norm()"),
        ),
    ],
    solution=N_(
        """\
with torch.no_grad():
    mu, _ = vae2.encode(test_x.to(device))
mu = mu.cpu()
my_distance = (mu[test_y == 0].mean(0) - mu[test_y == 1].mean(0)).norm().item()
"""
    ),
    solution_names=lambda ctx: {
        "vae2": ctx["model"],
        "test_x": ctx["images"],
        "test_y": ctx["labels"],
        "device": model_device(ctx["model"]),
    },
    hints=(
        N_(
            "Encode the held-out images with vae2.encode (its first output is μ), then average "
            "the codes of each class."
        ),
        N_("The Euclidean distance of two vectors a, b is (a - b).norm()."),
    ),
    needs=("model", "images", "labels"),
    demo_context=_demo_labelled,
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.2-why-straight-lines",
    section=N_("5.2.2 interpolation"),
    title=N_("Why the middle of a straight line can look worse than its ends"),
    answer=N_(
        "In many dimensions almost all of the prior's samples lie near a sphere of radius about √d "
        "(E‖z‖² = d), not near the centre. The midpoint of two such codes has a squared length of "
        "only about d/2 on average, so a straight line dips into a region the decoder rarely saw "
        "in training, and the images there can be blurred or odd. Interpolating along the sphere "
        "(spherical interpolation) keeps the norm typical; in the notebook's 2-D latent space the "
        "effect is small, which is why straight lines look fine there."
    ),
)
