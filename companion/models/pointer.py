"""The copy mechanism (复制机制) and the coverage mechanism (覆盖机制) of section 5.1.2.

Section 5.1.2 names two refinements of the attention decoder for summarisation and dialogue: a
*copy mechanism* that lets the decoder take a word straight from the input, and a *coverage
mechanism* that keeps it from repeating itself. Both are here in the form of See et al. (2017),
"Get To The Point", on top of the attention decoder of 5.3.3 (5-21…5-24).

**Pointer–generator.** At step ``t`` the attention decoder has its state ``s_t``, its input
embedding ``x_t``, the weights ``α_t`` over the source positions (5-22) and the context ``c_t``
(5-23). Its output layer (5-24) gives ``P_vocab = softmax(W[s_t; c_t] + b)`` over the target
vocabulary. The pointer–generator mixes that with the attention itself::

    p_gen = σ(w_c·c_t + w_s·s_t + w_x·x_t + b_gen)                      (a number in (0, 1))
    p(w)  = p_gen · P_vocab(w) + (1 − p_gen) · Σ_{i: x_i = w} α_{t,i}

so the probability of writing ``w`` grows with the attention on every source position that holds
``w``. With ``p_gen = 1`` it is the attention decoder.

**Extended vocabulary.** A source word outside the target vocabulary can still be copied. Ids
``0 … V−1`` are the target vocabulary; the ``n_extra`` ids after it are per-sentence slots: the
k-th distinct source word of a sentence that the target vocabulary lacks gets id ``V + k`` (words
beyond ``n_extra`` slots, and the source's own ``<unk>`` when only ids are known, fall back to the
target's ``<unk>``). So the output has ``V + n_extra`` entries; a slot that no source word fills
has probability 0. :func:`companion.data.vocab.extend_with_source` computes the slots from the
words (so a name never seen in training is copied too), :meth:`PointerGenerator.extend_source`
from the ids of a batch. A generated slot id is fed back to the decoder as ``<unk>``.

**Coverage.** ``cov_t = Σ_{t' < t} α_{t'}`` is how much attention each source position has had so
far. With ``coverage=True`` the score sees it,
``e_{t,i} = vᵀ tanh(W_s s_t + W_h h_i + w_cov cov_{t,i})``, and :func:`pointer_generator_loss`
adds ``λ Σ_t Σ_i min(α_{t,i}, cov_{t,i})``, which is large when the decoder attends again to
positions it has already used.

Every decoder here returns **log-probabilities** where the other decoders return logits: the mixture
is a probability, not a softmax of scores. Since ``log_softmax`` of log-probabilities changes
nothing, :class:`~companion.models.seq2seq.EncoderDecoder`'s step interface, its loss and the
searches of :mod:`companion.decoding` use it unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from companion.decoding import DecoderState
from companion.models.attention import AdditiveScore, make_score, masked_softmax
from companion.models.decoders import SequenceDecoder, _bridge, check_tokens
from companion.models.encoders import EncoderOutput, check_sizes, make_encoder
from companion.models.seq2seq import EncoderDecoder, sequence_cross_entropy
from companion.validation import check_float, check_int

#: probabilities are floored here before the logarithm, so an impossible token gets a large
#: negative log-probability (and no gradient) instead of −inf
_TINY = torch.finfo(torch.float32).tiny


class CoverageScore(nn.Module):
    """``e_{t,i} = vᵀ tanh(W_s s_t + W_h h_i + w_cov cov_{t,i})`` — the additive score of 5.3.3
    that also sees how much attention position ``i`` has had so far (See et al. 2017, eq. 11)."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.additive = AdditiveScore(query_dim, key_dim)
        self.w_cov = nn.Linear(1, key_dim, bias=False)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, coverage: torch.Tensor
    ) -> torch.Tensor:
        """``query [B, T, Dq]``, ``keys [B, S, Dk]``, ``coverage [B, T, S]`` → ``[B, T, S]``."""
        a = self.additive
        # [B, T, 1, A] + [B, 1, S, A] + [B, T, S, A] → [B, T, S, A] → [B, T, S]
        hidden = torch.tanh(
            a.W_s(query)[:, :, None] + a.W_h(keys)[:, None] + self.w_cov(coverage[..., None])
        )
        return a.v(hidden).squeeze(-1)


