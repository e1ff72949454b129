"""Evaluation metrics: exact-match and token accuracy, BLEU (section 5.3.5) and
accuracy by output position (exposure bias, 5.3.4)."""
from companion.metrics.accuracy import exact_match, token_accuracy
from companion.metrics.bleu import (BLEUResult, bleu_from_counts, brevity_penalty,
                                    closest_ref_length, corpus_bleu, modified_precision,
                                    ngram_counts, ngrams, sentence_bleu, tokenize_for_bleu)
from companion.metrics.position import position_accuracy, teacher_forced_predictions

__all__ = ["exact_match", "token_accuracy",
           "BLEUResult", "bleu_from_counts", "brevity_penalty", "closest_ref_length",
           "corpus_bleu", "modified_precision", "ngram_counts", "ngrams", "sentence_bleu",
           "tokenize_for_bleu", "position_accuracy", "teacher_forced_predictions"]
