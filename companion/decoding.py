"""Search for the output sequence of a decoder: greedy, beam and exhaustive search (book 5.3.4).

Every search here talks to the model through one *step function*::

    step_fn(prev_tokens: LongTensor[N], state) -> (log_probs: Tensor[N, V], new_state)

``state`` is a tensor, or a (nested) tuple/list of tensors, whose first dimension is the N rows
being decoded (non-tensor leaves such as ``None`` are passed along untouched). The searches
reorder it with ``index_select`` when they copy or drop partial sequences, so any decoder that
keeps its per-sequence state in the first dimension works unchanged, e.g.::

    state = model.init_state(src, src_lengths)
    best = beam_search(model.step, state, bos_id=1, eos_id=2, beam_width=5, max_len=30)

A *hypothesis* is a token sequence ``y_1 … y_L`` that either ends with ``<eos>`` (L ≤ max_len)
or was cut at ``max_len`` without one. Its score is the sum of its token log-probabilities,
``log p(y | x) = Σ_t log p(y_t | y_<t, x)``; with ``length_penalty = α > 0`` beam and exhaustive
search rank by ``Σ_t log p(y_t | …) / L**α`` instead (α = 0 is the plain sum, α = 1 the mean
per-token log-probability; α is limited to 0…10, since beyond a few the length term decides every
choice and ``L**α`` of long outputs leaves floating-point range).

``log_probs`` must be log-probabilities: every row's ``logsumexp`` is 0 (up to rounding), with
``-inf`` for impossible tokens. The searches check this at every step and raise ``ValueError``
for raw logits (pass ``logits.log_softmax(-1)``), for NaN or ``+inf``, and for a row in which
every token is impossible (there would be no hypothesis to return for that input). Each search
returns, for every input row, a list of
:class:`Hypothesis` best first, tokens without ``<bos>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from companion.validation import check_float, check_int, describe

#: a decoder's state: a tensor or a (nested) tuple/list of tensors whose first dimension is the
#: rows being decoded (see the module docstring)
DecoderState = Any
StepFn = Callable[[torch.Tensor, DecoderState], tuple[torch.Tensor, DecoderState]]

#: exhaustive search refuses to enumerate more partial sequences than this per step
MAX_EXHAUSTIVE_ROWS = 2_000_000


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sequence: ``tokens`` (no ``<bos>``; ends with ``<eos>`` when one was produced)
    and its ``score`` (sum of token log-probabilities, divided by ``len(tokens)**length_penalty``
    when a length penalty is used)."""

    tokens: list[int]
    score: float


# ----------------------------------------------------------------------------- state helpers
def _tensor_leaves(state: DecoderState) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [leaf for part in state for leaf in _tensor_leaves(part)]
    return []


def reorder_state(state: DecoderState, index: torch.Tensor) -> DecoderState:
    """Select rows ``index`` (a LongTensor) along the
    first dimension of every tensor in ``state``.
    """
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(part, index) for part in state)
    return state


def _batch_size(state: DecoderState) -> tuple[int, torch.device]:
    leaves = _tensor_leaves(state)
    if not leaves:
        raise ValueError(
            "state must be a tensor or a (nested) tuple of tensors whose first "
            "dimension is the number of inputs"
        )
    sizes = {leaf.shape[0] if leaf.dim() > 0 else None for leaf in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"every tensor in state needs the same first dimension (the number of "
            f"inputs); got first dimensions {sorted(map(str, sizes))}"
        )
    n = leaves[0].shape[0]
    if n < 1:
        raise ValueError("state describes zero inputs; nothing to decode")
    return n, leaves[0].device


def _check_search_args(step_fn: StepFn, bos_id: int, eos_id: int, max_len: int) -> None:
    if not callable(step_fn):
        raise TypeError(
            f"step_fn must be a function (prev_tokens, state) -> (log_probs, state), "
            f"got {describe(step_fn)}; for a model pass model.step"
        )
    check_int(bos_id, "bos_id", min=0)
    check_int(eos_id, "eos_id", min=0)
    check_int(max_len, "max_len", min=1)


#: largest length penalty α accepted: beyond a few the length term decides everything, and
#: L**α for long outputs leaves the range of floating-point numbers
MAX_LENGTH_PENALTY = 10.0


def _check_length_penalty(length_penalty: float) -> float:
    return check_float(length_penalty, "length_penalty", min=0.0, max=MAX_LENGTH_PENALTY)


