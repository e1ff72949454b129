"""Exercises of notebook 5.2.1, VAE in brief (VAE模型简明指导): the reparameterisation trick,
Fig. 5-5."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import CheckFailed, Precision, kind_problem
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_, _
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.2.1-reparameterize (implement)


def _reparameterize_independent(mu, logvar, eps):
    from torch.distributions import Normal

    # z = μ + σ·ε is the inverse CDF of N(μ, σ²) at the standard-normal quantile of ε
    std_normal = Normal(torch.zeros_like(eps, dtype=torch.float64), 1.0)
    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    return q.icdf(std_normal.cdf(eps.double())).to(mu.dtype)


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


_OWN_NOISE = N_(
    "your function draws its own noise: use the eps you are given — the trick is that the "
    "randomness comes in from outside, so z is a plain function of μ and σ"
)
_DETACHED = N_(
    "the values are right but no gradient reaches mu and logvar (did you .detach() or use "
    "torch.no_grad()?); the point of the trick is that z stays differentiable"
)


def _same_inputs_same_output(answer, context) -> None:
    mu, logvar, eps = _reparameterize_cases()[0]
    first, second = answer(mu, logvar, eps), answer(mu, logvar, eps)
    if (
        kind_problem(first, mu, "") is None
        and kind_problem(second, mu, "") is None
        and not torch.allclose(first, second, rtol=0, atol=0, equal_nan=True)
    ):
        raise CheckFailed(_(_OWN_NOISE))


def _gradients_reach_the_inputs(answer, context) -> str:
    mu, logvar, eps = _reparameterize_cases()[0]
    mu, logvar = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = answer(mu, logvar, eps)
    if not z.requires_grad:
        raise CheckFailed(_(_DETACHED))
    z.sum().backward()
    expected_grad = (0.5 * logvar.detach()).exp() * eps * 0.5
    if (
        mu.grad is None
        or logvar.grad is None
        or not torch.allclose(logvar.grad, expected_grad, atol=1e-5)
    ):
        raise CheckFailed(_(_DETACHED))
    return _("Gradients reach μ and σ.")


implement_exercise(
    id="5.2.1-reparameterize",
    section=N_("5.2.1 Fig. 5-5"),
    title=N_("reparameterize(mu, logvar, eps): z = μ + e^{σ/2}·ε"),
    answer_name="reparameterize",
    spec=FunctionSpec(
        cases=_reparameterize_cases,
        expected=_reparameterize_independent,
        before=_same_inputs_same_output,
        after=_gradients_reach_the_inputs,
    ),
    mistakes=(
        Mistake(
            "variance-weight",
            lambda ctx: lambda mu, lv, eps: mu + lv.exp() * eps,
            N_(
                "your noise weight is e^σ, the variance; it must be the standard deviation "
                "e^{σ/2} (σ is the log-variance log σ²)"
            ),
        ),
        Mistake(
            "logvar-weight",
            lambda ctx: lambda mu, lv, eps: mu + lv * eps,
            N_("you multiplied the noise by σ (the log-variance) itself; the weight is e^{σ/2}"),
        ),
        Mistake(
            "no-noise",
            lambda ctx: lambda mu, lv, eps: mu.clone(),
            N_(
                "your z ignores eps: without noise the VAE is a plain autoencoder; "
                "z = μ + e^{σ/2}·ε"
            ),
        ),
        Mistake(
            "no-mean",
            lambda ctx: lambda mu, lv, eps: (0.5 * lv).exp() * eps,
            N_("your z is missing the mean μ: z = μ + e^{σ/2}·ε"),
        ),
        Mistake(
            "own-noise",
            lambda ctx: lambda mu, lv, eps: mu + (0.5 * lv).exp() * torch.randn_like(mu),
            _OWN_NOISE,
            by_cases=False,
        ),
        Mistake(
            "detached",
            lambda ctx: lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach(),
            _DETACHED,
            by_cases=False,
        ),
    ),
    solution=N_(
        """\
def reparameterize(mu, logvar, eps):
    # logvar is σ = log σ², so the standard deviation is exp(σ / 2)
    return mu + torch.exp(0.5 * logvar) * eps
