"""Probability for the VAE chapter (5.2): Gaussian KL divergences, the ELBO, likelihood estimators."""
from companion.prob.gaussian import (bernoulli_log_prob, book_kl_5_14, book_loss_5_13, elbo,
                                     gaussian_log_prob, kl_gaussians, kl_to_standard_normal,
                                     reparameterize)

__all__ = ["bernoulli_log_prob", "book_kl_5_14", "book_loss_5_13", "elbo", "gaussian_log_prob",
           "kl_gaussians", "kl_to_standard_normal", "reparameterize"]
