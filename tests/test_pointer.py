"""The copy mechanism (复制机制) and coverage (覆盖机制) of companion.models.pointer, each checked
against an independent computation: the attention decoder, a by-hand mixture, brute force, loops."""

import math

import pytest
import torch

import companion
from companion.data import Pair, Seq2SeqData
from companion.data.vocab import decode_extended, extend_with_source, tokenize
from companion.decoding import beam_search, exhaustive_search, greedy_search
from companion.inference import translate
from companion.models import make_seq2seq, seq2seq_loss
from companion.models.pointer import (
    PointerGeneratorDecoder,
    coverage_penalty,
    make_pointer_generator,
    pointer_generator_loss,
)
from companion.train import fit

PAIRS = [
    Pair("hello , my name is anna .", "nice to meet you , anna ."),
    Pair("hello , my name is tom .", "nice to meet you , tom ."),
    Pair("i am flying to lima on monday .", "have a good trip to lima !"),
    Pair("i am flying to rome on friday .", "have a good trip to rome !"),
]


def _data():
    return Seq2SeqData.from_pairs(PAIRS, "en", "en")


def _model(data, **kw):
    companion.setup(seed=0, device="cpu", quiet=True)
    return make_pointer_generator(data.src_vocab, data.tgt_vocab, emb_dim=8, hidden=12, **kw).eval()


def _force_p_gen(model, value: float):
    """Make p_gen a constant: 1 (pure generator) or 0 (pure copy)."""
    with torch.no_grad():
        model.decoder.p_gen.weight.zero_()
        model.decoder.p_gen.bias.fill_(100.0 if value == 1 else -100.0)


def test_extended_ids_from_words_and_from_ids_agree():
    data = _data()
    model = _model(data, n_extra=4)
    V = len(data.tgt_vocab)
    sentence = "i am flying to lima on monday ."
    ids, extra = extend_with_source(tokenize(sentence, "en"), data.tgt_vocab, 4)
    # the target side has "to", "lima" and "."; the other words get slots in order, "monday" none
    assert extra == ["i", "am", "flying", "on"]
    stoi, unk = data.tgt_vocab.stoi, data.tgt_vocab.unk_id
    assert ids == [V, V + 1, V + 2, stoi["to"], stoi["lima"], V + 3, unk, stoi["."]]
    src, _ = data.encode_source([sentence])
    assert model.extend_source(src)[0].tolist() == ids
    assert decode_extended(ids, data.tgt_vocab, extra) == "i am flying to lima on <unk> .".split()
    few_ids, few = extend_with_source(["x1", "x2", "x1", "x3"], data.tgt_vocab, 2)
    assert few == ["x1", "x2"] and few_ids == [V, V + 1, V, data.tgt_vocab.unk_id]


@torch.no_grad()
def test_probabilities_sum_to_one_over_the_extended_vocabulary():
    data = _data()
    model = _model(data)
    b = data.batch(range(len(data)))
    state = model.init_state(b.src, b.src_lengths)
    for t in range(b.tgt_in.shape[1]):
        log_p, state = model.step(b.tgt_in[:, t], state)
        assert log_p.shape == (len(b), len(data.tgt_vocab) + model.decoder.n_extra)
        torch.testing.assert_close(log_p.exp().sum(-1), torch.ones(len(b)), atol=1e-5, rtol=0)


@torch.no_grad()
def test_p_gen_one_is_the_attention_decoder():
    data = _data()
    pointer = _model(data)
    companion.setup(seed=1, device="cpu", quiet=True)
    plain = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), decoder="attention", emb_dim=8, hidden=12
    ).eval()
    plain.encoder.load_state_dict(pointer.encoder.state_dict())
    for name in ("embed", "bridge", "rnn", "out"):
        getattr(plain.decoder, name).load_state_dict(getattr(pointer.decoder, name).state_dict())
    plain.decoder.attention.score.load_state_dict(pointer.decoder.score.state_dict())
    _force_p_gen(pointer, 1)
    b = data.batch(range(len(data)))
    expected = plain(b.src, b.src_lengths, b.tgt_in).log_softmax(-1)
    got = pointer(b.src, b.src_lengths, b.tgt_in)
    V = len(data.tgt_vocab)
    torch.testing.assert_close(got[..., :V], expected, atol=1e-5, rtol=1e-5)
    assert got[..., V:].exp().max() < 1e-30  # nothing is copied
    assert torch.equal(
        pointer.copy_switch(b.src, b.src_lengths, b.tgt_in), torch.ones(b.tgt_in.shape)
    )


@torch.no_grad()
def test_p_gen_zero_copies_the_attention_word_by_word():
    data = _data()
    model = _model(data)
    _force_p_gen(model, 0)
    b = data.batch([2])
    src_ext = model.extend_source(b.src)[0]
    state = model.init_state(b.src, b.src_lengths)
    log_p, _, alpha = model.decoder.step(b.tgt_in[:, 0], state)
    by_hand = torch.zeros(log_p.shape[1])
    for position, word in enumerate(src_ext.tolist()):  # add up the attention per word
        by_hand[word] += alpha[0, position]
    torch.testing.assert_close(log_p[0].exp(), by_hand, atol=1e-6, rtol=1e-5)


