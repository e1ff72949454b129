"""Exercises of notebook 5.3.2, Seq2Seq decoders (解码器): (5-20), Fig. 5-9, greedy decoding."""

from __future__ import annotations

import functools

import torch
from torch import nn

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import Case, FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.exercises.sequences import demo_model_and_data, exact_match_exercise
from companion.i18n import N_, _

# ---------------------------------------------------------------- 5.3.2-cho-first-state (predict)
# GRU update s₁ = (1 − z) ⊙ n + z ⊙ s₀ with z = 0.25, n = 0.6, s₀ = 0.8 (Cho et al.: s₀ = c).

predict_exercise(
    id="5.3.2-cho-first-state",
    section=N_("5.3.2, Fig. 5-9, GRU update"),
    title=N_("One coordinate of the first decoder state in Cho's variant (s₀ = c)"),
    value=0.65,
    precision=Precision(2),
    answer_name="s1_cho",
    mistakes=[
        (
            "zero-start",
            0.75 * 0.6,
            N_(
                "0.45 is the book's decoder, whose state starts at 0; in Cho's variant s₀ = c = "
                "0.8 and the term z ⊙ s₀ remains"
            ),
        ),
        (
            "z-swapped",
            0.25 * 0.6 + 0.75 * 0.8,
            N_(
                "you swapped z and 1 − z: in PyTorch's GRU the update gate z keeps the *old* "
                "state, s₁ = (1 − z) ⊙ n + z ⊙ s₀"
            ),
        ),
        (
            "sum",
            0.6 + 0.8,
            N_(
                "the GRU interpolates between n and s₀ with weights 1 − z and z; it does not add "
                "them"
            ),
        ),
    ],
    solution=N_(
        """\
z, n, s0 = 0.25, 0.6, 0.8  # Cho's variant starts from s₀ = c
s1_cho = (1 - z) * n + z * s0  # 0.75 · 0.6 + 0.25 · 0.8 = 0.45 + 0.20 = 0.65
"""
    ),
    solution_note=N_(
        "With the book's zero start (s₀ = 0) the second term vanishes and s₁ = (1 − z) ⊙ n = 0.45, "
        "the formula the notebook checks in section 2."
    ),
    hints=(
        N_("PyTorch's GRU: s_new = (1 − z) ⊙ n + z ⊙ s_old."),
        N_("In Cho's variant s_old = s₀ = c, here 0.8."),
    ),
)


# ---------------------------------------------------------------- 5.3.2-decoder-weights (predict)
_E, _C, _H = 16, 64, 64
_WEIGHT_IH = 3 * _H * (_E + _C)

predict_exercise(
    id="5.3.2-decoder-weights",
    section=N_("5.3.2 (5-20), Fig. 5-9"),
    title=N_("Size of the input weights of the book's decoder GRU (E = 16, c and s of size 64)"),
    value=_WEIGHT_IH,
    precision=Precision(0),
    answer_name="decoder_weight_ih",
    mistakes=[
        (
            "no-context",
            3 * _H * _E,
            N_(
                "3072 is Sutskever's decoder, whose input is e(y_{t−1}) alone; the book's decoder "
                "(Fig. 5-9) reads [e(y_{t−1}); c], 16 + 64 numbers, at every step"
            ),
        ),
        (
            "one-block",
            _H * (_E + _C),
            N_("5120 is one block; a GRU's weight_ih stacks three (reset, update, candidate)"),
        ),
        (
            "state-in-input",
            3 * _H * (_E + _C + _H),
            N_("the previous state s_{t−1} enters through weight_hh, not through the input"),
        ),
    ],
    solution=N_(
        """\
E, C, H = 16, 64, 64
inputs = E + C  # x_t = [e(y_{t−1}); c] at every step of Fig. 5-9
decoder_weight_ih = 3 * H * inputs  # weight_ih stacks the blocks r, z, n: [3·64, 80] = 15,360
"""
    ),
    solution_note=N_(
        "Check: ContextInputDecoder(V, emb_dim=16, hidden=64).rnn.weight_ih_l0.numel()."
    ),
    hints=(
        N_("What is the GRU's input at every step in Fig. 5-9? Count its size."),
        N_("weight_ih has shape [3·H, input size]."),
    ),
)


# ---------------------------------------------------------------- 5.3.2-gru-step (implement)