def check_search_options(
    *, beam_width: int, n_best: int, max_len: int, length_penalty: float
) -> float:
    """Check the options of a beam search (``n_best ≤ beam_width``); return ``length_penalty``.

    :func:`beam_search` calls it, and so do the entry points of :mod:`companion.inference`, which
    then run the unchecked searches (``_greedy_search``, ``_beam_search``): each argument is
    checked once, where the student passed it.
    """
    check_int(beam_width, "beam_width", min=1)
    check_int(n_best, "n_best", min=1)
    check_int(max_len, "max_len", min=1)
    if n_best > beam_width:
        raise ValueError(f"n_best={n_best} cannot exceed beam_width={beam_width}")
    return _check_length_penalty(length_penalty)


def _check_log_probs(log_probs: torch.Tensor) -> None:
    """Each row must be a distribution in log space: no NaN, no +inf, logsumexp ≈ 0.

    ``-inf`` entries (impossible tokens) are fine, but not a row of them only: every row needs
    at least one possible next token. One reduction and one host sync per step.
    """
    lse = torch.logsumexp(log_probs.detach().double(), dim=-1)
    tol = 1e-3 if log_probs.dtype in (torch.float32, torch.float64) else 2e-2
    bad = ~(lse.abs() <= tol)  # NaN fails too
    if not bool(bad.any()):
        return
    row = int(bad.nonzero()[0, 0])
    values = log_probs[row]
    if bool(torch.isnan(values).any()):
        raise ValueError(
            f"step_fn returned NaN log-probabilities (row {row}); check the model "
            "for NaN weights or inputs"
        )
    if bool((values == float("inf")).any()):
        raise ValueError(
            f"step_fn returned +inf log-probabilities (row {row}); log-probabilities "
            "are at most 0 (use logits.log_softmax(-1))"
        )
    if bool((values == float("-inf")).all()):
        raise ValueError(
            f"step_fn returned a row of log-probabilities that are all -inf (row "
            f"{row}): no next token is possible there, so the search cannot "
            "return a hypothesis for every input"
        )
    raise ValueError(
        f"step_fn must return log-probabilities (e.g. logits.log_softmax(-1)): "
        f"each row's logsumexp must be 0, but row {row}'s is {float(lse[row]):.4g}"
    )


