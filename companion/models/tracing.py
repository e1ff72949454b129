"""What a trained Seq2Seq model computes on one sentence, kept for the diagrams of Fig. 5-7…5-9.

* :func:`trace_greedy` — encoder outputs, the context ``c``, and for every greedy step (5-20) the
  token read, the token chosen, its probability and the runners-up (Fig. 5-7 and Fig. 5-9);
* :func:`trace_bidirectional` — the forward and backward states of a bidirectional recurrent
  encoder for every source word, and how the context joins them (Fig. 5-8).

The numbers are the model's own; :mod:`companion.plot.diagrams` only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from companion.decoding import greedy_search
from companion.model_utils import eval_mode, model_device
from companion.models.encoders import RNNEncoder


@dataclass
class DecoderStep:
    """One greedy step: read ``input_token``, emit ``token`` with probability ``prob``."""

    input_token: str
    token: str
    prob: float
    alternatives: list[tuple[str, float]]  # the next most likely tokens and their probabilities
    weights: list[float] | None = None  # attention over the source words, if the decoder has it


@dataclass
class SequenceTrace:
    src_tokens: list[str]
    encoder_outputs: torch.Tensor  # [S, H] one h_i per source word
    context: torch.Tensor  # [H] the context vector c
    steps: list[DecoderStep]

    @property
    def output(self) -> list[str]:
        """The generated tokens without ``<eos>``."""
        return [s.token for s in self.steps if s.token != "<eos>"]


@dataclass
class BidirectionalTrace:
    src_tokens: list[str]
    forward: torch.Tensor  # [S, H/2] left-to-right states →h_i
    backward: torch.Tensor  # [S, H/2] right-to-left states ←h_i
    context: torch.Tensor  # [H] c = [→h_S; ←h_1]


def _source(data, sentence: str) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    from companion.data.vocab import tokenize

    if not isinstance(sentence, str) or not sentence.strip():
        raise ValueError(f"sentence must be a non-empty string, got {sentence!r}")
    src, lengths = data.encode_source([sentence])
    tokens = [w if w in data.src_vocab else f"{w}(unk)" for w in tokenize(sentence, data.src_lang)]
    return tokens, src, lengths


@torch.no_grad()
def trace_greedy(
    model, data, sentence: str, *, max_len: int = 30, alternatives: int = 2
) -> SequenceTrace:
    """Greedy-decode ``sentence`` with ``model`` (an ``EncoderDecoder``), recording every step.

    ``data`` is the ``Seq2SeqData`` whose vocabularies the model was trained with.
    """
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be an integer ≥ 1, got {max_len!r}")
    if not isinstance(alternatives, int) or alternatives < 0:
        raise ValueError(f"alternatives must be an integer ≥ 0, got {alternatives!r}")
    tokens, src, lengths = _source(data, sentence)
    itos, recorded = data.tgt_vocab.itos, []

    def step(prev_tokens: torch.Tensor, state):  # greedy_search's step, recording what it sees
        logits, state, weights = model.decoder.step(prev_tokens, state)
        recorded.append((int(prev_tokens[0]), logits[0].softmax(-1), weights))
        return logits.log_softmax(-1), state

    with eval_mode(model):
        device = model_device(model)
        enc = model.encode(src.to(device), lengths.to(device))
        greedy_search(
            step,
            model.decoder.init_state(enc),
            bos_id=data.tgt_vocab.bos_id,
            eos_id=data.tgt_vocab.eos_id,
            max_len=max_len,
        )
    steps = []
    for prev, probs, weights in recorded:
        top = probs.topk(min(alternatives + 1, len(probs)))
        ids, ps = top.indices.tolist(), top.values.tolist()
        runners_up = [(itos[i], p) for i, p in zip(ids[1:], ps[1:], strict=True)]
        steps.append(
            DecoderStep(
                itos[prev],
                itos[ids[0]],
                ps[0],
                runners_up,
                None if weights is None else weights[0].tolist(),
            )
        )
    return SequenceTrace(tokens, enc.outputs[0].cpu(), enc.context[0].cpu(), steps)


@torch.no_grad()
def trace_bidirectional(encoder: RNNEncoder, data, sentence: str) -> BidirectionalTrace:
    """Forward and backward states of a bidirectional
    ``RNNEncoder`` (e.g. ``make_encoder("bigru", …)``).
    """
    if (
        not isinstance(encoder, RNNEncoder)
        or not encoder.bidirectional
        or encoder.summary != "last"
    ):
        raise ValueError(
            "trace_bidirectional needs a bidirectional RNNEncoder with "
            "summary='last' (make_encoder('bigru', ...) or 'bilstm')"
        )
    tokens, src, lengths = _source(data, sentence)
    with eval_mode(encoder):
        out = encoder(src.to(model_device(encoder)), lengths.to(model_device(encoder)))
    half = encoder.hidden_size // 2
    states = out.outputs[0].cpu()
    return BidirectionalTrace(tokens, states[:, :half], states[:, half:], out.context[0].cpu())
