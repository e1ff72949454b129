"""Probability for the VAE chapter (5.2): Gaussian KL divergences, the ELBO, likelihood estimators."""