"""
    ),
    solution_note=N_(
        "companion.prob.reparameterize draws eps itself (with a generator) and checks its inputs."
    ),
    hints=(
        N_("z must be a sample of N(μ, σ²) built from a standard-normal ε that is given to you."),
        N_(
            "Scale ε by the standard deviation. logvar is log σ², so the standard deviation is "
            "not exp(logvar)."
        ),
        N_("mu + torch.exp(0.5 * logvar) * eps"),
    ),
)


predict_exercise(
    id="5.2.1-noise-weight",
    section=N_("5.2.1 Fig. 5-5"),
    title=N_("The noise weight for an encoder output σ = −2"),
    value=math.exp(-1.0),
    precision=Precision(3),
    answer_name="my_weight",
    mistakes=[
        (
            "e-sigma",
            math.exp(-2.0),
            N_(
                "e^σ = e^{−2} is the *variance*; the noise is scaled by the standard deviation "
                "e^{σ/2}"
            ),
        ),
        (
            "sigma",
            -2.0,
            N_("σ itself is the log-variance (it may be negative); the weight is e^{σ/2}"),
        ),
        (
            "sqrt-sigma",
            math.exp(-0.5),
            N_("you halved the exponent twice, or took e^{−1/2}: the weight is e^{σ/2} = e^{−2/2}"),
        ),
    ],
    solution=N_(
        """\
sigma = -2  # the encoder's output: the log-variance, σ = ln σ²
my_weight = math.exp(sigma / 2)  # the standard deviation e^{σ/2} = e^{−1} ≈ 0.368
"""
    ),
    solution_note=N_(
        "Fig. 5-5's description says e^σ, which would be the variance, ≈ 0.135 (ERRATA.md, item 1)."
    ),
    hints=(
        N_("σ here is ln(variance), as in (5-16)/(5-17)."),
        N_("The noise ε ~ N(0, 1) is scaled by the standard deviation = √variance = e^{σ/2}."),
    ),
)

predict_exercise(
    id="5.2.1-kl-vs-fig-5-5",
    section=N_("5.2.1 Fig. 5-5, 5.2.6 (5-17)"),
    title=N_("The KL (5-17) for μ = (1, −1), σ = (0, ln 2) — and why it is not Fig. 5-5's loss"),
    value=0.5 * ((1 - 1 + 1) + (2 - 1 - math.log(2) + 1)),
    precision=Precision(2),
    answer_name="my_kl",
    mistakes=[
        (
            "fig-5-5-loss",
            (1 - 1 + 1) + (2 - 1 - math.log(2) + 1),
            N_(
                "that is the loss printed beside Fig. 5-5, which has no ½: it is exactly twice "
                "the KL (5-17)"
            ),
        ),
        (
            "log-std",
            0.5 * ((1 - 1 + 1) + (4 - 1 - 2 * math.log(2) + 1)),
            N_(
                "you read σ as ln(standard deviation), the book's first definition in 5.2.6 "
                "(ERRATA.md, item 8); (5-17) holds for σ = ln σ², the log-variance, which is what "
                "this exercise gives: the variance is e^σ, here 1 and 2"
            ),
        ),
    ],
    solution=N_(
        """\
# (5-17): ½ Σ_i (μ_i² + e^{σ_i} − 1 − σ_i), with e^{ln 2} = 2
first = 1**2 + math.exp(0) - 1 - 0  # dimension 1: 1
second = (-1) ** 2 + 2 - 1 - math.log(2)  # dimension 2: ≈ 1.307
my_kl = 0.5 * (first + second)  # ≈ 1.15 nats
"""
    ),
    solution_note=N_(
        "The loss beside Fig. 5-5 omits the ½ and gives twice as much, ≈ 2.31 (ERRATA.md, item 1)."
    ),
    hints=(
        N_("Use (5-17): ½ Σ_i (μ_i² + e^{σ_i} − 1 − σ_i), with e^{ln 2} = 2."),
        N_("Do the two dimensions separately, add them, and do not forget the ½."),
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
    """A stand-in encoder whose first 3 latent dimensions are used and 5 are not (for verify)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor([2.0, 1.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0]))

    def encode(self, x):
        mu = x.flatten(1)[:, :1] * self.scale
        logvar = -self.scale.abs().expand_as(mu)
        return mu, logvar


