"""The book's Seq2Seq diagrams drawn with one trained model's real tokens and numbers.

* :func:`plot_seq2seq_overview` — Fig. 5-7: encoder → context vector c → decoder;
* :func:`plot_encoder` — Fig. 5-8 as the book draws it: one left-to-right row of states
  h_t = f_enc(x_t, h_{t−1}) (5-18), the last of which is c = h_T (5-19);
* :func:`plot_bidirectional_encoder` — the bidirectional variant of Fig. 5-8: a left-to-right and
  a right-to-left row of states, joined into c;
* :func:`plot_unrolled_decoder` — Fig. 5-9: the decoder unrolled in time, each step reading the
  previous token (and c) and emitting the next token with its probability;
* :func:`plot_attention_seq2seq` — Fig. 5-10: the plain Seq2Seq picture with the encoder's
  intermediate states O_1 … O_n drawn, and for every output step the mixture
  c_t = α_t1·O_1 + … + α_tn·O_n that attention reads instead of the one c (heat map beside it).

They take the traces of :mod:`companion.models.tracing`. Every number drawn is a text artist
whose ``gid`` names what it shows (``"h3"``, ``"c"``, ``"fwd2"``, ``"bwd1"``, ``"s4"``,
``"y4"``, ``"y4-alt"``, ``"O2"``, ``"c3"``…), so tests can read a figure back and compare it
with the model.
"""

from __future__ import annotations

from collections.abc import Sequence

BOX = {"encoder": "#dbe9f6", "context": "#fde3c8", "decoder": "#dff0d8", "backward": "#e8def3"}


def format_vector(values: Sequence[float], n_values: int) -> str:
    """The first ``n_values`` numbers of a vector with two decimals, then "…" if there are more."""
    vals = [float(v) for v in values]
    head = ", ".join(f"{v:.2f}" for v in vals[:n_values])
    return f"[{head}{', …' if len(vals) > n_values else ''}]"


def _check_n_values(n_values: int) -> None:
    if not isinstance(n_values, int) or n_values < 1:
        raise ValueError(f"n_values must be an integer ≥ 1, got {n_values!r}")


def _canvas(width: float, height: float, title: str, *, beside: float = 0.0):
    """A figure with one diagram axis of ``width × height`` units (and, when ``beside`` > 0, a
    second ordinary axis of that width to its right: ``fig.axes[1]``)."""
    import matplotlib.pyplot as plt

    from companion.plot.fonts import use_cjk_font

    use_cjk_font()
    if beside > 0:
        fig, (ax, _) = plt.subplots(
            1, 2, figsize=(width + beside, height), gridspec_kw={"width_ratios": [width, beside]}
        )
    else:
        fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(-0.8, width - 0.8)
    ax.set_ylim(-0.7, height - 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontfamily=plt.rcParams["font.family"])
    return fig, ax


def _box(
    ax,
    x: float,
    y: float,
    text: str,
    gid: str,
    color: str,
    *,
    w: float = 1.05,
    h: float = 0.62,
    fontsize: float = 7.5,
):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.03",
            facecolor=color,
            edgecolor="0.3",
            linewidth=0.8,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, gid=gid)


def _arrow(ax, start, end, **kw):
    style = {"arrowstyle": "->", "color": "0.25", "lw": 0.9, **kw}
    ax.annotate("", xy=end, xytext=start, arrowprops=style)


def _label(ax, x, y, text, gid=None, **kw):
    ax.text(x, y, text, gid=gid, **{"ha": "center", "va": "center", "fontsize": 9, **kw})


def _positions(S: int, T: int, step_x: float) -> tuple[list[float], float, list[float]]:
    """x of each encoder step, of the context box and of each decoder step, left to right."""
    xs_enc = [step_x * i for i in range(S)]
    x_c = step_x * S + 0.3
    return xs_enc, x_c, [x_c + 1.2 + step_x * t for t in range(T)]


def _encoder_row(ax, xs_enc: list[float], trace, n_values: int, state: str) -> None:
    """Source words under a chain of encoder boxes, each showing its first values."""
    for i, (x, word) in enumerate(zip(xs_enc, trace.src_tokens, strict=True), start=1):
        _label(ax, x, 0, word, gid=f"x{i}")
        _arrow(ax, (x, 0.2), (x, 0.68))
        vector = format_vector(trace.encoder_outputs[i - 1], n_values)
        _box(ax, x, 1, f"{state}{i}\n{vector}", f"{state}{i}", BOX["encoder"])
        if i > 1:
            _arrow(ax, (xs_enc[i - 2] + 0.53, 1), (x - 0.53, 1))


