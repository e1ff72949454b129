"""companion.inference against a hand-written argmax loop over the decoder's steps."""

import pytest
import torch

from companion.data import Seq2SeqData, detokenize, generate_pairs
from companion.decoding import beam_search
from companion.inference import (
    decode_data,
    decode_sentences,
    greedy_with_attention,
    nbest,
    translate,
)
from companion.models import make_seq2seq


def reference_greedy(model, src, lengths, max_len):
    """One example at a time: feed back the argmax until <eos>; tokens and attention per step."""
    out = []
    for i in range(src.shape[0]):
        state = model.init_state(src[i : i + 1, : int(lengths[i])], lengths[i : i + 1])
        token, tokens, weights = torch.tensor([model.bos_id]), [], []
        for _ in range(max_len):
            logits, state, w = model.decoder.step(token, state)
            token = logits.argmax(-1)
            tokens.append(int(token))
            weights.append(None if w is None else w[0])
            if tokens[-1] == model.eos_id:
                break
        out.append((tokens, weights))
    return out


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(1)
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 23, seed=2), "en", "zh")
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="gru",
        decoder="attention",
        emb_dim=8,
        hidden=16,
    )
    return data, model


def test_decode_data_equals_the_reference_loop_and_restores_the_mode(setup):
    data, model = setup
    model.train()
    greedy = decode_data(model, data, max_len=9, batch_size=5)
    assert model.training and len(greedy) == len(data)
    batch = data.batch(range(len(data)))
    with torch.no_grad():
        ref = reference_greedy(model.eval(), batch.src, batch.src_lengths, 9)
    assert [h[0].tokens for h in greedy] == [tokens for tokens, _ in ref]
    model.train()
    beams = decode_data(model, data, beam_width=3, n_best=2, max_len=9, batch_size=7)
    wide = decode_data(model, data, beam_width=3, n_best=2, max_len=9, batch_size=64)
    assert [[h.tokens for h in b] for b in beams] == [[h.tokens for h in b] for b in wide]
    assert all(len(b) == 2 and b[0].score >= b[1].score for b in beams)
    with pytest.raises(ValueError, match="batch_size"):
        decode_data(model, data, batch_size=0)


def test_translate_detokenises_the_best_hypothesis(setup):
    data, model = setup
    sources = [p.src for p in data.pairs[:6]]
    for width in (3, 1):
        hyps = decode_data(
            model,
            Seq2SeqData(data.pairs[:6], "en", "zh", data.src_vocab, data.tgt_vocab),
            beam_width=width,
            max_len=9,
        )
        expected = [detokenize(data.tgt_vocab.decode(h[0].tokens), "zh") for h in hyps]
        assert (
            translate(model, data, sources, beam_width=width, max_len=9, batch_size=4) == expected
        )
    assert translate(model, data, sources[0], max_len=9) == expected[:1]


def test_greedy_with_attention_returns_the_reference_tokens_and_weights(setup):
    data, model = setup
    batch = data.batch(range(8))
    tokens, weights = greedy_with_attention(model, batch.src, batch.src_lengths, max_len=9)
    with torch.no_grad():
        ref = reference_greedy(model.eval(), batch.src, batch.src_lengths, 9)
    longest = max(len(t) for t, _ in ref)
    assert tokens.shape == (8, longest) and weights.shape == (8, longest, batch.src.shape[1])
    for i, (ref_tokens, ref_weights) in enumerate(ref):
        n = len(ref_tokens)
        assert tokens[i, :n].tolist() == ref_tokens
        assert (tokens[i, n:] == model.pad_id).all() and (weights[i, n:] == 0).all()
        real = int(batch.src_lengths[i])
        assert torch.allclose(weights[i, :n, :real], torch.stack(ref_weights), atol=1e-6)
        assert (weights[i, :n, real:] == 0).all()  # padding of the source gets no attention


def test_greedy_with_attention_refuses_a_decoder_without_attention(setup):
    data, _ = setup
    plain = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), decoder="context", emb_dim=8, hidden=16
    )
    batch = data.batch(range(2))
    with pytest.raises(ValueError, match="no attention"):
        greedy_with_attention(plain, batch.src, batch.src_lengths, max_len=5)


