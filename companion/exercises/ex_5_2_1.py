"""Exercises of notebook 5.2.1, VAE in brief
(VAE模型简明指导): the reparameterisation trick, Fig. 5-5.
"""

from __future__ import annotations

import math

import torch

from companion.exercises.core import (
    CheckFailed,
    Exercise,
    Mistake,
    as_tensor,
    check_function,
    experiment_exercise,
    implement_exercise,
    predict_exercise,
    register,
)
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.2.1-reparameterize (implement)


def _reparameterize_reference(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


def _reparameterize_cases():
    g = torch.Generator().manual_seed(521)
    shapes = [(4, 2), (3, 2, 5), (7,)]
    cases = [
        (torch.randn(s, generator=g), torch.randn(s, generator=g), torch.randn(s, generator=g))
        for s in shapes
    ]
    # extreme log-variances: almost no noise, and a great deal of it
    cases.append(
        (torch.tensor([[1.0, -2.0]]), torch.tensor([[-20.0, 8.0]]), torch.tensor([[0.7, -1.3]]))
    )
    return cases


REPARAMETERIZE_MISTAKES = (
    Mistake(
        "variance-weight",
        lambda ctx: lambda mu, lv, eps: mu + lv.exp() * eps,
        "your noise weight is e^σ, the variance; it must be the standard deviation e^{σ/2} "
        "(σ is the log-variance log σ²)",
    ),
    Mistake(
        "logvar-weight",
        lambda ctx: lambda mu, lv, eps: mu + lv * eps,
        "you multiplied the noise by σ (the log-variance) itself; the weight is e^{σ/2}",
    ),
    Mistake(
        "no-noise",
        lambda ctx: lambda mu, lv, eps: mu.clone(),
        "your z ignores eps: without noise the VAE is a plain autoencoder; z = μ + e^{σ/2}·ε",
    ),
    Mistake(
        "no-mean",
        lambda ctx: lambda mu, lv, eps: (0.5 * lv).exp() * eps,
        "your z is missing the mean μ: z = μ + e^{σ/2}·ε",
    ),
    Mistake(
        "own-noise",
        lambda ctx: lambda mu, lv, eps: mu + (0.5 * lv).exp() * torch.randn_like(mu),
        "your function draws its own noise: use the eps you are given — the trick is that the "
        "randomness comes in from outside, so z is a plain function of μ and σ",
    ),
    Mistake(
        "detached",
        lambda ctx: lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach(),
        "the values are right but no gradient reaches mu and logvar (did you .detach() or use "
        "torch.no_grad()?); the point of the trick is that z stays differentiable",
    ),
)


def _check_reparameterize(answer, context) -> str:
    mu, logvar, eps = _reparameterize_cases()[0]
    first, second = as_tensor(answer(mu, logvar, eps)), as_tensor(answer(mu, logvar, eps))
    if first.shape == second.shape and not torch.equal(first, second):
        raise CheckFailed(REPARAMETERIZE_MISTAKES[4].message)
    note = check_function(
        answer, _reparameterize_reference, _reparameterize_cases(), context, REPARAMETERIZE_MISTAKES
    )
    mu, logvar = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = as_tensor(answer(mu, logvar, eps))
    if not z.requires_grad:
        raise CheckFailed(REPARAMETERIZE_MISTAKES[5].message)
    z.sum().backward()
    expected_grad = (0.5 * logvar.detach()).exp() * eps * 0.5
    if (
        mu.grad is None
        or logvar.grad is None
        or not torch.allclose(logvar.grad, expected_grad, atol=1e-5)
    ):
        raise CheckFailed(REPARAMETERIZE_MISTAKES[5].message)
    return note + " Gradients reach μ and σ."


register(
    Exercise(
        id="5.2.1-reparameterize",
        section="5.2.1 Fig. 5-5",
        kind="implement",
        title="reparameterize(mu, logvar, eps): z = μ + e^{σ/2}·ε",
        checker=_check_reparameterize,
        reference=lambda ctx: _reparameterize_reference,
        solution_text="""
def reparameterize(mu, logvar, eps):
    # logvar is σ = log σ², so the standard deviation is exp(σ / 2)
    return mu + torch.exp(0.5 * logvar) * eps

companion.prob.reparameterize draws eps itself (with a generator) and checks its inputs.""",
        hints=(
            "z must be a sample of N(μ, σ²) built from a standard-normal ε that is given to you.",
            "Scale ε by the standard deviation. logvar is log σ², so the standard deviation is not "
            "exp(logvar).",
            "mu + torch.exp(0.5 * logvar) * eps",
        ),
        mistakes=REPARAMETERIZE_MISTAKES,
    )
)


predict_exercise(
    id="5.2.1-noise-weight",
    section="5.2.1 Fig. 5-5",
    title="The noise weight for an encoder output σ = −2",
    value=math.exp(-1.0),
    rtol=5e-3,
    mistakes=[
        (
            "e-sigma",
            math.exp(-2.0),
            "e^σ = e^{−2} is the *variance*; the noise is scaled by the standard deviation e^{σ/2}",
        ),
        ("sigma", -2.0, "σ itself is the log-variance (it may be negative); the weight is e^{σ/2}"),
        (
            "sqrt-sigma",
            math.exp(-0.5),
            "you halved the exponent twice, or took e^{−1/2}: the weight is e^{σ/2} = e^{−2/2}",
        ),
    ],
    solution_text="""
σ is the log-variance ln σ², so the standard deviation is e^{σ/2} = e^{−1} ≈ 0.368.
(Fig. 5-5's text says e^σ, which would be the variance, ≈ 0.135.)""",
    hints=(
        "σ here is ln(variance), as in (5-16)/(5-17).",
        "The noise ε ~ N(0, 1) is scaled by the standard deviation = √variance = e^{σ/2}.",
    ),
)

predict_exercise(
    id="5.2.1-kl-vs-fig-5-5",
    section="5.2.1 Fig. 5-5, 5.2.6 (5-17)",
    title="The KL (5-17) for μ = (1, −1), σ = (0, ln 2) — and why it is not Fig. 5-5's loss",
    value=0.5 * ((1 - 1 + 1) + (2 - 1 - math.log(2) + 1)),
    rtol=5e-3,
    mistakes=[
        (
            "fig-5-5-loss",
            (1 - 1 + 1) + (2 - 1 - math.log(2) + 1),
            "that is the loss printed beside Fig. 5-5, which "
            "has no ½: it is exactly twice the KL (5-17)",
        ),
        (
            "log-std",
            0.5 * ((1 - 1 + 1) + (4 - 1 - 2 * math.log(2) + 1)),
            "you read σ as ln(standard deviation); in (5-17) σ is ln(variance): the variance "
            "is e^σ",
        ),
    ],
    solution_text="""
(5-17): ½ Σ (μ² + e^σ − 1 − σ).
dimension 1: 1 + 1 − 1 − 0 = 1;  dimension 2: 1 + 2 − 1 − ln 2 ≈ 1.307.
KL = ½ (1 + 1.307) ≈ 1.153 nats. The loss beside Fig. 5-5 omits the ½ and gives 2.307.""",
    hints=(
        "Use (5-17): ½ Σ_i (μ_i² + e^{σ_i} − 1 − σ_i), with e^{ln 2} = 2.",
        "Do the two dimensions separately, add them, and do not forget the ½.",
    ),
)


# ---------------------------------------------------------------- 5.2.1-active-dims (experiment)


def _per_dim_kl(context) -> torch.Tensor:
    model, images = context["model"], context["images"]
    device = model_device(model)
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(images.to(device))
    return (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).mean(0).cpu()  # [d]


class _DemoEncoderVAE(torch.nn.Module):
    """A stand-in with an encoder whose 3 first latent
    dimensions are used, 5 are not (for verify).
    """

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor([2.0, 1.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0]))

    def encode(self, x):
        mu = x.flatten(1)[:, :1] * self.scale
        logvar = -self.scale.abs().expand_as(mu)
        return mu, logvar


