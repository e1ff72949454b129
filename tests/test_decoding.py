"""Greedy, beam and exhaustive search (book 5.3.4) checked against brute force on random models."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from companion.decoding import (
    Hypothesis,
    beam_search,
    exhaustive_search,
    greedy_search,
    reorder_state,
)

BOS, EOS = 0, 1


class RandomLM:
    """A random conditional language model over a tiny vocabulary.

    The next-token distribution depends on the input (row of ``table``) and on the whole prefix
    through a hash kept in the state, so a search that reorders the state wrongly gets wrong
    log-probabilities. The state is a nested tuple ``(input_id, (prefix_hash, position))``.
    """

    def __init__(
        self,
        n_inputs: int,
        vocab: int,
        *,
        seed: int = 0,
        buckets: int = 4099,
        temperature: float = 1.0,
        forbid: int | None = None,
    ):
        g = torch.Generator().manual_seed(seed)
        logits = (
            torch.randn(n_inputs, buckets, vocab, generator=g, dtype=torch.float64) * temperature
        )
        if forbid is not None:  # a token that is never possible (log-prob -inf)
            logits[..., forbid] = float("-inf")
        self.table = logits.log_softmax(-1).float()
        self.vocab, self.buckets, self.n_inputs = vocab, buckets, n_inputs

    def init_state(self, inputs=None):
        inputs = torch.arange(self.n_inputs) if inputs is None else torch.as_tensor(inputs)
        return (inputs, (torch.zeros_like(inputs), torch.zeros_like(inputs)))

    def step(self, prev, state):
        inputs, (h, pos) = state
        h = (h * 31 + prev + 7 * pos + 1) % self.buckets
        return self.table[inputs, h], (inputs, (h, pos + 1))

    def sequence_log_prob(self, input_id: int, tokens: list[int]) -> float:
        state, prev, total = self.init_state([input_id]), torch.tensor([BOS]), 0.0
        for tok in tokens:
            lp, state = self.step(prev, state)
            total += float(lp[0, tok])
            prev = torch.tensor([tok])
        return total


def brute_force(lm: RandomLM, input_id: int, max_len: int, alpha: float = 0.0) -> list[Hypothesis]:
    """Every sequence, scored one token at a time with itertools — independent of the package."""
    non_eos = [v for v in range(lm.vocab) if v != EOS]
    seqs = [list(p) + [EOS] for t in range(max_len) for p in itertools.product(non_eos, repeat=t)]
    seqs += [list(p) for p in itertools.product(non_eos, repeat=max_len)]
    hyps = [Hypothesis(s, lm.sequence_log_prob(input_id, s) / len(s) ** alpha) for s in seqs]
    return sorted((h for h in hyps if h.score != float("-inf")), key=lambda h: -h.score)


def assert_same(a: list[list[Hypothesis]], b: list[list[Hypothesis]], tol: float = 1e-5) -> None:
    assert len(a) == len(b)
    for ha, hb in zip(a, b, strict=True):
        assert [h.tokens for h in ha] == [h.tokens for h in hb]
        assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=tol)


@pytest.mark.parametrize("vocab,max_len", [(3, 4), (4, 3), (5, 2), (2, 6)])
def test_exhaustive_equals_itertools_brute_force(vocab, max_len):
    lm = RandomLM(3, vocab, seed=vocab * 10 + max_len)
    got = exhaustive_search(lm.step, lm.init_state(), bos_id=BOS, eos_id=EOS, max_len=max_len)
    assert_same(got, [brute_force(lm, i, max_len) for i in range(3)])
    # all probabilities of the (finite) output space sum to one
    for hyps in got:
        assert sum(math.exp(h.score) for h in hyps) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_wide_beam_equals_exhaustive(seed, alpha):
    vocab, max_len = 3 + seed % 2, 3 + seed % 3 // 2
    lm = RandomLM(4, vocab, seed=seed, temperature=2.0)
    k = vocab**max_len
    n_best = min(k, 7)
    beam = beam_search(
        lm.step,
        lm.init_state(),
        bos_id=BOS,
        eos_id=EOS,
        beam_width=k,
        max_len=max_len,
        length_penalty=alpha,
        n_best=n_best,
    )
    full = exhaustive_search(
        lm.step,
        lm.init_state(),
        bos_id=BOS,
        eos_id=EOS,
        max_len=max_len,
        length_penalty=alpha,
        n_best=n_best,
    )
    assert_same(beam, full)
    assert all(len(h) == n_best for h in beam)


@pytest.mark.parametrize("seed", range(5))
def test_beam_width_one_equals_greedy(seed):
    lm = RandomLM(16, 6, seed=seed, temperature=3.0)
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=8)
    greedy = greedy_search(lm.step, lm.init_state(), **kwargs)
    beam = beam_search(lm.step, lm.init_state(), beam_width=1, **kwargs)
    assert_same(beam, greedy)
    assert any(h[0].tokens[-1] == EOS for h in greedy) and any(
        h[0].tokens[-1] != EOS for h in greedy
    )


@pytest.mark.parametrize("k,alpha,n_best", [(2, 0.0, 1), (3, 0.0, 3), (5, 1.0, 2), (4, 0.6, 4)])
def test_scores_are_recomputed_sums_and_sorted(k, alpha, n_best):
    lm = RandomLM(8, 7, seed=k, temperature=2.0)
    max_len = 6
    results = beam_search(
        lm.step,
        lm.init_state(),
        bos_id=BOS,
        eos_id=EOS,
        beam_width=k,
        max_len=max_len,
        length_penalty=alpha,
        n_best=n_best,
    )
    for i, hyps in enumerate(results):
        assert 1 <= len(hyps) <= n_best
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == len(hyps)
        for h in hyps:
            assert 1 <= len(h.tokens) <= max_len
            assert EOS not in h.tokens[:-1]
            assert len(h.tokens) == max_len or h.tokens[-1] == EOS
            expected = lm.sequence_log_prob(i, h.tokens) / len(h.tokens) ** alpha
            assert h.score == pytest.approx(expected, abs=1e-5)


def test_beam_never_worse_than_greedy_and_wider_finds_better():
    lm = RandomLM(16, 6, seed=3, temperature=3.0)
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=5)
    greedy = [h[0].score for h in greedy_search(lm.step, lm.init_state(), **kwargs)]
    best = {
        k: [h[0].score for h in beam_search(lm.step, lm.init_state(), beam_width=k, **kwargs)]
        for k in (1, 3, 10)
    }
    # not guaranteed in general (a beam can drop the greedy path), but true on this model
    assert all(b >= g - 1e-6 for b, g in zip(best[3], greedy, strict=True))
    assert (
        sum(b > g + 1e-6 for b, g in zip(best[10], greedy, strict=True)) >= 3
    )  # search errors are common
    optimum = [h[0].score for h in exhaustive_search(lm.step, lm.init_state(), n_best=1, **kwargs)]
    assert all(o >= b - 1e-6 for o, b in zip(optimum, best[10], strict=True))


@pytest.mark.parametrize("search", ["greedy", "beam", "exhaustive"])
def test_batched_equals_one_at_a_time(search):
    lm = RandomLM(6, 4, seed=11, temperature=2.0)
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=5)

    def fn(st):
        if search == "beam":
            return beam_search(lm.step, st, beam_width=4, n_best=3, length_penalty=0.5, **kwargs)
        if search == "greedy":
            return greedy_search(lm.step, st, **kwargs)
        return exhaustive_search(lm.step, st, n_best=5, **kwargs)

    batched = fn(lm.init_state())
    single = [fn(lm.init_state([i]))[0] for i in range(6)]
    assert_same(batched, single)


def test_impossible_tokens_and_tiny_vocabulary():
    # token 2 has probability zero: it must never appear and no -inf score may be returned
    lm = RandomLM(3, 4, seed=5, forbid=2)
    res = beam_search(
        lm.step, lm.init_state(), bos_id=BOS, eos_id=EOS, beam_width=30, max_len=3, n_best=30
    )
    full = exhaustive_search(lm.step, lm.init_state(), bos_id=BOS, eos_id=EOS, max_len=3)
    for hyps, ref in zip(res, full, strict=True):
        assert all(2 not in h.tokens and math.isfinite(h.score) for h in hyps)
        assert len(hyps) == len(ref) == 1 + 2 + 4 + 8  # eos at 1..3, or three non-eos tokens
    # a two-word vocabulary: fewer candidates than beam slots
    lm2 = RandomLM(2, 2, seed=1)
    res2 = beam_search(
        lm2.step, lm2.init_state(), bos_id=BOS, eos_id=EOS, beam_width=8, max_len=3, n_best=8
    )
    assert_same(
        res2, exhaustive_search(lm2.step, lm2.init_state(), bos_id=BOS, eos_id=EOS, max_len=3)
    )


def test_always_eos_and_max_len_one():
    def step(prev, state):
        lp = torch.full((prev.shape[0], 5), -30.0)
        lp[:, EOS] = 0.0
        return lp, state

    state = torch.zeros(3, 2)
    for res in (
        greedy_search(step, state, bos_id=BOS, eos_id=EOS, max_len=4),
        beam_search(step, state, bos_id=BOS, eos_id=EOS, beam_width=3, max_len=4),
    ):
        assert [h[0].tokens for h in res] == [[EOS]] * 3 and res[0][0].score == 0.0
    lm = RandomLM(2, 5, seed=2)
    one = beam_search(
        lm.step, lm.init_state(), bos_id=BOS, eos_id=EOS, beam_width=5, max_len=1, n_best=5
    )
    assert all(len(h.tokens) == 1 for hyps in one for h in hyps)
    assert_same(
        one,
        exhaustive_search(lm.step, lm.init_state(), bos_id=BOS, eos_id=EOS, max_len=1, n_best=5),
    )


def test_reorder_state_handles_nested_and_none():
    state = (torch.arange(3), [torch.arange(6).view(3, 2), None])
    out = reorder_state(state, torch.tensor([2, 2, 0]))
    assert out[0].tolist() == [2, 2, 0] and out[1][0].tolist() == [[4, 5], [4, 5], [0, 1]]
    assert out[1][1] is None and isinstance(out[1], list)


def test_seq2seq_model_beam_width_one_matches_greedy_search():
    from companion.models import make_seq2seq

    torch.manual_seed(0)
    model = make_seq2seq(9, 11, encoder="gru", decoder="context", emb_dim=8, hidden=16).eval()
    src = torch.randint(4, 9, (5, 6))
    lengths = torch.tensor([6, 3, 5, 1, 4])
    kwargs = dict(bos_id=model.bos_id, eos_id=model.eos_id, max_len=7)
    greedy = greedy_search(model.step, model.init_state(src, lengths), **kwargs)
    beam = beam_search(model.step, model.init_state(src, lengths), beam_width=1, **kwargs)
    assert_same(beam, greedy)
    wide = beam_search(model.step, model.init_state(src, lengths), beam_width=6, n_best=6, **kwargs)
    assert all(w[0].score >= g[0].score - 1e-5 for w, g in zip(wide, greedy, strict=True))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(beam_width=0), ValueError, "beam_width"),
        (dict(beam_width=2.5), TypeError, "beam_width"),
        (dict(max_len=0), ValueError, "max_len"),
        (dict(n_best=4), ValueError, "n_best"),
        (dict(n_best=0), ValueError, "n_best"),
        (dict(length_penalty=-1.0), ValueError, "length_penalty"),
        (dict(eos_id=9), ValueError, "eos_id"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    lm = RandomLM(2, 4)
    args = dict(bos_id=BOS, eos_id=EOS, beam_width=3, max_len=4) | kwargs
    with pytest.raises(error, match=match):
        beam_search(lm.step, lm.init_state(), **args)


def test_bad_step_functions_and_states_raise_value_error():
    kwargs = dict(bos_id=BOS, eos_id=EOS, max_len=3)
    good_state = torch.zeros(2, 3)

    def wrong_rows(prev, st):
        return torch.zeros(prev.shape[0] + 1, 4), st

    def one_dim(prev, st):
        return torch.zeros(4), st

    def not_pair(prev, st):
        return torch.zeros(prev.shape[0], 4)

    def integer(prev, st):
        return torch.zeros(prev.shape[0], 4, dtype=torch.long), st

    for fn in (wrong_rows, one_dim, not_pair, integer):
        for search in (greedy_search, exhaustive_search):
            with pytest.raises(ValueError, match="step_fn"):
                search(fn, good_state, **kwargs)
        with pytest.raises(ValueError, match="step_fn"):
            beam_search(fn, good_state, beam_width=2, **kwargs)
    with pytest.raises(ValueError, match="state"):
        greedy_search(lambda p, s: (torch.zeros(1, 4), s), ("no tensors",), **kwargs)
    with pytest.raises(ValueError, match="first dimension"):
        beam_search(
            lambda p, s: (torch.zeros(1, 4), s),
            (torch.zeros(2), torch.zeros(3)),
            beam_width=2,
            **kwargs,
        )
    big = RandomLM(1, 50)
    with pytest.raises(ValueError, match="exhaustive"):
        exhaustive_search(big.step, big.init_state(), bos_id=BOS, eos_id=EOS, max_len=6)
