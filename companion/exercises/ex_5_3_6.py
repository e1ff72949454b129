"""Exercises of notebook 5.3.6: CNN and Transformer encoders and decoders (Seq2Seq模型小结)."""

from __future__ import annotations

import math

import torch
from torch import nn

from companion.exercises.core import Mistake, implement_exercise, predict_exercise
from companion.exercises.sequences import exact_match_exercise, stop_early

# ---------------------------------------------------------------- 5.3.6-caption-grid (predict)

predict_exercise(
    id="5.3.6-caption-grid",
    section="5.3.6 看图说话, CNN encoder",
    title="How many “source positions” the caption decoder attends over for a 48×48 image",
    value=144,
    rtol=1e-6,
    mistakes=[
        (
            "one-pool",
            24 * 24,
            "576 halves the image once; the encoder has two 2×2 max-pools, so each side shrinks "
            "by 4",
        ),
        (
            "one-side",
            12,
            "12 is one side of the grid; the decoder attends over rows × columns cells",
        ),
        (
            "no-pooling",
            48 * 48,
            "2304 is one position per pixel; pooling shrinks the map before the decoder sees it",
        ),
        (
            "same-as-32",
            64,
            "64 cells is the 32×32 image of the notebook; a 48×48 image gives a larger grid",
        ),
    ],
    solution_text="""
Two 2×2 max-pools divide each side by 4: 48 / 4 = 12, so the feature map is a 12 × 12 grid and the
attention decoder scores 144 cells per word (64 for the notebook's 32×32 images).
Check: captioner.encoder.grid_shape(48, 48) gives (12, 12).""",
    hints=(
        "The notebook's 32×32 images become an 8×8 grid. Why 8?",
        "Each 2×2 max-pool halves both sides; convolutions with padding keep the size.",
    ),
)


# ---------------------------------------------------------------- 5.3.6-decoder-positions (predict)

predict_exercise(
    id="5.3.6-decoder-positions",
    section="5.3.6 Transformer decoder",
    title="Decoder positions computed to write 50 characters without a key/value cache",
    value=1275,
    rtol=1e-6,
    mistakes=[
        (
            "square",
            50 * 50,
            "2500 re-reads all 50 positions at every step; at step t only the t tokens of the "
            "prefix exist: 1 + 2 + … + 50",
        ),
        (
            "cached",
            50,
            "50 is the cost with a key/value cache (or an RNN, one state per step); this "
            "decoder re-reads the whole prefix at every step",
        ),
        (
            "off-by-one",
            49 * 50 // 2,
            "1225 stops at 49; at the last step the prefix holds 50 tokens (⟨bos⟩ and 49 written)",
        ),
    ],
    solution_text="""
At step t the decoder runs over the whole prefix of t tokens (⟨bos⟩ and the t − 1 written so far):
1 + 2 + … + 50 = 50 · 51 / 2 = 1275 positions, O(T²). A key/value cache keeps the keys and values
of earlier positions, so each step computes only the newest one: 50 positions, like the GRU's one
state update per step.""",
    hints=("At step t, how long is the prefix that the decoder re-reads?", "Sum t for t = 1 … 50."),
)


# ---------------------------------------------------------------- 5.3.6-causal-mask (implement)


def _causal_torch(size: int) -> torch.Tensor:
    """The independent reference: PyTorch's float mask (−inf = blocked), as booleans."""
    return torch.isinf(nn.Transformer.generate_square_subsequent_mask(size))


def _causal_mask(size: int) -> torch.Tensor:
    """True where query position t would see a later key s > t (blocked)."""
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal=1)


_CAUSAL_MISTAKES = (
    Mistake(
        "diagonal-blocked",
        lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).triu(0),
        "you also block the diagonal: position t may attend to itself (only s > t is blocked)",
    ),
    Mistake(
        "transposed",
        lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
        "your mask blocks the past instead of the future: rows are query positions t, "
        "columns key positions s; block s > t (the upper triangle)",
    ),
    Mistake(
        "inverted",
        lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).tril(0),
        "your mask is True where attention is allowed; here True means blocked, as in "
        "companion.models.causal_mask",
    ),
    Mistake(
        "float",
        lambda ctx: lambda n: nn.Transformer.generate_square_subsequent_mask(n),
        "you returned PyTorch's float mask (0 and −inf); return booleans, True = blocked",
    ),
)

