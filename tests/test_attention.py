"""Attention of section 5.3.3: scores (5-21), masked softmax (5-22), context vector (5-23)."""

import math

import pytest
import torch
import torch.nn.functional as F

from companion.models import Attention, masked_softmax
from companion.models.attention import make_score

B, T, S, D = 2, 3, 5, 4


def _inputs():
    torch.manual_seed(0)
    query, keys = torch.randn(B, T, D), torch.randn(B, S, D)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    return query, keys, mask


def _score_by_hand(name, module, s, h):
    """e = score(s, h) for one query vector and one key vector, written out element by element."""
    if name in ("dot", "scaled_dot"):
        e = sum(s[k] * h[k] for k in range(D))
        return e / math.sqrt(D) if name == "scaled_dot" else e
    if name == "general":
        W = module.W.weight  # [Dq, Dk]
        return sum(s[a] * W[a, b] * h[b] for a in range(W.shape[0]) for b in range(W.shape[1]))
    Ws, Wh, bh, v = module.W_s.weight, module.W_h.weight, module.W_h.bias, module.v.weight[0]
    return sum(
        v[a]
        * torch.tanh(
            sum(Ws[a, k] * s[k] for k in range(D)) + sum(Wh[a, k] * h[k] for k in range(D)) + bh[a]
        )
        for a in range(len(v))
    )


@pytest.mark.parametrize("name", ["dot", "scaled_dot", "general", "additive"])
@torch.no_grad()
def test_attention_equals_a_per_element_computation(name):
    query, keys, mask = _inputs()
    torch.manual_seed(1)
    attn = Attention(D, D, name)
    context, weights = attn(query, keys, mask)
    for b in range(B):
        real = [i for i in range(S) if mask[b, i]]
        for t in range(T):
            e = {
                i: _score_by_hand(name, attn.score, query[b, t], keys[b, i]) for i in real
            }  # (5-21)
            denom = sum(math.exp(e[j]) for j in real)  # (5-22), over j
            alpha = {i: math.exp(e[i]) / denom for i in real}
            c = sum(alpha[i] * keys[b, i] for i in real)  # (5-23)
            for i in range(S):
                assert weights[b, t, i].item() == pytest.approx(alpha.get(i, 0.0), abs=1e-5)
            assert torch.allclose(context[b, t], c, atol=1e-5)


@pytest.mark.parametrize("name, scale", [("scaled_dot", None), ("dot", 1.0)])
def test_dot_attention_equals_torch_scaled_dot_product_attention(name, scale):
    query, keys, mask = _inputs()
    context, _ = Attention(D, D, name)(query, keys, mask)
    ref = F.scaled_dot_product_attention(query, keys, keys, attn_mask=mask[:, None, :], scale=scale)
    assert torch.allclose(context, ref, atol=1e-5)


def test_masked_softmax_sums_to_one_over_real_positions_and_ignores_padding():
    scores = torch.randn(B, T, S)
    _, _, mask = _inputs()
    w = masked_softmax(scores, mask)
    assert torch.allclose(w.sum(-1), torch.ones(B, T))
    assert torch.all(w[1, :, 3:] == 0)
    changed = scores.clone()
    changed[1, :, 3:] = 1e4  # huge scores on padding change nothing
    assert torch.equal(masked_softmax(changed, mask), w)


def test_the_misprinted_denominator_would_give_uniform_weights():
    """(5-22) printed with exp(e_{t,i}) in the denominator: every weight would be 1/n."""
    e = torch.randn(S)
    misprinted = torch.stack([e[i].exp() / sum(e[i].exp() for _ in range(S)) for i in range(S)])
    assert torch.allclose(misprinted, torch.full((S,), 1 / S))
    assert not torch.allclose(
        masked_softmax(e[None, None], torch.ones(1, S, dtype=torch.bool))[0, 0], misprinted
    )


def test_padded_keys_get_no_gradient():
    query, keys, mask = _inputs()
    keys.requires_grad_(True)
    context, _ = Attention(D, D, "additive")(query, keys, mask)
    context.sum().backward()
    assert torch.all(keys.grad[1, 3:] == 0) and keys.grad[1, :3].abs().sum() > 0


def test_attention_rejects_bad_input():
    query, keys, mask = _inputs()
    with pytest.raises(ValueError, match="equal query and key sizes"):
        make_score("dot", 4, 6)
    with pytest.raises(ValueError, match="unknown attention score"):
        make_score("cosine", 4, 4)
    with pytest.raises(ValueError, match="at least one real"):
        masked_softmax(torch.randn(B, T, S), torch.zeros(B, S, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        masked_softmax(torch.randn(B, T, S), mask.float())
    with pytest.raises(ValueError, match="query must be"):
        Attention(D, D, "general")(query[0], keys, mask)


def test_plot_attention_labels_and_validates_shapes():
    import matplotlib.pyplot as plt

    from companion.plot import plot_attention

    ax = plot_attention(torch.rand(2, 3), ["march", "25", "2019"], ["2019", "年"], title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["march", "25", "2019"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2019", "年"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="shape"):
        plot_attention(torch.rand(3, 3), ["a", "b"], ["c"])
