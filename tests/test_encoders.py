"""Encoders of section 5.3.1: one interface, no padding leaks, (5-19) and bidirectional merging."""

import pytest
import torch

from companion.data import pad_sequences
from companion.models import RNNEncoder, make_encoder
from companion.models.encoders import ENCODERS, CNNEncoder, position_influence, sinusoidal_positions

V, H = 13, 16


def _encoder(kind, **kw):
    torch.manual_seed(0)
    return make_encoder(kind, V, 8, H, **kw).eval()


def _batch():
    return pad_sequences([[4, 5, 6, 7, 8], [9, 10], [11, 12, 4]])


@pytest.mark.parametrize("kind", ENCODERS)
def test_shapes_and_zero_outputs_on_padding(kind):
    src, lengths = _batch()
    out = _encoder(kind)(src, lengths)
    assert out.outputs.shape == (3, 5, H) and out.context.shape == (3, H)
    assert out.mask.tolist()[1] == [True, True, False, False, False]
    assert torch.all(out.outputs[~out.mask] == 0)


@pytest.mark.parametrize("kind", ENCODERS)
def test_padding_never_leaks(kind):
    """Changing the ids at padded positions, or adding more padding, changes nothing real."""
    enc = _encoder(kind)
    src, lengths = _batch()
    ref = enc(src, lengths)
    noisy = torch.cat([src, torch.zeros(3, 4, dtype=torch.long)], 1)  # 4 more padded columns
    mask = torch.arange(9)[None] < lengths[:, None]
    noisy[~mask] = torch.randint(1, V, (int((~mask).sum()),))
    out = enc(noisy, lengths)
    assert torch.allclose(out.outputs[:, :5], ref.outputs, atol=1e-5)
    assert torch.allclose(out.context, ref.context, atol=1e-5)
    # … and a sentence encodes the same alone as inside a padded batch
    alone = enc(src[1:2, :2], lengths[1:2])
    assert torch.allclose(alone.outputs[0], ref.outputs[1, :2], atol=1e-5)
    assert torch.allclose(alone.context[0], ref.context[1], atol=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_context_is_the_last_real_hidden_state(kind):
    """(5-19): z = h_T, with T the length of each sentence (not of the padded batch)."""
    src, lengths = _batch()
    out = _encoder(kind)(src, lengths)
    last = out.outputs[torch.arange(3), lengths - 1]
    assert torch.allclose(out.context, last, atol=1e-6)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bidirectional_context_joins_forward_end_and_backward_start(cell):
    enc = _encoder("bi" + cell)
    src, lengths = _batch()
    out = enc(src, lengths)
    half = H // 2
    idx = torch.arange(3)
    assert torch.allclose(out.context[:, :half], out.outputs[idx, lengths - 1, :half], atol=1e-6)
    assert torch.allclose(out.context[:, half:], out.outputs[:, 0, half:], atol=1e-6)
    # independent check: the backward direction is a forward RNN over the reversed real tokens
    rnn = enc.rnn
    back = type(rnn)(8, half, batch_first=True)
    back.load_state_dict(
        {
            k.replace("_reverse", ""): v
            for k, v in rnn.state_dict().items()
            if k.endswith("_reverse")
        }
    )
    for b in range(3):
        tokens = src[b, : lengths[b]].flip(0)[None]
        h = back(enc.embed(tokens))[1]
        h = h[0] if cell == "lstm" else h
        assert torch.allclose(out.context[b, half:], h[-1, 0], atol=1e-5)


def test_cnn_receptive_field_is_local():
    enc = _encoder("cnn", kernel_size=3, num_layers=2)
    assert enc.receptive_field == 5
    src, lengths = pad_sequences([[4, 5, 6, 7, 8, 9, 10, 11, 12]])
    ref = enc(src, lengths).outputs
    changed = src.clone()
    changed[0, 0] = 12
    diff = (enc(changed, lengths).outputs - ref).abs().amax(-1)[0]
    assert (diff[:3] > 0).all() and (diff[3:] == 0).all()  # reaches receptive_field // 2 = 2 steps


def test_transformer_outputs_see_the_whole_sentence():
    enc = _encoder("transformer")
    src, lengths = pad_sequences([[4, 5, 6, 7, 8, 9, 10, 11, 12]])
    changed = src.clone()
    changed[0, 0] = 12
    diff = (enc(changed, lengths).outputs - enc(src, lengths).outputs).abs().amax(-1)[0]
    assert (diff > 0).all()


def test_sinusoidal_positions_match_the_formula():
    pe = sinusoidal_positions(10, 6)
    pos, i = 7, 2
    assert torch.isclose(pe[pos, 2 * i], torch.sin(torch.tensor(pos / 10000 ** (2 * i / 6))))
    assert torch.isclose(pe[pos, 2 * i + 1], torch.cos(torch.tensor(pos / 10000 ** (2 * i / 6))))


def test_encoders_reject_bad_input():
    enc = _encoder("gru")
    src, lengths = _batch()
    with pytest.raises(ValueError, match="LongTensor"):
        enc(src.float(), lengths)
    with pytest.raises(ValueError, match="lengths"):
        enc(src, lengths[:2])
    with pytest.raises(ValueError, match="lengths must lie"):
        enc(src, torch.tensor([5, 0, 3]))
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("lstmm", V)
    with pytest.raises(ValueError, match="even"):
        RNNEncoder(V, 8, 15, bidirectional=True)
    with pytest.raises(ValueError, match="odd"):
        CNNEncoder(V, 8, 16, kernel_size=4)


def test_position_influence_shows_what_each_output_can_see():
    src = torch.arange(4, 12)
    influence = {k: position_influence(_encoder(k), src)[0] > 1e-7 for k in ("gru", "bigru", "cnn")}
    assert torch.equal(influence["gru"], torch.ones(8, 8, dtype=torch.bool).tril())  # prefix only
    assert influence["bigru"].all()  # everything
    band = (torch.arange(8)[:, None] - torch.arange(8)[None]).abs() <= 3  # 3 layers, k=3
    assert torch.equal(influence["cnn"], band)
    _, on_context = position_influence(_encoder("rnn"), src)
    assert on_context.shape == (8,) and on_context[-1] > on_context[0]
    with pytest.raises(ValueError, match="one unpadded sentence"):
        position_influence(_encoder("gru"), src[None])


def test_transformer_self_attention_weights_are_a_distribution_over_real_tokens():
    enc = _encoder("transformer")
    src, lengths = _batch()
    w = enc.self_attention_weights(src, lengths, layer=1)
    assert w.shape == (3, 5, 5) and torch.allclose(w.sum(-1), torch.ones(3, 5), atol=1e-6)
    assert torch.all(w[1, :, 2:] == 0)
    with pytest.raises(ValueError, match="layer"):
        enc.self_attention_weights(src, lengths, layer=2)


@pytest.mark.parametrize("summary", ["sum", "mean"])
def test_sum_and_mean_summaries_use_real_steps_only(summary):
    enc = _encoder("gru", summary=summary)
    src, lengths = _batch()
    out = enc(src, lengths)
    total = torch.stack([out.outputs[b, : lengths[b]].sum(0) for b in range(3)])
    expected = total if summary == "sum" else total / lengths[:, None]
    assert torch.allclose(out.context, expected, atol=1e-6)
    with pytest.raises(ValueError, match="unknown summary"):
        _encoder("gru", summary="max")
