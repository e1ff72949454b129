"""The teacher-forcing explorer of notebook 5.3.4 (Fig. 5-11 per trained ratio)."""

import matplotlib.pyplot as plt
import pytest
import torch

from companion.data import Seq2SeqData, generate_pairs
from companion.inference import decode_data
from companion.models import make_seq2seq
from companion.widgets import teacher_forcing_slider, teacher_forcing_view


@pytest.fixture(scope="module")
def setup():
    data = Seq2SeqData.from_pairs(generate_pairs("summarize", 6, seed=0), "en", "en")
    models = {}
    for ratio, seed in ((0.0, 1), (1.0, 2)):
        torch.manual_seed(seed)
        models[ratio] = make_seq2seq(
            len(data.src_vocab),
            len(data.tgt_vocab),
            encoder="gru",
            decoder="context",
            emb_dim=8,
            hidden=16,
        )
    return models, data


def texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_view_shows_the_reference_and_the_chosen_models_own_output(setup):
    models, data = setup
    itos = data.tgt_vocab.itos
    reference = [itos[k] for k in data.tgt_ids[3]] + ["<eos>"]
    for ratio, model in models.items():
        fig = teacher_forcing_view(ratio, models=models, data=data, index=3, max_len=7)
        top, bottom = fig.axes
        assert texts(top, "read") == ["<bos>"] + reference[:-1]
        own = [itos[k] for k in decode_data(model, data, max_len=7)[3][0].tokens]
        assert texts(bottom, "predicted") == own
        assert f"ratio {ratio}" in fig._suptitle.get_text()
        plt.close(fig)


def test_bad_arguments_and_slider(setup):
    import ipywidgets

    models, data = setup
    with pytest.raises(ValueError, match="ratio 0.5"):
        teacher_forcing_view(0.5, models=models, data=data, index=0)
    with pytest.raises(ValueError, match="index"):
        teacher_forcing_view(1.0, models=models, data=data, index=6)
    with pytest.raises(ValueError, match="at least one"):
        teacher_forcing_slider({}, data)
    widget = teacher_forcing_slider(models, data, index=2)
    assert isinstance(widget, ipywidgets.interactive)
    ratio_slider, index_slider = widget.children[:2]
    assert ratio_slider.options == (0.0, 1.0) and ratio_slider.value == 1.0
    assert (index_slider.min, index_slider.max, index_slider.value) == (0, 5, 2)
    plt.close("all")
