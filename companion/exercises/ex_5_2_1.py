"""Exercises of notebook 5.2.1, VAE in brief (VAE模型简明指导): the reparameterisation trick, Fig. 5-5."""
from __future__ import annotations

import torch

from companion.exercises.core import (CheckFailed, Exercise, Mistake, as_tensor, check_function,
                                      register)


# ---------------------------------------------------------------- 5.2.1-reparameterize (implement)

def _reparameterize_reference(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


def _reparameterize_cases():
    g = torch.Generator().manual_seed(521)
    shapes = [(4, 2), (3, 2, 5), (7,)]
    cases = [(torch.randn(s, generator=g), torch.randn(s, generator=g), torch.randn(s, generator=g))
             for s in shapes]
    # extreme log-variances: almost no noise, and a great deal of it
    cases.append((torch.tensor([[1.0, -2.0]]), torch.tensor([[-20.0, 8.0]]),
                  torch.tensor([[0.7, -1.3]])))
    return cases


REPARAMETERIZE_MISTAKES = (
    Mistake("variance-weight", lambda ctx: lambda mu, lv, eps: mu + lv.exp() * eps,
            "your noise weight is e^σ, the variance; it must be the standard deviation e^{σ/2} "
            "(σ is the log-variance log σ²)"),
    Mistake("logvar-weight", lambda ctx: lambda mu, lv, eps: mu + lv * eps,
            "you multiplied the noise by σ (the log-variance) itself; the weight is e^{σ/2}"),
    Mistake("no-noise", lambda ctx: lambda mu, lv, eps: mu.clone(),
            "your z ignores eps: without noise the VAE is a plain autoencoder; z = μ + e^{σ/2}·ε"),
    Mistake("no-mean", lambda ctx: lambda mu, lv, eps: (0.5 * lv).exp() * eps,
            "your z is missing the mean μ: z = μ + e^{σ/2}·ε"),
    Mistake("own-noise",
            lambda ctx: lambda mu, lv, eps: mu + (0.5 * lv).exp() * torch.randn_like(mu),
            "your function draws its own noise: use the eps you are given — the trick is that the "
            "randomness comes in from outside, so z is a plain function of μ and σ"),
    Mistake("detached",
            lambda ctx: lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach(),
            "the values are right but no gradient reaches mu and logvar (did you .detach() or use "
            "torch.no_grad()?); the point of the trick is that z stays differentiable"),
)


def _check_reparameterize(answer, context) -> str:
    mu, logvar, eps = _reparameterize_cases()[0]
    first, second = as_tensor(answer(mu, logvar, eps)), as_tensor(answer(mu, logvar, eps))
    if first.shape == second.shape and not torch.equal(first, second):
        raise CheckFailed(REPARAMETERIZE_MISTAKES[4].message)
    note = check_function(answer, _reparameterize_reference, _reparameterize_cases(), context,
                          REPARAMETERIZE_MISTAKES)
    mu, logvar = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = as_tensor(answer(mu, logvar, eps))
    if not z.requires_grad:
        raise CheckFailed(REPARAMETERIZE_MISTAKES[5].message)
    z.sum().backward()
    expected_grad = (0.5 * logvar.detach()).exp() * eps * 0.5
    if mu.grad is None or logvar.grad is None or not torch.allclose(logvar.grad, expected_grad,
                                                                    atol=1e-5):
        raise CheckFailed(REPARAMETERIZE_MISTAKES[5].message)
    return note + " Gradients reach μ and σ."


register(Exercise(
    id="5.2.1-reparameterize", section="5.2.1 Fig. 5-5", kind="implement",
    title="reparameterize(mu, logvar, eps): z = μ + e^{σ/2}·ε",
    checker=_check_reparameterize, reference=lambda ctx: _reparameterize_reference,
    solution_text='''
def reparameterize(mu, logvar, eps):
    # logvar is σ = log σ², so the standard deviation is exp(σ / 2)
    return mu + torch.exp(0.5 * logvar) * eps

companion.prob.reparameterize draws eps itself (with a generator) and checks its inputs.''',
    hints=("z must be a sample of N(μ, σ²) built from a standard-normal ε that is given to you.",
           "Scale ε by the standard deviation. logvar is log σ², so the standard deviation is not "
           "exp(logvar).",
           "mu + torch.exp(0.5 * logvar) * eps"),
    mistakes=REPARAMETERIZE_MISTAKES,
))
