"""Evaluation metrics: exact-match and token accuracy (BLEU arrives with section 5.3.5)."""
from companion.metrics.accuracy import exact_match, token_accuracy
from companion.metrics.subspace import pca_by_svd, principal_angles

__all__ = ["exact_match", "token_accuracy", "pca_by_svd", "principal_angles"]
