"""Property-based tests of the searches (book 5.3.4) on random log-probability tables.

hypothesis draws the vocabulary size, the output length, the number of inputs, a length penalty
and a table of next-token log-probabilities, some of them -inf (impossible tokens). On every
table: a beam at least as wide as the whole output space returns exactly what exhaustive search
returns; a beam of width 1 is greedy search; every score is the recomputed sum of the table's
log-probabilities along the tokens, divided by L**α.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.decoding import beam_search, exhaustive_search, greedy_search

BOS, EOS = 0, 1
BUCKETS = 61
FAST = settings(max_examples=50, deadline=None)


class TableLM:
    """Next-token log-probabilities from a table indexed by input and a hash of the prefix, so
    that a search that reorders its state wrongly reads the wrong row."""

    def __init__(self, n_inputs: int, vocab: int, seed: int, p_impossible: float, scale: float):
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(n_inputs, BUCKETS, vocab, generator=g, dtype=torch.float64) * scale
        impossible = torch.rand(logits.shape, generator=g, dtype=torch.float64) < p_impossible
        impossible &= logits < logits.max(-1, keepdim=True).values  # one possible token per row
        self.table = logits.masked_fill(impossible, -math.inf).log_softmax(-1).float()
        self.n_inputs = n_inputs

    def init_state(self):
        inputs = torch.arange(self.n_inputs)
        return (inputs, torch.zeros_like(inputs))

    def step(self, prev, state):
        inputs, h = state
        h = (h * 7 + prev + 1) % BUCKETS
        return self.table[inputs, h], (inputs, h)

    def score(self, input_id: int, tokens: list[int], alpha: float) -> float:
        state = (torch.tensor([input_id]), torch.tensor([0]))
        prev, total = torch.tensor([BOS]), 0.0
        for tok in tokens:
            lp, state = self.step(prev, state)
            total += float(lp[0, tok])
            prev = torch.tensor([tok])
        return total / len(tokens) ** alpha


tables = st.builds(
    TableLM,
    n_inputs=st.integers(1, 3),
    vocab=st.integers(2, 4),
    seed=st.integers(0, 2**31 - 1),
    p_impossible=st.sampled_from([0.0, 0.2, 0.5]),
    scale=st.floats(0.1, 4.0),
)
lengths = st.integers(1, 4)
alphas = st.one_of(st.just(0.0), st.floats(0.0, 2.0))


def assert_same_ranking(a, b, tol=1e-5):
    """Equal scores in the same order; equal tokens wherever the score is not tied."""
    assert len(a) == len(b)
    for ha, hb in zip(a, b, strict=True):
        assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=tol)
        scores = [h.score for h in hb]
        for i, (x, y) in enumerate(zip(ha, hb, strict=True)):
            tied = any(abs(scores[i] - s) < 1e-4 for j, s in enumerate(scores) if j != i)
            if not tied:
                assert x.tokens == y.tokens


@FAST
@given(lm=tables, max_len=lengths, alpha=alphas, n_best=st.integers(1, 6))
def test_beam_as_wide_as_the_output_space_equals_exhaustive(lm, max_len, alpha, n_best):
    vocab = lm.table.shape[-1]
    width = vocab**max_len  # at least the number of possible outputs
    n_best = min(n_best, width)
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=max_len, length_penalty=alpha, n_best=n_best)
    beam = beam_search(lm.step, lm.init_state(), beam_width=width, **kwargs)
    full = exhaustive_search(lm.step, lm.init_state(), **kwargs)
    assert_same_ranking(beam, full)


@FAST
@given(lm=tables, max_len=st.integers(1, 8))
def test_beam_of_width_one_is_greedy(lm, max_len):
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=max_len)
    greedy = greedy_search(lm.step, lm.init_state(), **kwargs)
    beam = beam_search(lm.step, lm.init_state(), beam_width=1, **kwargs)
    assert_same_ranking(beam, greedy)
    assert all(len(hyps) == 1 for hyps in greedy)  # one hypothesis per input, always


@FAST
@given(
    lm=tables,
    max_len=st.integers(1, 6),
    alpha=alphas,
    width=st.integers(1, 5),
    n_best=st.integers(1, 5),
)
def test_scores_are_the_recomputed_sums_and_sorted(lm, max_len, alpha, width, n_best):
    n_best = min(n_best, width)
    results = beam_search(
        lm.step,
        lm.init_state(),
        bos_id=BOS,
        eos_id=EOS,
        beam_width=width,
        max_len=max_len,
        length_penalty=alpha,
        n_best=n_best,
    )
    for i, hyps in enumerate(results):
        assert 1 <= len(hyps) <= n_best
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for h in hyps:
            assert 1 <= len(h.tokens) <= max_len and EOS not in h.tokens[:-1]
            assert len(h.tokens) == max_len or h.tokens[-1] == EOS
            assert math.isfinite(h.score)
            assert h.score == pytest.approx(lm.score(i, h.tokens, alpha), abs=1e-4)


@FAST
@given(lm=tables, max_len=lengths, shift=st.floats(0.05, 50.0))
def test_unnormalised_tables_are_always_refused(lm, max_len, shift):
    """Logits shifted by any amount are not log-probabilities: every search says so."""

    def raw(prev, state):
        lp, state = lm.step(prev, state)
        return lp + shift, state

    for search, extra in (
        (greedy_search, {}),
        (beam_search, {"beam_width": 2}),
        (exhaustive_search, {}),
    ):
        with pytest.raises(ValueError, match="log_softmax"):
            search(raw, lm.init_state(), bos_id=BOS, eos_id=EOS, max_len=max_len, **extra)
