"""The beam-width slider of notebook 5.3.4: one input's n-best list as the beam widens.

``beam_width_view(K, model=…, data=…, index=…)`` is the plain callback (tested directly): it runs
:func:`companion.decoding.beam_search` with ``beam_width = n_best = K`` on example ``index`` of
``data`` and draws the K hypotheses with their probabilities. ``beam_width_slider`` wires it to
an ipywidgets slider.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from companion.decoding import beam_search, eval_mode

MAX_WIDTH = 10


@dataclass(frozen=True)
class NBestRow:
    """One hypothesis of an n-best list, ready to print or plot."""

    text: str
    log_prob: float
    finished: bool        # ended with <eos> (False: cut at max_len)
    matches_reference: bool


def nbest(model, data, index: int, *, beam_width: int, max_len: int = 30,
          length_penalty: float = 0.0) -> list[NBestRow]:
    """The ``beam_width`` best hypotheses of a beam of that width for example ``index`` of ``data``."""
    from companion.data.vocab import detokenize, tokenize

    if not isinstance(index, int) or not 0 <= index < len(data):
        raise ValueError(f"index must be an integer in 0…{len(data) - 1}, got {index!r}")
    with eval_mode(model):
        batch = data.batch([index]).to(next(model.parameters()).device)
        hyps = beam_search(model.step, model.init_state(batch.src, batch.src_lengths),
                           bos_id=model.bos_id, eos_id=model.eos_id, beam_width=beam_width,
                           max_len=max_len, length_penalty=length_penalty, n_best=beam_width)[0]
    vocab, lang = data.tgt_vocab, data.tgt_lang
    reference = tokenize(data.pairs[index].tgt, lang)
    rows = []
    for h in hyps:
        tokens = vocab.decode(h.tokens, strip_specials=False)  # show a stray <pad> or <bos>
        rows.append(NBestRow(detokenize(tokens, lang), h.score,
                             bool(h.tokens) and h.tokens[-1] == model.eos_id, tokens == reference))
    return rows


def plot_nbest(rows: list[NBestRow], *, title: str = "", max_rows: int = MAX_WIDTH, ax=None):
    """Horizontal bars of log p(y | x) for an n-best list, best on top; the reference in green.

    A longer bar means a more probable output; the axis starts a little below the worst shown.
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("no hypotheses to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.4 * max(max_rows, len(rows)) + 1.2))
    low = min(r.log_prob for r in rows)
    low = low - 0.25 * abs(low) - 1.0 if math.isfinite(low) else -100.0
    ys = list(range(len(rows)))
    ax.barh(ys, [r.log_prob - low for r in rows], left=low,
            color=["C2" if r.matches_reference else "C0" for r in rows], alpha=0.8)
    for y, r in zip(ys, rows):
        mark = "" if r.finished else " …(cut at max_len)"
        ax.text(low, y, f" {r.text}{mark}   (log p = {r.log_prob:.2f}, p = {math.exp(r.log_prob):.3f})",
                va="center", fontsize=9)
    ax.set_yticks(ys, [f"#{i + 1}" for i in ys])
    ax.set_ylim(max(max_rows, len(rows)) - 0.5, -0.5)
    ax.set_xlim(low, 0)
    ax.set_xlabel("log p(y | x): longer bar = more probable   (green: equals the reference)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.figure.tight_layout()
    return ax.figure


def beam_width_view(beam_width: int, *, model, data, index: int, max_len: int = 30,
                    max_width: int = MAX_WIDTH):
    """The slider's callback: a figure of the n-best list of a beam of width ``beam_width``."""
    if not isinstance(beam_width, int) or not 1 <= beam_width <= max_width:
        raise ValueError(f"beam_width must be an integer in 1…{max_width}, got {beam_width!r}")
    rows = nbest(model, data, index, beam_width=beam_width, max_len=max_len)
    total = sum(math.exp(r.log_prob) for r in rows)
    title = (f"beam width K = {beam_width}: the {len(rows)} best outputs for example {index} "
             f"(together p = {total:.2f})\nreference: {data.pairs[index].tgt}")
    return plot_nbest(rows, title=title, max_rows=max_width)


def beam_width_slider(model, data, index: int, *, value: int = 5, max_width: int = MAX_WIDTH,
                      max_len: int = 30):
    """An ipywidgets slider (1…max_width) that redraws :func:`beam_width_view`."""
    import ipywidgets as widgets

    from companion.widgets.sliders import slider_widget

    if not 1 <= value <= max_width:
        raise ValueError(f"value must lie in 1…{max_width}, got {value}")

    def view(beam_width: int):
        return beam_width_view(beam_width, model=model, data=data, index=index, max_len=max_len,
                               max_width=max_width)

    slider = widgets.IntSlider(value=value, min=1, max=max_width, description="beam width")
    return slider_widget(view, beam_width=slider)
