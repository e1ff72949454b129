"""A Transformer encoder–decoder (book section 5.3.6; Vaswani et al., 2017) built on ``torch.nn``.

No recurrence: the encoder lets every source position attend to every other one (self-attention,
自注意力), the decoder attends to the prefix generated so far (masked self-attention) and to the
encoder's outputs (encoder–decoder attention, the idea of (5-21)…(5-23) with several heads).
Order enters only through the sinusoidal positional encodings (位置编码) added to the embeddings.

Two masks make it a correct sequence model:

* a **causal mask** (因果掩码): target position t may not look at positions > t, so training on a
  whole target sentence at once (teacher forcing) computes exactly what step-by-step decoding
  computes;
* a **padding mask** (填充掩码): no query attends to the padding of a shorter source sentence.

:func:`make_transformer` joins the Transformer encoder of :mod:`companion.models.encoders` with
the :class:`TransformerDecoder` below in the project's :class:`EncoderDecoder`, so training
(:func:`~companion.train.train_seq2seq`), :mod:`companion.inference` and the searches of
:mod:`companion.decoding` work on it unchanged.

Incremental decoding with a key/value cache (键值缓存). Without one, decoding step t re-runs the
decoder over the whole prefix ``y_1 … y_t``: t positions, so a sentence of T tokens costs
O(T²) position computations. But thanks to the causal mask, the keys and values that earlier
positions produce never change when a token is appended. A cached step therefore computes only
the new position: its query attends to the stored keys/values of the prefix plus its own, and
the encoder–decoder attention reads keys/values of the memory projected once, in ``init_state``
(folded there with the query and output projections, so that all heads take two batched
products per step). Same numbers, O(T) work per sentence. ``kv_cache=False`` keeps the
re-run-the-prefix decoder for comparison (``benchmarks/transformer_vs_rnn.py``, notebook 5.3.6).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from companion.decoding import DecoderState
from companion.models.decoders import SequenceDecoder, check_tokens
from companion.models.encoders import EncoderOutput, TransformerEncoder, sinusoidal_positions
from companion.models.seq2seq import EncoderDecoder

#: per layer: self-attention keys and values of the prefix ``[B, H, t, Dh]``, then the folded
#: memory of ``TransformerDecoder._fold_memory``: keys, values ``[B, S·H, D]``, bias
#: ``[B, 1, S·H]``
LayerCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[size, size]`` boolean mask, True where
    query t would see a *future* key s > t (blocked).
    """
    if size < 1:
        raise ValueError(f"size must be ≥ 1, got {size}")
    return torch.ones(size, size, dtype=torch.bool, device=device).triu(diagonal=1)


