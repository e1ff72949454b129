"""Exercises of notebook 5.2.4, latent-variable models (隐变量模型), (5-4)–(5-6)."""

from __future__ import annotations

import math

import torch

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_

predict_exercise(
    id="5.2.4-marginal-variance",
    section=N_("5.2.4 (5-4)"),
    title=N_("Var(x) for z ~ N(0, 1), x = 2z + 1 + ε with ε ~ N(0, 0.5²)"),
    value=4.25,
    precision=Precision(2),
    answer_name="my_variance",
    mistakes=[
        (
            "noise-std",
            4.5,
            N_("you added the noise's standard deviation 0.5; variances add, so add 0.5² = 0.25"),
        ),
        (
            "no-noise",
            4.0,
            N_(
                "you forgot the noise ε: p(x|z) is not deterministic, its variance adds to that "
                "of 2z"
            ),
        ),
        ("weight-not-squared", 2.25, N_("Var(2z) = 2² · Var(z) = 4, not 2")),
        ("bias", 5.25, N_("the offset 1 shifts x but does not change its variance")),
    ],
    solution=N_(
        """\
# z and ε are independent, so their variances add; the bias 1 only moves the mean
my_variance = 2**2 * 1 + 0.5**2  # Var(2z) + Var(ε) = 4 + 0.25 = 4.25
"""
    ),
    solution_note=N_(
        "In matrix form this is the marginal covariance W Wᵀ + σ² I printed in the notebook."
    ),
    hints=(
        N_("z and ε are independent, so their variances add."),
        N_("Var(a z) = a² Var(z); a constant shift changes nothing."),
    ),
)

predict_exercise(
    id="5.2.4-grid-size",
    section=N_("5.2.4 (5-4) by quadrature"),
    title=N_("log₁₀ of the number of grid points for (5-4) with 100 points per axis and a 10-D z"),
    value=20.0,
    precision=Precision(0),
    answer_name="my_log10",
    mistakes=[
        (
            "additive",
            3.0,
            N_(
                "a grid over 10 dimensions has 100 points per axis in *every* combination: "
                "100¹⁰, not 100 · 10"
            ),
        ),
        (
            "swapped",
            10.0 * 10,
            N_(
                "that is 10¹⁰⁰ = 10-point axes in 100 dimensions; it is 100 points per axis in "
                "10 dimensions: 100¹⁰"
            ),
        ),
    ],
    solution=N_(
        """\
points = 100**10  # every combination of 100 values on each of 10 axes
my_log10 = math.log10(points)  # 100¹⁰ = (10²)¹⁰ = 10²⁰: 20
"""
    ),
    solution_note=N_("Hopeless, which is why 5.2.5 samples instead."),
    hints=(
        N_("A grid takes every combination of the per-axis points."),
        N_("100¹⁰ = (10²)¹⁰."),
    ),
)


predict_exercise(
    id="5.2.4-posterior-mean",
    section=N_("5.2.4 P(X|z;θ) is not deterministic"),
    title=N_("E[z | x = 3] in the same model (x = 2z + 1 + ε, ε ~ N(0, 0.5²))"),
    value=2 * (3 - 1) / 4.25,
    precision=Precision(3),
    answer_name="my_mean",
    mistakes=[
        (
            "invert-decoder",
            1.0,
            N_(
                "(x − 1)/2 inverts a deterministic decoder; with noise the posterior mean is "
                "pulled towards the prior's 0: w(x − b)/(w² + σ²)"
            ),
        ),
        ("no-bias", 1.5, N_("subtract the bias first: x − b = 2")),
        (
            "noise-std",
            2 * (3 - 1) / 4.5,
            N_("use the noise variance σ² = 0.25 in w² + σ², not the standard deviation"),
        ),
    ],
    solution=N_(
        """\
# z ~ N(0, 1), x | z ~ N(w z + b, σ²) with w = 2, b = 1, σ² = 0.25
w, b, noise_variance, x = 2, 1, 0.25, 3
my_mean = w * (x - b) / (w**2 + noise_variance)  # 4 / 4.25 ≈ 0.941
"""
    ),
    solution_note=N_(
        "Inverting the decoder, (x − b)/w = 1, ignores the noise and the prior (ERRATA.md, item 4)."
    ),
    hints=(
        N_(
            "The posterior of a linear-Gaussian model is Gaussian; its mean balances the prior "
            "N(0, 1) against the observation."
        ),
        N_("E[z | x] = w (x − b) / (w² + σ²) with w = 2, b = 1, σ² = 0.25."),
    ),
)