def _gru_cell(x, s, W_ih, W_hh, b_ih, b_hh) -> torch.Tensor:
    """The independent reference: nn.GRUCell with these weights."""
    cell = nn.GRUCell(x.shape[-1], s.shape[-1]).double()
    with torch.no_grad():
        for name, value in zip(
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (W_ih, W_hh, b_ih, b_hh), strict=True
        ):
            getattr(cell, name).copy_(value.double())
        return cell(x.double(), s.double()).to(x.dtype)


def _gru_variant(
    x, s, W_ih, W_hh, b_ih, b_hh, *, order="rzn", swap_z=False, reset_first=False, no_reset=False
):
    gi, gh = x @ W_ih.T + b_ih, s @ W_hh.T + b_hh
    H = s.shape[-1]
    parts = {k: (slice(i * H, (i + 1) * H)) for i, k in enumerate(order)}
    r = torch.sigmoid(gi[:, parts["r"]] + gh[:, parts["r"]])
    z = torch.sigmoid(gi[:, parts["z"]] + gh[:, parts["z"]])
    if no_reset:
        r = torch.ones_like(r)
    if reset_first:
        hidden = (r * s) @ W_hh[parts["n"]].T + b_hh[parts["n"]]
    else:
        hidden = r * gh[:, parts["n"]]
    n = torch.tanh(gi[:, parts["n"]] + hidden)
    return z * n + (1 - z) * s if swap_z else (1 - z) * n + z * s


def _gru_cases():
    g = torch.Generator().manual_seed(532)
    cases = []
    for b, e, h in ((3, 4, 5), (2, 6, 3), (5, 3, 4)):
        cases.append(
            (
                torch.randn(b, e, generator=g),
                torch.randn(b, h, generator=g),
                torch.randn(3 * h, e, generator=g),
                torch.randn(3 * h, h, generator=g),
                torch.randn(3 * h, generator=g),
                torch.randn(3 * h, generator=g),
            )
        )
    return cases


implement_exercise(
    id="5.3.2-gru-step",
    section=N_("5.3.2 (5-20), GRU"),
    title=N_("gru_step(x, s, W_ih, W_hh, b_ih, b_hh): one step of the decoder's GRU by hand"),
    answer_name="gru_step",
    spec=FunctionSpec(cases=_gru_cases, expected=_gru_cell, rtol=1e-4, atol=1e-5),
    mistakes=(
        Mistake(
            "z-swapped",
            lambda ctx: lambda *a: _gru_variant(*a, swap_z=True),
            N_(
                "z and 1 − z are swapped: in PyTorch z keeps the old state, "
                "s' = (1 − z) ⊙ n + z ⊙ s"
            ),
        ),
        Mistake(
            "gate-order",
            lambda ctx: lambda *a: _gru_variant(*a, order="zrn"),
            N_(
                "PyTorch stacks the blocks of weight_ih/weight_hh in the order (r, z, n): reset "
                "first, then update, then candidate"
            ),
        ),
        Mistake(
            "reset-before-product",
            lambda ctx: lambda *a: _gru_variant(*a, reset_first=True),
            N_(
                "you applied r before the product, W_hn (r ⊙ s) — the original GRU of Cho et al.; "
                "PyTorch applies it after: r ⊙ (W_hn s + b_hn)"
            ),
        ),
        Mistake(
            "no-reset",
            lambda ctx: lambda *a: _gru_variant(*a, no_reset=True),
            N_(
                "the reset gate r is missing from the candidate "
                "n = tanh(W_in x + b_in + r ⊙ (W_hn s + b_hn))"
            ),
        ),
    ),
    solution=N_(
        """\
def gru_step(x, s, W_ih, W_hh, b_ih, b_hh):
    H = s.shape[-1]
    gi, gh = x @ W_ih.T + b_ih, s @ W_hh.T + b_hh  # blocks stacked (r, z, n)
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])  # reset gate
    z = torch.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])  # update gate
    n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])  # candidate; r after W_hn s + b_hn
    return (1 - z) * n + z * s
"""
    ),
    solution_note=N_("It equals torch.nn.GRUCell with the same weights (which the checker uses)."),
    hints=(
        N_("weight_ih is [3H, E] and stacks the reset, update and candidate blocks in that order."),
        N_(
            "r and z: sigmoid of the input part plus the recurrent part. The candidate: "
            "n = tanh(W_in x + b_in + r ⊙ (W_hn s + b_hn))."
        ),
        N_("s' = (1 − z) ⊙ n + z ⊙ s"),
    ),
)


