"""Encoder–decoder models for sequences (book sections 5.1.1 and 5.3), their loss and training.

:class:`EncoderDecoder` joins any encoder of :mod:`companion.models.encoders` with any decoder of
:mod:`companion.models.decoders`; :func:`make_seq2seq` builds one by name. :class:`Seq2Seq` is the
fixed-length-context GRU model of section 5.1.1 (Cho et al., 2014): the encoder's last hidden
state is the context vector ``c``; the decoder starts from ``c`` and also sees ``c`` at every step.

Every model offers the step interface used by :mod:`companion.decoding` (greedy, beam and
exhaustive search): ``init_state(src, src_lengths) -> state`` and
``step(prev_tokens [N], state) -> (log_probs [N, V], state)``, where ``state`` is a tuple of
tensors whose first axis is N.

Train any of them with :func:`train_seq2seq` (teacher-forcing ratio, masked cross-entropy,
gradient clipping, progress bar), which runs :func:`companion.train.fit` with :func:`seq2seq_loss`.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from companion.models.decoders import (ContextInputDecoder, Decoder, State, check_tokens,
                                       make_decoder)
from companion.models.encoders import Encoder, EncoderOutput, RNNEncoder, make_encoder


class EncoderDecoder(nn.Module):
    """``encoder(src) → state → decoder``, with teacher forcing, step-wise and greedy decoding."""

    def __init__(self, encoder: Encoder, decoder: Decoder, *, pad_id: int = 0, bos_id: int = 1,
                 eos_id: int = 2):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Logits ``[B, T, V]`` for every target position.

        ``tgt_in`` is the target shifted right (starting with ``<bos>``). With
        ``teacher_forcing=1`` the decoder reads the true previous token at every step (all steps
        at once); with a ratio ``r < 1`` each example, at each step, reads the true token with
        probability ``r`` and otherwise the model's own most likely previous token.
        """
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must lie in 0…1, got {teacher_forcing}")
        check_tokens(tgt_in, "tgt_in", 2)
        state = self.init_state(src, src_lengths)
        if teacher_forcing >= 1.0:
            return self.decoder.decode(tgt_in, state)[0]
        logits, tokens = [], tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            step_logits, state, _ = self.decoder.step(tokens, state)
            logits.append(step_logits)
            if t + 1 < tgt_in.shape[1]:
                use_truth = torch.rand(tokens.shape, device=tokens.device) < teacher_forcing
                tokens = torch.where(use_truth, tgt_in[:, t + 1], step_logits.detach().argmax(-1))
        return torch.stack(logits, 1)

    @torch.no_grad()
    def attention_weights(self, src: torch.Tensor, src_lengths: torch.Tensor,
                          tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced attention weights ``[B, T, S]`` (a ValueError for decoders without attention)."""
        weights = self.decoder.decode(tgt_in, self.init_state(src, src_lengths))[1]
        if weights is None:
            raise ValueError(f"{type(self.decoder).__name__} has no attention weights")
        return weights

    # --- the step interface used by companion.decoding (greedy, beam and exhaustive search) ---
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> EncoderOutput:
        return self.encoder(src, src_lengths)

    def init_state(self, src: torch.Tensor, src_lengths: torch.Tensor) -> State:
        """Decoder state before the first step: a tuple of tensors with the batch first."""
        return self.decoder.init_state(self.encode(src, src_lengths))

    def step(self, prev_tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One decoding step: ``prev_tokens [N]`` → next-token log-probabilities ``[N, V]``."""
        logits, state, _ = self.decoder.step(prev_tokens, state)
        return logits.log_softmax(-1), state

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int = 30, *,
                      return_attention: bool = False):
        """Feed back the most likely token until ``<eos>`` or ``max_len``; returns ``[B, ≤max_len]``.

        Positions after a sequence's ``<eos>`` are filled with ``<pad>``. With
        ``return_attention`` also return the weights ``[B, L, S]`` (attention decoders only).
        """
        if max_len < 1:
            raise ValueError(f"max_len must be ≥ 1, got {max_len}")
        state = self.init_state(src, src_lengths)
        tokens = torch.full((src.shape[0],), self.bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        outputs, weights = [], []
        for _ in range(max_len):
            logits, state, w = self.decoder.step(tokens, state)
            tokens = logits.argmax(-1).masked_fill(done, self.pad_id)
            outputs.append(tokens)
            weights.append(w)
            done |= tokens == self.eos_id
            if done.all():
                break
        out = torch.stack(outputs, dim=1)
        if not return_attention:
            return out
        if weights[0] is None:
            raise ValueError(f"{type(self.decoder).__name__} has no attention weights")
        return out, torch.stack(weights, dim=1)


def make_seq2seq(src_vocab_size: int, tgt_vocab_size: int, *, encoder: str = "gru",
                 decoder: str = "attention", emb_dim: int = 32, hidden: int = 64,
                 pad_id: int = 0, bos_id: int = 1, eos_id: int = 2,
                 encoder_kwargs: dict | None = None, **decoder_kwargs) -> EncoderDecoder:
    """An :class:`EncoderDecoder` by name, e.g. ``make_seq2seq(V1, V2, encoder="bigru",
    decoder="attention", score="additive")``. Encoders: rnn, gru, lstm, bigru, bilstm, cnn,
    transformer; decoders: context (the book's), initial, attention."""
    if min(src_vocab_size, tgt_vocab_size, emb_dim, hidden) < 1:
        raise ValueError("vocabulary sizes, emb_dim and hidden must all be positive")
    enc = make_encoder(encoder, src_vocab_size, emb_dim, hidden, pad_id=pad_id,
                       **(encoder_kwargs or {}))
    dec = make_decoder(decoder, tgt_vocab_size, emb_dim, hidden, context_dim=enc.hidden_size,
                       pad_id=pad_id, **decoder_kwargs)
    return EncoderDecoder(enc, dec, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)


class GRUEncoder(RNNEncoder):
    """Embedding → GRU over the (packed) source; the last real step's state is the context."""

    def __init__(self, vocab_size: int, emb_dim: int = 32, hidden: int = 64, pad_id: int = 0):
        super().__init__(vocab_size, emb_dim, hidden, cell="gru", pad_id=pad_id)


class GRUDecoder(ContextInputDecoder):
    """GRU whose input at step t is [embedding(y_{t-1}); c] and whose first state is c."""

    def __init__(self, vocab_size: int, emb_dim: int = 32, hidden: int = 64, pad_id: int = 0):
        super().__init__(vocab_size, emb_dim, hidden, init="context", pad_id=pad_id)

    def forward(self, tgt_in: torch.Tensor, context: torch.Tensor,
                hidden: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[B, T, V]`` for every position of ``tgt_in`` and the final state ``[B, H]``."""
        check_tokens(tgt_in, "tgt_in", 2)
        hidden = context if hidden is None else hidden
        c = context[:, None, :].expand(-1, tgt_in.shape[1], -1)
        out, h = self.rnn(torch.cat([self.embed(tgt_in), c], dim=-1), hidden[None].contiguous())
        return self.out(out), h[0]


class Seq2Seq(EncoderDecoder):
    """Encoder → context vector → decoder (section 5.1.1), trained with teacher forcing (5.3.4)."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, *, emb_dim: int = 32,
                 hidden: int = 64, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        if min(src_vocab_size, tgt_vocab_size, emb_dim, hidden) < 1:
            raise ValueError("vocabulary sizes, emb_dim and hidden must all be positive")
        super().__init__(GRUEncoder(src_vocab_size, emb_dim, hidden, pad_id),
                         GRUDecoder(tgt_vocab_size, emb_dim, hidden, pad_id),
                         pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean token cross-entropy over real (``mask``) positions only; padding contributes nothing."""
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ValueError(f"shapes do not match: logits {tuple(logits.shape)}, targets "
                         f"{tuple(targets.shape)}, mask {tuple(mask.shape)}")
    if not mask.any():
        raise ValueError("the mask selects no tokens")
    nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (nll * mask).sum() / mask.sum()


def seq2seq_loss(model: EncoderDecoder, batch, teacher_forcing: float = 1.0) -> torch.Tensor:
    """Masked cross-entropy of a :class:`~companion.data.Seq2SeqBatch`, for :func:`companion.train.fit`.

    ``teacher_forcing`` (0…1) applies while the model trains; in eval mode (validation) the loss
    is always fully teacher-forced, so runs with different ratios are compared on equal terms.
    """
    ratio = teacher_forcing if model.training else 1.0
    logits = model(batch.src, batch.src_lengths, batch.tgt_in, teacher_forcing=ratio)
    return sequence_cross_entropy(logits, batch.tgt_out, batch.tgt_mask)


def train_seq2seq(model: EncoderDecoder, train_data, *, epochs: int, teacher_forcing: float = 1.0,
                  lr: float = 1e-3, clip_grad_norm: float | None = 1.0, **fit_kwargs):
    """Train any encoder–decoder of this module; returns the :class:`~companion.train.History`.

    ``teacher_forcing`` is the probability (0…1) of feeding the true previous token rather than
    the model's own prediction; the loss is the masked cross-entropy; gradients are clipped to
    norm ``clip_grad_norm``. Other keywords (``valid_data``, ``device``, ``progress``,
    ``checkpoint_path``, ``history``, ``optimizer``, ``on_epoch_end``) go to
    :func:`companion.train.fit`.
    """
    from companion.train import fit

    if not 0.0 <= teacher_forcing <= 1.0:
        raise ValueError(f"teacher_forcing must lie in 0…1, got {teacher_forcing}")
    loss_fn = functools.partial(seq2seq_loss, teacher_forcing=teacher_forcing)
    return fit(model, train_data, loss_fn, epochs=epochs, lr=lr, clip_grad_norm=clip_grad_norm,
               **fit_kwargs)


@torch.no_grad()
def translate(model: EncoderDecoder, data, sentences, *, max_len: int = 30, batch_size: int = 512,
              device: torch.device | str | None = None) -> list[str]:
    """Greedy-decode source sentences with the vocabularies of ``data`` (a ``Seq2SeqData``)."""
    from companion.data.vocab import detokenize

    if isinstance(sentences, str):
        sentences = [sentences]
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    results = []
    for start in range(0, len(sentences), batch_size):
        src, lengths = data.encode_source(sentences[start:start + batch_size])
        out = model.greedy_decode(src.to(device), lengths.to(device), max_len=max_len)
        results += [detokenize(data.tgt_vocab.decode(row.tolist()), data.tgt_lang) for row in out]
    model.train(was_training)
    return results