def _decoder_row(ax, xs_dec: list[float], trace, y_out: float, **label_kw) -> None:
    """Decoder inputs under a chain of states s_t, each emitting its token and probability."""
    for t, (x, step) in enumerate(zip(xs_dec, trace.steps, strict=True), start=1):
        _label(ax, x, 0, step.input_token, gid=f"in{t}")
        _arrow(ax, (x, 0.2), (x, 0.68))
        _box(ax, x, 1, f"s{t}", f"s{t}", BOX["decoder"], w=0.7)
        if t > 1:
            _arrow(ax, (xs_dec[t - 2] + 0.36, 1), (x - 0.36, 1))
        _arrow(ax, (x, 1.32), (x, y_out - 0.3))
        _label(ax, x, y_out, f"{step.token}\np={step.prob:.2f}", gid=f"y{t}", **label_kw)


def plot_seq2seq_overview(
    trace,
    *,
    n_values: int = 2,
    title: str = "Fig. 5-7 Seq2Seq: encoder → context vector c → decoder",
):
    """Fig. 5-7 for one sentence: encoder states ``h_i`` over the source words, the context ``c``,
    and the decoder's greedy steps with each emitted token's probability (a
    :class:`~companion.models.tracing.SequenceTrace`). Returns the figure."""
    _check_n_values(n_values)
    S, T = len(trace.src_tokens), len(trace.steps)
    if S == 0 or T == 0:
        raise ValueError("the trace has no source words or no decoder steps")
    step_x = 1.35
    width = step_x * (S + T) + 2.2
    fig, ax = _canvas(width, 3.9, title)
    xs_enc, x_c, xs_dec = _positions(S, T, step_x)
    _encoder_row(ax, xs_enc, trace, n_values, "h")
    _label(ax, sum(xs_enc) / S, 2.1, "encoder (编码器)", fontsize=9, color="0.3")
    _box(
        ax,
        x_c,
        1,
        f"c\n{format_vector(trace.context, n_values)}\n({len(trace.context)} numbers)",
        "c",
        BOX["context"],
        h=0.9,
    )
    _arrow(ax, (xs_enc[-1] + 0.53, 1), (x_c - 0.53, 1))
    _arrow(ax, (x_c + 0.53, 1), (xs_dec[0] - 0.53, 1))
    _decoder_row(ax, xs_dec, trace, y_out=2.05)
    _label(ax, (xs_dec[0] + xs_dec[-1]) / 2, 2.75, "decoder (解码器)", fontsize=9, color="0.3")
    return fig


def plot_bidirectional_encoder(
    trace,
    *,
    n_values: int = 2,
    title: str = "Fig. 5-8 Seq2Seq encoder, bidirectional: c = [→h_S; ←h_1]",
):
    """Fig. 5-8 as a bidirectional encoder (双向RNN编码器): for every source word the
    left-to-right state ``→h_i`` and the right-to-left state ``←h_i`` (a
    :class:`~companion.models.tracing.BidirectionalTrace`), and the context that joins the last
    forward and the first backward state. Returns the figure."""
    _check_n_values(n_values)
    S = len(trace.src_tokens)
    if S == 0:
        raise ValueError("the trace has no source words")
    step_x = 1.5
    fig, ax = _canvas(step_x * S + 2.6, 4.2, title)
    xs = [step_x * i for i in range(S)]
    for i, (x, word) in enumerate(zip(xs, trace.src_tokens, strict=True), start=1):
        _label(ax, x, 0, word, gid=f"x{i}")
        _arrow(ax, (x, 0.2), (x, 0.68))
        _box(
            ax,
            x,
            1,
            f"→h{i}\n{format_vector(trace.forward[i - 1], n_values)}",
            f"fwd{i}",
            BOX["encoder"],
        )
        _box(
            ax,
            x,
            2.2,
            f"←h{i}\n{format_vector(trace.backward[i - 1], n_values)}",
            f"bwd{i}",
            BOX["backward"],
        )
        if i > 1:
            _arrow(ax, (xs[i - 2] + 0.53, 1), (x - 0.53, 1))
            _arrow(ax, (x - 0.53, 2.2), (xs[i - 2] + 0.53, 2.2))
    x_c = xs[-1] + 1.9
    half = len(trace.forward[0])
    joined = (
        format_vector(trace.context[:half], n_values)
        + "\n"
        + format_vector(trace.context[half:], n_values)
    )
    _box(ax, x_c, 1.6, f"c = [→h{S}; ←h1]\n{joined}", "c", BOX["context"], w=1.5, h=1.0)
    _arrow(ax, (xs[-1] + 0.53, 1), (x_c - 0.75, 1.35))
    _arrow(ax, (xs[0], 2.52), (x_c - 0.3, 2.1), connectionstyle="arc3,rad=-0.2")
    _label(
        ax,
        xs[0] - 0.1,
        3.0,
        "each word enters both rows; lower row reads left "
        "to right (正向), upper row right to left (反向)",
        fontsize=8,
        color="0.3",
        ha="left",
    )
    return fig