def test_decode_data_with_a_length_penalty_runs_beam_search(setup):
    data, model = setup
    one = data.batch([3])
    with torch.no_grad():
        ref = beam_search(
            model.eval().step,
            model.init_state(one.src, one.src_lengths),
            bos_id=model.bos_id,
            eos_id=model.eos_id,
            beam_width=1,
            max_len=9,
            length_penalty=1.0,
        )
    got = decode_data(
        model,
        Seq2SeqData([data.pairs[3]], "en", "zh", data.src_vocab, data.tgt_vocab),
        max_len=9,
        length_penalty=1.0,
    )
    assert got[0][0].tokens == ref[0][0].tokens
    assert got[0][0].score == pytest.approx(ref[0][0].score)


def test_nbest_of_an_example_and_of_a_sentence_are_beam_searchs_n_best(setup):
    data, model = setup
    one = data.batch([5])
    with torch.no_grad():
        ref = beam_search(
            model.eval().step,
            model.init_state(one.src, one.src_lengths),
            bos_id=model.bos_id,
            eos_id=model.eos_id,
            beam_width=4,
            n_best=4,
            max_len=9,
        )[0]
    by_index = nbest(model, data, 5, beam_width=4, max_len=9)
    by_text = nbest(model, data, data.pairs[5].src, beam_width=4, max_len=9)
    assert [r.tokens for r in by_index] == [tuple(h.tokens) for h in ref]
    assert [r.log_prob for r in by_index] == pytest.approx([h.score for h in ref])
    assert [(r.text, r.tokens) for r in by_text] == [(r.text, r.tokens) for r in by_index]
    assert not any(r.matches_reference for r in by_text)  # a new sentence has no reference
    assert [r.finished for r in by_index] == [h.tokens[-1] == model.eos_id for h in ref]
    sentences = decode_sentences(
        model, data, [data.pairs[5].src], beam_width=4, n_best=4, max_len=9
    )
    assert [tuple(h.tokens) for h in sentences[0]] == [r.tokens for r in by_index]


def test_every_beam_width_is_checked_once_per_call(setup, monkeypatch):
    """Each entry point checks its options once, then runs the search unchecked."""
    import companion.decoding
    import companion.validation

    data, model = setup
    seen = []
    original = companion.validation.check_int

    def counting(value, name, **bounds):
        seen.append(name)
        return original(value, name, **bounds)

    monkeypatch.setattr(companion.decoding, "check_int", counting)
    for call in (
        lambda: nbest(model, data, 2, beam_width=3, max_len=6),
        lambda: nbest(model, data, "one two", beam_width=3, max_len=6),
        lambda: decode_data(model, data, beam_width=3, max_len=6, batch_size=5),
        lambda: translate(model, data, ["one", "two"], beam_width=3, max_len=6, batch_size=1),
    ):
        seen.clear()
        call()
        assert seen.count("beam_width") == 1, seen


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda m, d: nbest(m, d, 0, beam_width=0),
            ValueError,
            "beam_width must be an integer ≥ 1",
        ),
        (lambda m, d: nbest(m, d, 0, beam_width=2.0), TypeError, "beam_width must be an integer"),
        (lambda m, d: nbest(m, d, 99, beam_width=2), ValueError, r"source \(an example index\)"),
        (lambda m, d: nbest(m, d, "   ", beam_width=2), ValueError, "empty"),
        (lambda m, d: decode_data(m, d, n_best=3), ValueError, "n_best=3 cannot exceed"),
        (lambda m, d: translate(m, d, [3]), TypeError, r"sentences\[0\] must be a string"),
        (lambda m, d: translate(m, d.pairs, ["x"]), TypeError, "encode_source"),
        (lambda m, d: decode_data(m.encoder, d), TypeError, "init_state, step, bos_id"),
    ],
)
def test_bad_arguments_are_named(setup, call, error, message):
    data, model = setup
    with pytest.raises(error, match=message):
        call(model, data)
