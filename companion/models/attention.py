"""Attention for Seq2Seq decoders (book section 5.3.3, equations 5-21…5-23).

For a decoder state ``s_t`` (the *query*) and encoder states ``h_1 … h_n`` (the *keys*, which are
also the *values* here):

* (5-21) a score ``e_{t,i} = score(s_t, h_i)`` for every source position ``i``;
* (5-22) weights ``α_{t,i} = exp(e_{t,i}) / Σ_j exp(e_{t,j})`` — a softmax over the source
  positions ``j`` (the book prints ``exp(e_{t,i})`` in the denominator; the index must be ``j``),
  taken over *real* tokens only, so padding gets weight exactly zero;
* (5-23) the context vector ``c_t = Σ_i α_{t,i} h_i``.

Three score functions (Luong et al., 2015; Bahdanau et al., 2015):

* ``dot``:      ``e = sᵀh`` (optionally divided by √d, as in Transformers)
* ``general``:  ``e = sᵀ W h`` (bilinear)
* ``additive``: ``e = vᵀ tanh(W_s s + W_h h)`` (Bahdanau)

Every function works on whole sequences of queries at once: ``query [B, T, Dq]``,
``keys [B, S, Dk]`` → scores ``[B, T, S]``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from companion.validation import check_int

SCORES = ("dot", "general", "additive")


def _check_qk(query: torch.Tensor, keys: torch.Tensor) -> None:
    if query.dim() != 3 or keys.dim() != 3 or query.shape[0] != keys.shape[0]:
        raise ValueError(
            f"query must be [B, T, Dq] and keys [B, S, Dk] with the same B; got "
            f"{tuple(query.shape)} and {tuple(keys.shape)}"
        )


class DotScore(nn.Module):
    """``e_{t,i} = s_tᵀ h_i`` (divided by √d when ``scaled``); needs equal query and key sizes."""

    def __init__(self, query_dim: int, key_dim: int, *, scaled: bool = False):
        super().__init__()
        if query_dim != key_dim:
            raise ValueError(
                f"the dot score needs equal query and key sizes, got {query_dim} and "
                f"{key_dim}; use score='general' or 'additive' instead"
            )
        self.scale = 1 / math.sqrt(key_dim) if scaled else 1.0

    def forward(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        _check_qk(query, keys)
        return query @ keys.transpose(1, 2) * self.scale


class GeneralScore(nn.Module):
    """``e_{t,i} = s_tᵀ W h_i`` — a learned bilinear form (Luong's "general")."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.W = nn.Linear(key_dim, query_dim, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        _check_qk(query, keys)
        return query @ self.W(keys).transpose(1, 2)


class AdditiveScore(nn.Module):
    """``e_{t,i} = vᵀ tanh(W_s s_t + W_h h_i)`` — a one-hidden-layer network (Bahdanau)."""

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int | None = None):
        super().__init__()
        attn_dim = attn_dim or key_dim
        self.W_s = nn.Linear(query_dim, attn_dim, bias=False)
        self.W_h = nn.Linear(key_dim, attn_dim, bias=True)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        _check_qk(query, keys)
        # [B, T, 1, A] + [B, 1, S, A] → [B, T, S, A] → [B, T, S]
        hidden = torch.tanh(self.W_s(query)[:, :, None] + self.W_h(keys)[:, None])
        return self.v(hidden).squeeze(-1)


def make_score(name: str, query_dim: int, key_dim: int) -> nn.Module:
    """The score function called ``name`` ("dot", "scaled_dot", "general" or "additive")."""
    check_int(query_dim, "query_dim", min=1)
    check_int(key_dim, "key_dim", min=1)
    if name == "dot":
        return DotScore(query_dim, key_dim)
    if name == "scaled_dot":
        return DotScore(query_dim, key_dim, scaled=True)
    if name == "general":
        return GeneralScore(query_dim, key_dim)
    if name == "additive":
        return AdditiveScore(query_dim, key_dim)
    raise ValueError(
        f"unknown attention score {name!r}; choose one of {list(SCORES) + ['scaled_dot']}"
    )


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis that gives padded positions exactly zero weight (5-22).

    ``scores [B, T, S]`` and ``mask [B, S]`` (True on real tokens). The denominator sums
    ``exp(e_{t,j})`` over the real positions ``j`` only.
    """
    if not isinstance(scores, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError(
            f"scores and mask must be tensors, got {type(scores).__name__} and "
            f"{type(mask).__name__}"
        )
    if (
        mask.dtype != torch.bool
        or mask.dim() != 2
        or scores.dim() != 3
        or mask.shape != (scores.shape[0], scores.shape[2])
    ):
        raise ValueError(
            f"mask must be a bool tensor [B, S] matching scores [B, T, S]; got mask "
            f"{tuple(mask.shape)} ({mask.dtype}) and scores {tuple(scores.shape)}"
        )
    if not mask.any(-1).all():
        raise ValueError("every sequence needs at least one real (unmasked) position")
    return scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)


class Attention(nn.Module):
    """Score (5-21) → masked softmax (5-22) → context vector (5-23).

    ``forward(query [B, T, Dq], keys [B, S, Dk], mask [B, S])`` returns
    ``(context [B, T, Dk], weights [B, T, S])``; the weights are kept for plotting.
    """

    def __init__(self, query_dim: int, key_dim: int, score: str = "general"):
        super().__init__()
        self.score_name = score
        self.score = make_score(score, query_dim, key_dim)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        weights = masked_softmax(self.score(query, keys), mask)
        return weights @ keys, weights

    def extra_repr(self) -> str:
        return f"score={self.score_name!r}"
