"""companion.model_utils: eval mode, device, parameter count, batched prediction."""

import pytest
import torch
from torch import nn

from companion.data import Seq2SeqData, generate_pairs
from companion.model_utils import (
    count_parameters,
    eval_mode,
    model_device,
    predict_batches,
    to_device,
)


def test_eval_mode_restores_the_previous_mode_even_after_an_error():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with eval_mode(net):
        assert not net.training and not net[1].training
    assert net.training and net[1].training
    net.eval()
    with eval_mode(net):
        pass
    assert not net.training
    net.train()
    with pytest.raises(RuntimeError, match="boom"), eval_mode(net):
        raise RuntimeError("boom")
    assert net.training


def test_model_device_and_parameter_count():
    net = nn.Linear(3, 4)  # 3·4 weights + 4 biases
    assert count_parameters(net) == 16
    net.bias.requires_grad_(False)
    assert count_parameters(net) == 12  # frozen parameters are not trained
    assert model_device(net) == torch.device("cpu")
    assert model_device(net.to("meta")) == torch.device("meta")
    assert model_device(nn.ReLU()) == torch.device("cpu")  # no parameters at all


def test_to_device_moves_nested_tensors():
    meta = to_device({"a": (torch.zeros(1), [torch.ones(2)]), "b": "text"}, "meta")
    assert meta["a"][0].device.type == "meta" and meta["a"][1][0].device.type == "meta"
    assert meta["b"] == "text" and isinstance(meta["a"], tuple)


def test_predict_batches_keeps_the_order_and_restores_the_mode():
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 11, seed=0), "en", "zh")
    net = nn.Dropout(0.5).train()
    seen = []

    def first_token(model, batch):
        seen.append(model.training)
        return batch.src[:, 0].tolist()

    out = predict_batches(net, data, first_token, batch_size=4)
    assert out == [ids[0] for ids in data.src_ids]
    assert seen == [False, False, False] and net.training
    for bad, error in ((0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="batch_size must be an integer ≥ 1"):
            predict_batches(net, data, first_token, batch_size=bad)


def test_predict_batches_runs_the_model_where_it_is_and_brings_the_batches_there():
    """A model on the meta device (no memory, no GPU needed) stands for one on a GPU: every batch
    must reach it there, and the model must not be moved (to the CPU or elsewhere)."""
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 5, seed=0), "en", "zh")
    net = nn.Linear(2, 2, device="meta")
    devices = []

    def where(model, batch):
        devices.append({batch.src.device.type, batch.tgt_in.device.type, model.weight.device.type})
        return [None] * len(batch)

    assert len(predict_batches(net, data, where, batch_size=2)) == 5
    assert devices == [{"meta"}] * 3
    assert net.weight.device.type == "meta"
    with pytest.raises(TypeError, match="device"):  # no device= that would move the batches only
        predict_batches(net, data, where, device="cpu")
