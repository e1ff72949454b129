"""Exercises of notebook 5.1, encoder–decoder basics (编码器-解码器模型基础):
batches, the masked loss, greedy decoding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from companion.exercises.core import (
    CheckFailed,
    Exercise,
    Mistake,
    as_tensor,
    check_function,
    experiment_exercise,
    predict_exercise,
    register,
)
from companion.model_utils import model_device

predict_exercise(
    id="5.1-mask-count",
    section="5.1.1",
    title="How many real target positions in a padded batch?",
    value=14,
    rtol=0,
    atol=0.01,
    mistakes=[
        (
            "no-eos",
            11,
            "you forgot <eos>: tgt_out is the target followed by <eos>, so a "
            "sentence of n tokens has n + 1 real positions",
        ),
        (
            "whole-grid",
            18,
            "you counted the whole padded grid (3 × 6); the mask is False on the padding",
        ),
        (
            "padding",
            4,
            "that is the number of *padded* positions; the mask is True on the real ones",
        ),
    ],
    solution_text="""
tgt_out = target tokens + <eos>: lengths 5, 3 and 6, padded to 6.
tgt_mask is True on real positions: 5 + 3 + 6 = 14 (and False on 1 + 3 + 0 = 4 padded ones).""",
    hints=(
        "tgt_out holds the target shifted by one: the tokens and then <eos>.",
        "Each sentence of n tokens contributes n + 1 True entries; padding contributes none.",
    ),
)

predict_exercise(
    id="5.1-initial-loss",
    section="5.1.1",
    title="The loss of an untrained decoder over a 40-token vocabulary",
    value=math.log(40),
    rtol=5e-3,
    mistakes=[
        (
            "log2",
            math.log2(40),
            "that is in bits (log base 2); PyTorch's cross-entropy uses "
            "the natural logarithm (nats)",
        ),
        (
            "probability",
            1 / 40,
            "1/40 is the probability of the right token; the loss is minus its logarithm",
        ),
        ("log10", math.log10(40), "that is log base 10; cross-entropy uses the natural logarithm"),
    ],
    solution_text="""
Uniform predictions give every token probability 1/V, so the cross-entropy per token is
−ln(1/V) = ln V = ln 40 ≈ 3.689 nats. The notebook's `initial loss` is close to its own ln V.""",
    hints=(
        "An untrained decoder spreads its probability almost evenly over the vocabulary.",
        "Cross-entropy of the right token = −ln(its probability), natural log.",
    ),
)


# ---------------------------------------------------------------- 5.1-masked-cross-entropy


def _masked_ce_reference(logits, targets, mask):
    return F.cross_entropy(logits[mask], targets[mask])


def _masked_ce_cases():
    g = torch.Generator().manual_seed(51)
    cases = []
    for batch, steps, vocab, lengths in [
        (3, 6, 7, [6, 2, 4]),
        (2, 5, 11, [1, 5]),
        (4, 3, 5, [3, 3, 1, 2]),
    ]:
        logits = 3 * torch.randn(batch, steps, vocab, generator=g)
        targets = torch.randint(1, vocab, (batch, steps), generator=g)
        mask = torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None]
        targets[~mask] = 0  # the padding id
        cases.append((logits, targets, mask))
    return cases


def _per_token(logits, targets):
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")


MASKED_CE_MISTAKES = (
    Mistake(
        "padding-included",
        lambda ctx: lambda lg, t, m: _per_token(lg, t).mean(),
        "you averaged over the padded positions too: mask them out and divide by the number "
        "of real tokens",
    ),
    Mistake(
        "sum",
        lambda ctx: lambda lg, t, m: _per_token(lg, t)[m].sum(),
        "you summed over the real tokens; the loss is their mean",
    ),
    Mistake(
        "mean-of-sentence-means",
        lambda ctx: lambda lg, t, m: ((_per_token(lg, t) * m).sum(1) / m.sum(1)).mean(),
        "you averaged per sentence and then over sentences, which weights short sentences "
        "more; average over all real tokens of the batch at once",
    ),
    Mistake(
        "masked-zeros-divided-by-all",
        lambda ctx: lambda lg, t, m: (_per_token(lg, t) * m).sum() / m.numel(),
        "you zeroed the padded positions but divided by every position; divide by mask.sum()",
    ),
    Mistake(
        "inverted-mask",
        lambda ctx: lambda lg, t, m: _per_token(lg, t)[~m].mean(),
        "you averaged over the padding only: the mask is True on the real tokens",
    ),
)


def _check_masked_ce(answer, context):
    note = check_function(
        answer,
        _masked_ce_reference,
        _masked_ce_cases(),
        context,
        MASKED_CE_MISTAKES,
        rtol=1e-4,
        atol=1e-5,
    )
    logits, targets, mask = _masked_ce_cases()[0]
    if as_tensor(answer(logits, targets, mask)).dim() != 0:
        raise CheckFailed("the loss should be a single number (a 0-d tensor)")
    return note


