"""Exercises of notebook 5.3.6: CNN and Transformer encoders and decoders (Seq2Seq模型小结)."""

from __future__ import annotations

import math

import torch
from torch import nn

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import predict_exercise
from companion.exercises.sequences import exact_match_exercise, stop_early
from companion.i18n import N_

# ---------------------------------------------------------------- 5.3.6-caption-grid (predict)

predict_exercise(
    id="5.3.6-caption-grid",
    section=N_("5.3.6 看图说话, CNN encoder"),
    title=N_("How many “source positions” the caption decoder attends over for a 48×48 image"),
    value=144,
    precision=Precision(0),
    answer_name="grid_positions",
    mistakes=[
        (
            "one-pool",
            24 * 24,
            N_(
                "576 halves the image once; the encoder has two 2×2 max-pools, so each side "
                "shrinks by 4"
            ),
        ),
        (
            "one-side",
            12,
            N_("12 is one side of the grid; the decoder attends over rows × columns cells"),
        ),
        (
            "no-pooling",
            48 * 48,
            N_(
                "2304 is one position per pixel; pooling shrinks the map before the decoder sees it"
            ),
        ),
        (
            "same-as-32",
            64,
            N_("64 cells is the 32×32 image of the notebook; a 48×48 image gives a larger grid"),
        ),
    ],
    solution=N_(
        """\
side = 48 // 2 // 2  # two 2×2 max-pools; convolutions with padding keep the size: 12
grid_positions = side * side  # a 12 × 12 grid: 144 cells per word
"""
    ),
    solution_note=N_(
        "The notebook's 32×32 images give 8 × 8 = 64 cells. Check: "
        "captioner.encoder.grid_shape(48, 48) gives (12, 12)."
    ),
    hints=(
        N_("The notebook's 32×32 images become an 8×8 grid. Why 8?"),
        N_("Each 2×2 max-pool halves both sides; convolutions with padding keep the size."),
    ),
)


# ---------------------------------------------------------------- 5.3.6-decoder-positions (predict)

predict_exercise(
    id="5.3.6-decoder-positions",
    section=N_("5.3.6 Transformer decoder"),
    title=N_("Decoder positions computed to write 50 characters without a key/value cache"),
    value=1275,
    precision=Precision(0),
    answer_name="decoder_positions",
    mistakes=[
        (
            "square",
            50 * 50,
            N_(
                "2500 re-reads all 50 positions at every step; at step t only the t tokens of "
                "the prefix exist: 1 + 2 + … + 50"
            ),
        ),
        (
            "cached",
            50,
            N_(
                "50 is the cost with a key/value cache (or an RNN, one state per step); this "
                "decoder re-reads the whole prefix at every step"
            ),
        ),
        (
            "off-by-one",
            49 * 50 // 2,
            N_(
                "1225 stops at 49; at the last step the prefix holds 50 tokens (⟨bos⟩ and 49 "
                "written)"
            ),
        ),
    ],
    solution=N_(
        """\
# at step t the decoder runs over the whole prefix of t tokens (⟨bos⟩ and the t − 1 written)
decoder_positions = sum(range(1, 50 + 1))  # 50 · 51 / 2 = 1275, O(T²)
"""
    ),
    solution_note=N_(
        "A key/value cache keeps the keys and values of earlier positions, so each step computes "
        "only the newest one: 50 positions, like the GRU's one state update per step."
    ),
    hints=(
        N_("At step t, how long is the prefix that the decoder re-reads?"),
        N_("Sum t for t = 1 … 50."),
    ),
)


# ---------------------------------------------------------------- 5.3.6-causal-mask (implement)


def _causal_torch(size: int) -> torch.Tensor:
    """The independent reference: PyTorch's float mask (−inf = blocked), as booleans."""
    return torch.isinf(nn.Transformer.generate_square_subsequent_mask(size))


