"""(5-24) y_t = softmax(W[s_t; c_t] + b), recomputed from an AttentionDecoder's own weights.

The reference below never calls the decoder's modules: the GRU cell, the score (5-21), the softmax
(5-22), the context (5-23) and the output layer (5-24) are written out with the raw parameter
tensors, so a wrong concatenation order, a missing bias or a softmax over the wrong axis fails.
"""

import math

import pytest
import torch

from companion.models import AttentionDecoder, EncoderOutput

V, E, H, S = 11, 5, 6, 4


def _gru_cell_by_hand(rnn, x, h):
    """One step of ``nn.GRU`` (PyTorch's gate order r, z, n) from its weight tensors."""
    W_ih, W_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    gi, gh = W_ih @ x + b_ih, W_hh @ h + b_hh
    r = torch.sigmoid(gi[:H] + gh[:H])
    z = torch.sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
    n = torch.tanh(gi[2 * H :] + r * gh[2 * H :])
    return (1 - z) * n + z * h


def _step_by_hand(dec, prev_token, s_prev, memory, n_real, score):
    """Next-token probabilities of one example, from the decoder's parameters only."""
    s = _gru_cell_by_hand(dec.rnn, dec.embed.weight[prev_token], s_prev)
    h = memory[:n_real]  # real encoder states only
    if score == "general":
        W = dec.attention.score.W.weight  # e_i = sᵀ W h_i
        e = torch.stack([s @ (W @ h_i) for h_i in h])
    else:  # dot
        e = torch.stack([s @ h_i for h_i in h])  # (5-21)
    alpha = torch.exp(e - e.max()) / torch.exp(e - e.max()).sum()  # (5-22), sum over j
    c = sum(a * h_i for a, h_i in zip(alpha, h, strict=True))  # (5-23)
    W_out, b_out = dec.out.weight, dec.out.bias  # the W and b of (5-24)
    logits = (
        torch.stack(
            [sum(W_out[k, j] * v for j, v in enumerate(torch.cat([s, c]))) for k in range(V)]
        )
        + b_out
    )
    probs = [math.exp(x) for x in logits.tolist()]
    return torch.tensor([p / sum(probs) for p in probs]), s, alpha


@pytest.mark.parametrize("score", ["general", "dot"])
@torch.no_grad()
def test_step_equals_equation_5_24_by_hand(score):
    torch.manual_seed(0)
    dec = AttentionDecoder(V, E, H, score=score)
    memory = torch.randn(2, S, H)
    lengths = torch.tensor([S, 2])
    mask = torch.arange(S)[None] < lengths[:, None]
    memory = memory * mask[..., None]  # encoders give zeros on padding
    enc = EncoderOutput(memory, torch.randn(2, H), mask)
    state = dec.init_state(enc)
    s_by_hand = [state[0][b].clone() for b in range(2)]
    tokens = torch.tensor([1, 1])
    for nxt in ([4, 7], [9, 3], [2, 2]):
        logits, state, weights = dec.step(tokens, state)
        for b in range(2):
            probs, s_by_hand[b], alpha = _step_by_hand(
                dec, tokens[b].item(), s_by_hand[b], memory[b], lengths[b].item(), score
            )
            torch.testing.assert_close(logits[b].softmax(-1), probs, atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(weights[b, : lengths[b]], alpha, atol=1e-6, rtol=1e-5)
            assert torch.all(weights[b, lengths[b] :] == 0)
        tokens = torch.tensor(nxt)


@torch.no_grad()
def test_teacher_forced_decode_equals_the_steps():
    torch.manual_seed(1)
    dec = AttentionDecoder(V, E, H)
    mask = torch.tensor([[True] * S, [True, True, True, False]])
    enc = EncoderOutput(torch.randn(2, S, H) * mask[..., None], torch.randn(2, H), mask)
    tgt_in = torch.tensor([[1, 5, 6, 7], [1, 8, 2, 0]])
    logits, weights = dec.decode(tgt_in, dec.init_state(enc))
    state = dec.init_state(enc)
    for t in range(tgt_in.shape[1]):
        step_logits, state, w = dec.step(tgt_in[:, t], state)
        torch.testing.assert_close(logits[:, t], step_logits, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(weights[:, t], w, atol=1e-6, rtol=1e-5)
