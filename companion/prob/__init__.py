"""Probability for the VAE chapter (5.2): Gaussian KL divergences, the ELBO, likelihood estimators."""
from companion.prob.gaussian import (bernoulli_log_prob, book_kl_5_14, elbo, fig_5_5_loss,
                                     gaussian_log_prob, kl_gaussians, kl_to_standard_normal,
                                     reparameterize)

__all__ = ["bernoulli_log_prob", "book_kl_5_14", "elbo", "fig_5_5_loss", "gaussian_log_prob",
           "kl_gaussians", "kl_to_standard_normal", "reparameterize"]

from companion.prob.estimators import (  # noqa: E402  (issue 4: 5.2.4–5.2.6 estimators)
    effective_sample_size, fisher_identity_surrogate, importance_weighted_bound,
    log_importance_weights, log_marginal_importance_sampling, log_marginal_prior_sampling,
    log_marginal_quadrature, log_mean_exp, log_trapezoid_weights, LatentModelPieces,
    vae_latent_model,
)
from companion.prob.linear_gaussian import LinearGaussian, gaussian_moments  # noqa: E402
from companion.prob.mle import MLEFit, fit_mle, negative_log_likelihood  # noqa: E402

__all__ += ["effective_sample_size", "fisher_identity_surrogate", "importance_weighted_bound",
            "log_importance_weights", "log_marginal_importance_sampling",
            "log_marginal_prior_sampling", "log_marginal_quadrature", "log_mean_exp",
            "log_trapezoid_weights", "LatentModelPieces", "vae_latent_model", "LinearGaussian",
            "gaussian_moments", "MLEFit", "fit_mle", "negative_log_likelihood"]

from companion.prob.mixture import DigitWriter, fit_digit_writer  # noqa: E402

__all__ += ["DigitWriter", "fit_digit_writer"]