def _call_step(
    step_fn: StepFn, tokens: torch.Tensor, state: DecoderState, eos_id: int, vocab_size: int | None
) -> tuple[torch.Tensor, DecoderState]:
    out = step_fn(tokens, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("step_fn must return a pair (log_probs [N, V], new_state)")
    log_probs, new_state = out
    rows = tokens.shape[0]
    if (
        not isinstance(log_probs, torch.Tensor)
        or log_probs.dim() != 2
        or log_probs.shape[0] != rows
    ):
        shape = (
            tuple(log_probs.shape)
            if isinstance(log_probs, torch.Tensor)
            else type(log_probs).__name__
        )
        raise ValueError(
            f"step_fn must return log-probabilities of shape [{rows}, V] for {rows} "
            f"previous tokens, got {shape}"
        )
    if vocab_size is not None and log_probs.shape[1] != vocab_size:
        raise ValueError(
            f"step_fn changed the vocabulary size from {vocab_size} to {log_probs.shape[1]}"
        )
    if not 0 <= eos_id < log_probs.shape[1]:
        raise ValueError(
            f"eos_id={eos_id} is not a token of the {log_probs.shape[1]}-word vocabulary"
        )
    if not log_probs.is_floating_point():
        raise ValueError(
            f"step_fn must return floating-point log-probabilities, got {log_probs.dtype}"
        )
    _check_log_probs(log_probs)
    return log_probs, new_state


def _length_term(length: int, length_penalty: float) -> float:
    """``L**α``, computed as ``exp(α · ln L)`` (a
    float, never Python's int ** float OverflowError).
    """
    return math.exp(length_penalty * math.log(length)) if length_penalty else 1.0


def _to_hypotheses(
    tokens: torch.Tensor, lengths: torch.Tensor, scores: torch.Tensor
) -> list[list[Hypothesis]]:
    """``tokens [N, H, T]``, ``lengths [N, H]``,
    ``scores [N, H]`` → lists, dropping -inf entries.
    """
    out = []
    for toks, lens, scs in zip(tokens.tolist(), lengths.tolist(), scores.tolist(), strict=True):
        out.append(
            [
                Hypothesis(t[:n], s)
                for t, n, s in zip(toks, lens, scs, strict=True)
                if s != float("-inf")
            ]
        )
    return out


# ----------------------------------------------------------------------------- greedy
@torch.no_grad()
def greedy_search(
    step_fn: StepFn, state: DecoderState, *, bos_id: int, eos_id: int, max_len: int
) -> list[list[Hypothesis]]:
    """Feed back the most likely token at every step until ``<eos>`` or ``max_len`` tokens.

    Returns one single-element list per input; the score is the summed log-probability. Rows
    that produced ``<eos>`` are dropped from the batch, so the model only runs on unfinished ones.
    """
    _check_search_args(step_fn, bos_id, eos_id, max_len)
    return _greedy_search(step_fn, state, bos_id=bos_id, eos_id=eos_id, max_len=max_len)


@torch.no_grad()
def _greedy_search(
    step_fn: StepFn, state: DecoderState, *, bos_id: int, eos_id: int, max_len: int
) -> list[list[Hypothesis]]:
    n, device = _batch_size(state)
    active = torch.arange(n, device=device)  # inputs still being decoded
    out = torch.full((n, max_len), eos_id, dtype=torch.long, device=device)
    scores = torch.zeros(n, device=device)
    lengths = torch.zeros(n, dtype=torch.long, device=device)
    prev, vocab = torch.full((n,), bos_id, dtype=torch.long, device=device), None
    for t in range(max_len):
        log_probs, state = _call_step(step_fn, prev, state, eos_id, vocab)
        vocab = log_probs.shape[1]
        best, prev = log_probs.max(dim=-1)
        out[active, t] = prev
        scores[active] += best.to(scores.dtype)
        lengths[active] = t + 1
        ended = prev == eos_id
        if bool(ended.any()):
            keep = (~ended).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, prev, state = active[keep], prev[keep], reorder_state(state, keep)
    return _to_hypotheses(out[:, None], lengths[:, None], scores[:, None])


# ----------------------------------------------------------------------------- beam
@torch.no_grad()
def beam_search(
    step_fn: StepFn,
    state: DecoderState,
    *,
    bos_id: int,
    eos_id: int,
    beam_width: int,
    max_len: int,
    length_penalty: float = 0.0,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """Beam search (Beam Search), batched over all inputs and all beams at once.

    At every step each of the ``beam_width`` (K) live partial sequences of an input is extended by
    every token, and the K best extensions by summed log-probability that do not end in
    ``<eos>`` stay live. Extensions ending in ``<eos>`` that rank among the K best are set aside
    as finished hypotheses. Sequences still live after ``max_len`` tokens are finished as they
    are. The ``n_best`` best finished hypotheses are returned, ranked by score (see the module
    docstring; with ``length_penalty = α`` the score is ``Σ log p / L**α``).

    An input stops (and leaves the batch) once no live sequence can beat its ``n_best``-th
    finished one: a sequence's log-probability s can only fall as it grows, so its best possible
    score is ``s`` (α = 0) or ``s / max_len**α``. This never changes the result. With
    ``beam_width=1`` beam search is greedy search; with ``beam_width ≥ V**max_len`` nothing is
    ever pruned and it equals :func:`exhaustive_search`.
    """
    _check_search_args(step_fn, bos_id, eos_id, max_len)
    alpha = check_search_options(
        beam_width=beam_width, n_best=n_best, max_len=max_len, length_penalty=length_penalty
    )
    return _beam_search(
        step_fn,
        state,
        bos_id=bos_id,
        eos_id=eos_id,
        beam_width=beam_width,
        max_len=max_len,
        length_penalty=alpha,
        n_best=n_best,
    )


@torch.no_grad()
def _beam_search(
    step_fn: StepFn,
    state: DecoderState,
    *,
    bos_id: int,
    eos_id: int,
    beam_width: int,
    max_len: int,
    length_penalty: float,
    n_best: int,
) -> list[list[Hypothesis]]:
    n, device = _batch_size(state)
    k, alpha, neg_inf = beam_width, length_penalty, float("-inf")

    # Row a*W + b of `state` is beam b of the a-th active input; W = 1 at the start (<bos>).
    active = torch.arange(n, device=device)
    live_scores = torch.zeros((n, 1), device=device)
    live_tokens = torch.empty((n, 1, 0), dtype=torch.long, device=device)
    prev = torch.full((n,), bos_id, dtype=torch.long, device=device)
    best_fin = torch.full((n, n_best), neg_inf, device=device)  # n_best best finished scores
    pool: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (inputs, scores, tokens)

    def set_aside(raw: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        score = raw / _length_term(tokens.shape[2], alpha) if alpha else raw
        pool.append((active, score, tokens))
        return score

    vocab = None
    for t in range(max_len):
        log_probs, state = _call_step(step_fn, prev, state, eos_id, vocab)
        vocab = log_probs.shape[1]
        m, width = live_scores.shape
        cand = live_scores[:, :, None] + log_probs.view(m, width, vocab).to(live_scores.dtype)
        top_scores, top_index = cand.view(m, width * vocab).topk(min(2 * k, width * vocab), dim=1)
        origin, token = top_index // vocab, top_index % vocab  # sorted best first
        is_eos = token == eos_id

        # Finished: <eos> extensions among the K best candidates.
        first = min(k, top_scores.shape[1])
        ended = torch.cat(
            [
                live_tokens.gather(1, origin[:, :first, None].expand(-1, -1, t)),
                token[:, :first, None],
            ],
            dim=2,
        )
        score = set_aside(torch.where(is_eos[:, :first], top_scores[:, :first], neg_inf), ended)
        best_fin = torch.cat([best_fin, score], dim=1).topk(n_best, dim=1).values

        # Live: the K best candidates that do not end in <eos> (padded with dead -inf slots).
        rank = torch.arange(top_scores.shape[1], device=device)
        order = torch.argsort(is_eos.long() * top_scores.shape[1] + rank, dim=1)[:, :k]
        keep_scores = torch.where(is_eos.gather(1, order), neg_inf, top_scores.gather(1, order))
        keep_origin, keep_token = origin.gather(1, order), token.gather(1, order)
        if keep_scores.shape[1] < k:  # tiny vocabularies: fewer than K candidates exist
            pad = k - keep_scores.shape[1]
            keep_scores = torch.cat([keep_scores, keep_scores.new_full((m, pad), neg_inf)], dim=1)
            keep_origin = torch.cat([keep_origin, keep_origin.new_zeros((m, pad))], dim=1)
            keep_token = torch.cat([keep_token, keep_token.new_full((m, pad), eos_id)], dim=1)
        live_tokens = torch.cat(
            [
                live_tokens.gather(1, keep_origin[:, :, None].expand(-1, -1, t)),
                keep_token[:, :, None],
            ],
            dim=2,
        )

        # Inputs whose live sequences can no longer enter their n-best leave the batch.
        bound = keep_scores.max(dim=1).values / _length_term(max_len, alpha)
        hopeless = best_fin[:, -1] >= bound
        if t == max_len - 1:  # live sequences that reached max_len are finished as they are
            set_aside(keep_scores.masked_fill(hopeless[:, None], neg_inf), live_tokens)
            break
        rows = keep_origin + (torch.arange(m, device=device) * width)[:, None]
        if bool(hopeless.any()):
            stay = (~hopeless).nonzero().squeeze(1)
            if stay.numel() == 0:
                break
            active, best_fin, rows = active[stay], best_fin[stay], rows[stay]
            keep_scores, keep_token, live_tokens = (
                keep_scores[stay],
                keep_token[stay],
                live_tokens[stay],
            )
        state = reorder_state(state, rows.view(-1))
        prev, live_scores = keep_token.reshape(-1), keep_scores

    # Gather every input's finished hypotheses into [N, H] tables and pick the n-best.
    longest = max(tokens.shape[2] for _, _, tokens in pool)
    all_scores = torch.full((n, sum(s.shape[1] for _, s, _ in pool)), neg_inf, device=device)
    all_tokens = torch.full((*all_scores.shape, longest), eos_id, dtype=torch.long, device=device)
    all_lengths = torch.zeros(all_scores.shape, dtype=torch.long, device=device)
    col = 0
    for inputs, score, tokens in pool:
        cols = slice(col, col + score.shape[1])
        all_scores[inputs, cols] = score
        all_tokens[inputs, cols, : tokens.shape[2]] = tokens
        all_lengths[:, cols] = tokens.shape[2]
        col += score.shape[1]
    scores, pick = all_scores.topk(min(n_best, all_scores.shape[1]), dim=1)
    tokens = all_tokens.gather(1, pick[:, :, None].expand(-1, -1, longest))
    return _to_hypotheses(tokens, all_lengths.gather(1, pick), scores)


# ----------------------------------------------------------------------------- exhaustive
@torch.no_grad()
def exhaustive_search(
    step_fn: StepFn,
    state: DecoderState,
    *,
    bos_id: int,
    eos_id: int,
    max_len: int,
    length_penalty: float = 0.0,
    n_best: int | None = None,
) -> list[list[Hypothesis]]:
    """Score every possible output sequence (穷举搜索) — only for tiny vocabularies and lengths.

    Enumerates all ``Σ_t (V-1)**(t-1)`` sequences that end at their first ``<eos>`` plus the
    ``(V-1)**max_len`` ones cut at ``max_len``, and returns them all (or the ``n_best`` best),
    ranked like :func:`beam_search`. Sequences of probability zero (score ``-inf``) are left out.
    This is the reference beam search is tested against.
    """
    _check_search_args(step_fn, bos_id, eos_id, max_len)
    alpha = _check_length_penalty(length_penalty)
    if n_best is not None:
        check_int(n_best, "n_best", min=1)
    n, device = _batch_size(state)
    owner = torch.arange(n, device=device)  # input each partial sequence belongs to
    prefix = torch.empty((n, 0), dtype=torch.long, device=device)
    scores = torch.zeros(n, device=device)
    prev = torch.full((n,), bos_id, dtype=torch.long, device=device)
    done: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (owner, tokens, score)
    vocab = None
    for t in range(max_len):
        log_probs, state = _call_step(step_fn, prev, state, eos_id, vocab)
        if vocab is None:  # the first step tells V: check the size before anything grows
            vocab = log_probs.shape[1]
            widest = n * (vocab - 1) ** (max_len - 1) * vocab  # candidates at the last step
            if widest > MAX_EXHAUSTIVE_ROWS:
                raise ValueError(
                    f"exhaustive search would enumerate {widest:,} sequences at step "
                    f"{max_len} (more than {MAX_EXHAUSTIVE_ROWS:,}); use a smaller "
                    f"vocabulary (V={vocab}), max_len ({max_len}) or beam_search"
                )
        total = scores[:, None] + log_probs.to(scores.dtype)  # [M, V]
        ended = torch.cat([prefix, prefix.new_full((prefix.shape[0], 1), eos_id)], dim=1)
        done.append((owner, ended, total[:, eos_id] / _length_term(t + 1, alpha)))
        others = torch.tensor(
            [v for v in range(vocab) if v != eos_id], dtype=torch.long, device=device
        )
        row = torch.arange(owner.numel(), device=device).repeat_interleave(others.numel())
        nxt = others.repeat(owner.numel())
        owner, scores = owner[row], total[row, nxt]
        prefix = torch.cat([prefix[row], nxt[:, None]], dim=1)
        if t == max_len - 1:
            done.append((owner, prefix, scores / _length_term(max_len, alpha)))
        else:
            state, prev = reorder_state(state, row), nxt

    # Rank within each input (grouped by a stable sort on the owner) and keep the n_best.
    owners = torch.cat([o for o, _, _ in done])
    scores = torch.cat([s for _, _, s in done])
    lengths = torch.cat([torch.full_like(o, x.shape[1]) for o, x, _ in done])
    tokens = torch.cat(
        [torch.nn.functional.pad(x, (0, max_len - x.shape[1]), value=eos_id) for _, x, _ in done]
    )
    order = torch.argsort(scores, descending=True, stable=True)
    order = order[torch.argsort(owners[order], stable=True)]
    starts = torch.cumsum(torch.bincount(owners, minlength=n), 0) - torch.bincount(
        owners, minlength=n
    )
    rank = torch.arange(order.numel(), device=device) - starts[owners[order]]
    keep = order[torch.isfinite(scores[order]) & (rank < (n_best or order.numel()))]
    results: list[list[Hypothesis]] = [[] for _ in range(n)]
    for i, tk, length, sc in zip(
        owners[keep].tolist(),
        tokens[keep].tolist(),
        lengths[keep].tolist(),
        scores[keep].tolist(),
        strict=True,
    ):
        results[i].append(Hypothesis(tk[:length], sc))
    return results