@torch.no_grad()
@pytest.mark.parametrize("coverage", [False, True])
def test_teacher_forced_decode_equals_step_by_step(coverage):
    data = _data()
    model = _model(data, coverage=coverage)
    b = data.batch(range(len(data)))
    full = model(b.src, b.src_lengths, b.tgt_in)
    switch = model.copy_switch(b.src, b.src_lengths, b.tgt_in)
    state = model.init_state(b.src, b.src_lengths)
    for t in range(b.tgt_in.shape[1]):
        log_p, state, _, p_gen = model.decoder._step(b.tgt_in[:, t], state)
        torch.testing.assert_close(log_p, full[:, t], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(p_gen, switch[:, t], atol=1e-6, rtol=1e-5)


def test_gradients_reach_the_switch_the_attention_and_the_encoder():
    data = _data()
    model = _model(data, coverage=True).train()
    loss = pointer_generator_loss(model, data.batch(range(len(data))))
    loss["loss"].backward()
    for name in (
        "decoder.p_gen.weight",
        "decoder.score.w_cov.weight",
        "decoder.out.weight",
        "decoder.score.additive.W_h.weight",
        "encoder.embed.weight",
    ):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    assert set(loss) == {"loss", "nll", "coverage"}


def test_coverage_penalty_equals_a_loop():
    g = torch.Generator().manual_seed(0)
    weights = torch.rand(2, 4, 3, generator=g).softmax(-1)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    total, count = 0.0, 0
    for b in range(2):
        for t in range(4):
            if mask[b, t]:
                cov = sum(weights[b, u] for u in range(t)) if t else torch.zeros(3)
                total += sum(min(weights[b, t, i].item(), float(cov[i])) for i in range(3))
                count += 1
    assert coverage_penalty(weights, mask).item() == pytest.approx(total / count, rel=1e-6)
    once = torch.eye(3)[None]  # every position attended exactly once: nothing is repeated
    assert coverage_penalty(once, torch.ones(1, 3, dtype=torch.bool)).item() == 0


@torch.no_grad()
def test_the_searches_run_through_the_step_interface():
    data = _data()
    model = _model(data, n_extra=2)
    b = data.batch([0, 2])
    ids = dict(bos_id=model.bos_id, eos_id=model.eos_id, max_len=2)
    greedy = greedy_search(model.step, model.init_state(b.src, b.src_lengths), **ids)
    width_one = beam_search(model.step, model.init_state(b.src, b.src_lengths), beam_width=1, **ids)
    assert [h[0].tokens for h in greedy] == [h[0].tokens for h in width_one]
    V = model.decoder.extended_size
    brute = exhaustive_search(model.step, model.init_state(b.src, b.src_lengths), **ids)
    wide = beam_search(
        model.step, model.init_state(b.src, b.src_lengths), beam_width=V**2, n_best=5, **ids
    )
    for found, every in zip(wide, brute, strict=True):
        assert [h.tokens for h in found] == [h.tokens for h in every[:5]]
        assert [h.score for h in found] == pytest.approx([h.score for h in every[:5]], abs=1e-4)
        # the whole output space (every sequence of ≤ 2 tokens) has probability one
        assert sum(math.exp(h.score) for h in every) == pytest.approx(1.0, abs=1e-4)


def test_a_word_never_seen_in_training_is_copied():
    data = _data()
    model = _model(data)
    _force_p_gen(model, 0)  # copy only: every output word comes from the source
    out = translate(model, data, ["zyx"], max_len=3)[0]
    assert out == "zyx zyx zyx"  # the only source word, though neither vocabulary has it


def test_the_copy_learns_a_tiny_task_the_plain_decoder_needs_longer_for():
    data = _data()
    model = _model(data).train()
    fit(model, data.batches(4), pointer_generator_loss, epochs=60, lr=1e-2, progress=False)
    assert translate(model, data, [p.src for p in PAIRS]) == [p.tgt for p in PAIRS]
    assert translate(model, data, ["hello , my name is zoe ."]) == ["nice to meet you , zoe ."]
    # the ordinary loss gives the same number on the mixture's log-probabilities
    batch = data.batch(range(len(data)))
    assert seq2seq_loss(model.eval(), batch).item() == pytest.approx(
        pointer_generator_loss(model, batch)["loss"].item(), rel=1e-5
    )


def test_bad_inputs_are_refused():
    data = _data()
    with pytest.raises(TypeError, match="Vocab"):
        make_pointer_generator(len(data.src_vocab), data.tgt_vocab)
    model = _model(data)
    enc = model.encode(*data.encode_source(["hello"]))
    with pytest.raises(ValueError, match="src_ext"):
        model.decoder.init_state(enc)
    with pytest.raises(ValueError, match="src_ext ids"):
        model.decoder.init_state(enc, torch.tensor([[10_000]]))
    with pytest.raises(ValueError, match="n_extra"):
        PointerGeneratorDecoder(10, n_extra=-1)
    with pytest.raises(TypeError, match="list of tokens"):
        extend_with_source("hello", data.tgt_vocab, 2)
    with pytest.raises(ValueError, match="weights"):
        coverage_penalty(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool))
