"""Helpers shared by the exercises of the sequence notebooks (5.3.x): registering them, calling a
student's function while keeping its errors, and the tiny models and data that ``verify`` checks
them on."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from companion.exercises import core
from companion.exercises.core import Exercise, _StudentError, one_thread


def register(exercise: Exercise) -> Exercise:
    """``core.register`` with the checker (and an experiment's measurement) run on one thread:
    the checks push many tiny tensors through small models (see ``core.one_thread``)."""
    checker = one_thread(exercise.checker)
    if exercise.kind == "experiment":
        reference = one_thread(exercise.reference)
        return core.register(dataclasses.replace(exercise, checker=checker, reference=reference))
    return core.register(dataclasses.replace(exercise, checker=checker))


def call_student(fn: Callable, *args: Any) -> tuple[Any, _StudentError | None]:
    """``(result, None)``, or ``(None, failure)`` when the student's function raised.

    ``failure.error`` is the student's exception; re-raise ``failure`` to report it as usual. An
    untouched stub (``NotImplementedError``) still propagates, so the check says "not attempted".
    """
    try:
        return fn(*args), None
    except _StudentError as failure:
        return None, failure


def check_fraction(
    answer: Any, expected: float, what: str = "your measurement", *, atol: float = 0.005
) -> str:
    """A measured rate (0…1) within ``atol`` of the checker's own re-measurement."""
    from companion.exercises.core import CheckFailed, as_number

    value = as_number(answer, what)
    if abs(value - expected) <= atol:
        return f"{value:.3f}; re-measured here: {expected:.3f}."
    if value > 1 and abs(value / 100 - expected) <= atol:
        raise CheckFailed(f"{value:g} looks like a percentage; give the fraction (0…1)")
    raise CheckFailed(
        f"{value:.3f} differs from the re-measured {expected:.3f}: check the "
        "settings the exercise names (data, seed, max_len) and that the model is "
        "the notebook's trained one"
    )


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
    """Make an untrained demo model end most outputs
    after a few tokens, so that ``verify`` is quick.

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
    solution_text: str,
    hints: tuple[str, ...],
    demo_context: Callable[[], dict],
) -> Exercise:
    """Register an experiment: the notebook's ``model`` (with its ``data``) on inputs longer than
    any in training — the greedy exact match on ``n`` new pairs of ``task`` with ``n_items``
    items, which the checker re-measures (:func:`exact_match_on_new_pairs`)."""

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

    return register(
        Exercise(
            id=id,
            section=section,
            kind="experiment",
            title=title,
            checker=lambda answer, ctx: check_fraction(answer, measure(ctx), "your exact match"),
            reference=measure,
            solution_text=solution_text,
            hints=hints,
            needs=("model", "data"),
            demo_context=demo_context,
        )
    )


def check_bleu_measurement(answer: Any, expected: float, how: str) -> None:
    """A measured BLEU (0–100) within 0.05 of the checker's re-measurement; ``how`` says how to
    measure it, for the message when it is not."""
    from companion.exercises.core import CheckFailed, as_number

    value = as_number(answer, "your BLEU")
    if abs(value - expected) <= 0.05:
        return
    if expected > 1 and abs(100 * value - expected) <= 0.05:
        raise CheckFailed("that is BLEU as a fraction; report it ×100 as corpus_bleu prints it")
    raise CheckFailed(f"{value:.2f} differs from the re-measured BLEU {expected:.2f}: {how}")
