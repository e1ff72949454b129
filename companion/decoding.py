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
per-token log-probability). Each search returns, for every input row, a list of
:class:`Hypothesis` best first, tokens without ``<bos>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

State = Any
StepFn = Callable[[torch.Tensor, State], tuple[torch.Tensor, State]]

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
def _tensor_leaves(state: State) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [leaf for part in state for leaf in _tensor_leaves(part)]
    return []


def reorder_state(state: State, index: torch.Tensor) -> State:
    """Select rows ``index`` (a LongTensor) along the first dimension of every tensor in ``state``."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(part, index) for part in state)
    return state


def _batch_size(state: State) -> tuple[int, torch.device]:
    leaves = _tensor_leaves(state)
    if not leaves:
        raise ValueError("state must be a tensor or a (nested) tuple of tensors whose first "
                         "dimension is the number of inputs")
    sizes = {leaf.shape[0] if leaf.dim() > 0 else None for leaf in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"every tensor in state needs the same first dimension (the number of "
                         f"inputs); got first dimensions {sorted(map(str, sizes))}")
    n = sizes.pop()
    if n < 1:
        raise ValueError("state describes zero inputs; nothing to decode")
    return n, leaves[0].device


def _check_ids(bos_id: int, eos_id: int, max_len: int) -> None:
    for name, value in (("bos_id", bos_id), ("eos_id", eos_id), ("max_len", max_len)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if bos_id < 0 or eos_id < 0:
        raise ValueError(f"token ids must be non-negative, got bos_id={bos_id}, eos_id={eos_id}")
    if max_len < 1:
        raise ValueError(f"max_len must be ≥ 1, got {max_len}")


def _check_length_penalty(length_penalty: float) -> float:
    if not isinstance(length_penalty, (int, float)) or not length_penalty >= 0:
        raise ValueError(f"length_penalty must be a number ≥ 0, got {length_penalty!r}")
    return float(length_penalty)


def _call_step(step_fn: StepFn, tokens: torch.Tensor, state: State, eos_id: int,
               vocab_size: int | None) -> tuple[torch.Tensor, State]:
    out = step_fn(tokens, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("step_fn must return a pair (log_probs [N, V], new_state)")
    log_probs, new_state = out
    rows = tokens.shape[0]
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() != 2 or log_probs.shape[0] != rows:
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else type(log_probs).__name__
        raise ValueError(f"step_fn must return log-probabilities of shape [{rows}, V] for {rows} "
                         f"previous tokens, got {shape}")
    if vocab_size is not None and log_probs.shape[1] != vocab_size:
        raise ValueError(f"step_fn changed the vocabulary size from {vocab_size} to {log_probs.shape[1]}")
    if not 0 <= eos_id < log_probs.shape[1]:
        raise ValueError(f"eos_id={eos_id} is not a token of the {log_probs.shape[1]}-word vocabulary")
    if not log_probs.is_floating_point():
        raise ValueError(f"step_fn must return floating-point log-probabilities, got {log_probs.dtype}")
    return log_probs, new_state


def _length_term(lengths: torch.Tensor, length_penalty: float) -> torch.Tensor:
    return lengths.to(torch.get_default_dtype()).pow(length_penalty)


def _to_hypotheses(tokens: torch.Tensor, lengths: torch.Tensor, scores: torch.Tensor
                   ) -> list[list[Hypothesis]]:
    """``tokens [N, H, T]``, ``lengths [N, H]``, ``scores [N, H]`` → lists, dropping -inf entries."""
    out = []
    for toks, lens, scs in zip(tokens.tolist(), lengths.tolist(), scores.tolist()):
        out.append([Hypothesis(t[:n], s) for t, n, s in zip(toks, lens, scs) if s != float("-inf")])
    return out


# ----------------------------------------------------------------------------- greedy
@torch.no_grad()
def greedy_search(step_fn: StepFn, state: State, *, bos_id: int, eos_id: int,
                  max_len: int) -> list[list[Hypothesis]]:
    """Feed back the most likely token at every step until ``<eos>`` or ``max_len`` tokens.

    Returns one single-element list per input; the score is the summed log-probability.
    """
    _check_ids(bos_id, eos_id, max_len)
    n, device = _batch_size(state)
    tokens = torch.full((n,), bos_id, dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    lengths = torch.zeros(n, dtype=torch.long, device=device)
    scores, outputs, vocab = None, [], None
    for _ in range(max_len):
        log_probs, state = _call_step(step_fn, tokens, state, eos_id, vocab)
        vocab = log_probs.shape[1]
        best, tokens = log_probs.max(dim=-1)
        scores = torch.where(done, 0.0, best) if scores is None else scores + torch.where(done, 0.0, best)
        lengths += (~done).long()
        outputs.append(tokens)
        done = done | (tokens == eos_id)
        if bool(done.all()):
            break
    return _to_hypotheses(torch.stack(outputs, dim=1)[:, None], lengths[:, None], scores[:, None])


# ----------------------------------------------------------------------------- beam
@torch.no_grad()
def beam_search(step_fn: StepFn, state: State, *, bos_id: int, eos_id: int, beam_width: int,
                max_len: int, length_penalty: float = 0.0, n_best: int = 1) -> list[list[Hypothesis]]:
    """Beam search (束搜索), batched over all inputs and all beams at once.

    At every step each of the ``beam_width`` (K) live partial sequences of an input is extended by
    every token, and the K best extensions by summed log-probability that do not end in
    ``<eos>`` stay live. Extensions ending in ``<eos>`` that rank among the K best are set aside
    as finished hypotheses. Sequences still live after ``max_len`` tokens are finished as they
    are. The ``n_best`` best finished hypotheses are returned, ranked by score (see the module
    docstring; with ``length_penalty = α`` the score is ``Σ log p / L**α``).

    An input stops early once no live sequence can beat its ``n_best``-th finished one: its
    log-probability can only fall, so its best possible score is ``s`` (α = 0) or
    ``s / max_len**α``. With ``beam_width=1`` this is greedy search; with ``beam_width ≥ V**max_len``
    nothing is ever pruned and it equals :func:`exhaustive_search`.
    """
    _check_ids(bos_id, eos_id, max_len)
    alpha = _check_length_penalty(length_penalty)
    for name, value in (("beam_width", beam_width), ("n_best", n_best)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")
    if n_best > beam_width:
        raise ValueError(f"n_best={n_best} cannot exceed beam_width={beam_width}")
    n, device = _batch_size(state)
    k = beam_width
    neg_inf = float("-inf")

    # Row r = i*K + b holds beam b of input i. Only beam 0 is live at the start.
    state = reorder_state(state, torch.arange(n, device=device).repeat_interleave(k))
    live_scores = torch.full((n, k), neg_inf, device=device)
    live_scores[:, 0] = 0.0
    live_tokens = torch.empty((n, k, 0), dtype=torch.long, device=device)
    prev = torch.full((n * k,), bos_id, dtype=torch.long, device=device)
    row_offset = (torch.arange(n, device=device) * k)[:, None]
    fin_tokens, fin_scores, fin_lengths = [], [], []  # per step: [N, K, t+1], [N, K], [N, K]
    best_fin = torch.full((n, n_best), neg_inf, device=device)  # n_best best finished scores
    vocab = None

    for t in range(max_len):
        log_probs, state = _call_step(step_fn, prev, state, eos_id, vocab)
        vocab = log_probs.shape[1]
        cand = (live_scores[:, :, None] + log_probs.view(n, k, vocab).to(live_scores.dtype)).view(n, k * vocab)
        top_scores, top_index = cand.topk(min(2 * k, k * vocab), dim=1)  # sorted, best first
        origin, token = top_index // vocab, top_index % vocab
        is_eos = token == eos_id

        # Finished: <eos> extensions among the K best candidates.
        rank = torch.arange(top_scores.shape[1], device=device)
        finished = is_eos & (rank < k) & torch.isfinite(top_scores)
        fin_raw = torch.where(finished, top_scores, neg_inf)[:, :k]
        length = t + 1
        fin_norm = fin_raw / length ** alpha if alpha else fin_raw
        seq = torch.cat([live_tokens.gather(1, origin[:, :k, None].expand(-1, -1, t)),
                         token[:, :k, None]], dim=2)
        fin_tokens.append(seq)
        fin_scores.append(fin_norm)
        fin_lengths.append(torch.full((n, k), length, device=device))
        best_fin = torch.cat([best_fin, fin_norm], dim=1).topk(n_best, dim=1).values

        # Live: the K best candidates that do not end in <eos> (padded with dead -inf slots).
        order = torch.argsort(is_eos.long() * top_scores.shape[1] + rank, dim=1)[:, :k]
        keep_scores = top_scores.gather(1, order)
        keep_scores = torch.where(is_eos.gather(1, order), neg_inf, keep_scores)
        keep_origin, keep_token = origin.gather(1, order), token.gather(1, order)
        if keep_scores.shape[1] < k:  # tiny vocabularies: fewer than K candidates exist
            pad = k - keep_scores.shape[1]
            keep_scores = torch.cat([keep_scores, keep_scores.new_full((n, pad), neg_inf)], dim=1)
            keep_origin = torch.cat([keep_origin, keep_origin.new_zeros((n, pad))], dim=1)
            keep_token = torch.cat([keep_token, keep_token.new_full((n, pad), eos_id)], dim=1)

        # Early stop per input: no live sequence can still enter the n-best.
        bound = keep_scores.max(dim=1).values / (max_len ** alpha if alpha else 1.0)
        hopeless = best_fin[:, -1] >= bound
        live_scores = keep_scores.masked_fill(hopeless[:, None], neg_inf)
        live_tokens = torch.cat([live_tokens.gather(1, keep_origin[:, :, None].expand(-1, -1, t)),
                                 keep_token[:, :, None]], dim=2)
        if t == max_len - 1 or not bool(torch.isfinite(live_scores).any()):
            break
        state = reorder_state(state, (keep_origin + row_offset).view(-1))
        prev = keep_token.view(-1)

    # Live sequences that reached max_len are finished as they are.
    length = live_tokens.shape[2]
    fin_tokens.append(live_tokens)
    fin_scores.append(live_scores / length ** alpha if alpha else live_scores)
    fin_lengths.append(torch.full((n, k), length, device=device))
    width = live_tokens.shape[2]
    all_tokens = torch.cat([torch.nn.functional.pad(x, (0, width - x.shape[2]), value=eos_id)
                            for x in fin_tokens], dim=1)
    all_scores, all_lengths = torch.cat(fin_scores, dim=1), torch.cat(fin_lengths, dim=1)
    scores, pick = all_scores.topk(n_best, dim=1)
    tokens = all_tokens.gather(1, pick[:, :, None].expand(-1, -1, width))
    return _to_hypotheses(tokens, all_lengths.gather(1, pick), scores)


# ----------------------------------------------------------------------------- exhaustive
@torch.no_grad()
def exhaustive_search(step_fn: StepFn, state: State, *, bos_id: int, eos_id: int, max_len: int,
                      length_penalty: float = 0.0, n_best: int | None = None) -> list[list[Hypothesis]]:
    """Score every possible output sequence (穷举搜索) — only for tiny vocabularies and lengths.

    Enumerates all ``Σ_t (V-1)**(t-1)`` sequences that end at their first ``<eos>`` plus the
    ``(V-1)**max_len`` ones cut at ``max_len``, and returns them all (or the ``n_best`` best),
    ranked like :func:`beam_search`. Sequences of probability zero (score ``-inf``) are left out.
    This is the reference beam search is tested against.
    """
    _check_ids(bos_id, eos_id, max_len)
    alpha = _check_length_penalty(length_penalty)
    if n_best is not None and (not isinstance(n_best, int) or n_best < 1):
        raise ValueError(f"n_best must be None or an integer ≥ 1, got {n_best!r}")
    n, device = _batch_size(state)
    owner = torch.arange(n, device=device)       # input each partial sequence belongs to
    prefix = torch.empty((n, 0), dtype=torch.long, device=device)
    scores = torch.zeros(n, device=device)
    prev = torch.full((n,), bos_id, dtype=torch.long, device=device)
    done: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (owner, tokens, score)
    vocab = None
    for t in range(max_len):
        log_probs, state = _call_step(step_fn, prev, state, eos_id, vocab)
        vocab = log_probs.shape[1]
        if owner.numel() * vocab > MAX_EXHAUSTIVE_ROWS:
            raise ValueError(f"exhaustive search would enumerate {owner.numel() * vocab:,} "
                             f"sequences at step {t + 1}; use a smaller vocabulary or max_len")
        total = scores[:, None] + log_probs.to(scores.dtype)           # [M, V]
        ended = torch.cat([prefix, prefix.new_full((prefix.shape[0], 1), eos_id)], dim=1)
        done.append((owner, ended, total[:, eos_id] / (t + 1) ** alpha))
        others = torch.tensor([v for v in range(vocab) if v != eos_id], dtype=torch.long, device=device)
        row = torch.arange(owner.numel(), device=device).repeat_interleave(others.numel())
        nxt = others.repeat(owner.numel())
        owner, scores = owner[row], total[row, nxt]
        prefix = torch.cat([prefix[row], nxt[:, None]], dim=1)
        if t == max_len - 1:
            done.append((owner, prefix, scores / max_len ** alpha))
        else:
            state, prev = reorder_state(state, row), nxt

    results: list[list[Hypothesis]] = [[] for _ in range(n)]
    for owners, toks, scs in done:
        for i, tk, s in zip(owners.tolist(), toks.tolist(), scs.tolist()):
            if s != float("-inf"):
                results[i].append(Hypothesis(tk, s))
    for hyps in results:
        hyps.sort(key=lambda h: -h.score)
    return [hyps[:n_best] if n_best is not None else hyps for hyps in results]