experiment_exercise(
    id="5.2.1-active-dims",
    section="5.2.1 Fig. 5-6",
    title="How many latent dimensions does the β = 2 VAE still use?",
    measure=lambda ctx: float((_per_dim_kl(ctx) > 0.1).sum()),
    mistakes=[
        (
            "all-dims",
            lambda ctx: float(_per_dim_kl(ctx).numel()),
            "that is the number of latent dimensions; count only those whose mean KL exceeds "
            "0.1 nats",
        ),
        (
            "inactive",
            lambda ctx: float((_per_dim_kl(ctx) <= 0.1).sum()),
            "you counted the *unused* dimensions (KL ≤ 0.1 nats)",
        ),
    ],
    solution_text="""
with torch.no_grad():
    mu, logvar = vaes[2.0].encode(probe.to(device))
kl_per_dim = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)   # (5-16), one column per dimension
my_count = int((kl_per_dim.mean(0) > 0.1).sum())""",
    hints=(
        "(5-16) gives the KL of each latent dimension separately; average it over the images.",
        "A dimension whose mean KL is ≈ 0 has q(z|x) ≈ N(0, 1) for every image: the decoder "
        "cannot use it. Count the dimensions above 0.1 nats.",
    ),
    needs=("model", "images"),
    rtol=0,
    atol=0.5,
    demo_context=lambda: {
        "model": _DemoEncoderVAE(),
        "images": torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(1)),
    },
)


