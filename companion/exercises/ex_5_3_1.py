"""Exercises of notebook 5.3.1, Seq2Seq encoders (编码器): (5-18), (5-19), Fig. 5-8."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import Case, FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_
from companion.model_utils import model_device

# ---------------------------------------------------------------- 5.3.1-receptive-field (predict)

predict_exercise(
    id="5.3.1-receptive-field",
    section=N_("5.3.1 CNN encoder"),
    title=N_("Receptive field of a CNN encoder with 4 layers of kernel size 5"),
    value=17,
    precision=Precision(0),
    answer_name="receptive_field_4x5",
    mistakes=[
        (
            "layers-times-kernel",
            4 * 5,
            N_(
                "20 = layers × kernel counts the centre token once per layer; consecutive layers "
                "share it: each layer adds k − 1 tokens, 1 + L·(k − 1)"
            ),
        ),
        (
            "one-side",
            1 + 4 * 2,
            N_(
                "9 widens the view on one side only; a centred kernel of 5 adds 2 tokens on each "
                "side"
            ),
        ),
        ("no-centre", 4 * 4, N_("16 forgets the token in the middle: 1 + L·(k − 1)")),
        (
            "product",
            5**4,
            N_(
                "5⁴ multiplies the kernels; receptive fields of stacked convolutions grow "
                "additively"
            ),
        ),
    ],
    solution=N_(
        """\
layers, kernel = 4, 5
# one centred layer sees (k − 1)/2 = 2 tokens on each side; every further layer adds 2 more per side
receptive_field_4x5 = 1 + layers * (kernel - 1)  # 17 tokens
"""
    ),
    solution_note=N_(
        'The notebook\'s encoder has 1 + 3 · (3 − 1) = 7. Check: make_encoder("cnn", V, 32, 64, '
        "num_layers=4, kernel_size=5).receptive_field, or position_influence on such an encoder: "
        "its band is 17 tokens wide."
    ),
    hints=(
        N_("Start with one layer: a kernel of size 5 centred on a token sees how many tokens?"),
        N_(
            "Each extra layer reads outputs that already see that far, and adds k − 1 = 4 tokens "
            "(2 on each side)."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.1-gru-parameters (predict)
_E, _H = 32, 64
_GRU = 3 * (_H * _E + _H * _H + _H + _H)

predict_exercise(
    id="5.3.1-gru-parameters",
    section=N_("5.3.1 (5-18), GRU"),
    title=N_("Parameters of the GRU inside an encoder with E = 32, H = 64"),
    value=_GRU,
    precision=Precision(0),
    answer_name="gru_parameters",
    mistakes=[
        (
            "plain-rnn",
            _GRU // 3,
            N_(
                "6272 is a plain RNN's count (5-18): a GRU has three blocks — reset gate, update "
                "gate and candidate — each with its own W_i·, W_h· and biases"
            ),
        ),
        (
            "one-bias",
            3 * (_H * _E + _H * _H + _H),
            N_(
                "one bias per block is missing: PyTorch's GRU keeps two, b_i· and b_h· (the "
                "candidate needs b_hn inside r ⊙ (W_hn h + b_hn))"
            ),
        ),
        (
            "no-bias",
            3 * (_H * _E + _H * _H),
            N_("you counted the weight matrices only; add the biases b_ih and b_hh (3·64 each)"),
        ),
        (
            "lstm",
            4 * (_H * _E + _H * _H + 2 * _H),
            N_("that is an LSTM's count (four blocks); a GRU has three"),
        ),
    ],
    solution=N_(
        """\
