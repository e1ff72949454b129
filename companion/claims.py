"""Sentences of the prose, checked by the cell that computes what they state.

A notebook's prose says things about its results ("a wider beam lowers BLEU", "about 0.6 against
about 0.43"). The cell that computes the numbers states the sentence again with :func:`claim`,
which checks it in the run that prints it::

    claim(bleu[5] < bleu[1], "a beam of 5 scores lower BLEU than greedy search here")

With the notebook's default parameters a claim that does not hold stops the notebook with
:class:`ClaimNotBorneOut` (CI runs every notebook with its defaults, so the prose cannot drift
from the numbers). In smoke mode (``companion.setup(smoke=True)``: tiny, CI-sized runs whose
numbers mean little) it prints that the sentence is not checked, and the notebook goes on.
"""

from __future__ import annotations

from companion.i18n import _


class ClaimNotBorneOut(AssertionError):
    """A sentence of the prose that this run's numbers contradict."""


_smoke = False


def set_smoke(smoke: bool) -> None:
    """Whether claims are checked (default parameters) or only reported (smoke mode)."""
    global _smoke
    if not isinstance(smoke, bool):
        raise TypeError(f"smoke must be True or False, got {smoke!r}")
    _smoke = smoke


def claim(condition: object, text: str) -> None:
    """Check the sentence ``text`` of the prose: ``condition`` must hold, except in smoke mode.

    Prints ``✓ text`` when it holds; in smoke mode prints that the sentence is not checked;
    otherwise raises :class:`ClaimNotBorneOut`. ``condition`` is anything with a truth value (a
    bool, a 0-d tensor or NumPy bool). Returns nothing, so a claim that ends a notebook cell echoes
    no ``True``: a trailing ``;`` does not stop the echo where the kernel runs a cell without
    storing it in its history, as nbval does.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be the sentence being checked, got {text!r}")
    holds = bool(condition)
    if _smoke:
        print(_("· not checked in smoke mode: {text}").format(text=_(text)))
    elif holds:
        print(_("✓ {text}").format(text=_(text)))
    else:
        raise ClaimNotBorneOut(
            _(
                "the text says “{text}”, but this run does not show it. With the notebook's "
                "default parameters it holds; with other parameters it may not."
            ).format(text=_(text))
        )