register(
    Exercise(
        id="5.1-masked-cross-entropy",
        section="5.1.1",
        kind="implement",
        title="sequence_cross_entropy(logits, targets, mask): mean over real tokens only",
        checker=_check_masked_ce,
        reference=lambda ctx: _masked_ce_reference,
        solution_text="""
def sequence_cross_entropy(logits, targets, mask):
    # logits [B, T, V], targets [B, T], mask [B, T] True on real tokens
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # [B, T]
    return (per_token * mask).sum() / mask.sum()
# equivalently: F.cross_entropy(logits[mask], targets[mask])""",
        hints=(
            "Compute the cross-entropy of every position, then keep only the positions where mask "
            "is True.",
            "F.cross_entropy wants the class dimension second: logits.transpose(1, 2), or index "
            "logits[mask] ([N, V]) and targets[mask] ([N]).",
            "(per_token * mask).sum() / mask.sum()",
        ),
        mistakes=MASKED_CE_MISTAKES,
    )
)


# ---------------------------------------------------------------- 5.1-greedy-step


def _greedy_reference(logits, finished, eos_id, pad_id):
    tokens = logits.argmax(-1)
    return torch.where(finished, torch.full_like(tokens, pad_id), tokens)


def _greedy_cases():
    g = torch.Generator().manual_seed(511)
    cases = []
    for batch, vocab in [(5, 9), (3, 4), (6, 12)]:
        logits = torch.randn(batch, vocab, generator=g)
        finished = torch.rand(batch, generator=g) < 0.4
        finished[0], finished[1] = True, False
        cases.append((logits, finished, 2, 0))
    return cases


GREEDY_MISTAKES = (
    Mistake(
        "ignores-finished",
        lambda ctx: lambda lg, f, eos, pad: lg.argmax(-1),
        "finished sentences (that already produced <eos>) must emit pad_id, not new tokens",
    ),
    Mistake(
        "wrong-axis",
        lambda ctx: lambda lg, f, eos, pad: lg.argmax(0),
        "you took the argmax over the batch dimension; the choice is over the vocabulary "
        "(the last dimension)",
    ),
    Mistake(
        "eos-for-finished",
        lambda ctx: (
            lambda lg, f, eos, pad: torch.where(
                f, torch.full_like(lg.argmax(-1), eos), lg.argmax(-1)
            )
        ),
        "finished sentences should be padded with pad_id, not given another <eos>",
    ),
)


def _check_greedy(answer, context):
    note = check_function(
        answer, _greedy_reference, _greedy_cases(), context, GREEDY_MISTAKES, rtol=0, atol=0
    )
    logits, finished, eos_id, pad_id = _greedy_cases()[0]
    if as_tensor(answer(logits, finished, eos_id, pad_id)).dtype.is_floating_point:
        raise CheckFailed("token ids are integers: return a LongTensor (argmax gives one)")
    return note


register(
    Exercise(
        id="5.1-greedy-step",
        section="5.1.1",
        kind="implement",
        title="greedy_step(logits, finished, eos_id, pad_id): "
        "one step of greedy decoding (贪婪搜索)",
        checker=_check_greedy,
        reference=lambda ctx: _greedy_reference,
        solution_text="""
def greedy_step(logits, finished, eos_id, pad_id):
    # logits [B, V]: the decoder's scores for the next token; finished [B] bool
    tokens = logits.argmax(-1)                                  # the most likely token
    return torch.where(finished, torch.full_like(tokens, pad_id), tokens)""",
        hints=(
            "Greedy decoding keeps the single most likely next token of every sentence.",
            "argmax over the last (vocabulary) dimension; sentences already finished get pad_id "
            "(torch.where).",
        ),
        mistakes=GREEDY_MISTAKES,
    )
)


# ---------------------------------------------------------------- 5.1-perplexity (experiment)


def _held_out_loss(context) -> float:
    from companion.models import seq2seq_loss

    model, data = context["model"], context["data"]
    device = model_device(model)
    batch = data.batch(list(range(len(data)))).to(device)
    model.eval()
    with torch.no_grad():
        return seq2seq_loss(model, batch).item()


def _demo_seq2seq() -> dict:
    from companion.data import Seq2SeqData, generate_pairs
    from companion.models import make_seq2seq

    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 40, seed=0), "en", "zh")
    torch.manual_seed(0)
    return {
        "model": make_seq2seq(len(data.src_vocab), len(data.tgt_vocab), emb_dim=8, hidden=16),
        "data": data,
    }


experiment_exercise(
    id="5.1-perplexity",
    section="5.1.1",
    title="The trained model's held-out loss as a perplexity (困惑度)",
    measure=lambda ctx: math.exp(_held_out_loss(ctx)),
    rtol=1e-3,
    mistakes=[
        (
            "loss",
            _held_out_loss,
            "that is the loss itself (nats per token); the perplexity is e^loss",
        ),
        (
            "base-2",
            lambda ctx: 2 ** _held_out_loss(ctx),
            "the loss is in nats, so the perplexity is e^loss, not 2^loss",
        ),
    ],
    solution_text="""
batch = valid_data.batch(list(range(len(valid_data)))).to(device)
model.eval()
with torch.no_grad():
    loss = models.seq2seq_loss(model, batch)        # masked cross-entropy, nats per token
my_perplexity = loss.exp().item()""",
    hints=(
        "Put the whole validation set in one batch (valid_data.batch(indices)) and compute the "
        "training loss on it, in eval mode and without gradients.",
        "Perplexity = e^(cross-entropy per token): the number of tokens the model is 'choosing "
        "between' on average. An untrained model's is about V.",
    ),
    needs=("model", "data"),
    demo_context=_demo_seq2seq,
)
