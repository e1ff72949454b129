"""Probability for the VAE chapter (5.2): Gaussian
KL divergences, the ELBO, likelihood estimators.
"""

from companion.prob.estimators import (
    LatentModelPieces,
    effective_sample_size,
    fisher_identity_surrogate,
    importance_weighted_bound,
    log_importance_weights,
    log_marginal_importance_sampling,
    log_marginal_prior_sampling,
    log_marginal_quadrature,
    log_mean_exp,
    log_trapezoid_weights,
    vae_latent_model,
)
from companion.prob.gaussian import (
    bernoulli_log_prob,
    book_kl_5_14,
    elbo,
    fig_5_5_loss,
    gaussian_log_prob,
    kl_gaussians,
    kl_to_standard_normal,
    reparameterize,
    standardised_square,
)
from companion.prob.linear_gaussian import LinearGaussian, gaussian_moments
from companion.prob.mixture import DigitWriter, fit_digit_writer
from companion.prob.mle import MLEFit, fit_mle, negative_log_likelihood

__all__ = [
    # Gaussians, KL and the ELBO (5.2.1, 5.2.6)
    "bernoulli_log_prob",
    "book_kl_5_14",
    "elbo",
    "fig_5_5_loss",
    "gaussian_log_prob",
    "kl_gaussians",
    "kl_to_standard_normal",
    "reparameterize",
    "standardised_square",
    # maximum likelihood, mixtures and latent-variable models (5.2.3, 5.2.4)
    "MLEFit",
    "fit_mle",
    "negative_log_likelihood",
    "DigitWriter",
    "fit_digit_writer",
    "LinearGaussian",
    "gaussian_moments",
    # estimating log p(x): quadrature, Monte Carlo, importance sampling (5.2.4–5.2.6)
    "effective_sample_size",
    "fisher_identity_surrogate",
    "importance_weighted_bound",
    "log_importance_weights",
    "log_marginal_importance_sampling",
    "log_marginal_prior_sampling",
    "log_marginal_quadrature",
    "log_mean_exp",
    "log_trapezoid_weights",
    "LatentModelPieces",
    "vae_latent_model",
]