def plot_unrolled_decoder(
    trace,
    *,
    reads_context: bool = True,
    title: str = "Fig. 5-9 Seq2Seq decoder, unrolled: "
    r"$y_t = f_{\mathrm{dec}}(y_{t-1}, s_t)$ (5-20)",
):
    """Fig. 5-9: every greedy step of the decoder side by side — it reads the previous token (and
    ``c`` when ``reads_context``), updates its state ``s_t`` (5-20) and emits the most likely
    token; under each emitted token the runners-up and their probabilities. Returns the figure."""
    T = len(trace.steps)
    if T == 0:
        raise ValueError("the trace has no decoder steps")
    n_alt = max(len(s.alternatives) for s in trace.steps)
    step_x = 1.25
    fig, ax = _canvas(step_x * (T + 1) + 1.0, 4.4 + 0.3 * n_alt, title)
    _box(ax, 0, 1, "s0", "s0", BOX["decoder"], w=0.7)
    _label(ax, 0, 0, "c" if reads_context else "", color="0.3")
    if reads_context:
        _arrow(ax, (0, 0.2), (0, 0.68))
    for t, step in enumerate(trace.steps, start=1):
        x = step_x * t
        below = f"{step.input_token}\n+ c" if reads_context else step.input_token
        _label(ax, x, -0.05, below, gid=f"in{t}")
        _arrow(ax, (x, 0.3), (x, 0.68))
        _box(ax, x, 1, f"s{t}", f"s{t}", BOX["decoder"], w=0.7)
        _arrow(ax, (x - step_x + 0.36, 1), (x - 0.36, 1))
        _arrow(ax, (x, 1.32), (x, 1.75))
        _label(ax, x, 2.05, f"{step.token}\np={step.prob:.2f}", gid=f"y{t}", fontweight="bold")
        if step.alternatives:
            alts = "\n".join(f"{tok} {p:.2f}" for tok, p in step.alternatives)
            ax.text(
                x, 2.45, alts, ha="center", va="bottom", fontsize=7, color="0.45", gid=f"y{t}-alt"
            )
        if t < T:  # the emitted token is the next step's input
            _arrow(
                ax,
                (x + 0.2, 2.0),
                (x + step_x - 0.2, 0.1),
                color="0.7",
                lw=0.6,
                connectionstyle="arc3,rad=-0.3",
            )
    _label(
        ax,
        step_x * (T + 1) / 2,
        3.1 + 0.3 * n_alt,
        "bold: the greedy choice (贪婪搜索); grey: the runners-up",
        fontsize=8,
        color="0.4",
    )
    return fig


def plot_encoder(
    trace,
    *,
    n_values: int = 2,
    title: str = "Fig. 5-8 Seq2Seq encoder (Seq2Seq编码器)\n"
    "h_t = f_enc(x_t, h_{t−1}) (5-18),  c = h_T (5-19)",
):
    """Fig. 5-8 as the book draws it: a one-directional recurrent encoder reading the source words
    left to right. Each box is a state ``h_t`` computed from the word below it and the state to
    its left (5-18), starting from ``h_0 = 0``; the last state is the feature vector ``c`` (5-19).
    ``trace`` is a :class:`~companion.models.tracing.SequenceTrace` of a model with a
    one-directional encoder (its ``encoder_outputs`` and ``context``). Returns the figure."""
    _check_n_values(n_values)
    S = len(trace.src_tokens)
    if S == 0:
        raise ValueError("the trace has no source words")
    step_x = 1.5
    fig, ax = _canvas(step_x * (S + 1) + 2.4, 3.4, title)
    _box(ax, 0, 1, "h0\n0", "h0", BOX["backward"], w=0.7)
    xs = [step_x * i for i in range(1, S + 1)]
    for i, (x, word) in enumerate(zip(xs, trace.src_tokens, strict=True), start=1):
        _label(ax, x, 0, word, gid=f"x{i}")
        _arrow(ax, (x, 0.2), (x, 0.68))
        _box(
            ax,
            x,
            1,
            f"h{i}\n{format_vector(trace.encoder_outputs[i - 1], n_values)}",
            f"h{i}",
            BOX["encoder"],
        )
        _arrow(ax, (x - step_x + (0.36 if i == 1 else 0.53), 1), (x - 0.53, 1))
    x_c = xs[-1] + 2.0
    _box(
        ax,
        x_c,
        1,
        f"c = h{S}\n{format_vector(trace.context, n_values)}\n({len(trace.context)} numbers)",
        "c",
        BOX["context"],
        w=1.3,
        h=0.9,
    )
    _arrow(ax, (xs[-1] + 0.53, 1), (x_c - 0.65, 1))
    _label(
        ax,
        step_x * (S + 1) / 2,
        1.8,
        "one RNN reads left to right (5-18)",
        fontsize=8,
        color="0.3",
    )
    _label(ax, x_c, 1.8, "feature vector (特征向量)", fontsize=8, color="0.3")
    return fig


