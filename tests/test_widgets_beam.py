"""The beam-width slider callback of notebook 5.3.4."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from companion.data import Pair, Seq2SeqData
from companion.inference import nbest
from companion.plot import plot_nbest
from companion.widgets.beam import beam_width_slider, beam_width_view

PAIRS = [Pair("one two", "un deux"), Pair("two three one", "deux trois un"), Pair("three", "trois")]


class OracleModel(nn.Module):
    """Knows the reference of every source: puts probability ~0.9 on its next token."""

    def __init__(self, data: Seq2SeqData, confidence: float = 3.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(confidence))
        self.targets = {tuple(s): t + [2] for s, t in zip(data.src_ids, data.tgt_ids, strict=True)}
        self.vocab = len(data.tgt_vocab)
        self.bos_id, self.eos_id = 1, 2

    def init_state(self, src, lengths):
        rows = [
            self.targets[tuple(r[:n])] for r, n in zip(src.tolist(), lengths.tolist(), strict=True)
        ]
        width = max(map(len, rows))
        tgt = torch.tensor([r + [2] * (width - len(r)) for r in rows])
        return tgt, torch.zeros(len(rows), dtype=torch.long)

    def step(self, prev, state):
        tgt, pos = state
        nxt = tgt.gather(1, pos.clamp(max=tgt.shape[1] - 1)[:, None])[:, 0]
        logits = self.scale * nn.functional.one_hot(nxt, self.vocab).float()
        return logits.log_softmax(-1), (tgt, pos + 1)


@pytest.fixture()
def setup():
    data = Seq2SeqData.from_pairs(PAIRS, "en", "en")
    return OracleModel(data), data


def test_nbest_rows_are_sorted_and_the_best_is_the_reference(setup):
    model, data = setup
    for k in (1, 3, 6):
        rows = nbest(model, data, 1, beam_width=k, max_len=6)
        assert len(rows) == k
        assert [r.log_prob for r in rows] == sorted((r.log_prob for r in rows), reverse=True)
        assert rows[0].text == "deux trois un" and rows[0].matches_reference and rows[0].finished
        assert not any(r.matches_reference for r in rows[1:])
        assert len({r.text for r in rows}) == k
    # the best path has p = 0.9…^4 (3 words + <eos>)
    p = math.exp(3) / (math.exp(3) + len(data.tgt_vocab) - 1)
    assert rows[0].log_prob == pytest.approx(4 * math.log(p), abs=1e-5)


def test_view_draws_one_bar_per_hypothesis_with_fixed_axes(setup):
    model, data = setup
    for k in (1, 4, 10):
        fig = beam_width_view(k, model=model, data=data, index=0, max_len=5)
        ax = fig.axes[0]
        assert len(ax.patches) == k
        assert ax.get_ylim() == (9.5, -0.5)  # room for 10 rows whatever K is
        texts = [t.get_text() for t in ax.texts]
        assert texts[0].strip().startswith("un deux") and all("log p =" in t for t in texts)
        assert f"K = {k}" in ax.get_title() and "un deux" in ax.get_title()
        assert ax.patches[0].get_facecolor() != ax.patches[-1].get_facecolor() or k == 1
        widths = [p.get_width() for p in ax.patches]
        assert widths == sorted(widths, reverse=True) and min(widths) > 0  # longer = more probable
        assert ax.get_xlim()[1] == 0
        plt.close(fig)


def test_a_beam_wider_than_the_slider_gets_the_rows_it_needs(setup):
    model, data = setup
    fig = beam_width_view(12, model=model, data=data, index=0, max_len=5)
    assert len(fig.axes[0].patches) == 12 and fig.axes[0].get_ylim() == (11.5, -0.5)
    plt.close(fig)


def test_cut_hypotheses_are_marked(setup):
    model, data = setup
    rows = nbest(model, data, 1, beam_width=2, max_len=2)  # the reference needs 4 tokens
    assert not any(r.finished for r in rows)
    fig = plot_nbest(rows)
    assert "cut at max_len" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_bad_arguments_raise_value_error(setup):
    model, data = setup
    for k, error in ((0, ValueError), (2.0, TypeError), (math.nan, TypeError)):
        with pytest.raises(error, match="beam_width must be an integer"):
            beam_width_view(k, model=model, data=data, index=0)
    out_of_range = r"source \(an example index\) must be an integer in \[0, 2\]"
    for index in (-1, 3):
        with pytest.raises(ValueError, match=out_of_range):
            nbest(model, data, index, beam_width=2)
    with pytest.raises(ValueError, match="no hypotheses"):
        plot_nbest([])
    with pytest.raises(ValueError, match="value"):
        beam_width_slider(model, data, 0, value=12)


def test_slider_spans_one_to_ten(setup):
    import ipywidgets

    model, data = setup
    widget = beam_width_slider(model, data, 2, value=3)
    assert isinstance(widget, ipywidgets.interactive)
    slider = widget.children[0]
    assert (slider.min, slider.max, slider.value) == (1, 10, 3)
    plt.close("all")


def test_the_view_checks_the_beam_width_once(setup, monkeypatch):
    import companion.decoding
    import companion.widgets.beam
    from companion.validation import check_int

    model, data = setup
    names = []

    def counting(value, name, **bounds):
        names.append(name)
        return check_int(value, name, **bounds)

    for module in (companion.decoding, companion.widgets.beam):
        monkeypatch.setattr(module, "check_int", counting)
    plt.close(beam_width_view(3, model=model, data=data, index=1, max_len=5))
    assert names.count("beam_width") == 1, names
