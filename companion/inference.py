"""Decoding trained encoder–decoders: the one entry for every decode of a model (5.3.3, 5.3.4).

Everything here drives the searches of :mod:`companion.decoding` through a model's step
interface (``init_state(src, src_lengths)``, ``step(prev_tokens, state)``, ``bos_id``,
``eos_id``), so that greedy and beam decoding of a model exist once:

* :func:`decode_data` — every example of a :class:`~companion.data.Seq2SeqData` (or
  :class:`~companion.data.CaptionData`, or any data set with ``batch(indices)``) →
  :class:`~companion.decoding.Hypothesis` lists;
* :func:`decode_sentences` — raw source sentences → :class:`~companion.decoding.Hypothesis` lists;
* :func:`translate` — raw source sentences → detokenised target sentences;
* :func:`nbest` — one input's n-best list as :class:`NBestRow` s, ready to print or plot (the
  beam-width slider of 5.3.4 and the translator of 5.3.7 both show it);
* :func:`greedy_with_attention` — greedy outputs plus the attention weights of every step.

``beam_width=1`` (with ``n_best=1`` and no length penalty) runs greedy search, which gives the
same result as a beam of width 1 at less cost; otherwise beam search. The options are checked
once, by the function the student called here, which then runs the searches unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from companion.decoding import (
    DecoderState,
    Hypothesis,
    _beam_search,
    _greedy_search,
    check_search_options,
    greedy_search,
)
from companion.model_utils import eval_mode, model_device, predict_batches
from companion.validation import check_int, check_str_sequence, describe

if TYPE_CHECKING:
    from companion.data.batching import Seq2SeqData

_MODEL_INTERFACE = ("init_state", "step", "bos_id", "eos_id")


def _check_model(model) -> None:
    missing = [name for name in _MODEL_INTERFACE if not hasattr(model, name)]
    if missing:
        raise TypeError(
            f"model must be an encoder–decoder with init_state, step, bos_id and eos_id (e.g. "
            f"from companion.models.make_seq2seq); {describe(model)} has no {', '.join(missing)}"
        )


def _search(
    model, state: DecoderState, *, beam_width: int, max_len: int, length_penalty: float, n_best: int
) -> list[list[Hypothesis]]:
    """Greedy or beam search on already checked options."""
    ids = dict(bos_id=model.bos_id, eos_id=model.eos_id, max_len=max_len)
    if beam_width == 1 and n_best == 1 and length_penalty == 0:
        return _greedy_search(model.step, state, **ids)
    return _beam_search(
        model.step,
        state,
        beam_width=beam_width,
        n_best=n_best,
        length_penalty=length_penalty,
        **ids,
    )


def decode_data(
    model,
    data,
    *,
    beam_width: int = 1,
    max_len: int = 30,
    length_penalty: float = 0.0,
    n_best: int = 1,
    batch_size: int = 256,
) -> list[list[Hypothesis]]:
    """Decode every source of ``data`` in order: one list of ``n_best`` hypotheses (best first)
    per example. The model runs where it is, in eval mode (restored afterwards)."""
    _check_model(model)
    alpha = check_search_options(
        beam_width=beam_width, n_best=n_best, max_len=max_len, length_penalty=length_penalty
    )

    def predict(model, batch) -> list[list[Hypothesis]]:
        state = model.init_state(batch.src, batch.src_lengths)
        return _search(
            model,
            state,
            beam_width=beam_width,
            max_len=max_len,
            length_penalty=alpha,
            n_best=n_best,
        )

    return predict_batches(model, data, predict, batch_size=batch_size)


@dataclass
class _SourceBatch:
    src: torch.Tensor
    src_lengths: torch.Tensor

    def to(self, device: torch.device | str) -> _SourceBatch:
        return _SourceBatch(self.src.to(device), self.src_lengths.to(device))


@dataclass
class _Sources:
    """New source sentences, batched with the source vocabulary of a ``Seq2SeqData``."""

    data: Seq2SeqData
    sentences: Sequence[str]

    def __len__(self) -> int:
        return len(self.sentences)

    def batch(self, indices: Sequence[int]) -> _SourceBatch:
        return _SourceBatch(*self.data.encode_source([self.sentences[i] for i in indices]))


def _check_sources(data, sentences: str | Sequence[str]) -> list[str]:
    if not hasattr(data, "encode_source"):
        raise TypeError(
            f"data must offer the source vocabulary (a Seq2SeqData or a translation.Translator, "
            f"with encode_source), got {describe(data)}"
        )
    if isinstance(sentences, str):
        return [sentences]
    return check_str_sequence(sentences, "sentences")


def decode_sentences(
    model,
    data,
    sentences: str | Sequence[str],
    *,
    beam_width: int = 1,
    max_len: int = 30,
    length_penalty: float = 0.0,
    n_best: int = 1,
    batch_size: int = 512,
) -> list[list[Hypothesis]]:
    """Decode raw source sentences, encoded with the source vocabulary of ``data`` (a
    ``Seq2SeqData`` or a :class:`~companion.translation.Translator`): one list of ``n_best``
    hypotheses (best first) per sentence."""
    sentences = _check_sources(data, sentences)
    return decode_data(
        model,
        _Sources(data, sentences),
        beam_width=beam_width,
        max_len=max_len,
        length_penalty=length_penalty,
        n_best=n_best,
        batch_size=batch_size,
    )


def translate(
    model,
    data,
    sentences: str | Sequence[str],
    *,
    beam_width: int = 1,
    max_len: int = 30,
    length_penalty: float = 0.0,
    batch_size: int = 512,
) -> list[str]:
    """Translate raw source sentences with the vocabularies of ``data`` (a ``Seq2SeqData``).

    Returns the best output of each sentence as text, detokenised for the target language
    (greedy search for ``beam_width=1``, beam search otherwise).
    """
    if hasattr(model, "extend_source"):  # a copy mechanism: it may write the source's own words
        alpha = check_search_options(
            beam_width=beam_width, n_best=1, max_len=max_len, length_penalty=length_penalty
        )
        return _translate_with_copy(
            model,
            data,
            _check_sources(data, sentences),
            beam_width=beam_width,
            max_len=max_len,
            length_penalty=alpha,
            batch_size=batch_size,
        )
    hyps = decode_sentences(
        model,
        data,
        sentences,
        beam_width=beam_width,
        max_len=max_len,
        length_penalty=length_penalty,
        batch_size=batch_size,
    )
    return [data.tgt_vocab.decode_text(h[0].tokens, data.tgt_lang) for h in hyps]


@dataclass(frozen=True)
class NBestRow:
    """One hypothesis of an n-best list, to print or to plot (:func:`companion.plot.plot_nbest`)."""

    text: str  # detokenised; a stray <pad> or <bos> is shown, not hidden
    log_prob: float  # log p(y | x), summed over the tokens (divided by L**α with a length penalty)
    finished: bool  # ended with <eos> (False: cut at max_len)
    matches_reference: bool  # equals the reference (False when there is none)
    tokens: tuple[int, ...] = ()  # the token ids, <eos> included when it was produced


def nbest(
    model,
    data,
    source: int | str,
    *,
    beam_width: int,
    max_len: int = 30,
    length_penalty: float = 0.0,
) -> list[NBestRow]:
    """The ``beam_width`` best hypotheses of a beam of that width for one input, best first.

    ``source`` is the index of an example of ``data`` (compared with its reference) or a new
    source sentence (encoded with the source vocabulary of ``data``; there is no reference).
    """
    from companion.data.subwords import SubwordVocab
    from companion.data.vocab import detokenize, tokenize

    _check_model(model)
    if isinstance(source, str):
        sentences, reference = _check_sources(data, source), None
    else:
        check_int(source, "source (an example index)", min=0, max=len(data) - 1)
        pairs = getattr(data, "pairs", None)
        reference = None if pairs is None else tokenize(pairs[source].tgt, data.tgt_lang)
    alpha = check_search_options(
        beam_width=beam_width, n_best=beam_width, max_len=max_len, length_penalty=length_penalty
    )
    with eval_mode(model), torch.no_grad():
        if isinstance(source, str):
            src, lengths = data.encode_source(sentences)
        else:
            batch = data.batch([source])
            src, lengths = batch.src, batch.src_lengths
        device = model_device(model)
        state = model.init_state(src.to(device), lengths.to(device))
        hyps = _search(
            model,
            state,
            beam_width=beam_width,
            max_len=max_len,
            length_penalty=alpha,
            n_best=beam_width,
        )[0]
    vocab, lang = data.tgt_vocab, data.tgt_lang
    rows = []
    for h in hyps:
        if isinstance(vocab, SubwordVocab):  # pieces: SentencePiece writes the text
            text = vocab.decode_text(h.tokens, lang)
            tokens = tokenize(text, lang)
        else:
            tokens = vocab.decode(h.tokens, strip_specials=False)  # show a stray <pad> or <bos>
            text = detokenize(tokens, lang)
        rows.append(
            NBestRow(
                text,
                h.score,
                bool(h.tokens) and h.tokens[-1] == model.eos_id,
                tokens == reference,
                tuple(h.tokens),
            )
        )
    return rows


@dataclass
class _CopySourceBatch:
    src: torch.Tensor
    src_lengths: torch.Tensor
    src_ext: torch.Tensor  # the source positions' ids in the extended vocabulary

    def to(self, device: torch.device | str) -> _CopySourceBatch:
        return _CopySourceBatch(*(t.to(device) for t in (self.src, self.src_lengths, self.src_ext)))


@dataclass
class _CopySources:
    """New source sentences with their ids in the extended vocabulary of a copy mechanism."""

    data: Seq2SeqData
    sentences: Sequence[str]
    extended_ids: list[list[int]]

    def __len__(self) -> int:
        return len(self.sentences)

    def batch(self, indices: Sequence[int]) -> _CopySourceBatch:
        from companion.data.batching import pad_sequences

        src, lengths = self.data.encode_source([self.sentences[i] for i in indices])
        ext, _ = pad_sequences([self.extended_ids[i] for i in indices], self.data.tgt_vocab.pad_id)
        return _CopySourceBatch(src, lengths, ext)


def _translate_with_copy(
    model, data, sentences: Sequence[str], *, batch_size: int, **search
) -> list[str]:
    """:func:`translate` for a pointer–generator (:mod:`companion.models.pointer`): the source
    words outside the target vocabulary get per-sentence ids, so that they can be copied."""
    from companion.data.vocab import decode_extended, detokenize, extend_with_source, tokenize

    n_extra = model.decoder.n_extra
    extended = [
        extend_with_source(tokenize(s, data.src_lang), data.tgt_vocab, n_extra) for s in sentences
    ]

    def predict(model, batch) -> list[list[Hypothesis]]:
        state = model.init_state(batch.src, batch.src_lengths, batch.src_ext)
        return _search(model, state, n_best=1, **search)

    sources = _CopySources(data, sentences, [ids for ids, _ in extended])
    hyps = predict_batches(model, sources, predict, batch_size=batch_size)
    return [
        detokenize(decode_extended(h[0].tokens, data.tgt_vocab, extra), data.tgt_lang)
        for h, (_, extra) in zip(hyps, extended, strict=True)
    ]


@torch.no_grad()
def greedy_with_attention(
    model, src: torch.Tensor, src_lengths: torch.Tensor | None, *, max_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy outputs ``[B, L]`` and the decoder's attention weights at every step ``[B, L, S]``.

    ``L`` is the longest output (each ends with ``<eos>`` unless cut at ``max_len``); positions
    after a sequence's end hold ``<pad>`` (``model.pad_id``) and zero weights. Only for decoders
    whose ``step`` returns attention weights (a ValueError otherwise). Runs in eval mode.
    """
    steps: list[tuple[torch.Tensor, torch.Tensor]] = []  # (rows still decoding, their weights)

    def step(prev_tokens: torch.Tensor, state):
        rows, inner = state  # rows travel with the state, so the search's reordering reaches them
        logits, inner, weights = model.decoder.step(prev_tokens, inner)
        if weights is None:
            raise ValueError(f"{type(model.decoder).__name__} has no attention weights")
        steps.append((rows, weights))
        return logits.log_softmax(-1), (rows, inner)

    with eval_mode(model):
        device = model_device(model)
        src = src.to(device)
        src_lengths = None if src_lengths is None else src_lengths.to(device)
        state = model.init_state(src, src_lengths)
        rows = torch.arange(src.shape[0], device=device)
        hyps = greedy_search(
            step, (rows, state), bos_id=model.bos_id, eos_id=model.eos_id, max_len=max_len
        )
    longest = max(len(h[0].tokens) for h in hyps)
    tokens = torch.full((len(hyps), longest), model.pad_id, dtype=torch.long)
    for i, h in enumerate(hyps):
        tokens[i, : len(h[0].tokens)] = torch.tensor(h[0].tokens, dtype=torch.long)
    weights = torch.zeros(len(hyps), longest, steps[0][1].shape[-1])
    for t, (step_rows, step_weights) in enumerate(steps[:longest]):
        weights[step_rows.cpu(), t] = step_weights.float().cpu()
    return tokens.to(device), weights.to(device)