# ---------------------------------------------------------------- 5.2.4-quadrature (implement)


def _log_normal_pdf(z):
    return -0.5 * math.log(2 * math.pi) - 0.5 * z**2


def _quadrature_independent(log_lik, grid):
    """The trapezoid rule in float64, one x at a time, scaled by the largest term."""
    results = []
    dz = float(grid[1] - grid[0])
    for row in log_lik.double().reshape(-1, log_lik.shape[-1]):
        terms = [row[g].item() + _log_normal_pdf(grid[g].item()) for g in range(len(grid))]
        top = max(terms)
        inner = sum(math.exp(t - top) for t in terms) - 0.5 * (
            math.exp(terms[0] - top) + math.exp(terms[-1] - top)
        )
        results.append(top + math.log(inner * dz))
    return torch.tensor(results, dtype=log_lik.dtype).reshape(log_lik.shape[:-1])


def _quadrature_cases():
    g = torch.Generator().manual_seed(524)
    cases = []
    for n, grid in [(3, torch.linspace(-6, 6, 121)), (2, torch.linspace(-3, 3, 7))]:
        x = 2 * torch.randn(n, 1, generator=g)
        cases.append(
            (-0.5 * (x - 1.5 * grid) ** 2 / 0.3**2 - math.log(0.3 * math.sqrt(2 * math.pi)), grid)
        )
    # a coarse grid on which the end points matter (rectangle ≠ trapezoid)
    cases.append((torch.zeros(2, 5) + torch.tensor([[0.0], [-1.0]]), torch.linspace(-1, 1, 5)))
    # 784 "pixels": each log p(x|z) is around −3000 nats, far below exp's range
    grid = torch.linspace(-5, 5, 51)
    cases.append((-3000.0 - 40 * (grid - 0.7) ** 2 + torch.zeros(2, 1), grid))
    return cases


def _quadrature_without(prior=True, weights="trapezoid", log_space=True):
    def fn(log_lik, grid):
        dz = (grid[1] - grid[0]).item()
        terms = log_lik + (_log_normal_pdf(grid) if prior else 0.0)
        if weights == "trapezoid":
            w = torch.full_like(grid, math.log(dz))
            w[0] = w[-1] = math.log(dz / 2)
            terms = terms + w
        elif weights == "rectangle":
            terms = terms + math.log(dz)
        if log_space:
            return torch.logsumexp(terms, dim=-1)
        return terms.exp().sum(-1).log()

    return fn


implement_exercise(
    id="5.2.4-quadrature",
    section=N_("5.2.4 (5-4)"),
    title=N_(
        "log_marginal_1d(log_lik, grid): ln ∫ p(x|z) p(z) dz by the trapezoid rule, in log space"
    ),
    answer_name="log_marginal_1d",
    spec=FunctionSpec(
        cases=_quadrature_cases, expected=_quadrature_independent, rtol=1e-5, atol=1e-4
    ),
    mistakes=(
        Mistake(
            "no-prior",
            lambda ctx: _quadrature_without(prior=False),
            N_("you integrated p(x|z) alone; (5-4) weights it by the prior p(z) = N(0, 1)"),
        ),
        Mistake(
            "no-dz",
            lambda ctx: _quadrature_without(weights=None),
            N_("you summed the terms without the grid spacing Δz: an integral is Σ f(z_g) Δz"),
        ),
        Mistake(
            "not-log-space",
            lambda ctx: _quadrature_without(log_space=False),
            N_(
                "exp(log p) underflows to 0 for realistic images (−3000 nats): stay in log space "
                "with torch.logsumexp"
            ),
            fix=lambda ctx: _quadrature_without(log_space=True),
        ),
        Mistake(
            "rectangle",
            lambda ctx: _quadrature_without(weights="rectangle"),
            N_(
                "that is the rectangle rule; the trapezoid rule gives the two end points half "
                "weight, Δz/2"
            ),
        ),
    ),
    solution=N_(
        """\
def log_marginal_1d(log_lik, grid):
    # log_lik [..., G] = ln p(x|z_g); grid [G] evenly spaced; prior p(z) = N(0, 1)
    dz = (grid[1] - grid[0]).item()
    log_w = torch.full_like(grid, math.log(dz))
    log_w[0] = log_w[-1] = math.log(dz / 2)  # trapezoid: half weight at the ends
    log_prior = -0.5 * math.log(2 * math.pi) - 0.5 * grid**2
    return torch.logsumexp(log_lik + log_prior + log_w, dim=-1)
"""
    ),
    hints=(
        N_(
            "(5-4): p(x) = ∫ p(x|z) p(z) dz ≈ Σ_g w_g p(x|z_g) p(z_g) with trapezoid weights "
            "w_g = Δz (Δz/2 at both ends)."
        ),
        N_(
            "Work with logs: ln Σ_g exp(ln p(x|z_g) + ln p(z_g) + ln w_g) is "
            "torch.logsumexp(..., dim=-1)."
        ),
    ),
)