# ---------------------------------------------------------------- 5.3.2-greedy-decode (implement)


class TinyDecoder:
    """A fixed random recurrent decoder behind the step interface (5-20): for the hidden cases."""

    def __init__(self, vocab: int, hidden: int, seed: int, eos_id: int, eos_bias: float):
        g = torch.Generator().manual_seed(seed)
        self.embed = torch.randn(vocab + 1, hidden, generator=g, dtype=torch.float64)  # + <bos>
        self.W = torch.randn(hidden, hidden, generator=g, dtype=torch.float64) / hidden**0.5
        self.out = torch.randn(vocab, hidden, generator=g, dtype=torch.float64) * 2
        self.bias = torch.zeros(vocab, dtype=torch.float64)
        self.bias[eos_id] = eos_bias
        self.vocab, self.bos_id, self.eos_id = vocab, vocab, eos_id
        self.state0 = torch.randn(4, hidden, generator=g, dtype=torch.float64)

    def step(self, prev: torch.Tensor, state: torch.Tensor):
        state = torch.tanh(self.embed[prev] + state @ self.W.T)
        return (state @ self.out.T + self.bias).log_softmax(-1), state


#: (vocab, hidden, seed, eos id, eos bias, max_len); the last never produces <eos>: a loop that
#: waits for it instead of stopping at max_len runs forever there
_GREEDY_CASES = [
    (6, 5, 1, 0, 0.5, 8),
    (5, 4, 2, 2, 1.0, 6),
    (7, 6, 3, 6, 0.0, 10),
    (4, 3, 4, 1, 1.5, 5),
    (5, 4, 5, 3, -float("inf"), 7),
]


@functools.cache
def _decoders() -> tuple[tuple[TinyDecoder, int], ...]:
    return tuple(
        (TinyDecoder(v, h, seed, eos, bias), max_len)
        for v, h, seed, eos, bias, max_len in _GREEDY_CASES
    )


def _greedy_cases() -> list[Case]:
    return [
        Case(
            (dec.step, dec.state0),
            {"bos_id": dec.bos_id, "eos_id": dec.eos_id, "max_len": max_len},
            label=_(
                "a hidden decoder with V={vocab}, 4 rows, bos_id={bos}, eos_id={eos}, "
                "max_len={max_len}"
            ).format(vocab=dec.vocab, bos=dec.bos_id, eos=dec.eos_id, max_len=max_len),
        )
        for dec, max_len in _decoders()
    ]


def _greedy_package(step, state, *, bos_id, eos_id, max_len) -> list[list[int]]:
    """The independent reference: companion.decoding.greedy_search."""
    from companion.decoding import greedy_search

    return [
        h[0].tokens
        for h in greedy_search(step, state, bos_id=bos_id, eos_id=eos_id, max_len=max_len)
    ]


def _greedy_variant(*, stop=True, keep_eos=True, feed="prev", batch_stop=False):
    def decode(step, state, *, bos_id, eos_id, max_len):
        n = state.shape[0]
        prev = torch.full((n,), bos_id, dtype=torch.long)
        outputs: list[list[int]] = [[] for _row in range(n)]
        done = [False] * n
        for _step in range(max_len):
            log_probs, state = step(prev, state)
            best = log_probs.argmax(-1)
            prev = best if feed == "prev" else torch.full((n,), bos_id, dtype=torch.long)
            for i, token in enumerate(best.tolist()):
                if not done[i] or not stop:
                    if token != eos_id or keep_eos:
                        outputs[i].append(token)
                    done[i] = done[i] or token == eos_id
            if (batch_stop and any(done)) or all(done):
                if stop or batch_stop:
                    break
        return outputs

    return decode


