"""A GRU encoder–decoder with a fixed-length context vector (book section 5.1.1).

The encoder reads the source and keeps its last hidden state as the context vector ``c``; the
decoder starts from ``c`` and also sees ``c`` at every step next to the previous token
(Cho et al., 2014). Later sections add other encoders, decoders and attention.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


@dataclass
class EncoderOutput:
    outputs: torch.Tensor  # [B, S, H] hidden state at every source step (zeros on padding)
    context: torch.Tensor  # [B, H] the fixed-length summary c
    mask: torch.Tensor     # [B, S] True on real tokens


def _check_tokens(tokens: torch.Tensor, name: str) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.long:
        raise ValueError(f"{name} must be a LongTensor of shape [batch, time]")


class GRUEncoder(nn.Module):
    """Embedding → GRU over the (packed) source; the last real step's state is the context."""

    def __init__(self, vocab_size: int, emb_dim: int = 32, hidden: int = 64, pad_id: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden, batch_first=True)
        self.hidden_size = hidden

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        _check_tokens(src, "src")
        if lengths.shape != src.shape[:1]:
            raise ValueError(f"lengths must have shape [{src.shape[0]}], got {tuple(lengths.shape)}")
        packed = pack_padded_sequence(self.embed(src), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        mask = torch.arange(src.shape[1], device=src.device)[None] < lengths.to(src.device)[:, None]
        return EncoderOutput(out, h[-1], mask)


class GRUDecoder(nn.Module):
    """GRU whose input at step t is [embedding(y_{t-1}); c] and whose first state is c."""

    def __init__(self, vocab_size: int, emb_dim: int = 32, hidden: int = 64, pad_id: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim + hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, tgt_in: torch.Tensor, context: torch.Tensor,
                hidden: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[B, T, V]`` for every position of ``tgt_in`` and the final state ``[B, H]``."""
        _check_tokens(tgt_in, "tgt_in")
        hidden = context if hidden is None else hidden
        c = context[:, None, :].expand(-1, tgt_in.shape[1], -1)
        out, h = self.rnn(torch.cat([self.embed(tgt_in), c], dim=-1), hidden[None].contiguous())
        return self.out(out), h[0]


class Seq2Seq(nn.Module):
    """Encoder → context vector → decoder, trained with teacher forcing (see 5.3.4)."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, *, emb_dim: int = 32,
                 hidden: int = 64, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        super().__init__()
        if min(src_vocab_size, tgt_vocab_size, emb_dim, hidden) < 1:
            raise ValueError("vocabulary sizes, emb_dim and hidden must all be positive")
        self.encoder = GRUEncoder(src_vocab_size, emb_dim, hidden, pad_id)
        self.decoder = GRUDecoder(tgt_vocab_size, emb_dim, hidden, pad_id)
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        enc = self.encoder(src, src_lengths)
        logits, _ = self.decoder(tgt_in, enc.context)
        return logits

    # --- the step interface used by companion.decoding (greedy, beam and exhaustive search) ---
    def init_state(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder state before the first step: ``(hidden [B, H], context [B, H])``."""
        enc = self.encoder(src, src_lengths)
        return enc.context, enc.context

    def step(self, prev_tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One decoding step: ``prev_tokens [N]`` → next-token log-probabilities ``[N, V]``."""
        hidden, context = state
        logits, hidden = self.decoder(prev_tokens[:, None], context, hidden)
        return logits[:, -1].log_softmax(-1), (hidden, context)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int = 30) -> torch.Tensor:
        """Feed back the most likely token until ``<eos>`` or ``max_len``; returns ``[B, ≤max_len]``.

        Positions after a sequence's ``<eos>`` are filled with ``<pad>``.
        """
        if max_len < 1:
            raise ValueError(f"max_len must be ≥ 1, got {max_len}")
        state = self.init_state(src, src_lengths)
        tokens = torch.full((src.shape[0],), self.bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        outputs = []
        for _ in range(max_len):
            log_probs, state = self.step(tokens, state)
            tokens = log_probs.argmax(-1).masked_fill(done, self.pad_id)
            outputs.append(tokens)
            done |= tokens == self.eos_id
            if done.all():
                break
        return torch.stack(outputs, dim=1)


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean token cross-entropy over real (``mask``) positions only; padding contributes nothing."""
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ValueError(f"shapes do not match: logits {tuple(logits.shape)}, targets "
                         f"{tuple(targets.shape)}, mask {tuple(mask.shape)}")
    if not mask.any():
        raise ValueError("the mask selects no tokens")
    nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (nll * mask).sum() / mask.sum()


def seq2seq_loss(model: Seq2Seq, batch) -> torch.Tensor:
    """Loss function for :func:`companion.train.fit` on a :class:`~companion.data.Seq2SeqBatch`."""
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    return sequence_cross_entropy(logits, batch.tgt_out, batch.tgt_mask)


def translate(model: Seq2Seq, data, sentences, *, max_len: int = 30,
              device: torch.device | str | None = None) -> list[str]:
    """Greedy-decode new source sentences with the vocabularies of ``data`` (a ``Seq2SeqData``)."""
    from companion.data.vocab import detokenize

    device = device or next(model.parameters()).device
    src, lengths = data.encode_source(sentences)
    model.eval()
    out = model.greedy_decode(src.to(device), lengths.to(device), max_len=max_len)
    return [detokenize(data.tgt_vocab.decode(row.tolist()), data.tgt_lang) for row in out]
