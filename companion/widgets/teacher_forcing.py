"""The teacher-forcing explorer of notebook 5.3.4:
Fig. 5-11 for models trained with different ratios.

``teacher_forcing_view(ratio, models=…, data=…, index=…)`` is the plain callback (tested
directly): for the model trained with teacher-forcing ratio ``ratio`` it draws what the decoder
reads and predicts on example ``index``, under teacher forcing and in free running.
``teacher_forcing_slider`` wires it to a ratio slider and an example slider.
"""

from __future__ import annotations

from collections.abc import Mapping

from companion.inference import decode_data
from companion.metrics.position import teacher_forced_predictions
from companion.plot.decoding import plot_teacher_forcing
from companion.validation import check_float, check_int


def _check(models: Mapping[float, object], ratio: float | None, data, index: int) -> None:
    if not isinstance(models, Mapping) or not models:
        raise ValueError("give at least one trained model, as {ratio: model}")
    check_float(ratio, "ratio")
    if ratio not in models:
        raise ValueError(f"no model trained with ratio {ratio!r}; available: {sorted(models)}")
    check_int(index, "index", min=0, max=len(data) - 1)


def teacher_forcing_view(
    ratio: float, *, models: Mapping[float, object], data, index: int, max_len: int = 40
):
    """Fig. 5-11 for example ``index`` of ``data`` decoded by ``models[ratio]``."""
    _check(models, ratio, data, index)
    model = models[ratio]
    one = type(data)(
        [data.pairs[index]], data.src_lang, data.tgt_lang, data.src_vocab, data.tgt_vocab
    )
    itos, eos = data.tgt_vocab.itos, data.tgt_vocab.eos_id
    reference = [itos[k] for k in one.tgt_ids[0] + [eos]]
    forced = [itos[k] for k in teacher_forced_predictions(model, one)[0]]
    free = [itos[k] for k in decode_data(model, one, max_len=max_len)[0][0].tokens]
    return plot_teacher_forcing(
        reference,
        forced,
        free,
        title=(
            f"trained with teacher-forcing ratio {ratio}, example {index}: {data.pairs[index].tgt}"
        ),
    )


def teacher_forcing_slider(
    models: Mapping[float, object],
    data,
    *,
    index: int = 0,
    ratio: float | None = None,
    max_len: int = 40,
):
    """ipywidgets: a slider over the trained ratios and one over the examples of ``data``."""
    import ipywidgets as widgets

    from companion.widgets.sliders import slider_widget

    ratio = max(models, default=None) if ratio is None else ratio
    _check(models, ratio, data, index)

    def view(ratio: float, index: int):
        return teacher_forcing_view(ratio, models=models, data=data, index=index, max_len=max_len)

    return slider_widget(
        view,
        ratio=widgets.SelectionSlider(options=sorted(models), value=ratio, description="TF ratio"),
        index=widgets.IntSlider(value=index, min=0, max=len(data) - 1, description="example"),
    )
