"""Exercises of notebook 5.2.4, latent-variable models (隐变量模型), (5-4)–(5-6)."""

from __future__ import annotations

import math

import torch

from companion.exercises.core import (
    Mistake,
    experiment_exercise,
    implement_exercise,
    predict_exercise,
)

predict_exercise(
    id="5.2.4-marginal-variance",
    section="5.2.4 (5-4)",
    title="Var(x) for z ~ N(0, 1), x = 2z + 1 + ε with ε ~ N(0, 0.5²)",
    value=4.25,
    rtol=2e-3,
    mistakes=[
        (
            "noise-std",
            4.5,
            "you added the noise's standard deviation 0.5; variances add, so add 0.5² = 0.25",
        ),
        (
            "no-noise",
            4.0,
            "you forgot the noise ε: p(x|z) is not deterministic, its variance adds to that of 2z",
        ),
        ("weight-not-squared", 2.25, "Var(2z) = 2² · Var(z) = 4, not 2"),
        ("bias", 5.25, "the offset 1 shifts x but does not change its variance"),
    ],
    solution_text="""
Var(x) = Var(2z) + Var(ε) = 4 · 1 + 0.25 = 4.25 (z \
and ε independent; the bias 1 only moves the mean).
In matrix form this is the marginal covariance W Wᵀ + σ² I printed in the notebook.""",
    hints=(
        "z and ε are independent, so their variances add.",
        "Var(a z) = a² Var(z); a constant shift changes nothing.",
    ),
)

predict_exercise(
    id="5.2.4-grid-size",
    section="5.2.4 (5-4) by quadrature",
    title="log₁₀ of the number of grid points for (5-4) with 100 points per axis and a 10-D z",
    value=20.0,
    rtol=0,
    atol=0.01,
    mistakes=[
        (
            "additive",
            3.0,
            "a grid over 10 dimensions has 100 points per axis in *every* "
            "combination: 100¹⁰, not 100 · 10",
        ),
        (
            "swapped",
            10.0 * 10,
            "that is 10¹⁰⁰ = 10-point axes in 100 dimensions; it is "
            "100 points per axis in 10 dimensions: 100¹⁰",
        ),
    ],
    solution_text="""
100 points per axis in 10 dimensions: 100¹⁰ = 10²⁰ \
points — hopeless, which is why 5.2.5 samples.""",
    hints=("A grid takes every combination of the per-axis points.", "100¹⁰ = (10²)¹⁰."),
)


predict_exercise(
    id="5.2.4-posterior-mean",
    section="5.2.4 P(X|z;θ) is not deterministic",
    title="E[z | x = 3] in the same model (x = 2z + 1 + ε, ε ~ N(0, 0.5²))",
    value=2 * (3 - 1) / 4.25,
    rtol=5e-3,
    mistakes=[
        (
            "invert-decoder",
            1.0,
            "(x − 1)/2 inverts a deterministic decoder; with noise the "
            "posterior mean is pulled towards the prior's 0: "
            "w(x − b)/(w² + σ²)",
        ),
        ("no-bias", 1.5, "subtract the bias first: x − b = 2"),
        (
            "noise-std",
            2 * (3 - 1) / 4.5,
            "use the noise variance σ² = 0.25 in w² + σ², not the standard deviation",
        ),
    ],
    solution_text="""
For z ~ N(0, 1), x | z ~ N(wz + b, σ²): E[z | x] = \
w (x − b) / (w² + σ²) = 2 · 2 / (4 + 0.25) ≈ 0.941.
Inverting the decoder, (x − b)/w = 1, ignores the noise and the prior.""",
    hints=(
        "The posterior of a linear-Gaussian model is Gaussian; its mean balances the prior N(0, 1) "
        "against the observation.",
        "E[z | x] = w (x − b) / (w² + σ²) with w = 2, b = 1, σ² = 0.25.",
    ),
)

# ---------------------------------------------------------------- 5.2.4-quadrature (implement)


def _log_normal_pdf(z):
    return -0.5 * math.log(2 * math.pi) - 0.5 * z**2


def _quadrature_reference(log_lik, grid):
    from companion.prob import log_trapezoid_weights

    return torch.logsumexp(log_lik + _log_normal_pdf(grid) + log_trapezoid_weights(grid), dim=-1)


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


QUADRATURE_MISTAKES = (
    Mistake(
        "no-prior",
        lambda ctx: _quadrature_without(prior=False),
        "you integrated p(x|z) alone; (5-4) weights it by the prior p(z) = N(0, 1)",
    ),
    Mistake(
        "no-dz",
        lambda ctx: _quadrature_without(weights=None),
        "you summed the terms without the grid spacing Δz: an integral is Σ f(z_g) Δz",
    ),
    Mistake(
        "not-log-space",
        lambda ctx: _quadrature_without(log_space=False),
        "exp(log p) underflows to 0 for realistic images (−3000 nats): stay in log space "
        "with torch.logsumexp",
    ),
    Mistake(
        "rectangle",
        lambda ctx: _quadrature_without(weights="rectangle"),
        "that is the rectangle rule; the trapezoid rule gives the two end points half weight, Δz/2",
    ),
)

implement_exercise(
    id="5.2.4-quadrature",
    section="5.2.4 (5-4)",
    title="log_marginal_1d(log_lik, grid): ln ∫ p(x|z) p(z) dz by the trapezoid rule, in log space",
    expected=_quadrature_reference,
    cases=_quadrature_cases,
    solution=_quadrature_reference,
    mistakes=QUADRATURE_MISTAKES,
    rtol=1e-5,
    atol=1e-4,
    solution_text="""
def log_marginal_1d(log_lik, grid):
    # log_lik [..., G] = ln p(x|z_g); grid [G] evenly spaced; prior p(z) = N(0, 1)
    dz = grid[1] - grid[0]
    log_w = torch.full_like(grid, math.log(dz))
    log_w[0] = log_w[-1] = math.log(dz / 2)                  # trapezoid: half weight at the ends
    log_prior = -0.5 * math.log(2 * math.pi) - 0.5 * grid ** 2
    return torch.logsumexp(log_lik + log_prior + log_w, dim=-1)""",
    hints=(
        "(5-4): p(x) = ∫ p(x|z) p(z) dz ≈ Σ_g w_g p(x|z_g) p(z_g) with trapezoid weights "
        "w_g = Δz (Δz/2 at both ends).",
        "Work with logs: ln Σ_g exp(ln p(x|z_g) + ln p(z_g) + ln w_g) is torch.logsumexp(..., "
        "dim=-1).",
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
    section="5.2.4 (5-5)",
    title="The trained student's −ln p(x) on 1,000 fresh points from the true model",
    measure=_nll,
    rtol=1e-3,
    atol=1e-4,
    mistakes=[
        (
            "sum",
            lambda ctx: len(ctx["data"]) * _nll(ctx),
            "that is the sum over the points; report the mean per point",
        ),
        (
            "log-likelihood",
            lambda ctx: -_nll(ctx),
            "that is ln p(x); the exercise asks for −ln p(x)",
        ),
    ],
    solution_text="""
fresh, _ = true_model.sample(1000, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    my_nll = -student.log_marginal(fresh).mean().item()
check("5.2.4-heldout-nll", my_nll, model=student, data=fresh)""",
    hints=(
        "Draw new points with true_model.sample(1000, generator=...) — the first output is x.",
        "student.log_marginal(x) is ln p(x) per point (closed form); average and negate.",
    ),
    needs=("model", "data"),
    demo_context=_demo_linear_gaussian,
)
