"""Evaluation metrics: exact-match and token accuracy (BLEU arrives with section 5.3.5)."""
from companion.metrics.accuracy import exact_match, token_accuracy

__all__ = ["exact_match", "token_accuracy"]