E, H = 32, 64
# three blocks (reset r, update z, candidate n), each with W_i· (H × E), W_h· (H × H), b_i· and b_h·
gru_parameters = 3 * (H * E + H * H + H + H)  # 18,816
"""
    ),
    solution_note=N_("Check: sum(p.numel() for p in torch.nn.GRU(32, 64).parameters())."),
    hints=(
        N_("A plain RNN has W_ih (H × E), W_hh (H × H), b_ih and b_hh."),
        N_("A GRU repeats that for each of its three blocks (r, z, n)."),
    ),
)


# ---------------------------------------------------------------- 5.3.1-rnn-context (implement)


def _rnn_weights(g: torch.Generator, e: int, h: int):
    return tuple(torch.randn(*shape, generator=g) * 0.5 for shape in ((h, e), (h, h), (h,), (h,)))


def _rnn_cases():
    g = torch.Generator().manual_seed(531)
    cases = []
    for b, s, e, h in ((3, 6, 4, 5), (4, 5, 3, 3), (1, 4, 2, 6), (5, 7, 4, 4)):
        lengths = torch.randint(1, s + 1, (b,), generator=g)
        lengths[0] = s
        x = torch.randn(b, s, e, generator=g) * 1.5  # padded cells hold garbage: must not matter
        cases.append((x, lengths, *_rnn_weights(g, e, h)))
    return cases


def _rnn_context_torch(x, lengths, W_ih, W_hh, b_ih, b_hh) -> torch.Tensor:
    """The independent reference: nn.RNN with these weights on packed sequences, final state."""
    rnn = nn.RNN(x.shape[-1], W_hh.shape[0], batch_first=True).double()
    with torch.no_grad():
        for name, value in zip(
            ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
            (W_ih, W_hh, b_ih, b_hh),
            strict=True,
        ):
            getattr(rnn, name).copy_(value.double())
        packed = pack_padded_sequence(x.double(), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = rnn(packed)
    return h_n[0].to(x.dtype)


def _rnn_states(x, W_ih, W_hh, b_ih, b_hh, *, act=torch.tanh, hidden_bias=True):
    h = x.new_zeros(x.shape[0], W_hh.shape[0])
    states = []
    for t in range(x.shape[1]):
        h = act(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + (b_hh if hidden_bias else 0))
        states.append(h)
    return torch.stack(states, 1)  # [B, S, H]


def _at_lengths(states, lengths):
    return states[torch.arange(states.shape[0]), lengths - 1]


implement_exercise(
    id="5.3.1-rnn-context",
    section=N_("5.3.1 (5-18), (5-19)"),
    title=N_(
        "rnn_context(x, lengths, W_ih, W_hh, b_ih, b_hh): (5-18) by hand, c = h_T in a padded batch"
    ),
    answer_name="rnn_context",
    spec=FunctionSpec(cases=_rnn_cases, expected=_rnn_context_torch, rtol=1e-4, atol=1e-5),
    mistakes=(
        Mistake(
            "last-column",
            lambda ctx: lambda x, lengths, *w: _rnn_states(x, *w)[:, -1],
            N_(
                "for the shorter sentences your c is the state after reading the padding: take "
                "h_T with T each sentence's own length (lengths − 1 as an index)"
            ),
            fix=lambda ctx: lambda x, lengths, *w: _at_lengths(_rnn_states(x, *w), lengths),
        ),
        Mistake(
            "relu",
            lambda ctx: (
                lambda x, lengths, *w: _at_lengths(_rnn_states(x, *w, act=torch.relu), lengths)
            ),
            N_("nn.RNN's f_enc uses tanh, not ReLU"),
        ),
        Mistake(
            "no-hidden-bias",
            lambda ctx: (
                lambda x, lengths, *w: _at_lengths(_rnn_states(x, *w, hidden_bias=False), lengths)
            ),
            N_(
                "b_hh is missing: PyTorch adds both biases, tanh(W_ih x_t + b_ih + W_hh h_{t−1} "
                "+ b_hh)"
            ),
        ),
        Mistake(
            "mean-of-states",
            lambda ctx: (
                lambda x, lengths, *w: (
                    (
                        _rnn_states(x, *w)
                        * (torch.arange(x.shape[1])[None, :, None] < lengths[:, None, None])
                    ).sum(1)
                    / lengths[:, None].to(x.dtype)
                )
            ),
            N_(
                "you averaged the states (how the CNN and Transformer encoders summarise); "
                "(5-19) takes the last state h_T"
            ),
        ),
    ),
    solution=N_(
        """\