implement_exercise(
    id="5.3.6-causal-mask",
    section=N_("5.3.6 Transformer, causal mask (因果掩码)"),
    title=N_("causal_mask(size): which keys each query of the decoder may not see"),
    answer_name="causal_mask",
    spec=FunctionSpec(
        cases=lambda: [(4,), (7,), (1,)],
        expected=_causal_torch,
        rtol=0,
        atol=0,
        kind_note=N_(
            "A mask must be torch.bool: PyTorch *adds* a float attn_mask to the attention scores, "
            "so a float mask of 0s and 1s blocks nothing, and an integer mask is refused"
        ),
    ),
    mistakes=(
        Mistake(
            "diagonal-blocked",
            lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).triu(0),
            N_(
                "you also block the diagonal: position t may attend to itself (only s > t is "
                "blocked)"
            ),
        ),
        Mistake(
            "transposed",
            lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
            N_(
                "your mask blocks the past instead of the future: rows are query positions t, "
                "columns key positions s; block s > t (the upper triangle)"
            ),
        ),
        Mistake(
            "inverted",
            lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).tril(0),
            N_(
                "your mask is True where attention is allowed; here True means blocked, as in "
                "companion.models.causal_mask"
            ),
        ),
        Mistake(
            "float",
            lambda ctx: lambda n: nn.Transformer.generate_square_subsequent_mask(n),
            N_(
                "you returned PyTorch's float mask (0 and −inf); return booleans, True = blocked: "
                "torch.isinf(mask) converts it"
            ),
            fix=lambda ctx: (
                lambda n: torch.isinf(nn.Transformer.generate_square_subsequent_mask(n))
            ),
        ),
    ),
    solution=N_(
        """\
def causal_mask(size):
    # row t, column s is True (blocked) when s > t: the strict upper triangle
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal=1)
"""
    ),
    solution_note=N_(
        "companion.models.causal_mask is the same; torch.nn.Transformer."
        "generate_square_subsequent_mask writes it as −inf/0 floats."
    ),
    hints=(
        N_("Entry [t, s] answers: may query position t *not* look at key position s?"),
        N_(
            "Blocked exactly when s > t: the strict upper triangle (torch.triu with diagonal=1), "
            "as a bool tensor."
        ),
    ),
)


# ----------------------------------------------------------- 5.3.6-positional-encoding (implement)