# ---------------------------------------------------------------- 5.2.4-heldout-nll (experiment)


def _nll(context) -> float:
    with torch.no_grad():
        return -context["model"].log_marginal(context["data"]).mean().item()


def _demo_linear_gaussian() -> dict:
    from companion.prob import LinearGaussian

    true_model = LinearGaussian.random(data_dim=2, latent_dim=1, noise_std=0.3, seed=0)
    data, _ = true_model.sample(50, generator=torch.Generator().manual_seed(0))
    return {
        "model": LinearGaussian.random(data_dim=2, latent_dim=1, noise_std=1.0, seed=1),
        "data": data,
    }


experiment_exercise(
    id="5.2.4-heldout-nll",
    section=N_("5.2.4 (5-5)"),
    title=N_("The trained student's −ln p(x) on 1,000 fresh points from the true model"),
    measure=_nll,
    precision=Precision(3),
    answer_name="my_nll",
    mistakes=[
        (
            "sum",
            lambda ctx: len(ctx["data"]) * _nll(ctx),
            N_("that is the sum over the points; report the mean per point"),
        ),
        (
            "log-likelihood",
            lambda ctx: -_nll(ctx),
            N_("that is ln p(x); the exercise asks for −ln p(x)"),
        ),
    ],
    solution=N_(
        """\
fresh, _ = true_model.sample(1000, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    my_nll = -student.log_marginal(fresh).mean().item()
"""
    ),
    solution_names=lambda ctx: {
        "student": ctx["model"],
        "true_model": _Fixed(ctx["data"]),
    },
    solution_note=N_(
        'Check it with the same objects: check("5.2.4-heldout-nll", my_nll, model=student, '
        "data=fresh)."
    ),
    hints=(
        N_("Draw new points with true_model.sample(1000, generator=...) — the first output is x."),
        N_("student.log_marginal(x) is ln p(x) per point (closed form); average and negate."),
    ),
    needs=("model", "data"),
    demo_context=_demo_linear_gaussian,
)


class _Fixed:
    """Stands in for the notebook's true model in ``verify``: its sample is the demo data."""

    def __init__(self, data):
        self.data = data

    def sample(self, n, generator=None):
        return self.data, None


# ---------------------------------------------------------------- explain

explain_question(
    id="5.2.4-not-deterministic",
    section=N_("5.2.4 P(X|z;θ)"),
    title=N_("Why a deterministic decoder would break maximum likelihood"),
    answer=N_(
        "If p(x|z) put all its probability on one image f(z), then p(x) = ∫ p(x|z) p(z) dz would "
        "be zero for every image that no z maps to exactly — almost every real image — and its "
        "logarithm would be −∞, with no gradient to follow. A decoder that outputs a distribution "
        "(a Gaussian around f(z), or pixel probabilities) gives every image some density, larger "
        "the closer f(z) comes for a likely z. The book's sentence that P(X|z;θ) is deterministic "
        "describes only the mean f(z;θ) (ERRATA.md, item 4)."
    ),
)
