"""Exercises of notebook 5.1, encoder–decoder basics (编码器-解码器模型基础): batches, the masked
loss, greedy decoding."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_
from companion.model_utils import model_device

predict_exercise(
    id="5.1-mask-count",
    section=N_("5.1.1 batches"),
    title=N_("How many real target positions in a padded batch?"),
    value=14,
    precision=Precision(0),
    answer_name="my_count",
    mistakes=[
        (
            "no-eos",
            11,
            N_(
                "you forgot <eos>: tgt_out is the target followed by <eos>, so a sentence of n "
                "tokens has n + 1 real positions"
            ),
        ),
        (
            "whole-grid",
            18,
            N_("you counted the whole padded grid (3 × 6); the mask is False on the padding"),
        ),
        (
            "padding",
            4,
            N_("that is the number of *padded* positions; the mask is True on the real ones"),
        ),
    ],
    solution=N_(
        """\
# tgt_out = the target tokens followed by <eos>: lengths 4 + 1, 2 + 1 and 5 + 1, padded to 6
lengths = [4 + 1, 2 + 1, 5 + 1]
my_count = sum(lengths)  # 14 True entries; 3 × 6 − 14 = 4 padded ones are False
"""
    ),
    hints=(
        N_("tgt_out holds the target shifted by one: the tokens and then <eos>."),
        N_("Each sentence of n tokens contributes n + 1 True entries; padding contributes none."),
    ),
)

predict_exercise(
    id="5.1-sentence-probability",
    section=N_("5.1.1 the loss"),
    title=N_("From a loss per token to the probability of a whole sentence"),
    value=math.exp(-0.3 * 8),
    precision=Precision(3),
    answer_name="my_probability",
    mistakes=[
        (
            "one-token",
            math.exp(-0.3),
            N_(
                "that is the probability of one token, on average; the sentence has 8 positions "
                "and their probabilities multiply"
            ),
        ),
        (
            "no-eos",
            math.exp(-0.3 * 7),
            N_(
                "you left out <eos>: predicting the end of the sentence is one of the 8 positions "
                "the loss averages over"
            ),
        ),
        (
            "summed-loss",
            0.3 * 8,
            N_(
                "that is −ln p(sentence), the summed loss in nats; the probability is e to the "
                "minus that"
            ),
        ),
    ],
    solution=N_(
        """\
# the loss averages −ln p(y_t | y_<t, x) over the 8 real positions of tgt_out (7 tokens and <eos>)
summed = 0.3 * 8  # −ln p(sentence | x) = 2.4 nats: log-probabilities of a product add up
my_probability = math.exp(-summed)  # ≈ 0.091
"""
    ),
    solution_note=N_(
        "A loss that looks small per token still leaves the whole sentence under 10 %, and a "
        "longer sentence gets less: the probabilities of its tokens multiply. This is why beam "
        "search (5.3.4) compares sums of log-probabilities, and why it needs a length penalty."
    ),
    hints=(
        N_("The loss is the mean of −ln p over the real positions. What is their sum?"),
        N_(
            "p(sentence | x) is the product of the token probabilities (⟨eos⟩ included), so "
            "−ln p(sentence | x) is the sum of the token losses."
        ),
    ),
)


# ---------------------------------------------------------------- 5.1-masked-cross-entropy


def _masked_ce_independent(logits, targets, mask):
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


implement_exercise(
    id="5.1-masked-cross-entropy",
    section=N_("5.1.1 the loss"),
    title=N_("sequence_cross_entropy(logits, targets, mask): the mean over real tokens only"),
    answer_name="sequence_cross_entropy",
    spec=FunctionSpec(cases=_masked_ce_cases, expected=_masked_ce_independent),
    mistakes=(
        Mistake(
            "padding-included",
            lambda ctx: lambda lg, t, m: _per_token(lg, t).mean(),
            N_(
                "you averaged over the padded positions too: mask them out and divide by the "
                "number of real tokens"
            ),
        ),
        Mistake(
            "sum",
            lambda ctx: lambda lg, t, m: _per_token(lg, t)[m].sum(),
            N_("you summed over the real tokens; the loss is their mean"),
        ),
        Mistake(
            "mean-of-sentence-means",
            lambda ctx: lambda lg, t, m: ((_per_token(lg, t) * m).sum(1) / m.sum(1)).mean(),
            N_(
                "you averaged per sentence and then over sentences, which weights short sentences "
                "more; average over all real tokens of the batch at once"
            ),
        ),
        Mistake(
            "masked-zeros-divided-by-all",
            lambda ctx: lambda lg, t, m: (_per_token(lg, t) * m).sum() / m.numel(),
            N_(
                "you zeroed the padded positions but divided by every position; divide by "
                "mask.sum()"
            ),
            fix=lambda ctx: lambda lg, t, m: (_per_token(lg, t) * m).sum() / m.sum(),
        ),
        Mistake(
            "inverted-mask",
            lambda ctx: lambda lg, t, m: _per_token(lg, t)[~m].mean(),
            N_("you averaged over the padding only: the mask is True on the real tokens"),
        ),
    ),
    solution=N_(
        """\
def sequence_cross_entropy(logits, targets, mask):
    # logits [B, T, V], targets [B, T], mask [B, T]: True on the real tokens
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # [B, T]
    return (per_token * mask).sum() / mask.sum()
