"""Every encoder × decoder combination: step interface, teacher forcing, masking, overfitting."""

import itertools

import pytest
import torch

import companion
from companion.data import Seq2SeqData, generate_pairs
from companion.inference import greedy_with_attention, translate
from companion.metrics import exact_match
from companion.models import EncoderDecoder, SequenceDecoder, make_seq2seq, seq2seq_loss
from companion.models.decoders import DECODERS
from companion.models.encoders import ENCODERS
from companion.train import train_seq2seq

COMBOS = list(itertools.product(ENCODERS, DECODERS))
IDS = [f"{e}-{d}" for e, d in COMBOS]


def _data(n=6):
    return Seq2SeqData.from_pairs(generate_pairs("numbers", n, seed=1, max_value=999), "en", "zh")


def _model(data, encoder, decoder, hidden=32, **kw) -> EncoderDecoder:
    companion.setup(seed=0, device="cpu", quiet=True)
    return make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder=encoder,
        decoder=decoder,
        emb_dim=16,
        hidden=hidden,
        **kw,
    ).eval()


@pytest.mark.parametrize("encoder, decoder", COMBOS, ids=IDS)
def test_step_by_step_decoding_reproduces_teacher_forced_logits(encoder, decoder):
    data = _data()
    model = _model(data, encoder, decoder)
    b = data.batch(range(len(data)))
    full = model(b.src, b.src_lengths, b.tgt_in).log_softmax(-1)
    state = model.init_state(b.src, b.src_lengths)
    for t in range(b.tgt_in.shape[1]):
        assert all(x.shape[0] == len(b) for x in state)  # the state's first axis is the batch
        log_probs, state = model.step(b.tgt_in[:, t], state)
        assert torch.allclose(log_probs, full[:, t], atol=1e-5), f"step {t}"


@pytest.mark.parametrize("decoder", DECODERS)
def test_state_can_be_reordered_like_a_beam_search_does(decoder):
    data = _data()
    model = _model(data, "bigru", decoder)
    b = data.batch(range(len(data)))
    state = model.init_state(b.src, b.src_lengths)
    order = torch.tensor([3, 3, 0, 5])
    picked = tuple(x.index_select(0, order) for x in state)
    lp, _ = model.step(b.tgt_in[order, 0], picked)
    ref, _ = model.step(b.tgt_in[:, 0], state)
    assert torch.allclose(lp, ref[order], atol=1e-6)


@pytest.mark.parametrize("decoder", DECODERS)
def test_source_padding_does_not_change_the_translation_logits(decoder):
    data = _data()
    model = _model(data, "gru", decoder)
    b = data.batch(range(len(data)))
    ref = model(b.src, b.src_lengths, b.tgt_in)
    padded = torch.cat([b.src, torch.full((len(b), 3), 7)], 1)  # junk after every sentence …
    padded[~torch.cat([b.src_mask, torch.zeros(len(b), 3, dtype=torch.bool)], 1)] = 7
    assert torch.allclose(model(padded, b.src_lengths, b.tgt_in), ref, atol=1e-5)  # … is unseen


def test_teacher_forcing_ratio_zero_feeds_back_the_models_own_predictions():
    data = _data()
    model = _model(data, "gru", "attention")
    b = data.batch(range(len(data)))
    logits = model(b.src, b.src_lengths, b.tgt_in, teacher_forcing=0.0)
    greedy, _ = greedy_with_attention(model, b.src, b.src_lengths, max_len=b.tgt_in.shape[1])
    free = logits.argmax(-1)[:, : greedy.shape[1]]
    before_eos = torch.cumsum(greedy == model.eos_id, 1) - (greedy == model.eos_id).long() == 0
    assert torch.equal(free[before_eos], greedy[before_eos])
    # the base class's step-by-step decode equals the attention decoder's all-at-once decode
    state = model.init_state(b.src, b.src_lengths)
    looped, looped_w = SequenceDecoder.decode(model.decoder, b.tgt_in, state)
    fast, fast_w = model.decoder.decode(b.tgt_in, state)
    assert torch.allclose(looped, fast, atol=1e-5) and torch.allclose(looped_w, fast_w, atol=1e-6)


def test_attention_weights_sum_to_one_over_real_source_positions():
    data = _data()
    model = _model(data, "lstm", "attention", score="additive")
    b = data.batch(range(len(data)))
    w = model.attention_weights(b.src, b.src_lengths, b.tgt_in)
    assert w.shape == (len(b), b.tgt_in.shape[1], b.src.shape[1])
    assert torch.allclose(w.sum(-1), torch.ones(w.shape[:2]), atol=1e-6)
    assert torch.all(w.masked_select(~b.src_mask[:, None, :]) == 0)
    with pytest.raises(ValueError, match="no attention"):
        _model(data, "gru", "context").attention_weights(b.src, b.src_lengths, b.tgt_in)


@pytest.mark.parametrize("encoder, decoder", COMBOS, ids=IDS)
def test_every_combination_overfits_a_tiny_batch(encoder, decoder):
    data = _data(6)
    model = _model(data, encoder, decoder, hidden=48).train()
    hist = train_seq2seq(model, data.batches(6), epochs=120, lr=1e-2, progress=False)
    assert hist.epochs[-1]["loss"] < 0.05 < hist.epochs[0]["loss"]
    preds = translate(model, data, [p.src for p in data.pairs])
    assert exact_match(preds, [p.tgt for p in data.pairs]) == 1.0


def test_train_seq2seq_with_partial_teacher_forcing_learns_and_validates():
    data = _data(6)
    model = _model(data, "gru", "attention", hidden=48).train()
    hist = train_seq2seq(
        model,
        data.batches(6),
        epochs=150,
        lr=1e-2,
        teacher_forcing=0.5,
        valid_data=data.batches(6),
        progress=False,
    )
    assert hist.last["valid_loss"] < 0.1 < hist.epochs[0]["loss"]
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="teacher_forcing"):
            train_seq2seq(model, data.batches(6), epochs=1, teacher_forcing=bad)
        with pytest.raises(ValueError, match="teacher_forcing"):
            b = data.batch([0])
            model(b.src, b.src_lengths, b.tgt_in, teacher_forcing=bad)


def test_validation_loss_is_always_teacher_forced():
    data = _data()
    model = _model(data, "gru", "context")
    b = data.batch(range(len(data)))
    assert torch.equal(seq2seq_loss(model, b, teacher_forcing=0.0), seq2seq_loss(model, b))


def test_factory_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown encoder"):
        make_seq2seq(10, 10, encoder="gpt")
    with pytest.raises(ValueError, match="unknown decoder"):
        make_seq2seq(10, 10, decoder="pointer")
    with pytest.raises(ValueError, match="must be an integer ≥ 1"):
        make_seq2seq(0, 10)
