"""Simple accuracies for generated sequences."""

from __future__ import annotations

from collections.abc import Sequence

from companion.validation import check_str_sequence, describe


def _check_lists(predictions: Sequence, references: Sequence) -> None:
    for name, value in (("predictions", predictions), ("references", references)):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a list (one entry per example), got {describe(value)}")
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
    if len(predictions) == 0:
        raise ValueError("cannot score an empty list of predictions")


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of predictions identical to their reference (whitespace at the ends ignored)."""
    _check_lists(predictions, references)
    check_str_sequence(predictions, "predictions")
    check_str_sequence(references, "references")
    return sum(p.strip() == r.strip() for p, r in zip(predictions, references, strict=True)) / len(
        predictions
    )


def token_accuracy(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> float:
    """Fraction of reference positions where the prediction has the same token.

    Positions beyond the end of a short prediction count as wrong.
    """
    _check_lists(predictions, references)
    for name, rows in (("predictions", predictions), ("references", references)):
        for i, row in enumerate(rows):
            if isinstance(row, str) or not isinstance(row, Sequence):
                raise TypeError(f"{name}[{i}] must be a list of tokens, got {describe(row)}")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references contain no tokens")
    right = sum(
        sum(a == b for a, b in zip(p, r, strict=False))
        for p, r in zip(predictions, references, strict=True)
    )
    return right / total