"""
    ),
    solution_note=N_(
        "Equivalently F.cross_entropy(logits[mask], targets[mask]); the result is a 0-d tensor, "
        "so that .backward() can be called on it."
    ),
    hints=(
        N_(
            "Compute the cross-entropy of every position, then keep only the positions where "
            "mask is True."
        ),
        N_(
            "F.cross_entropy wants the class dimension second: logits.transpose(1, 2), or index "
            "logits[mask] ([N, V]) and targets[mask] ([N])."
        ),
        N_("(per_token * mask).sum() / mask.sum()"),
    ),
)


# ---------------------------------------------------------------- 5.1-greedy-step


def _greedy_independent(logits, finished, eos_id, pad_id):
    tokens = torch.tensor([max(range(len(row)), key=row.__getitem__) for row in logits.tolist()])
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


implement_exercise(
    id="5.1-greedy-step",
    section=N_("5.1.1 decoding"),
    title=N_(
        "greedy_step(logits, finished, eos_id, pad_id): one step of greedy decoding (贪婪搜索)"
    ),
    answer_name="greedy_step",
    spec=FunctionSpec(
        cases=_greedy_cases,
        expected=_greedy_independent,
        kind_note=N_("token ids are integers: argmax gives a LongTensor"),
    ),
    mistakes=(
        Mistake(
            "ignores-finished",
            lambda ctx: lambda lg, f, eos, pad: lg.argmax(-1),
            N_("finished sentences (that already produced <eos>) must emit pad_id, not new tokens"),
        ),
        Mistake(
            "wrong-axis",
            lambda ctx: lambda lg, f, eos, pad: lg.argmax(0),
            N_(
                "you took the argmax over the batch dimension; the choice is over the vocabulary "
                "(the last dimension)"
            ),
        ),
        Mistake(
            "eos-for-finished",
            lambda ctx: (
                lambda lg, f, eos, pad: torch.where(
                    f, torch.full_like(lg.argmax(-1), eos), lg.argmax(-1)
                )
            ),
            N_("finished sentences should be padded with pad_id, not given another <eos>"),
        ),
    ),
    solution=N_(
        """\
def greedy_step(logits, finished, eos_id, pad_id):
    # logits [B, V]: the decoder's scores for the next token; finished [B] bool
    tokens = logits.argmax(-1)  # the most likely token of every sentence
    return torch.where(finished, torch.full_like(tokens, pad_id), tokens)
"""
    ),
    hints=(
        N_("Greedy decoding keeps the single most likely next token of every sentence."),
        N_(
            "argmax over the last (vocabulary) dimension; sentences already finished get pad_id "
            "(torch.where)."
        ),
    ),
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


def _perplexity_names(context) -> dict:
    from companion import models

    return {
        "model": context["model"],
        "valid_data": context["data"],
        "device": model_device(context["model"]),
        "models": models,
    }


experiment_exercise(
    id="5.1-perplexity",
    section=N_("5.1.1 training"),
    title=N_("The trained model's held-out loss as a perplexity (困惑度)"),
    measure=lambda ctx: math.exp(_held_out_loss(ctx)),
    precision=Precision(2),
    answer_name="my_perplexity",
    mistakes=[
        (
            "loss",
            _held_out_loss,
            N_("that is the loss itself (nats per token); the perplexity is e^loss"),
        ),
        (
            "base-2",
            lambda ctx: 2 ** _held_out_loss(ctx),
            N_("the loss is in nats, so the perplexity is e^loss, not 2^loss"),
        ),
    ],
    solution=N_(
        """\
batch = valid_data.batch(list(range(len(valid_data)))).to(device)
model.eval()
with torch.no_grad():
    loss = models.seq2seq_loss(model, batch)  # masked cross-entropy, nats per token
my_perplexity = loss.exp().item()
"""
    ),
    solution_names=_perplexity_names,
    hints=(
        N_(
            "Put the whole validation set in one batch (valid_data.batch(indices)) and compute "
            "the training loss on it, in eval mode and without gradients."
        ),
        N_(
            "Perplexity = e^(cross-entropy per token): the number of tokens the model is "
            "'choosing between' on average. An untrained model's is about V."
        ),
    ),
    needs=("model", "data"),
    demo_context=_demo_seq2seq,
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.1-why-eos",
    section=N_("5.1.1 batches, decoding"),
    title=N_("Why ⟨bos⟩ goes in and ⟨eos⟩ comes out"),
    answer=N_(
        "The decoder is trained to predict the next token at every position, so its input is "
        "the target shifted right behind ⟨bos⟩ (which gives the first step something to read) and "
        "its output is the target followed by ⟨eos⟩. Predicting ⟨eos⟩ is how the model learns "
        "where an output ends: at test time nobody tells it the length, and without ⟨eos⟩ greedy "
        "decoding would only stop at max_len, writing tokens after the translation is complete. "
        "⟨eos⟩ also counts in the loss and in the probability of a sentence, so a model is "
        "rewarded for stopping at the right place."
    ),
)

explain_question(
    id="5.1-one-vector",
    section=N_("5.1.1 the context vector"),
    title=N_("What one context vector cannot hold"),
    answer=N_(
        "The encoder squeezes an input of any length into c, `hidden` numbers. A short input fits "
        "easily, but a long one must share the same fixed capacity between more words, and an "
        "RNN's "
        "last state is dominated by the last words it read, so details from the beginning fade. "
        "The decoder can only copy what survived in c — the dialogue task's copy errors show it. "
        "Attention (5.3.3) removes the bottleneck: the decoder reads every encoder state at every "
        "step instead of one summary."
    ),
)
