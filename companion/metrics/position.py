"""Accuracy by output position: how errors grow
along a generated sequence (exposure bias, 5.3.4).
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.model_utils import predict_batches
from companion.validation import check_int, describe


def position_accuracy(
    predictions: Sequence[Sequence[int]],
    references: Sequence[Sequence[int]],
    max_positions: int | None = None,
) -> tuple[list[float], list[int]]:
    """Fraction of references whose token at position t the prediction reproduces, per t.

    Position t counts every reference with more than t tokens; a prediction shorter than t + 1
    tokens is wrong there. Positions are compared as they stand, so one inserted or dropped token
    makes the rest of the sequence wrong — which is how an early mistake derails free-running
    decoding. Returns ``(accuracy per position, number of references per position)``.
    """
    for name, rows in (("predictions", predictions), ("references", references)):
        if isinstance(rows, str) or not isinstance(rows, Sequence):
            raise TypeError(f"{name} must be a list of token-id lists, got {describe(rows)}")
        for i, row in enumerate(rows):
            if isinstance(row, str) or not isinstance(row, Sequence):
                raise TypeError(f"{name}[{i}] must be a list of token ids, got {describe(row)}")
    if max_positions is not None:
        check_int(max_positions, "max_positions", min=1)
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
    if not references or max(len(r) for r in references) == 0:
        raise ValueError("the references contain no tokens")
    longest = max(len(r) for r in references)
    width = longest if max_positions is None else min(longest, max_positions)
    right, total = [0] * width, [0] * width
    for pred, ref in zip(predictions, references, strict=True):
        for t in range(min(len(ref), width)):
            total[t] += 1
            right[t] += t < len(pred) and pred[t] == ref[t]
    return [r / n for r, n in zip(right, total, strict=True)], total


def teacher_forced_predictions(model, data, *, batch_size: int = 256) -> list[list[int]]:
    """The model's most likely token at every target position *given the true prefix*.

    One list per example of ``data`` (a :class:`~companion.data.Seq2SeqData`), as long as its
    target plus ``<eos>`` — what the decoder predicts under teacher forcing (Teacher Forcing).
    """

    def predict(model, batch) -> list[list[int]]:
        best = model(batch.src, batch.src_lengths, batch.tgt_in).argmax(-1)
        return [
            row[:n] for row, n in zip(best.tolist(), batch.tgt_mask.sum(1).tolist(), strict=True)
        ]

    return predict_batches(model, data, predict, batch_size=batch_size)