implement_exercise(
    id="5.3.6-causal-mask",
    section="5.3.6 Transformer, causal mask (因果掩码)",
    title="causal_mask(size): which keys each query of the decoder may not see",
    expected=_causal_torch,
    cases=lambda: [(4,), (7,), (1,)],
    solution=_causal_mask,
    mistakes=_CAUSAL_MISTAKES,
    rtol=0,
    atol=0,
    solution_text="""
def causal_mask(size):
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal=1)

Row t, column s is True when s > t: the strict upper triangle. companion.models.causal_mask is the
same; torch.nn.Transformer.generate_square_subsequent_mask writes it as −inf/0 floats.""",
    hints=(
        "Entry [t, s] answers: may query position t *not* look at key position s?",
        "Blocked exactly when s > t: the strict upper triangle (torch.triu with diagonal=1).",
    ),
)


# ------------------------------------------------------------ 5.3.6-positional-encoding (implement)


def _positions_by_formula(length: int, d: int) -> torch.Tensor:
    """The independent reference: the two formulas, entry by entry, in float64."""
    pe = torch.zeros(length, d, dtype=torch.float64)
    for pos in range(length):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            pe[pos, 2 * i], pe[pos, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return pe.float()


def _sinusoidal_positions(length: int, d: int) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d))."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)  # one per pair (2i)
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


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


_PE_MISTAKES = (
    Mistake(
        "halves",
        lambda ctx: lambda n, d: _pe_variant(n, d, halves=True),
        "you put all sines first and all cosines after; the formulas interleave them: "
        "even columns 2i hold sin, odd columns 2i+1 hold cos",
    ),
    Mistake(
        "exponent-i",
        lambda ctx: lambda n, d: _pe_variant(n, d, exponent=1),
        "your frequencies fall too slowly: the exponent is 2i/d (i counts the sin/cos pairs), "
        "not i/d",
    ),
    Mistake(
        "sin-cos-swapped",
        lambda ctx: lambda n, d: _pe_variant(n, d, swap=True),
        "sin and cos are swapped: column 2i is sin, column 2i+1 is cos",
    ),
    Mistake(
        "from-one",
        lambda ctx: lambda n, d: _pe_variant(n, d, start=1),
        "your positions start at 1; the first position is pos = 0 (its encoding is 0, 1, 0, 1, …)",
    ),
)

implement_exercise(
    id="5.3.6-positional-encoding",
    section="5.3.6 Transformer, positional encoding (位置编码)",
    title="sinusoidal_positions(length, d): the Transformer's positional encodings",
    expected=_positions_by_formula,
    cases=lambda: [(1, 4), (6, 8), (20, 16), (50, 6)],
    solution=_sinusoidal_positions,
    mistakes=_PE_MISTAKES,
    rtol=1e-4,
    atol=1e-5,
    solution_text="""
def sinusoidal_positions(length, d):
    pos = torch.arange(length, dtype=torch.float32)[:, None]            # [length, 1]
    freq = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)   # 1 / 10000^(2i/d)
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe

companion.models.sinusoidal_positions computes the same table.""",
    hints=(
        "Columns come in pairs (2i, 2i+1) that share one frequency 1 / 10000^(2i/d).",
        "pe[:, 0::2] selects the even columns, pe[:, 1::2] the odd ones; positions start at 0.",
    ),
)


# -------------------------------------------------------- 5.3.6-transformer-five-dates (experiment)


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
    section="5.3.6 Transformer vs RNN",
    title="The Transformer translator on five dates, longer than anything in training",
    task="dates",
    n=100,
    seed=1,
    n_items=5,
    max_len=70,
    solution_text="""
pairs5 = data.generate_pairs("dates", 100, seed=1, n_items=5)
preds = inference.translate(translators["Transformer"], \
date_data, [p.src for p in pairs5], max_len=70)
answer = metrics.exact_match(preds, [p.tgt for p in pairs5])
Run the same lines for translators["attention GRU"] (and exercise 5.3.3-five-dates): beyond the
training lengths the Transformer meets positional encodings it never saw in training, the GRU
meets more steps of the same recurrence; neither was trained to write a fifth date.""",
    hints=(
        "data.generate_pairs('dates', 100, seed=1, n_items=5) gives the inputs.",
        "inference.translate(translators['Transformer'], date_data, sources, max_len=70), then "
        "metrics.exact_match.",
    ),
    demo_context=_demo_transformer,
)