class PointerGeneratorDecoder(SequenceDecoder):
    """The attention decoder of 5.3.3 with a copy switch ``p_gen`` (and optional coverage).

    State: ``(s [B, H], memory [B, S, M], mask [B, S], src_ext [B, S], coverage [B, S])``, where
    ``src_ext`` holds every source position's id in the extended vocabulary (see the module
    docstring). ``step`` and ``decode`` return log-probabilities over ``vocab_size + n_extra``
    ids, and the attention weights.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        memory_dim: int | None = None,
        score: str = "general",
        n_extra: int = 20,
        coverage: bool = False,
        pad_id: int = 0,
        unk_id: int = 3,
    ):
        super().__init__()
        check_sizes(vocab_size=vocab_size, emb_dim=emb_dim, hidden=hidden)
        check_int(n_extra, "n_extra (slots for source words outside the vocabulary)", min=0)
        check_int(unk_id, "unk_id", min=0, max=vocab_size - 1)
        memory_dim = memory_dim or hidden
        self.vocab_size, self.n_extra, self.unk_id = vocab_size, n_extra, unk_id
        self.hidden_size, self.use_coverage = hidden, bool(coverage)
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.bridge = _bridge(memory_dim, hidden)
        self.rnn = nn.GRU(emb_dim, hidden, batch_first=True)
        self.score = (
            CoverageScore(hidden, memory_dim) if coverage else make_score(score, hidden, memory_dim)
        )
        self.out = nn.Linear(hidden + memory_dim, vocab_size)  # W and b of (5-24)
        self.p_gen = nn.Linear(memory_dim + hidden + emb_dim, 1)  # w_c, w_s, w_x and b_gen

    @property
    def extended_size(self) -> int:
        """``vocab_size + n_extra``: the number of log-probabilities per step."""
        return self.vocab_size + self.n_extra

    def init_state(self, enc: EncoderOutput, src_ext: torch.Tensor | None = None) -> DecoderState:
        if src_ext is None:
            raise ValueError(
                "the pointer-generator needs every source position's id in the extended "
                "vocabulary (src_ext); PointerGenerator.init_state computes it for you"
            )
        if src_ext.shape != enc.mask.shape or src_ext.dtype != torch.long:
            raise ValueError(
                f"src_ext must be a LongTensor shaped like the source {tuple(enc.mask.shape)}, got "
                f"{tuple(src_ext.shape)} ({src_ext.dtype})"
            )
        if bool((src_ext < 0).any()) or bool((src_ext >= self.extended_size).any()):
            raise ValueError(
                f"src_ext ids must lie in [0, {self.extended_size}) (vocabulary {self.vocab_size} "
                f"+ {self.n_extra} extra slots), got {int(src_ext.min())}…{int(src_ext.max())}"
            )
        coverage = enc.outputs.new_zeros(enc.mask.shape)
        return self.bridge(enc.context), enc.outputs, enc.mask, src_ext, coverage

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        # a copied word outside the vocabulary (an id ≥ V) is read back as <unk>
        return self.embed(tokens.masked_fill(tokens >= self.vocab_size, self.unk_id))

    def _mix(
        self,
        x: torch.Tensor,
        s: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        src_ext: torch.Tensor,
        coverage: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x [B, T, E]``, ``s [B, T, H]`` (and ``coverage [B, T, S]``) → log p ``[B, T, V + n]``,
        the attention weights ``[B, T, S]`` and the switch ``p_gen [B, T]``."""
        if coverage is None:
            scores = self.score(s, memory)  # (5-21)
        else:
            scores = self.score(s, memory, coverage)
        alpha = masked_softmax(scores, mask)  # (5-22)
        context = alpha @ memory  # (5-23)
        p_vocab = self.out(torch.cat([s, context], -1)).softmax(-1)  # (5-24)
        p_gen = torch.sigmoid(self.p_gen(torch.cat([context, s, x], -1)))  # [B, T, 1]
        B, T, _ = p_vocab.shape
        mixed = torch.cat([p_gen * p_vocab, p_vocab.new_zeros(B, T, self.n_extra)], -1)
        index = src_ext[:, None, :].expand(-1, T, -1)  # [B, T, S]
        mixed = mixed.scatter_add(-1, index, (1 - p_gen) * alpha)  # + (1 − p_gen) Σ_{x_i = w} α_i
        return mixed.clamp_min(_TINY).log(), alpha, p_gen[..., 0]

    def _step(self, prev_tokens, state):
        s, memory, mask, src_ext, coverage = state
        x = self._embed(prev_tokens)[:, None]  # [N, 1, E]
        out, s = self.rnn(x, s[None].contiguous())
        cov = coverage[:, None] if self.use_coverage else None
        log_p, alpha, p_gen = self._mix(x, out, memory, mask, src_ext, cov)
        new_state = (s[0], memory, mask, src_ext, coverage + alpha[:, 0])
        return log_p[:, 0], new_state, alpha[:, 0], p_gen[:, 0]

    def step(self, prev_tokens, state):
        check_tokens(prev_tokens, "prev_tokens", 1)
        log_p, state, alpha, _ = self._step(prev_tokens, state)
        return log_p, state, alpha

    def decode_with_switch(
        self, tgt_in: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher-forced log-probabilities ``[B, T, V + n]``, attention ``[B, T, S]`` and the
        switch ``p_gen [B, T]`` of every step."""
        check_tokens(tgt_in, "tgt_in", 2)
        if self.use_coverage:  # each step's scores need the attention of the steps before
            steps = []
            for t in range(tgt_in.shape[1]):
                log_p, state, alpha, p_gen = self._step(tgt_in[:, t], state)
                steps.append((log_p, alpha, p_gen))
            log_ps, alphas, p_gens = zip(*steps, strict=True)
            return torch.stack(log_ps, 1), torch.stack(alphas, 1), torch.stack(p_gens, 1)
        s0, memory, mask, src_ext, _ = state
        x = self._embed(tgt_in)
        s, _ = self.rnn(x, s0[None].contiguous())  # every s_t at once
        return self._mix(x, s, memory, mask, src_ext, None)

    def decode(self, tgt_in, state, *, need_weights=True):
        log_p, alpha, _ = self.decode_with_switch(tgt_in, state)  # the weights cost nothing extra
        return log_p, alpha


def coverage_penalty(weights: torch.Tensor, tgt_mask: torch.Tensor) -> torch.Tensor:
    """See et al.'s coverage loss: ``Σ_i min(α_{t,i}, cov_{t,i})`` averaged over real target steps.

    ``weights [B, T, S]`` (the attention of every step), ``tgt_mask [B, T]``. ``cov_t`` is the sum
    of the weights of the steps before ``t``; the penalty is 0 when no position is attended twice.
    """
    if weights.dim() != 3 or tgt_mask.shape != weights.shape[:2]:
        raise ValueError(
            f"weights must be [B, T, S] and tgt_mask [B, T]; got {tuple(weights.shape)} and "
            f"{tuple(tgt_mask.shape)}"
        )
    coverage = weights.cumsum(1) - weights  # Σ_{t' < t} α_{t'}
    per_step = torch.minimum(weights, coverage).sum(-1)
    return (per_step * tgt_mask).sum() / tgt_mask.sum().clamp_min(1)


class PointerGenerator(EncoderDecoder):
    """An encoder with a :class:`PointerGeneratorDecoder`: the copy mechanism behind the usual
    interface (``forward``, ``init_state``, ``step``), so training, :mod:`companion.inference` and
    the searches work as for any :class:`EncoderDecoder`.

    ``source_to_target [V_src]`` maps every source-vocabulary id to the same word's target id, or
    to −1 when the target vocabulary lacks the word (:func:`make_pointer_generator` builds it).
    """

    source_to_target: torch.Tensor
    decoder: PointerGeneratorDecoder

    def __init__(
        self,
        encoder,
        decoder: PointerGeneratorDecoder,
        source_to_target: torch.Tensor,
        *,
        pad_id: int = 0,
        bos_id: int = 1,
        eos_id: int = 2,
        src_unk_id: int = 3,
    ):
        if not isinstance(decoder, PointerGeneratorDecoder):
            raise TypeError("PointerGenerator needs a PointerGeneratorDecoder")
        super().__init__(encoder, decoder, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)
        self.src_unk_id = src_unk_id
        self.register_buffer("source_to_target", source_to_target.long().clone())

    def extend_source(self, src: torch.Tensor) -> torch.Tensor:
        """Source ids ``[B, S]`` → the same positions' ids in the extended output vocabulary.

        Words the target vocabulary has keep their target id; the k-th distinct other word of a
        row gets ``V + k`` (``<unk>`` beyond the slots, and for the source's own ``<unk>``, whose
        word the ids no longer tell).
        """
        dec = self.decoder
        mapped = self.source_to_target[src]
        out = mapped.clone()
        for b in range(src.shape[0]):
            slots: dict[int, int] = {}
            for i in (mapped[b] < 0).nonzero().flatten().tolist():
                word = int(src[b, i])
                if word not in slots and len(slots) < dec.n_extra:
                    slots[word] = dec.vocab_size + len(slots)
                out[b, i] = slots.get(word, dec.unk_id)
        out[src == self.src_unk_id] = dec.unk_id
        out[src == self.pad_id] = self.pad_id
        return out

    def init_state(
        self, src: torch.Tensor, src_lengths: torch.Tensor, src_ext: torch.Tensor | None = None
    ) -> DecoderState:
        """As for every model; ``src_ext`` (from the source *words*, see
        :func:`companion.data.vocab.extend_with_source`) lets words unknown to both vocabularies be
        copied, otherwise it is computed from the ids with :meth:`extend_source`."""
        if src_ext is None:
            src_ext = self.extend_source(src)
        return self.decoder.init_state(self.encode(src, src_lengths), src_ext)

    @torch.no_grad()
    def copy_switch(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor
    ) -> torch.Tensor:
        """``p_gen [B, T]`` of every teacher-forced step: near 1 where the decoder generates from
        its vocabulary, near 0 where it copies from the source."""
        return self.decoder.decode_with_switch(tgt_in, self.init_state(src, src_lengths))[2]


def make_pointer_generator(
    src_vocab,
    tgt_vocab,
    *,
    encoder: str = "gru",
    emb_dim: int = 32,
    hidden: int = 64,
    score: str = "general",
    n_extra: int = 20,
    coverage: bool = False,
    encoder_kwargs: dict | None = None,
) -> PointerGenerator:
    """A pointer–generator for a pair of :class:`~companion.data.vocab.Vocab`: the vocabularies
    themselves (not their sizes), because copying needs to know which source word is which target
    word. ``coverage=True`` adds the coverage mechanism (its attention score is additive)."""
    from companion.data.vocab import Vocab

    for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
        if not isinstance(vocab, Vocab):
            raise TypeError(f"{name} must be a Vocab (the copy needs the words), got {vocab!r}")
    enc = make_encoder(encoder, len(src_vocab), emb_dim, hidden, **(encoder_kwargs or {}))
    dec = PointerGeneratorDecoder(
        len(tgt_vocab),
        emb_dim,
        hidden,
        memory_dim=enc.hidden_size,
        score=score,
        n_extra=n_extra,
        coverage=coverage,
        pad_id=tgt_vocab.pad_id,
        unk_id=tgt_vocab.unk_id,
    )
    mapping = torch.tensor([tgt_vocab.stoi.get(w, -1) for w in src_vocab.itos], dtype=torch.long)
    mapping[: len(("<pad>", "<bos>", "<eos>", "<unk>"))] = torch.arange(4)  # specials to specials
    return PointerGenerator(
        enc,
        dec,
        mapping,
        pad_id=tgt_vocab.pad_id,
        bos_id=tgt_vocab.bos_id,
        eos_id=tgt_vocab.eos_id,
        src_unk_id=src_vocab.unk_id,
    )


def pointer_generator_loss(model: PointerGenerator, batch, coverage_weight: float = 1.0) -> dict:
    """Masked cross-entropy of the mixture, plus ``coverage_weight`` × :func:`coverage_penalty`
    when the decoder has coverage; for :func:`companion.train.fit`."""
    check_float(coverage_weight, "coverage_weight", min=0.0)
    state = model.init_state(batch.src, batch.src_lengths)
    log_p, weights = model.decoder.decode(batch.tgt_in, state)
    assert weights is not None  # the pointer-generator always attends
    nll = sequence_cross_entropy(log_p, batch.tgt_out, batch.tgt_mask)
    if not model.decoder.use_coverage:
        return {"loss": nll, "nll": nll}
    penalty = coverage_penalty(weights, batch.tgt_mask)
    return {"loss": nll + coverage_weight * penalty, "nll": nll, "coverage": penalty}
