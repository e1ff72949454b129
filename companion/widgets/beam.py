"""The beam-width slider of notebook 5.3.4: one input's n-best list as the beam widens.

``beam_width_view(K, model=…, data=…, index=…)`` is the plain callback (tested directly): it runs
:func:`companion.decoding.beam_search` with ``beam_width = n_best = K`` on example ``index`` of
``data`` and draws the K hypotheses with their probabilities. ``beam_width_slider`` wires it to
an ipywidgets slider.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from companion.decoding import beam_search
from companion.model_utils import eval_mode, model_device
from companion.plot.decoding import plot_nbest
from companion.validation import check_int

MAX_WIDTH = 10


@dataclass(frozen=True)
class NBestRow:
    """One hypothesis of an n-best list, ready to print or plot."""

    text: str
    log_prob: float
    finished: bool  # ended with <eos> (False: cut at max_len)
    matches_reference: bool


def nbest(
    model, data, index: int, *, beam_width: int, max_len: int = 30, length_penalty: float = 0.0
) -> list[NBestRow]:
    """The ``beam_width`` best hypotheses of a beam
    of that width for example ``index`` of ``data``.
    """
    from companion.data.vocab import detokenize, tokenize

    check_int(index, "index", min=0, max=len(data) - 1)
    check_int(beam_width, "beam_width", min=1)
    with eval_mode(model):
        batch = data.batch([index]).to(model_device(model))
        hyps = beam_search(
            model.step,
            model.init_state(batch.src, batch.src_lengths),
            bos_id=model.bos_id,
            eos_id=model.eos_id,
            beam_width=beam_width,
            max_len=max_len,
            length_penalty=length_penalty,
            n_best=beam_width,
        )[0]
    vocab, lang = data.tgt_vocab, data.tgt_lang
    reference = tokenize(data.pairs[index].tgt, lang)
    rows = []
    for h in hyps:
        tokens = vocab.decode(h.tokens, strip_specials=False)  # show a stray <pad> or <bos>
        rows.append(
            NBestRow(
                detokenize(tokens, lang),
                h.score,
                bool(h.tokens) and h.tokens[-1] == model.eos_id,
                tokens == reference,
            )
        )
    return rows


def beam_width_view(
    beam_width: int, *, model, data, index: int, max_len: int = 30, max_width: int = MAX_WIDTH
):
    """The slider's callback: a figure of the n-best list of a beam of width ``beam_width``."""
    check_int(max_width, "max_width", min=1)
    check_int(beam_width, "beam_width", min=1, max=max_width)
    rows = nbest(model, data, index, beam_width=beam_width, max_len=max_len)
    total = sum(math.exp(r.log_prob) for r in rows)
    title = (
        f"beam width K = {beam_width}: the {len(rows)} best outputs for example {index} "
        f"(together p = {total:.2f})\nreference: {data.pairs[index].tgt}"
    )
    return plot_nbest(rows, title=title, max_rows=max_width)


def beam_width_slider(
    model, data, index: int, *, value: int = 5, max_width: int = MAX_WIDTH, max_len: int = 30
):
    """An ipywidgets slider (1…max_width) that redraws :func:`beam_width_view`."""
    import ipywidgets as widgets

    from companion.widgets.sliders import slider_widget

    check_int(max_width, "max_width", min=1)
    check_int(value, "value", min=1, max=max_width)

    def view(beam_width: int):
        return beam_width_view(
            beam_width, model=model, data=data, index=index, max_len=max_len, max_width=max_width
        )

    slider = widgets.IntSlider(value=value, min=1, max=max_width, description="beam width")
    return slider_widget(view, beam_width=slider)
