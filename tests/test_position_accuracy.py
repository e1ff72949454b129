"""Accuracy by output position (exposure bias, 5.3.4)."""

import pytest
import torch

from companion.data import Seq2SeqData, generate_pairs
from companion.metrics import position_accuracy, teacher_forced_predictions
from companion.models import make_seq2seq


def test_position_accuracy_counts_each_position_over_long_enough_references():
    preds = [[1, 2, 3], [1, 9], [4]]
    refs = [[1, 2, 3, 2], [1, 2], [4, 5, 6]]
    acc, counts = position_accuracy(preds, refs)
    assert counts == [3, 3, 2, 1]
    assert acc == pytest.approx([1.0, 1 / 3, 0.5, 0.0])
    acc2, counts2 = position_accuracy(preds, refs, max_positions=2)
    assert acc2 == acc[:2] and counts2 == [3, 3]
    with pytest.raises(ValueError, match="2 predictions"):
        position_accuracy(preds[:2], refs)
    with pytest.raises(ValueError, match="no tokens"):
        position_accuracy([[]], [[]])


def test_teacher_forced_predictions_follow_the_model_argmax():
    torch.manual_seed(0)
    data = Seq2SeqData.from_pairs(generate_pairs("dates", 11, seed=0), "en", "zh")
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="gru",
        decoder="context",
        emb_dim=8,
        hidden=16,
    )
    preds = teacher_forced_predictions(model, data, batch_size=4)
    assert [len(p) for p in preds] == [len(t) + 1 for t in data.tgt_ids]
    batch = data.batch([3])
    with torch.no_grad():
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    assert preds[3] == logits.argmax(-1)[0].tolist()
    assert model.training  # the mode is restored