def rnn_context(x, lengths, W_ih, W_hh, b_ih, b_hh):
    h = x.new_zeros(x.shape[0], W_hh.shape[0])  # h_0 = 0
    context = torch.zeros_like(h)
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)  # (5-18)
        context = torch.where((lengths == t + 1)[:, None], h, context)  # this sentence ends at t
    return context  # (5-19): c = h_T
"""
    ),
    solution_note=N_(
        "The encoders of companion.models get the same result from nn.RNN on packed sequences."
    ),
    hints=(
        N_(
            "(5-18) for the plain RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), h_0 = 0. "
            "x[:, t] is [B, E]; multiply by W_ih.T."
        ),
        N_(
            "In a padded batch every sentence has its own T = lengths[b]: keep the state of each "
            "sentence at its own last real step, not the state after the padding."
        ),
        N_(
            "Stack the states into [B, S, H] and pick states[arange(B), lengths − 1], or keep c "
            "with torch.where while looping."
        ),
    ),
)


# ---------------------------------------------------------------- 5.3.1-bidirectional-context


def _bigru_cases():
    """Outputs of a real packed bidirectional GRU, paired with its final states (the truth)."""
    g = torch.Generator().manual_seed(5310)
    cases = []
    for b, s, e, half in ((3, 6, 4, 3), (4, 5, 3, 2), (2, 7, 5, 4)):
        torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=g)))
        gru = nn.GRU(e, half, batch_first=True, bidirectional=True)
        lengths = torch.randint(1, s + 1, (b,), generator=g)
        lengths[0] = s
        x = torch.randn(b, s, e, generator=g)
        with torch.no_grad():
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, h_n = gru(packed)
            outputs, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=s)
        cases.append(Case((outputs, lengths), expected=torch.cat([h_n[0], h_n[1]], dim=-1)))
    return cases


def _halves(outputs, lengths, fwd_at, bwd_at, swap=False):
    half, rows = outputs.shape[-1] // 2, torch.arange(outputs.shape[0])
    fwd, bwd = outputs[rows, fwd_at, :half], outputs[rows, bwd_at, half:]
    return torch.cat([bwd, fwd] if swap else [fwd, bwd], dim=-1)


implement_exercise(
    id="5.3.1-bidirectional-context",
    section=N_("5.3.1 bidirectional encoder"),
    title=N_("bidirectional_context(outputs, lengths): the summary c of a bidirectional encoder"),
    answer_name="bidirectional_context",
    spec=FunctionSpec(
        cases=_bigru_cases,
        expected=None,  # each case holds the GRU's own final states h_n
        rtol=1e-5,
        atol=1e-6,
        success=N_(
            "equals the final states h_n of a packed bidirectional nn.GRU on {n} hidden cases."
        ),
    ),
    mistakes=(
        Mistake(
            "both-at-end",
            lambda ctx: lambda o, n: _halves(o, n, n - 1, n - 1),
            N_(
                "your backward half is the backward state at the last word — it has read one "
                "token only. The backward direction finishes reading at position 1 (index 0)"
            ),
        ),
        Mistake(
            "last-column",
            lambda ctx: lambda o, n: o[:, -1],
            N_(
                "you took the last padded column: for shorter sentences the forward half there "
                "is zero padding, and the backward half has read one token at most"
            ),
        ),
        Mistake(
            "swapped",
            lambda ctx: lambda o, n: _halves(o, n, n - 1, torch.zeros_like(n), swap=True),
            N_("right states, wrong order: the forward half comes first, as in the outputs"),
        ),
        Mistake(
            "both-at-start",
            lambda ctx: lambda o, n: _halves(o, n, torch.zeros_like(n), torch.zeros_like(n)),
            N_(
                "your forward half is the state after the first word only: the forward direction "
                "finishes at the last real position, lengths − 1"
            ),
        ),
    ),
    solution=N_(
        """\
