"""Evaluation metrics: exact-match and token accuracy, subspace comparison, BLEU (section 5.3.5)
and accuracy by output position (exposure bias, 5.3.4)."""

from companion.metrics.accuracy import exact_match, token_accuracy
from companion.metrics.bleu import (
    BLEUResult,
    bleu_from_counts,
    brevity_penalty,
    closest_ref_length,
    corpus_bleu,
    modified_precision,
    ngram_counts,
    ngrams,
    sentence_bleu,
    tokenize_for_bleu,
)
from companion.metrics.latent import bell_coverage, empty_tile_fraction
from companion.metrics.position import position_accuracy, teacher_forced_predictions
from companion.metrics.subspace import pca_by_svd, principal_angles

__all__ = [
    "exact_match",
    "token_accuracy",
    "pca_by_svd",
    "principal_angles",
    "BLEUResult",
    "bleu_from_counts",
    "brevity_penalty",
    "closest_ref_length",
    "corpus_bleu",
    "modified_precision",
    "ngram_counts",
    "ngrams",
    "sentence_bleu",
    "tokenize_for_bleu",
    "position_accuracy",
    "teacher_forced_predictions",
    "bell_coverage",
    "empty_tile_fraction",
]