def _positions_by_formula(length: int, d: int) -> torch.Tensor:
    """The independent reference: the two formulas, entry by entry, in float64."""
    pe = torch.zeros(length, d, dtype=torch.float64)
    for pos in range(length):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            pe[pos, 2 * i], pe[pos, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return pe.float()


def _pe_variant(length, d, *, halves=False, exponent=2, swap=False, start=0):
    pos = torch.arange(start, start + length, dtype=torch.float64)[:, None]
    i = torch.arange(d // 2, dtype=torch.float64)
    angle = pos / 10000 ** (exponent * i / d)
    first, second = (
        (torch.cos(angle), torch.sin(angle)) if swap else (torch.sin(angle), torch.cos(angle))
    )
    if halves:
        return torch.cat([first, second], dim=1).float()
    return torch.stack([first, second], dim=2).reshape(length, d).float()


implement_exercise(
    id="5.3.6-positional-encoding",
    section=N_("5.3.6 Transformer, positional encoding (位置编码)"),
    title=N_("sinusoidal_positions(length, d): the Transformer's positional encodings"),
    answer_name="sinusoidal_positions",
    spec=FunctionSpec(
        cases=lambda: [(1, 4), (6, 8), (20, 16), (50, 6)],
        expected=_positions_by_formula,
        rtol=1e-4,
        atol=1e-5,
    ),
    mistakes=(
        Mistake(
            "halves",
            lambda ctx: lambda n, d: _pe_variant(n, d, halves=True),
            N_(
                "you put all sines first and all cosines after; the formulas interleave them: "
                "even columns 2i hold sin, odd columns 2i+1 hold cos"
            ),
        ),
        Mistake(
            "exponent-i",
            lambda ctx: lambda n, d: _pe_variant(n, d, exponent=1),
            N_(
                "your frequencies fall too slowly: the exponent is 2i/d (i counts the sin/cos "
                "pairs), not i/d"
            ),
        ),
        Mistake(
            "sin-cos-swapped",
            lambda ctx: lambda n, d: _pe_variant(n, d, swap=True),
            N_("sin and cos are swapped: column 2i is sin, column 2i+1 is cos"),
        ),
        Mistake(
            "from-one",
            lambda ctx: lambda n, d: _pe_variant(n, d, start=1),
            N_(
                "your positions start at 1; the first position is pos = 0 (its encoding is "
                "0, 1, 0, 1, …)"
            ),
        ),
    ),
    solution=N_(
        """\
def sinusoidal_positions(length, d):
    pos = torch.arange(length, dtype=torch.float32)[:, None]  # [length, 1]
    freq = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)  # 1 / 10000^(2i/d)
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe
"""
    ),
    solution_note=N_("companion.models.sinusoidal_positions computes the same table."),
    hints=(
        N_("Columns come in pairs (2i, 2i+1) that share one frequency 1 / 10000^(2i/d)."),
        N_("pe[:, 0::2] selects the even columns, pe[:, 1::2] the odd ones; positions start at 0."),
    ),
)


# ------------------------------------------------------- 5.3.6-transformer-five-dates (experiment)


def _demo_transformer() -> dict:
    import companion
    from companion.data import Seq2SeqData, generate_pairs
    from companion.models import make_transformer

    data = Seq2SeqData.from_pairs(generate_pairs("dates", 60, seed=0, n_items=(1, 2)), "en", "zh")
    companion.seed_everything(0)
    model = make_transformer(
        len(data.src_vocab),
        len(data.tgt_vocab),
        d_model=8,
        nhead=2,
        num_layers=1,
        dim_feedforward=16,
    ).eval()
    return {"model": stop_early(model), "data": data}


exact_match_exercise(
    id="5.3.6-transformer-five-dates",
    section=N_("5.3.6 Transformer vs RNN"),
    title=N_("The Transformer translator on five dates, longer than anything in training"),
    task="dates",
    n=100,
    seed=1,
    n_items=5,
    max_len=70,
    answer_name="transformer_five_dates",
    solution=N_(
        """\
pairs5 = data.generate_pairs("dates", 100, seed=1, n_items=5)
sources = [p.src for p in pairs5]
preds = inference.translate(translators["Transformer"], date_data, sources, max_len=70)
transformer_five_dates = metrics.exact_match(preds, [p.tgt for p in pairs5])
"""
    ),
    solution_names=lambda ctx: {
        "translators": {"Transformer": ctx["model"]},
        "date_data": ctx["data"],
    },
    solution_note=N_(
        'Run the same lines for translators["attention GRU"] (and exercise 5.3.3-five-dates): '
        "beyond the training lengths the Transformer meets positional encodings it never saw in "
        "training, the GRU meets more steps of the same recurrence; neither was trained to write "
        "a fifth date."
    ),
    hints=(
        N_("data.generate_pairs('dates', 100, seed=1, n_items=5) gives the inputs."),
        N_(
            "inference.translate(translators['Transformer'], date_data, sources, max_len=70), "
            "then metrics.exact_match."
        ),
    ),
    demo_context=_demo_transformer,
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.3.6-parallel-training",
    section=N_("5.3.6 Transformer, causal mask"),
    title=N_("Why a Transformer decoder trains on all positions at once but decodes one at a time"),
    answer=N_(
        "In training the whole target is known (teacher forcing), so every position's input is "
        "available at once; the causal mask stops position t from attending to later positions, "
        "so each position still predicts its next token from the past only, and all positions "
        "are computed in one parallel pass. At test time the output does not exist yet: token "
        "t + 1 "
        "depends on the token chosen at t, so decoding is sequential, one position per step. An "
        "RNN is sequential in both; the key/value cache (5.3.7) makes the Transformer's steps "
        "cheap."
    ),
)
