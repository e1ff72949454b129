"""Fig. 5-7…5-9 diagrams: every number drawn equals the model's, computed along another path."""

import math
import re

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import companion
from companion.data import Seq2SeqData
from companion.data.book_examples import BOOK_ATTENTION_EXAMPLE, BOOK_FIG_5_7, book_example_pairs
from companion.decoding import greedy_search
from companion.models import make_encoder, make_seq2seq
from companion.models.tracing import trace_bidirectional, trace_greedy
from companion.plot.diagrams import (
    format_vector,
    plot_attention_seq2seq,
    plot_bidirectional_encoder,
    plot_encoder,
    plot_seq2seq_overview,
    plot_unrolled_decoder,
)

NUMBER = re.compile(r"-?\d+\.\d+")


def _texts(fig):
    return {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}


def _numbers(text):
    return [float(x) for x in NUMBER.findall(text)]


@pytest.fixture(scope="module")
def data():
    return Seq2SeqData.from_pairs(book_example_pairs(), "en", "zh")


def test_book_pairs_hold_the_books_sentences_and_can_leave_one_out():
    pairs = book_example_pairs()
    assert BOOK_FIG_5_7 in pairs and BOOK_ATTENTION_EXAMPLE in pairs
    assert len(set(pairs)) == len(pairs)
    held_out = book_example_pairs(include_attention_example=False)
    assert BOOK_ATTENTION_EXAMPLE not in held_out and len(held_out) == len(pairs) - 1


@pytest.mark.parametrize("decoder", ["context", "attention"])
@torch.no_grad()
def test_trace_and_fig_5_7_5_9_show_the_models_greedy_steps(data, decoder):
    companion.seed_everything(0)
    model = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), decoder=decoder, emb_dim=8, hidden=12
    ).eval()
    trace = trace_greedy(model, data, BOOK_ATTENTION_EXAMPLE.src, max_len=6, alternatives=2)
    src, lengths = data.encode_source([BOOK_ATTENTION_EXAMPLE.src])
    best = greedy_search(
        model.step,
        model.init_state(src, lengths),
        bos_id=data.tgt_vocab.bos_id,
        eos_id=data.tgt_vocab.eos_id,
        max_len=6,
    )[0][0]
    assert [data.tgt_vocab.stoi[s.token] for s in trace.steps] == best.tokens
    assert math.isclose(sum(math.log(s.prob) for s in trace.steps), best.score, rel_tol=1e-5)
    # the same probabilities from one teacher-forced pass (decode, not step)
    tgt_in = torch.tensor([[data.tgt_vocab.bos_id] + best.tokens[:-1]])
    probs = model(src, lengths, tgt_in).softmax(-1)[0]
    for t, step in enumerate(trace.steps):
        assert math.isclose(step.prob, probs[t, best.tokens[t]].item(), rel_tol=1e-5)
        runners = probs[t].topk(3)
        assert [p for _, p in step.alternatives] == pytest.approx(
            runners.values[1:].tolist(), rel=1e-5
        )
    # encoder states along another path: the GRU run over the embeddings, no packing
    enc = model.encoder
    h_ref, _ = enc.rnn(enc.embed(src))
    torch.testing.assert_close(trace.encoder_outputs, h_ref[0])
    torch.testing.assert_close(trace.context, h_ref[0, -1])

    texts = _texts(plot_seq2seq_overview(trace, n_values=3))
    for i in range(len(trace.src_tokens)):
        assert _numbers(texts[f"h{i + 1}"]) == pytest.approx(h_ref[0, i, :3].tolist(), abs=0.0051)
    assert _numbers(texts["c"]) == pytest.approx(h_ref[0, -1, :3].tolist(), abs=0.0051)
    fig9 = plot_unrolled_decoder(trace, reads_context=decoder == "context")
    for fig in (plt.gcf(), fig9):
        texts = _texts(fig)
        for t, step in enumerate(trace.steps, start=1):
            assert texts[f"y{t}"].startswith(step.token)
            assert _numbers(texts[f"y{t}"]) == pytest.approx(
                [probs[t - 1, best.tokens[t - 1]].item()], abs=0.0051
            )
    alt = _numbers(_texts(fig9)["y1-alt"])
    assert alt == pytest.approx(probs[0].topk(3).values[1:].tolist(), abs=0.0051)
    plt.close("all")


