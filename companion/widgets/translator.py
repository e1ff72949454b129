"""The "translate your own sentence" widget of notebook 5.3.7.

:func:`translate_own_sentence` is the plain callback (tested directly): a sentence, a direction
and a beam width → the best translation, the n-best list with scores (log-probabilities), and the
attention weights of the best hypothesis for a heat map like Fig. 5-10, over the subword pieces
the model read and wrote. Words of the input that the model never saw in training are named in a
one-line warning (:meth:`~companion.data.subwords.SubwordVocab.unseen_words`); empty or over-long
input gets a one-line message instead of a translation. :func:`translation_figure` draws the
result; :func:`translator_widget` wires both to a text box, a direction switch and a beam-width
slider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from companion.i18n import _
from companion.inference import nbest
from companion.model_utils import eval_mode, model_device

if TYPE_CHECKING:
    from companion.translation import Translator

MAX_WIDTH = 10


@dataclass
class OwnTranslation:
    """What the widget shows. ``message`` is set (and
    the rest empty) when there is no translation.
    """

    message: str = ""
    source_tokens: list[str] = field(default_factory=list)  # the pieces the model read
    unseen: list[str] = field(default_factory=list)  # words of the input never seen in training
    nbest: list[tuple[str, float]] = field(default_factory=list)  # (text, log p(y | x)), best first
    output_tokens: list[str] = field(default_factory=list)  # of the best hypothesis, with <eos>
    weights: torch.Tensor | None = None  # [len(output_tokens), len(source_tokens)]

    @property
    def translation(self) -> str:
        return self.nbest[0][0] if self.nbest else ""

    def summary(self) -> str:
        """Printable lines: the n-best list and a one-line warning on unseen words (or the
        message)."""
        if self.message:
            return self.message
        lines = [
            f"{k + 1}. {text}   (log p = {score:.2f})" for k, (text, score) in enumerate(self.nbest)
        ]
        if self.unseen:
            words = _(", ").join(f"“{w}”" for w in self.unseen)
            lines.append(
                _(
                    "warning: the model never saw {words} in training; it reads them piece by "
                    "piece and may guess"
                ).format(words=words)
            )
        return "\n".join(lines)


def translate_own_sentence(
    translators: Mapping[str, Translator],
    text: str,
    direction: str = "en-zh",
    beam_width: int = 5,
    *,
    max_tokens: int = 40,
) -> OwnTranslation:
    """Translate ``text`` with ``translators[direction]``
    (a :class:`~companion.translation.Translator`).

    Beam search of width ``beam_width`` keeps its ``beam_width`` best hypotheses as the n-best
    list (:func:`companion.inference.nbest`); the attention weights are those of the best one,
    teacher-forced through the model. Input with no pieces, or with more than ``max_tokens``,
    returns a one-line ``message``. The slider offers widths 1…``MAX_WIDTH``.
    """
    if direction not in translators:
        raise ValueError(f"direction must be one of {sorted(translators)}, got {direction!r}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    translator = translators[direction]
    src_vocab, tgt_vocab, model = translator.src_vocab, translator.tgt_vocab, translator.model
    ids = src_vocab.encode_text(text, translator.src_lang)
    if not ids:
        return OwnTranslation(message=_("Type a sentence to translate."))
    if len(ids) > max_tokens:
        return OwnTranslation(
            message=_(
                "That sentence is {n} pieces long; this widget takes at most {limit} (the model "
                "was trained on short sentences). Try a shorter one."
            ).format(n=len(ids), limit=max_tokens)
        )
    rows = nbest(
        model, translator, text, beam_width=beam_width, max_len=translator.settings.max_len
    )
    best = list(rows[0].tokens) or [model.eos_id]
    device = model_device(model)
    src = torch.tensor([ids], device=device)
    lengths = torch.tensor([len(ids)], device=device)
    tgt_in = torch.tensor([[model.bos_id] + best[:-1]], device=device)
    with eval_mode(model), torch.no_grad():
        weights = model.attention_weights(src, lengths, tgt_in)[0].cpu()
    return OwnTranslation(
        "",
        source_tokens=[src_vocab.itos[i] for i in ids],
        unseen=translator.unseen_words(text),
        nbest=[(r.text, r.log_prob) for r in rows],
        output_tokens=[tgt_vocab.itos[i] for i in best],
        weights=weights,
    )


def translation_figure(result: OwnTranslation, *, title: str | None = None):
    """The attention heat map (Fig. 5-10) of the best hypothesis, or None when there is none."""
    import matplotlib.pyplot as plt

    from companion.plot import plot_attention

    if result.weights is None:
        return None
    fig, ax = plt.subplots(
        figsize=(0.5 * len(result.source_tokens) + 2.5, 0.38 * len(result.output_tokens) + 1.6)
    )
    plot_attention(
        result.weights,
        result.source_tokens,
        result.output_tokens,
        ax=ax,
        title=title or f"Fig. 5-10 on your sentence: {result.translation}",
    )
    fig.tight_layout()
    return fig


def translator_widget(
    translators: Mapping[str, Translator],
    *,
    text: str = "",
    direction: str = "en-zh",
    beam_width: int = 5,
):
    """A text box, a direction switch and a beam-width
    slider that show :func:`translate_own_sentence`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def show(text: str, direction: str, beam_width: int) -> None:
        result = translate_own_sentence(translators, text, direction, beam_width)
        print(result.summary())
        if translation_figure(result) is not None:
            plt.show()

    return widgets.interactive(
        show,
        text=widgets.Text(value=text, description="sentence", continuous_update=False),
        direction=widgets.ToggleButtons(
            options=sorted(translators), value=direction, description="direction"
        ),
        beam_width=widgets.IntSlider(
            value=beam_width, min=1, max=MAX_WIDTH, description="beam width"
        ),
    )