def _mixture(weights: Sequence[float]) -> str:
    terms = [f"{a:.2f}·O{i}" for i, a in enumerate(weights, start=1)]
    return "\n+ ".join(terms)


def plot_attention_seq2seq(
    trace,
    *,
    n_values: int = 2,
    heatmap: bool = True,
    title: str = "Fig. 5-10 Seq2Seq model (Seq2Seq模型) with the encoder's states O1 … On drawn;\n"
    "attention lets output step t read c_t = α_t1·O1 + … + α_tn·On instead of one c",
):
    """Fig. 5-10 for one sentence: the plain Seq2Seq picture — encoder states ``O_i`` over the
    source words (gids ``"O1"``…), the last one handed on as ``c`` — with, above every decoder
    step, the mixture of encoder states that an attention decoder reads there (5-23),
    ``c_t = α_t1·O_1 + … + α_tn·O_n`` (gids ``"c1"``…). The emitted tokens and their
    probabilities have gids ``"y1"``…. With ``heatmap`` the same weights are drawn beside it as a
    heat map (``fig.axes[1]``). ``trace`` is a
    :class:`~companion.models.tracing.SequenceTrace` of a model with attention. Returns the
    figure."""
    _check_n_values(n_values)
    S, T = len(trace.src_tokens), len(trace.steps)
    if S == 0 or T == 0:
        raise ValueError("the trace has no source words or no decoder steps")
    if any(step.weights is None or len(step.weights) != S for step in trace.steps):
        raise ValueError("every decoder step needs attention weights over the source words")
    step_x = 1.35
    width = step_x * (S + T) + 2.2
    height = 4.4 + 0.35 * S
    fig, ax = _canvas(width, height, title, beside=0.55 * S + 2.0 if heatmap else 0.0)
    xs_enc, x_c, xs_dec = _positions(S, T, step_x)
    _encoder_row(ax, xs_enc, trace, n_values, "O")
    _box(ax, x_c, 1, f"c = O{S}", "c", BOX["context"], w=0.9)
    _arrow(ax, (xs_enc[-1] + 0.53, 1), (x_c - 0.45, 1))
    _arrow(ax, (x_c + 0.45, 1), (xs_dec[0] - 0.36, 1))
    y_mix = 2.9
    _decoder_row(ax, xs_dec, trace, y_out=1.95, fontweight="bold")
    for t, (x, step) in enumerate(zip(xs_dec, trace.steps, strict=True), start=1):
        ax.text(
            x,
            y_mix,
            f"c{t} =\n{_mixture(step.weights)}",
            ha="center",
            va="bottom",
            fontsize=7,
            gid=f"c{t}",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": BOX["context"], "lw": 0.5},
        )
    _label(ax, sum(xs_enc) / S, 2.1, "encoder (编码器)", fontsize=9, color="0.3")
    _label(
        ax,
        (xs_dec[0] + xs_dec[-1]) / 2,
        y_mix + 0.45 + 0.3 * S,
        "decoder (解码器): the mixture of O's each step reads (attention, 5-23)",
        fontsize=9,
        color="0.3",
    )
    ax.set_ylim(-0.7, y_mix + 0.8 + 0.3 * S)
    if heatmap:
        from companion.plot.attention import plot_attention

        plot_attention(
            [step.weights for step in trace.steps],
            [f"O{i} {w}" for i, w in enumerate(trace.src_tokens, start=1)],
            [step.token for step in trace.steps],
            ax=fig.axes[1],
            title="the same α, as a heat map",
            xlabel="encoder state",
        )
        fig.tight_layout()
    return fig