@torch.no_grad()
def test_bidirectional_trace_and_fig_5_8_equal_two_one_way_grus(data):
    torch.manual_seed(0)
    enc = make_encoder("bigru", len(data.src_vocab), 8, 12).eval()
    trace = trace_bidirectional(enc, data, BOOK_ATTENTION_EXAMPLE.src)
    src, _ = data.encode_source([BOOK_ATTENTION_EXAMPLE.src])
    x = enc.embed(src)
    fwd, bwd = nn.GRU(8, 6, batch_first=True), nn.GRU(8, 6, batch_first=True)
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        getattr(fwd, name).copy_(getattr(enc.rnn, name))
        getattr(bwd, name).copy_(getattr(enc.rnn, name + "_reverse"))
    f_ref = fwd(x)[0][0]
    b_ref = bwd(x.flip(1))[0][0].flip(0)  # run right to left, then put back in word order
    torch.testing.assert_close(trace.forward, f_ref)
    torch.testing.assert_close(trace.backward, b_ref)
    torch.testing.assert_close(trace.context, torch.cat([f_ref[-1], b_ref[0]]))

    texts = _texts(plot_bidirectional_encoder(trace, n_values=2))
    assert trace.src_tokens == ["hello", ",", "world", "is", "beautiful"]
    for i in range(5):
        assert texts[f"x{i + 1}"] == trace.src_tokens[i]
        assert _numbers(texts[f"fwd{i + 1}"]) == pytest.approx(f_ref[i, :2].tolist(), abs=0.0051)
        assert _numbers(texts[f"bwd{i + 1}"]) == pytest.approx(b_ref[i, :2].tolist(), abs=0.0051)
    expected_c = f_ref[-1, :2].tolist() + b_ref[0, :2].tolist()
    assert _numbers(texts["c"]) == pytest.approx(expected_c, abs=0.0051)
    plt.close("all")


@torch.no_grad()
def test_fig_5_8_shows_the_one_directional_states_of_5_18_and_c_of_5_19(data):
    companion.seed_everything(0)
    model = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), encoder="gru", decoder="context", hidden=12
    ).eval()
    trace = trace_greedy(model, data, BOOK_FIG_5_7.src, max_len=3)
    # (5-18) by hand: a GRUCell with the encoder's weights, one word at a time from h0 = 0
    cell = nn.GRUCell(model.encoder.embed.embedding_dim, 12)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).copy_(getattr(model.encoder.rnn, name + "_l0"))
    src, _ = data.encode_source([BOOK_FIG_5_7.src])
    h, states = torch.zeros(1, 12), []
    for x_t in model.encoder.embed(src)[0]:
        h = cell(x_t[None], h)
        states.append(h[0])
    texts = _texts(plot_encoder(trace, n_values=3))
    assert [texts["x1"], texts["x2"]] == ["hello", "world"]
    for i, state in enumerate(states, start=1):
        assert _numbers(texts[f"h{i}"]) == pytest.approx(state[:3].tolist(), abs=0.0051)
    assert texts["c"].startswith("c = h2")  # (5-19): c is the last state
    assert _numbers(texts["c"]) == pytest.approx(states[-1][:3].tolist(), abs=0.0051)
    plt.close("all")


@torch.no_grad()
def test_fig_5_10_writes_each_steps_mixture_of_the_encoder_states(data):
    companion.seed_everything(1)
    model = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), decoder="attention", emb_dim=8, hidden=12
    ).eval()
    trace = trace_greedy(model, data, BOOK_FIG_5_7.src, max_len=4)
    src, lengths = data.encode_source([BOOK_FIG_5_7.src])
    tokens = [data.tgt_vocab.stoi[s.token] for s in trace.steps]
    tgt_in = torch.tensor([[data.tgt_vocab.bos_id] + tokens[:-1]])
    alpha = model.attention_weights(src, lengths, tgt_in)[0]  # teacher-forced, all steps at once
    outputs = model.encoder.rnn(model.encoder.embed(src))[0][0]
    fig = plot_attention_seq2seq(trace, n_values=2)
    texts = _texts(fig)
    for i in range(2):
        assert _numbers(texts[f"O{i + 1}"]) == pytest.approx(outputs[i, :2].tolist(), abs=0.0051)
    for t in range(len(tokens)):
        shown = _numbers(texts[f"c{t + 1}"])
        assert shown == pytest.approx(alpha[t].tolist(), abs=0.0051)
        assert sum(shown) == pytest.approx(1.0, abs=0.011)  # (5-22): the weights sum to one
        assert texts[f"y{t + 1}"].startswith(trace.steps[t].token)
    heat = fig.axes[1].images[0].get_array()
    assert torch.allclose(torch.as_tensor(heat.data, dtype=torch.float32), alpha, atol=1e-6)
    assert "Fig. 5-10" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="attention weights"):
        plot_attention_seq2seq(
            trace_greedy(
                make_seq2seq(len(data.src_vocab), len(data.tgt_vocab), decoder="context", hidden=6),
                data,
                "hello world",
                max_len=2,
            )
        )
    plt.close("all")


def test_bad_inputs_are_refused(data):
    model = make_seq2seq(len(data.src_vocab), len(data.tgt_vocab), emb_dim=4, hidden=6)
    with pytest.raises(ValueError, match="non-empty"):
        trace_greedy(model, data, "   ")
    with pytest.raises(ValueError, match="max_len"):
        trace_greedy(model, data, "hello world", max_len=0)
    with pytest.raises(ValueError, match="bidirectional"):
        trace_bidirectional(make_encoder("gru", len(data.src_vocab), 4, 6), data, "hello world")
    trace = trace_greedy(model, data, "hello world", max_len=2)
    with pytest.raises(ValueError, match="n_values"):
        plot_seq2seq_overview(trace, n_values=0)
    assert format_vector([0.123, -4.5, 2.0], 2) == "[0.12, -4.50, …]"
    plt.close("all")