def bidirectional_context(outputs, lengths):
    half = outputs.shape[-1] // 2
    rows = torch.arange(outputs.shape[0])
    forward_end = outputs[rows, lengths - 1, :half]  # forward RNN: done at the last real token
    backward_end = outputs[:, 0, half:]  # backward RNN: done at the first token
    return torch.cat([forward_end, backward_end], dim=-1)
"""
    ),
    solution_note=N_(
        "The checker compares with the final states h_n of a packed bidirectional nn.GRU."
    ),
    hints=(
        N_("outputs[..., :H/2] is the forward direction, outputs[..., H/2:] the backward one."),
        N_(
            "Where has each direction read the whole sentence? Forward: at its last real "
            "position; backward: at position 1."
        ),
        N_("outputs[arange(B), lengths − 1, :half] and outputs[:, 0, half:], concatenated."),
    ),
)


# ---------------------------------------------------------------- 5.3.1-trained-memory (experiment)


def _first_over_last(context) -> float:
    from companion.models.encoders import position_influence

    encoder = context["encoder"]
    src = context["src"].to(model_device(encoder))  # the encoder may live on a GPU
    _, on_c = position_influence(encoder, src)
    return float(on_c[0] / on_c[-1])


def _demo_encoder() -> dict:
    from companion.models import make_encoder

    torch.manual_seed(0)
    return {"encoder": make_encoder("gru", 12, 8, 8).eval(), "src": torch.arange(1, 11)}


def _memory_names(context) -> dict:
    from companion.models.encoders import position_influence

    return {
        "models": {("gru", "context"): SimpleNamespace(encoder=context["encoder"])},
        "src": context["src"],
        "position_influence": position_influence,
    }


experiment_exercise(
    id="5.3.1-trained-memory",
    section=N_("5.3.1 (5-19)"),
    title=N_("After training: how much does the first word still move c?"),
    measure=_first_over_last,
    precision=Precision(3),
    answer_name="trained_ratio",
    mistakes=[
        (
            "last-over-first",
            lambda ctx: 1 / _first_over_last(ctx),
            N_(
                "that is last over first: the exercise asks for the influence of the first token "
                "divided by that of the last"
            ),
        )
    ],
    solution=N_(
        """\
trained = models["gru", "context"].encoder
_, on_c = position_influence(trained, src)
trained_ratio = (on_c[0] / on_c[-1]).item()
"""
    ),
    solution_names=_memory_names,
    solution_note=N_(
        "The untrained GRU's ratio is printed in the table of section 6. Training the whole model "
        "through c teaches the gates to carry early words further, but a single vector still "
        "favours the end of the sentence — which attention (5.3.3) removes."
    ),
    success=N_(
        "{value} is right. Compare it with the untrained GRU's ratio in the table above: does "
        "training change how far back c remembers?"
    ),
    hints=(
        N_(
            "The trained models are in `models`; the GRU encoder of the decoder that reads only "
            "c is models['gru', 'context'].encoder."
        ),
        N_(
            "position_influence(encoder, src) returns (per_output, per_context); use per_context "
            "for the same `src` as the table above."
        ),
    ),
    needs=("encoder", "src"),
    demo_context=_demo_encoder,
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.1-last-words",
    section=N_("5.3.1 (5-19), bidirectional encoder"),
    title=N_("Why c remembers the last words best, and what a second direction adds"),
    answer=N_(
        "c = h_T is the state after the last step of (5-18). Every step mixes the old state with "
        "the new word through tanh and the gates, so the influence of an early word is passed "
        "through many such steps and usually shrinks (vanishing gradients are the same effect seen "
        "from training). The last words reach c through few steps and dominate it. A backward "
        "RNN reads the sentence from the end, so its final state favours the first words; "
        "concatenating both summaries gives the decoder both ends, though the middle of a long "
        "sentence is still compressed."
    ),
)
