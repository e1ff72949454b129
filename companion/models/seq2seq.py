"""Encoder–decoder models for sequences (book sections 5.1.1 and 5.3) and their loss.

:class:`EncoderDecoder` joins any encoder of :mod:`companion.models.encoders` with any decoder of
:mod:`companion.models.decoders`; :func:`make_seq2seq` builds one by name. The fixed-length-context
GRU model of section 5.1.1 (Cho et al., 2014) is ``make_seq2seq(V1, V2, encoder="gru",
decoder="context", init="context")``: the encoder's last hidden state is the context vector ``c``;
the decoder starts from ``c`` and also sees ``c`` at every step.

Every model offers the step interface used by :mod:`companion.decoding` (greedy, beam and
exhaustive search): ``init_state(src, src_lengths) -> state`` and
``step(prev_tokens [N], state) -> (log_probs [N, V], state)``, where ``state`` is a tuple of
tensors whose first axis is N.

Train any of them with :func:`companion.train.train_seq2seq` (:func:`companion.train.fit` with
:func:`seq2seq_loss`); decode them with :mod:`companion.inference`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from companion.decoding import DecoderState
from companion.models.decoders import SequenceDecoder, check_tokens, make_decoder
from companion.models.encoders import Encoder, EncoderOutput, check_sizes, make_encoder
from companion.validation import check_float, check_int, check_probability


class EncoderDecoder(nn.Module):
    """``encoder(src) → state → decoder``, with teacher
    forcing and the step interface of the searches.
    """

    def __init__(
        self,
        encoder: Encoder,
        decoder: SequenceDecoder,
        *,
        pad_id: int = 0,
        bos_id: int = 1,
        eos_id: int = 2,
    ):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt_in: torch.Tensor,
        *,
        teacher_forcing: float = 1.0,
    ) -> torch.Tensor:
        """Logits ``[B, T, V]`` for every target position.

        ``tgt_in`` is the target shifted right (starting with ``<bos>``). With
        ``teacher_forcing=1`` the decoder reads the true previous token at every step (all steps
        at once); with a ratio ``r < 1`` each example, at each step, reads the true token with
        probability ``r`` and otherwise the model's own most likely previous token.
        """
        teacher_forcing = check_probability(teacher_forcing, "teacher_forcing")
        check_tokens(tgt_in, "tgt_in", 2)
        state = self.init_state(src, src_lengths)
        if teacher_forcing >= 1.0:
            return self.decoder.decode(tgt_in, state, need_weights=False)[0]
        logits, tokens = [], tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            step_logits, state, _ = self.decoder.step(tokens, state)
            logits.append(step_logits)
            if t + 1 < tgt_in.shape[1]:
                use_truth = torch.rand(tokens.shape, device=tokens.device) < teacher_forcing
                tokens = torch.where(use_truth, tgt_in[:, t + 1], step_logits.detach().argmax(-1))
        return torch.stack(logits, 1)

    @torch.no_grad()
    def attention_weights(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced attention weights ``[B, T, S]``
        (a ValueError for decoders without attention).
        """
        state = self.init_state(src, src_lengths)
        weights = self.decoder.decode(tgt_in, state, need_weights=True)[1]
        if weights is None:
            raise ValueError(f"{type(self.decoder).__name__} has no attention weights")
        return weights

    # --- the step interface used by companion.decoding (greedy, beam and exhaustive search) ---
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> EncoderOutput:
        return self.encoder(src, src_lengths)

    def init_state(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        """Decoder state before the first step: a tuple of tensors with the batch first."""
        return self.decoder.init_state(self.encode(src, src_lengths))

    def step(
        self, prev_tokens: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, DecoderState]:
        """One decoding step: ``prev_tokens [N]`` → next-token log-probabilities ``[N, V]``."""
        logits, state, _ = self.decoder.step(prev_tokens, state)
        return logits.log_softmax(-1), state


def make_seq2seq(
    src_vocab_size: int,
    tgt_vocab_size: int,
    *,
    encoder: str = "gru",
    decoder: str = "attention",
    emb_dim: int = 32,
    hidden: int = 64,
    pad_id: int = 0,
    bos_id: int = 1,
    eos_id: int = 2,
    encoder_kwargs: dict | None = None,
    **decoder_kwargs,
) -> EncoderDecoder:
    """An :class:`EncoderDecoder` by name, e.g. ``make_seq2seq(V1, V2, encoder="bigru",
    decoder="attention", score="additive")``. Encoders: rnn, gru, lstm, bigru, bilstm, cnn,
    transformer; decoders: context (the book's), initial, attention."""
    check_sizes(
        src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, emb_dim=emb_dim, hidden=hidden
    )
    for name, value in (("pad_id", pad_id), ("bos_id", bos_id), ("eos_id", eos_id)):
        check_int(value, name, min=0, max=tgt_vocab_size - 1)
    enc = make_encoder(
        encoder, src_vocab_size, emb_dim, hidden, pad_id=pad_id, **(encoder_kwargs or {})
    )
    dec = make_decoder(
        decoder,
        tgt_vocab_size,
        emb_dim,
        hidden,
        context_dim=enc.hidden_size,
        pad_id=pad_id,
        **decoder_kwargs,
    )
    return EncoderDecoder(enc, dec, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)


def sequence_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    *,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean token cross-entropy over real (``mask``) positions only; padding contributes nothing.

    With ``label_smoothing`` ε the target of each position is ``1 − ε`` on the true token and
    ``ε`` spread evenly over the whole vocabulary (Szegedy et al., 2016), as in
    ``F.cross_entropy``: the model is not pushed to be certain, which usually helps translation.
    """
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ValueError(
            f"shapes do not match: logits {tuple(logits.shape)}, targets "
            f"{tuple(targets.shape)}, mask {tuple(mask.shape)}"
        )
    if not mask.any():
        raise ValueError("the mask selects no tokens")
    check_float(label_smoothing, "label_smoothing", min=0.0, max=1.0, max_open=True)
    nll = F.cross_entropy(
        logits.transpose(1, 2), targets, reduction="none", label_smoothing=label_smoothing
    )
    return (nll * mask).sum() / mask.sum()


def seq2seq_loss(
    model: EncoderDecoder, batch, teacher_forcing: float = 1.0, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Masked cross-entropy of a :class:`~companion.data.Seq2SeqBatch`,
    for :func:`companion.train.fit`.

    ``teacher_forcing`` (0…1) and ``label_smoothing`` apply while the model trains; in eval mode
    (validation) the loss is always the fully teacher-forced cross-entropy, so runs with different
    settings are compared on equal terms.
    """
    ratio = teacher_forcing if model.training else 1.0
    smoothing = label_smoothing if model.training else 0.0
    logits = model(batch.src, batch.src_lengths, batch.tgt_in, teacher_forcing=ratio)
    return sequence_cross_entropy(logits, batch.tgt_out, batch.tgt_mask, label_smoothing=smoothing)
