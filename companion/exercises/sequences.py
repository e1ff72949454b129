"""Helpers shared by the exercises of the sequence notebooks (5.3.x): the tiny models and data that
``verify`` checks the experiments on, and the exact-match experiment on inputs longer than any in
training."""

from __future__ import annotations

import functools
from collections.abc import Callable

from companion.exercises.answers import Precision
from companion.exercises.core import Exercise
from companion.exercises.numeric import experiment_exercise


@functools.cache
def tiny_seq2seq(task: str, decoder: str, src_lang: str, tgt_lang: str, n_items: int = 2):
    """An untrained, very small model and its data: what ``verify`` runs the experiments on."""
    import companion
    from companion.data import Seq2SeqData, generate_pairs
    from companion.models import make_seq2seq

    pairs = generate_pairs(task, 80, seed=0, n_items=(1, n_items))
    if src_lang == "zh":
        from companion.data import Pair

        pairs = [Pair(p.tgt, p.src) for p in pairs]
    data = Seq2SeqData.from_pairs(pairs, src_lang, tgt_lang)
    companion.seed_everything(0)
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="gru",
        decoder=decoder,
        emb_dim=8,
        hidden=8,
    ).eval()
    return stop_early(model), data


def demo_model_and_data(task: str, decoder: str, src_lang: str, tgt_lang: str) -> dict:
    """``{"model": ..., "data": ...}`` from :func:`tiny_seq2seq`: a ``demo_context`` for verify."""
    model, data = tiny_seq2seq(task, decoder, src_lang, tgt_lang)
    return {"model": model, "data": data}


def stop_early(model):
    """Make an untrained demo model end most outputs after a few tokens (``verify`` stays quick).

    Untrained models rarely produce ``<eos>``, and every search would run to ``max_len``.
    """
    import torch

    with torch.no_grad():
        model.decoder.out.bias[model.eos_id] += 3.0
    return model


def exact_match_on_new_pairs(
    model, data, task: str, *, n: int, seed: int, n_items: int, max_len: int
) -> float:
    """Greedy exact match of ``model`` on ``n`` freshly generated pairs of ``task``."""
    from companion.data import generate_pairs
    from companion.inference import translate
    from companion.metrics import exact_match

    pairs = generate_pairs(task, n, seed=seed, n_items=n_items)
    preds = translate(model, data, [p.src for p in pairs], max_len=max_len)
    return exact_match(preds, [p.tgt for p in pairs])


def _notebook_modules() -> dict:
    """The modules the notebooks import by name (for running an experiment's solution code)."""
    from companion import data, inference, metrics
    from companion.data import generate_pairs
    from companion.inference import translate
    from companion.metrics import exact_match

    return {
        "data": data,
        "inference": inference,
        "metrics": metrics,
        "generate_pairs": generate_pairs,
        "translate": translate,
        "exact_match": exact_match,
    }


def exact_match_exercise(
    *,
    id: str,
    section: str,
    title: str,
    task: str,
    n: int,
    seed: int,
    n_items: int,
    max_len: int,
    answer_name: str,
    solution: str,
    solution_names: Callable[[dict], dict],
    solution_note: str,
    hints: tuple[str, ...],
    demo_context: Callable[[], dict],
) -> Exercise:
    """Register an experiment: the notebook's ``model`` (with its ``data``) on inputs longer than
    any in training — the greedy exact match on ``n`` new pairs of ``task`` with ``n_items``
    items, which the checker measures again (:func:`exact_match_on_new_pairs`)."""

    def measure(context: dict) -> float:
        return exact_match_on_new_pairs(
            context["model"],
            context["data"],
            task,
            n=n,
            seed=seed,
            n_items=n_items,
            max_len=max_len,
        )

    return experiment_exercise(
        id=id,
        section=section,
        title=title,
        measure=measure,
        precision=Precision(2),
        answer_name=answer_name,
        mistakes=[],
        solution=solution,
        solution_names=lambda ctx: {**_notebook_modules(), **solution_names(ctx)},
        solution_note=solution_note,
        hints=hints,
        needs=("model", "data"),
        demo_context=demo_context,
    )
