"""Seq2Seq decoders (book sections 5.3.2 and 5.3.3, equations 5-20 and 5-24, Fig. 5-9 and 5-10).

All decoders are GRUs that generate ``y_t = f_dec(y_{t-1}, s_t)`` (5-20) and share one interface:

* ``init_state(enc: EncoderOutput) -> state`` — a tuple of tensors whose first axis is the batch;
* ``step(prev_tokens [N], state) -> (logits [N, V], state, weights [N, S] | None)`` — one step;
* ``decode(tgt_in [B, T], state) -> (logits [B, T, V], weights [B, T, S] | None)`` — all steps of
  a teacher-forced target at once; equal to calling ``step`` T times.

They differ in how the encoder's information reaches them:

* :class:`ContextInputDecoder` — the book's decoder (Fig. 5-9, Cho et al. 2014): the context ``c``
  is concatenated with the previous output at **every** step. With ``init="zeros"`` (the book's
  wording: ``s_0`` is computed from ``c`` concatenated with ``<bos>``) the recurrent state starts
  at zero, so the first state is a function of ``[<bos>; c]`` only; with ``init="context"`` the
  state also starts at ``c`` (Cho et al.).
* :class:`InitialStateDecoder` — ``c`` is only the initial state (Sutskever et al. 2014); later
  steps must carry it in their memory.
* :class:`AttentionDecoder` — a fresh context ``c_t`` per step from attention over all encoder
  outputs (5-21…5-23) and the output layer ``y_t = softmax(W[s_t; c_t] + b)`` (5-24).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from companion.decoding import DecoderState
from companion.models.attention import Attention
from companion.models.encoders import EncoderOutput

DECODERS = ("context", "initial", "attention")


def check_tokens(tokens: torch.Tensor, name: str, dim: int) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != dim or tokens.dtype != torch.long:
        shape = "[batch]" if dim == 1 else "[batch, time]"
        raise ValueError(f"{name} must be a LongTensor of shape {shape}")


def _bridge(context_dim: int, hidden: int) -> nn.Module:
    """``c`` itself when the sizes match, else a learned ``tanh(W c + b)`` of the decoder's size."""
    if context_dim == hidden:
        return nn.Identity()
    return nn.Sequential(nn.Linear(context_dim, hidden), nn.Tanh())