experiment_exercise(
    id="5.2.1-active-dims",
    section=N_("5.2.1 Fig. 5-6"),
    title=N_("How many latent dimensions does the β = 2 VAE still use?"),
    measure=lambda ctx: float((_per_dim_kl(ctx) > 0.1).sum()),
    precision=Precision(0),
    answer_name="my_count",
    mistakes=[
        (
            "all-dims",
            lambda ctx: float(_per_dim_kl(ctx).numel()),
            N_(
                "that is the number of latent dimensions; count only those whose mean KL exceeds "
                "0.1 nats"
            ),
        ),
        (
            "inactive",
            lambda ctx: float((_per_dim_kl(ctx) <= 0.1).sum()),
            N_("you counted the *unused* dimensions (KL ≤ 0.1 nats)"),
        ),
    ],
    solution=N_(
        """\
with torch.no_grad():
    mu, logvar = vaes[2.0].encode(probe.to(device))
kl_per_dim = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)  # (5-16), one column per dimension
my_count = int((kl_per_dim.mean(0) > 0.1).sum())
"""
    ),
    solution_names=lambda ctx: {
        "vaes": {2.0: ctx["model"]},
        "probe": ctx["images"],
        "device": model_device(ctx["model"]),
    },
    hints=(
        N_("(5-16) gives the KL of each latent dimension separately; average it over the images."),
        N_(
            "A dimension whose mean KL is ≈ 0 has q(z|x) ≈ N(0, 1) for every image: the decoder "
            "cannot use it. Count the dimensions above 0.1 nats."
        ),
    ),
    needs=("model", "images"),
    demo_context=lambda: {
        "model": _DemoEncoderVAE(),
        "images": torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(1)),
    },
)


# ---------------------------------------------------------------- 5.2.1-pca-subspace (implement)


def _pca_independent(x, k):
    """The top-k eigenvectors of the covariance matrix (eigh), independent of the SVD solution."""
    centred = (x - x.mean(0)).double()
    _, vectors = torch.linalg.eigh(centred.T @ centred)
    return vectors[:, -k:].flip(1).T.to(x.dtype)


def _projection(basis):
    """The projection matrix onto the span of the rows: independent of their order and signs."""
    basis = basis.double()
    if basis.dim() != 2:
        return basis
    gram = basis @ basis.T
    if not torch.allclose(gram, torch.eye(len(basis), dtype=gram.dtype), atol=1e-4):
        raise CheckFailed(
            _(
                "the rows of your result are not orthonormal (unit length, at right angles): "
                "take them from the SVD's Vh"
            )
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


implement_exercise(
    id="5.2.1-pca-subspace",
    section=N_("5.2.1 Fig. 5-1"),
    title=N_("principal_subspace(x, k): PCA's top-k directions, which a linear AE also finds"),
    answer_name="principal_subspace",
    spec=FunctionSpec(
        cases=_pca_cases, expected=_pca_independent, normalise=_projection, rtol=1e-4, atol=1e-4
    ),
    mistakes=(
        Mistake(
            "not-centred",
            lambda ctx: lambda x, k: torch.linalg.svd(x, full_matrices=False).Vh[:k],
            N_(
                "centre the data first (subtract the mean image): PCA's directions are those of "
                "the largest variance around the mean"
            ),
        ),
        Mistake(
            "smallest",
            lambda ctx: lambda x, k: torch.linalg.svd(x - x.mean(0), full_matrices=False).Vh[-k:],
            N_(
                "those are the directions of the *smallest* variance (torch.linalg.eigh sorts "
                "eigenvalues in ascending order); take the k largest"
            ),
        ),
    ),
    solution=N_(
        """\
def principal_subspace(x, k):
    # x [N, D]: N data points; returns [k, D], orthonormal rows = the top-k principal directions
    centred = x - x.mean(0)
    return torch.linalg.svd(centred, full_matrices=False).Vh[:k]
"""
    ),
    solution_note=N_(
        "The checker compares spans (projection matrices), so any orthonormal basis of the same "
        "subspace, in any order and with any signs, passes — as for the linear autoencoder."
    ),
    hints=(
        N_("PCA's directions are the right singular vectors of the centred data matrix."),
        N_(
            "torch.linalg.svd(x - x.mean(0), full_matrices=False) returns U, S, Vh; S is sorted "
            "from largest to smallest."
        ),
    ),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.1-why-kl-term",
    section=N_("5.2.1 Fig. 5-5, the extra loss"),
    title=N_("What the encoder would do without the KL term"),
    answer=N_(
        "Without the KL term the reconstruction loss is all that counts, and noise only makes "
        "reconstruction worse. The encoder would push σ (the log-variance) towards −∞, so that "
        "e^{σ/2}·ε vanishes and z = μ exactly: the VAE becomes a plain autoencoder, and its codes "
        "may sit anywhere, far from N(0, I), with gaps between them. The KL term charges for a "
        "variance below 1 and for a mean away from 0, so the codes keep their noise and fill the "
        "prior — which is what lets us decode a sample z ~ N(0, I) into a plausible image."
    ),
)