class TransformerDecoder(SequenceDecoder):
    """Embedding + sinusoidal positions → ``nn.TransformerDecoder`` (pre-norm) → output layer.

    State: ``(prefix [B, t], memory [B, S, D], mask [B, S])`` — the tokens read so far and the
    encoder outputs with their mask (True on real tokens) — followed, with ``kv_cache=True`` (the
    default), by ``caches``: one :data:`LayerCache` per layer. ``decode`` and ``step`` also return
    the encoder–decoder attention of the last layer, averaged over heads,
    ``[B, T, S]`` / ``[B, S]``.
    """

    positions: torch.Tensor  # a buffer: sinusoidal_positions(max_len, width)

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        *,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.0,
        max_len: int = 512,
        pad_id: int = 0,
        kv_cache: bool = True,
    ):
        super().__init__()
        if min(vocab_size, d_model, nhead, num_layers) < 1:
            raise ValueError("vocab_size, d_model, nhead and num_layers must be positive")
        if d_model % nhead or d_model % 2:
            raise ValueError(f"d_model ({d_model}) must be even and split into nhead={nhead} heads")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.hidden_size, self.nhead, self.kv_cache = d_model, nhead, kv_cache
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        _unit_scale_init(self.embed)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerDecoderLayer(
            d_model,
            nhead,
            dim_feedforward or 2 * d_model,
            dropout,
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, vocab_size)
        # nn.TransformerDecoderLayer does not return attention weights; ask the last layer's
        # encoder–decoder attention for them and keep them for plotting.
        cross = self.layers.layers[-1].multihead_attn
        cross.register_forward_pre_hook(_ask_for_weights, with_kwargs=True)
        cross.register_forward_hook(_keep_weights)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        memory = enc.outputs
        prefix = torch.empty(memory.shape[0], 0, dtype=torch.long, device=memory.device)
        if not self.kv_cache:
            return prefix, memory, enc.mask
        caches = []
        for layer in self.layers.layers:
            empty = memory.new_empty(memory.shape[0], self.nhead, 0, self.hidden_size // self.nhead)
            caches.append(
                (empty, empty, *self._fold_memory(layer.multihead_attn, memory, enc.mask))
            )
        return prefix, memory, enc.mask, tuple(caches)

    def _fold_memory(self, attn: nn.MultiheadAttention, memory: torch.Tensor, mask: torch.Tensor):
        """What the encoder–decoder attention needs of the memory, computed once per sentence.

        Per source position s and head h, with key k and value v of s in head h:
        query · k / √Dh = x · (W_qᵀ k / √Dh) + b_q · k / √Dh, and the output projection of
        weight · v is weight · (W_o v). So the step needs only ``memory_keys [B, S·H, D]``
        (the W_qᵀ k / √Dh), ``memory_bias [B, 1, S·H]`` (b_q · k / √Dh, and -inf on padding) and
        ``memory_values [B, S·H, D]`` (the W_o v): two batched products per step, all heads at once.
        """
        d, h = self.hidden_size, self.nhead
        keys, values = self._project(attn, memory, 1, 3)  # [B, H, S, Dh]
        scale = (d // h) ** -0.5
        w_q, b_q = attn.in_proj_weight[:d].view(h, d // h, d), attn.in_proj_bias[:d].view(h, d // h)
        memory_keys = torch.einsum("bhsk,hkd->bshd", keys, w_q).flatten(1, 2) * scale
        bias = torch.einsum("bhsk,hk->bsh", keys, b_q) * scale
        bias = bias.masked_fill(~mask[:, :, None], float("-inf")).flatten(1)[:, None]
        w_o = attn.out_proj.weight.view(d, h, d // h)
        memory_values = torch.einsum("bhsk,dhk->bshd", values, w_o).flatten(1, 2)
        return memory_keys, memory_values, bias

    def decode(
        self, tgt_in: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[B, T, V]``: position t sees ``tgt_in[:, :t+1]`` and every real source position.

        ``tgt_in`` is read after the prefix held in ``state`` (empty after ``init_state``).
        Target padding needs no mask of its own: with the causal mask a pad token can only
        influence later positions, which are padding too and are ignored by the loss.
        """
        check_tokens(tgt_in, "tgt_in", 2)
        prefix, memory, mask = state[:3]
        tokens = torch.cat([prefix, tgt_in], dim=1)
        if tokens.shape[1] > self.positions.shape[0]:
            raise ValueError(f"targets longer than max_len={self.positions.shape[0]} tokens")
        x = self.embed(tokens) * math.sqrt(self.hidden_size) + self.positions[: tokens.shape[1]]
        hidden = self.layers(
            self.dropout(x),
            memory,
            tgt_mask=causal_mask(tokens.shape[1], x.device),
            tgt_is_causal=True,
            memory_key_padding_mask=~mask,
        )
        t = tgt_in.shape[1]
        weights = self.layers.layers[-1].multihead_attn.last_weights
        return self.out(hidden[:, -t:]), weights[:, -t:]

    def step(
        self, prev_tokens: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """Append ``prev_tokens [N]`` to the prefix; logits ``[N, V]`` of the next token."""
        check_tokens(prev_tokens, "prev_tokens", 1)
        prefix = state[0]
        if prev_tokens.shape != prefix.shape[:1]:
            raise ValueError(
                f"prev_tokens must have shape [{prefix.shape[0]}], got {tuple(prev_tokens.shape)}"
            )
        prefix = torch.cat([prefix, prev_tokens[:, None]], dim=1)
        if len(state) == 4:
            return self._cached_step(prefix, *state[1:])
        _, memory, mask = state
        logits, weights = self.decode(prefix, (prefix[:, :0], memory, mask))
        return logits[:, -1], (prefix, memory, mask), weights[:, -1]

    def _cached_step(
        self,
        prefix: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        caches: tuple[LayerCache, ...],
    ):
        """The new position only; the same arithmetic
        as ``nn.TransformerDecoderLayer`` (pre-norm).
        """
        t = prefix.shape[1]
        if t > self.positions.shape[0]:
            raise ValueError(f"targets longer than max_len={self.positions.shape[0]} tokens")
        x = self.embed(prefix[:, -1:]) * math.sqrt(self.hidden_size) + self.positions[t - 1 : t]
        x = self._dropout(self.dropout, x)  # [B, 1, D]
        new_caches = []
        for i, (layer, (keys, values, *memory_cache)) in enumerate(
            zip(self.layers.layers, caches, strict=True)
        ):
            q, k, v = self._project(layer.self_attn, layer.norm1(x), 0, 3)
            keys, values = torch.cat([keys, k], dim=2), torch.cat([values, v], dim=2)
            out = self._attend_prefix(layer.self_attn, q, keys, values)
            x = x + self._dropout(layer.dropout1, out)
            out = self._attend_memory(
                layer.multihead_attn,
                layer.norm2(x),
                *memory_cache,
                keep_weights=i == len(caches) - 1,
            )
            x = x + self._dropout(layer.dropout2, out)
            h = layer.linear2(
                self._dropout(layer.dropout, layer.activation(layer.linear1(layer.norm3(x))))
            )
            x = x + self._dropout(layer.dropout3, h)
            new_caches.append((keys, values, *memory_cache))
        assert self.layers.norm is not None  # __init__ gives the decoder a final LayerNorm
        logits = self.out(self.layers.norm(x))[:, 0]
        return logits, (prefix, memory, mask, tuple(new_caches)), self._last_weights

    def _dropout(self, dropout: nn.Dropout, x: torch.Tensor) -> torch.Tensor:
        return dropout(x) if self.training else x

    def _project(self, attn: nn.MultiheadAttention, x: torch.Tensor, start: int, stop: int):
        """Rows ``start:stop`` of (query, key, value) =
        ``x W^T + b``, split into heads ``[B, H, T, Dh]``.
        """
        d = self.hidden_size
        w, b = attn.in_proj_weight[start * d : stop * d], attn.in_proj_bias[start * d : stop * d]
        projected = nn.functional.linear(x, w, b)  # [B, T, (stop - start) * D]
        heads = projected.unflatten(-1, (stop - start, self.nhead, d // self.nhead))
        return heads.permute(2, 0, 3, 1, 4).unbind(0)  # each [B, H, T, Dh]

    def _attend_prefix(self, attn: nn.MultiheadAttention, q, keys, values) -> torch.Tensor:
        """Masked self-attention of the new position: ``q [B, H, 1, Dh]`` on the ``t`` cached
        ``keys``, ``values [B, H, t, Dh]`` (all earlier, so no mask is needed), output
        projection."""
        (b, h, _, dh), t = q.shape, keys.shape[2]
        scores = torch.bmm(
            q.reshape(b * h, 1, dh) * dh**-0.5, keys.reshape(b * h, t, dh).transpose(1, 2)
        )
        weights = scores.softmax(-1)  # [B·H, 1, t]
        if self.training:
            weights = nn.functional.dropout(weights, attn.dropout)
        out = torch.bmm(weights, values.reshape(b * h, t, dh))  # [B·H, 1, Dh]
        return attn.out_proj(out.view(b, 1, h * dh))  # [B, 1, D]

    def _attend_memory(
        self,
        attn: nn.MultiheadAttention,
        x: torch.Tensor,
        memory_keys,
        memory_values,
        memory_bias,
        *,
        keep_weights: bool = False,
    ) -> torch.Tensor:
        """Encoder–decoder attention of the new position ``x [B, 1, D]`` on the folded memory."""
        b, h = x.shape[0], self.nhead
        scores = torch.baddbmm(memory_bias, x, memory_keys.transpose(1, 2))  # [B, 1, S·H]
        weights = scores.view(b, -1, h).softmax(1)  # [B, S, H]: each head over the source
        if keep_weights:
            self._last_weights = weights.mean(2)  # [B, S], averaged over heads
        if self.training:
            weights = nn.functional.dropout(weights, attn.dropout)
        return torch.baddbmm(attn.out_proj.bias, weights.view(b, 1, -1), memory_values)  # [B, 1, D]


def _unit_scale_init(embedding: nn.Embedding) -> None:
    """Initialise with std 1/√d, so that the embedding times √d has unit scale like the positional
    encodings (Vaswani et al., 2017). With PyTorch's default N(0, 1) the scaled embeddings are √d
    times larger and drown the position signal; the date task then stalls near 90% accuracy."""
    nn.init.normal_(embedding.weight, std=embedding.embedding_dim**-0.5)
    if embedding.padding_idx is not None:
        with torch.no_grad():
            embedding.weight[embedding.padding_idx].zero_()


def _ask_for_weights(module: nn.Module, args, kwargs):
    return args, {**kwargs, "need_weights": True, "average_attn_weights": True}


def _keep_weights(module: nn.Module, args, output) -> None:
    module.last_weights = output[1]  # [B, T, S], averaged over heads


def make_transformer(
    src_vocab_size: int,
    tgt_vocab_size: int,
    *,
    d_model: int = 64,
    nhead: int = 4,
    num_layers: int = 2,
    dim_feedforward: int | None = None,
    dropout: float = 0.1,
    max_len: int = 512,
    pad_id: int = 0,
    bos_id: int = 1,
    eos_id: int = 2,
    kv_cache: bool = True,
) -> EncoderDecoder:
    """Transformer encoder (padding mask) + Transformer
    decoder (causal mask) as an :class:`EncoderDecoder`.

    ``kv_cache`` chooses incremental decoding (the default) or re-running the prefix every step;
    both give the same log-probabilities. Switch later with ``model.decoder.kv_cache = False``.
    """
    encoder = TransformerEncoder(
        src_vocab_size,
        hidden=d_model,
        nhead=nhead,
        num_layers=num_layers,
        dim_feedforward=dim_feedforward,
        dropout=dropout,
        max_len=max_len,
        pad_id=pad_id,
    )
    _unit_scale_init(encoder.embed)
    decoder = TransformerDecoder(
        tgt_vocab_size,
        d_model,
        nhead=nhead,
        num_layers=num_layers,
        dim_feedforward=dim_feedforward,
        dropout=dropout,
        max_len=max_len,
        pad_id=pad_id,
        kv_cache=kv_cache,
    )
    return EncoderDecoder(encoder, decoder, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)
