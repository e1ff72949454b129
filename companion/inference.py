"""Decoding trained encoder–decoders: data sets, raw
sentences, and attention for plots (5.3.3, 5.3.4).

Everything here drives the searches of :mod:`companion.decoding` through a model's step
interface (``init_state(src, src_lengths)``, ``step(prev_tokens, state)``, ``bos_id``,
``eos_id``), so greedy decoding exists once:

* :func:`decode_data` — every example of a :class:`~companion.data.Seq2SeqData` (or
  :class:`~companion.data.CaptionData`) → :class:`~companion.decoding.Hypothesis` lists;
* :func:`translate` — raw source sentences → detokenised target sentences;
* :func:`greedy_with_attention` — greedy outputs plus the attention weights of every step.

``beam_width=1`` (with ``n_best=1`` and no length penalty) runs :func:`greedy_search`, which
gives the same result as a beam of width 1 at less cost; otherwise :func:`beam_search`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from companion.decoding import DecoderState, Hypothesis, beam_search, greedy_search
from companion.model_utils import eval_mode, model_device, predict_batches
from companion.validation import check_str_sequence

if TYPE_CHECKING:
    from companion.data.batching import Seq2SeqData


def _search(
    model, state: DecoderState, *, beam_width: int, max_len: int, length_penalty: float, n_best: int
) -> list[list[Hypothesis]]:
    ids = dict(bos_id=model.bos_id, eos_id=model.eos_id, max_len=max_len)
    if beam_width == 1 and n_best == 1 and length_penalty == 0:
        return greedy_search(model.step, state, **ids)
    return beam_search(
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
    device: torch.device | str | None = None,
) -> list[list[Hypothesis]]:
    """Decode every source of ``data`` in order: one list of hypotheses (best first) per example.

    The model runs in eval mode (restored afterwards) on ``device`` (default: its own device).
    """

    def predict(model, batch) -> list[list[Hypothesis]]:
        state = model.init_state(batch.src, batch.src_lengths)
        return _search(
            model,
            state,
            beam_width=beam_width,
            max_len=max_len,
            length_penalty=length_penalty,
            n_best=n_best,
        )

    return predict_batches(model, data, predict, batch_size=batch_size, device=device)


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


def translate(
    model,
    data,
    sentences: str | Sequence[str],
    *,
    beam_width: int = 1,
    max_len: int = 30,
    length_penalty: float = 0.0,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> list[str]:
    """Translate raw source sentences with the vocabularies of ``data`` (a ``Seq2SeqData``).

    Returns the best output of each sentence as text, detokenised for the target language
    (greedy search for ``beam_width=1``, beam search otherwise).
    """
    from companion.data.vocab import detokenize

    sentences = (
        [sentences] if isinstance(sentences, str) else check_str_sequence(sentences, "sentences")
    )
    hyps = decode_data(
        model,
        _Sources(data, sentences),
        beam_width=beam_width,
        max_len=max_len,
        length_penalty=length_penalty,
        batch_size=batch_size,
        device=device,
    )
    return [detokenize(data.tgt_vocab.decode(h[0].tokens), data.tgt_lang) for h in hyps]


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