# ---------------------------------------------------------------- 5.2.1-pca-subspace (implement)


def _pca_reference(x, k):
    return torch.linalg.svd(x - x.mean(0), full_matrices=False).Vh[:k]


def _projection(basis):
    """The projection matrix onto the span of the rows: independent of their order and signs."""
    basis = as_tensor(basis).double()
    if basis.dim() != 2:
        raise CheckFailed(
            f"return a matrix [k, D] (one direction per row), got shape {list(basis.shape)}"
        )
    gram = basis @ basis.T
    if not torch.allclose(gram, torch.eye(len(basis), dtype=gram.dtype), atol=1e-4):
        raise CheckFailed(
            "the rows of your result are not orthonormal (unit length, at right "
            "angles): take them from the SVD's Vh"
        )
    return basis.T @ basis


def _pca_cases():
    g = torch.Generator().manual_seed(5211)
    cases = []
    for n, d, k in [(200, 6, 2), (100, 10, 3), (60, 4, 1)]:
        scales = torch.linspace(3, 0.3, d)
        x = torch.randn(n, d, generator=g) * scales @ torch.linalg.qr(
            torch.randn(d, d, generator=g)
        )[0] + 5 * torch.randn(d, generator=g)  # far from 0
        cases.append((x, k))
    return cases


PCA_MISTAKES = (
    Mistake(
        "not-centred",
        lambda ctx: lambda x, k: torch.linalg.svd(x, full_matrices=False).Vh[:k],
        "centre the data first (subtract the mean image): PCA's directions are those of the "
        "largest variance around the mean",
    ),
    Mistake(
        "smallest",
        lambda ctx: lambda x, k: torch.linalg.svd(x - x.mean(0), full_matrices=False).Vh[-k:],
        "those are the directions of the *smallest* variance (torch.linalg.eigh sorts "
        "eigenvalues in ascending order); take the k largest",
    ),
)

implement_exercise(
    id="5.2.1-pca-subspace",
    section="5.2.1 Fig. 5-1",
    title="principal_subspace(x, k): PCA's top-k directions, which a linear AE also finds",
    expected=_pca_reference,
    cases=_pca_cases,
    solution=_pca_reference,
    mistakes=PCA_MISTAKES,
    compare_as=_projection,
    rtol=1e-4,
    atol=1e-4,
    solution_text="""
def principal_subspace(x, k):
    # x [N, D]: N data points; returns [k, D], orthonormal rows = top-k principal directions
    centred = x - x.mean(0)
    return torch.linalg.svd(centred, full_matrices=False).Vh[:k]
# The checker compares spans (projection matrices), so any orthonormal basis of the same
# subspace, in any order and with any signs, passes — as for the linear autoencoder.""",
    hints=(
        "PCA's directions are the right singular vectors of the centred data matrix.",
        "torch.linalg.svd(x - x.mean(0), full_matrices=False) returns U, S, Vh; S is sorted "
        "from largest to smallest.",
    ),
)
