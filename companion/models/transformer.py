"""A Transformer encoder–decoder (book section 5.3.6; Vaswani et al., 2017) built on ``torch.nn``.

No recurrence: the encoder lets every source position attend to every other one (self-attention,
自注意力), the decoder attends to the prefix generated so far (masked self-attention) and to the
encoder's outputs (encoder–decoder attention, the same idea as (5-21)…(5-23) with several heads).
Order enters only through the sinusoidal positional encodings (位置编码) added to the embeddings.

Two masks make it a correct sequence model:

* a **causal mask** (因果掩码): target position t may not look at positions > t, so training on a
  whole target sentence at once (teacher forcing) computes exactly what step-by-step decoding
  computes;
* a **padding mask** (填充掩码): no query attends to the padding of a shorter source sentence.

The model exposes the project's step interface (``init_state`` / ``step``), so greedy, beam and
exhaustive search work on it unchanged. Its decoding state is the generated prefix plus the
encoder memory; each step re-runs the decoder over the prefix (simple, and cheap at these lengths).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from companion.data.batching import lengths_to_mask
from companion.models.seq2seq import Seq2Seq, _check_tokens


def sinusoidal_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """``PE[pos, 2i] = sin(pos / 10000^(2i/d))`` and ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d))``."""
    if max_len < 1 or d_model < 2 or d_model % 2:
        raise ValueError(f"need max_len ≥ 1 and an even d_model ≥ 2, got {max_len}, {d_model}")
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency)
    return pe


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal encodings to a ``[B, T, D]`` batch of embeddings."""

    def __init__(self, d_model: int, max_len: int = 256):
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[0]:
            raise ValueError(f"sequence of length {x.shape[1]} is longer than max_len="
                             f"{self.pe.shape[0]}; build the model with a larger max_len")
        return x + self.pe[: x.shape[1]]


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[size, size]`` boolean mask, True where query t would see a *future* key s > t (blocked)."""
    return torch.ones(size, size, dtype=torch.bool, device=device).triu(diagonal=1)


class TransformerSeq2Seq(nn.Module):
    """Embeddings + positional encodings → ``nn.TransformerEncoder`` / ``nn.TransformerDecoder``.

    Pre-layer-norm blocks (``norm_first=True``) train reliably at the small sizes used here.
    ``forward(src, src_lengths, tgt_in)`` returns logits ``[B, T, V]`` like :class:`Seq2Seq`, so
    the same loss and training loop serve both.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, *, d_model: int = 64,
                 nhead: int = 4, num_layers: int = 2, dim_feedforward: int = 128,
                 dropout: float = 0.1, max_len: int = 256, pad_id: int = 0, bos_id: int = 1,
                 eos_id: int = 2):
        super().__init__()
        if min(src_vocab_size, tgt_vocab_size, d_model, nhead, num_layers, dim_feedforward) < 1:
            raise ValueError("vocabulary sizes, d_model, nhead, num_layers and dim_feedforward must be positive")
        if d_model % nhead or (d_model // nhead) % 2:
            raise ValueError(f"d_model={d_model} must split into nhead={nhead} heads of even size")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.d_model = d_model
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.src_embed = nn.Embedding(src_vocab_size, d_model, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, d_model, padding_idx=pad_id)
        for emb in (self.src_embed, self.tgt_embed):  # scaled by √d below: unit variance, like PE
            nn.init.normal_(emb.weight, std=d_model ** -0.5)
            emb.weight.data[pad_id] = 0
        self.position = PositionalEncoding(d_model, max_len)
        self.dropout = nn.Dropout(dropout)
        block = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward,
                     dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(**block), num_layers,
                                             norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**block), num_layers,
                                             norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, tgt_vocab_size)

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.position(embedding(tokens) * math.sqrt(self.d_model)))

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Memory ``[B, S, D]`` and the source padding mask ``[B, S]`` (True on padding)."""
        _check_tokens(src, "src")
        if src_lengths.shape != src.shape[:1]:
            raise ValueError(f"src_lengths must have shape [{src.shape[0]}], got {tuple(src_lengths.shape)}")
        if (src_lengths < 1).any() or (src_lengths > src.shape[1]).any():
            raise ValueError(f"src_lengths must lie in 1…{src.shape[1]}")
        src_padding = ~lengths_to_mask(src_lengths.to(src.device), src.shape[1])
        memory = self.encoder(self._embed(self.src_embed, src), src_key_padding_mask=src_padding)
        return memory, src_padding

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_padding: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, V]``; position t sees ``tgt_in[:, :t+1]`` and every real source position.

        Target padding needs no mask of its own: with the causal mask, a pad token can only
        influence later positions, which are padding too and are ignored by the loss.
        """
        _check_tokens(tgt_in, "tgt_in")
        size = tgt_in.shape[1]
        hidden = self.decoder(self._embed(self.tgt_embed, tgt_in), memory,
                              tgt_mask=causal_mask(size, tgt_in.device), tgt_is_causal=True,
                              memory_key_padding_mask=src_padding)
        return self.out(hidden)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, *self.encode(src, src_lengths))

    # --- the step interface used by companion.decoding (greedy, beam and exhaustive search) ---
    def init_state(self, src: torch.Tensor, src_lengths: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(prefix [B, 0], memory [B, S, D], src_padding [B, S])`` before the first step."""
        memory, src_padding = self.encode(src, src_lengths)
        prefix = torch.empty(src.shape[0], 0, dtype=torch.long, device=src.device)
        return prefix, memory, src_padding

    def step(self, prev_tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Append ``prev_tokens [N]`` to the prefix; log-probabilities ``[N, V]`` of the next token."""
        prefix, memory, src_padding = state
        if prev_tokens.shape != prefix.shape[:1]:
            raise ValueError(f"prev_tokens must have shape [{prefix.shape[0]}], got {tuple(prev_tokens.shape)}")
        prefix = torch.cat([prefix, prev_tokens[:, None]], dim=1)
        logits = self.decode(prefix, memory, src_padding)
        return logits[:, -1].log_softmax(-1), (prefix, memory, src_padding)

    # The foundation's greedy loop only needs init_state/step and the special ids.
    greedy_decode = Seq2Seq.greedy_decode


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