implement_exercise(
    id="5.3.2-greedy-decode",
    section=N_("5.3.2 (5-20), greedy decoding"),
    title=N_("greedy_decode(step, state, bos_id, eos_id, max_len) for a whole batch"),
    answer_name="greedy_decode",
    spec=FunctionSpec(
        cases=_greedy_cases,
        expected=_greedy_package,
        rtol=0,
        atol=0,
        success=N_("the same outputs as companion.decoding.greedy_search on {n} hidden decoders."),
    ),
    timeout_hint=N_("does your loop stop at max_len?"),
    mistakes=(
        Mistake(
            "no-stop",
            lambda ctx: _greedy_variant(stop=False),
            N_(
                "your outputs continue after ⟨eos⟩: a sentence ends at its first ⟨eos⟩ (keep the "
                "⟨eos⟩, drop what a row produces after it)"
            ),
        ),
        Mistake(
            "drops-eos",
            lambda ctx: _greedy_variant(keep_eos=False),
            N_(
                "your outputs stop at the right place but leave out the final ⟨eos⟩; keep it, as "
                "companion.decoding does, so a finished output can be told from a cut one"
            ),
        ),
        Mistake(
            "feeds-bos",
            lambda ctx: _greedy_variant(feed="bos"),
            N_("you feed ⟨bos⟩ at every step; (5-20) feeds back the previous output y_{t−1}"),
        ),
        Mistake(
            "batch-stop",
            lambda ctx: _greedy_variant(batch_stop=True),
            N_(
                "you stop the whole batch when the first row ends; every row runs until its own "
                "⟨eos⟩ or max_len"
            ),
        ),
    ),
    solution=N_(
        """\
def greedy_decode(step, state, *, bos_id, eos_id, max_len):
    n = (state[0] if isinstance(state, (tuple, list)) else state).shape[0]  # rows of the batch
    prev = torch.full((n,), bos_id, dtype=torch.long)
    outputs, done = [[] for _ in range(n)], [False] * n
    for _ in range(max_len):  # never more than max_len steps
        log_probs, state = step(prev, state)  # (5-20)
        prev = log_probs.argmax(-1)  # greedy: the most likely next token
        for i, token in enumerate(prev.tolist()):
            if not done[i]:
                outputs[i].append(token)
                done[i] = token == eos_id
        if all(done):
            break
    return outputs
"""
    ),
    solution_note=N_(
        "companion.decoding.greedy_search does the same and also drops finished rows from the "
        "batch."
    ),
    hints=(
        N_(
            "Start every row with ⟨bos⟩; each call step(prev, state) gives log-probabilities "
            "[N, V] and the next state."
        ),
        N_(
            "Feed back the arg-max of every row. A row is done after its first ⟨eos⟩ (keep the "
            "⟨eos⟩ in its output), but the other rows go on."
        ),
        N_("Stop when every row is done or after max_len steps, whichever comes first."),
    ),
)


# ---------------------------------------------------------------- 5.3.2-four-numbers (experiment)

exact_match_exercise(
    id="5.3.2-four-numbers",
    section=N_("5.3.2, one fixed-length c"),
    title=N_("The book's decoder on four numbers, one more than in training"),
    task="numbers",
    n=100,
    seed=1,
    n_items=4,
    max_len=64,
    answer_name="four_numbers_exact",
    solution=N_(
        """\
pairs4 = generate_pairs("numbers", 100, seed=1, n_items=4)
preds = translate(models["book"], data, [p.src for p in pairs4], max_len=64)
four_numbers_exact = exact_match(preds, [p.tgt for p in pairs4])
"""
    ),
    solution_names=lambda ctx: {"models": {"book": ctx["model"]}, "data": ctx["data"]},
    solution_note=N_(
        "The accuracy keeps falling past the training lengths: one vector c of 64 numbers has to "
        "hold four numbers now, and the decoder never learned to write a fourth."
    ),
    hints=(
        N_("generate_pairs('numbers', 100, seed=1, n_items=4) gives the inputs."),
        N_("translate(models['book'], data, sources, max_len=64), then exact_match."),
    ),
    demo_context=lambda: demo_model_and_data("numbers", "context", "en", "zh"),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.2-feed-back",
    section=N_("5.3.2 (5-20)"),
    title=N_("Why greedy decoding feeds its own output back, and what that risks"),
    answer=N_(
        "(5-20) conditions every step on the previous output y_{t−1}. At test time there is no "
        "reference, so the decoder must use the token it chose itself. Greedy decoding keeps only "
        "the single most likely token at each step: cheap, but a mistake early on changes every "
        "later input, and a token that looked best locally can lead to a worse sentence overall — "
        "the output with the highest total probability may start with a token that was not the "
        "best first choice. Beam search (5.3.4) keeps several prefixes to reduce that risk."
    ),
)