class SequenceDecoder(nn.Module, ABC):
    """Base class. Subclasses implement ``init_state``, ``step`` and (for speed) ``decode``."""

    @abstractmethod
    def init_state(self, enc: EncoderOutput) -> DecoderState:
        """The decoder's state before the first step, built from the encoder's output."""

    @abstractmethod
    def step(
        self, prev_tokens: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """One step: logits ``[N, V]``, the new state, and attention weights (or None)."""

    def decode(
        self, tgt_in: torch.Tensor, state: DecoderState, *, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced logits ``[B, T, V]`` (and attention weights) by stepping through time.

        ``need_weights=False`` says the caller will not read the weights (training), so a decoder
        whose weights cost extra work (the Transformer's) may return None in their place.
        """
        check_tokens(tgt_in, "tgt_in", 2)
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, w = self.step(tgt_in[:, t], state)
            logits.append(step_logits)
            if w is not None:
                weights.append(w)
        return torch.stack(logits, 1), (torch.stack(weights, 1) if weights else None)


class ContextInputDecoder(SequenceDecoder):
    """GRU whose input at every step is ``[embedding(y_{t-1}); c]`` (the book's Fig. 5-9).

    State: ``(s [B, H], c [B, C])``. ``init="zeros"``: ``s`` starts at zero, so the first state is
    computed from ``<bos>`` and ``c`` alone (the book's description); ``init="context"``: ``s``
    starts at ``c`` (Cho et al. 2014; needs ``C == H`` or uses a learned bridge).
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        context_dim: int | None = None,
        init: str = "zeros",
        pad_id: int = 0,
    ):
        super().__init__()
        if init not in ("zeros", "context"):
            raise ValueError(f"init must be 'zeros' or 'context', got {init!r}")
        context_dim = context_dim or hidden
        self.init, self.hidden_size = init, hidden
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim + context_dim, hidden, batch_first=True)
        self.bridge = _bridge(context_dim, hidden) if init == "context" else None
        self.out = nn.Linear(hidden, vocab_size)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        c = enc.context
        s = self.bridge(c) if self.bridge is not None else c.new_zeros(c.shape[0], self.hidden_size)
        return s, c

    def decode(self, tgt_in, state, *, need_weights=True):
        check_tokens(tgt_in, "tgt_in", 2)
        s, c = state
        x = torch.cat([self.embed(tgt_in), c[:, None].expand(-1, tgt_in.shape[1], -1)], dim=-1)
        out, _ = self.rnn(x, s[None].contiguous())
        return self.out(out), None

    def step(self, prev_tokens, state):
        check_tokens(prev_tokens, "prev_tokens", 1)
        s, c = state
        out, s = self.rnn(
            torch.cat([self.embed(prev_tokens), c], -1)[:, None], s[None].contiguous()
        )
        return self.out(out[:, 0]), (s[0], c), None


class InitialStateDecoder(SequenceDecoder):
    """GRU started from ``s_0 = c``; its input is only ``embedding(y_{t-1})``. State: ``(s,)``."""

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        context_dim: int | None = None,
        pad_id: int = 0,
    ):
        super().__init__()
        self.hidden_size = hidden
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.bridge = _bridge(context_dim or hidden, hidden)
        self.rnn = nn.GRU(emb_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        return (self.bridge(enc.context),)

    def decode(self, tgt_in, state, *, need_weights=True):
        check_tokens(tgt_in, "tgt_in", 2)
        out, _ = self.rnn(self.embed(tgt_in), state[0][None].contiguous())
        return self.out(out), None

    def step(self, prev_tokens, state):
        check_tokens(prev_tokens, "prev_tokens", 1)
        out, s = self.rnn(self.embed(prev_tokens)[:, None], state[0][None].contiguous())
        return self.out(out[:, 0]), (s[0],), None


class AttentionDecoder(SequenceDecoder):
    """GRU state ``s_t`` → attention over the encoder outputs → ``softmax(W[s_t; c_t] + b)`` (5-24).

    ``s_t = GRU(embedding(y_{t-1}), s_{t-1})`` with ``s_0`` from the encoder's context; the query of
    the attention (5-21) is ``s_t`` (Luong et al. 2015). State: ``(s [B, H], memory [B, S, M],
    mask [B, S])`` — the encoder outputs travel with the state so that a search can reorder them.
    ``score`` is "dot", "scaled_dot", "general" or "additive".
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        memory_dim: int | None = None,
        score: str = "general",
        pad_id: int = 0,
    ):
        super().__init__()
        memory_dim = memory_dim or hidden
        self.hidden_size = hidden
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.bridge = _bridge(memory_dim, hidden)
        self.rnn = nn.GRU(emb_dim, hidden, batch_first=True)
        self.attention = Attention(hidden, memory_dim, score)
        self.out = nn.Linear(hidden + memory_dim, vocab_size)  # W and b of (5-24)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        return self.bridge(enc.context), enc.outputs, enc.mask

    def _attend(self, s: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
        context, weights = self.attention(s, memory, mask)  # (5-21)…(5-23)
        return self.out(torch.cat([s, context], dim=-1)), weights

    def decode(self, tgt_in, state, *, need_weights=True):
        check_tokens(tgt_in, "tgt_in", 2)
        s0, memory, mask = state
        s, _ = self.rnn(self.embed(tgt_in), s0[None].contiguous())  # every s_t at once
        return self._attend(s, memory, mask)

    def step(self, prev_tokens, state):
        check_tokens(prev_tokens, "prev_tokens", 1)
        s, memory, mask = state
        out, s = self.rnn(self.embed(prev_tokens)[:, None], s[None].contiguous())
        logits, weights = self._attend(out, memory, mask)
        return logits[:, 0], (s[0], memory, mask), weights[:, 0]


def make_decoder(
    kind: str,
    vocab_size: int,
    emb_dim: int = 32,
    hidden: int = 64,
    *,
    context_dim: int | None = None,
    pad_id: int = 0,
    **kwargs,
) -> SequenceDecoder:
    """A decoder by name: ``context`` (the book's), ``initial`` or ``attention``."""
    if kind == "context":
        return ContextInputDecoder(
            vocab_size, emb_dim, hidden, context_dim=context_dim, pad_id=pad_id, **kwargs
        )
    if kind == "initial":
        return InitialStateDecoder(
            vocab_size, emb_dim, hidden, context_dim=context_dim, pad_id=pad_id, **kwargs
        )
    if kind == "attention":
        return AttentionDecoder(
            vocab_size, emb_dim, hidden, memory_dim=context_dim, pad_id=pad_id, **kwargs
        )
    raise ValueError(f"unknown decoder {kind!r}; choose one of {list(DECODERS)}")
