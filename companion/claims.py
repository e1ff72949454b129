"""Sentences of the prose, checked by the cell that computes what they state.

A notebook's prose says things about its results ("a wider beam lowers BLEU", "about 0.6 against
about 0.43"). The cell that computes the numbers states the sentence again with :func:`claim`,
which checks it in the run that prints it::

    claim(bleu[5] < bleu[1], "a beam of 5 scores lower BLEU than greedy search here")

With the notebook's default parameters a claim that does not hold stops the notebook with
:class:`ClaimNotBorneOut` (CI runs every notebook with its defaults, so the prose cannot drift
from the numbers). In smoke mode (``companion.setup(smoke=True)``: tiny, CI-sized runs whose
numbers mean little) it prints that the sentence is not checked, and the notebook goes on.

A run can also keep the default parameters and still not be the run the prose describes: offline,
the image notebooks fall back from MNIST to scikit-learn's 8×8 digits, where the prose's numbers do
not apply. The notebook then calls :func:`stop_checking` with the reason, and the claims after it
are reported, not checked, until the next ``companion.setup``.
"""

from __future__ import annotations

from companion.i18n import _


class ClaimNotBorneOut(AssertionError):
    """A sentence of the prose that this run's numbers contradict."""


_smoke = False
_unchecked_because: str | None = None


def set_smoke(smoke: bool) -> None:
    """Whether claims are checked (default parameters) or only reported (smoke mode).

    Also ends a :func:`stop_checking`: every ``companion.setup`` starts a run afresh.
    """
    global _smoke, _unchecked_because
    if not isinstance(smoke, bool):
        raise TypeError(f"smoke must be True or False, got {smoke!r}")
    _smoke = smoke
    _unchecked_because = None


def stop_checking(reason: str) -> None:
    """Report the claims that follow without checking them: this run is not the one they describe.

    ``reason`` says why, as a short English phrase (translated when printed), e.g.
    ``"the prose's numbers are for MNIST; this run uses the 8x8 digits"``.
    """
    global _unchecked_because
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"reason must say why the claims are not checked, got {reason!r}")
    _unchecked_because = reason


def claim(condition: object, text: str) -> None:
    """Check the sentence ``text`` of the prose: ``condition`` must hold, except in smoke mode.

    Prints ``✓ text`` when it holds; in smoke mode (or after :func:`stop_checking`) prints that
    the sentence is not checked; otherwise raises :class:`ClaimNotBorneOut`. ``condition`` is
    anything with a truth value (a bool, a 0-d tensor or NumPy bool). Returns nothing, so that a
    claim that ends a notebook cell echoes no ``True``: a trailing ``;`` does not stop the echo
    where the kernel runs a cell without storing it in its history, as nbval does.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be the sentence being checked, got {text!r}")
    holds = bool(condition)
    if _smoke:
        print(_("· not checked in smoke mode: {text}").format(text=_(text)))
    elif _unchecked_because is not None:
        print(
            _("· not checked ({reason}): {text}").format(reason=_(_unchecked_because), text=_(text))
        )
    elif holds:
        print(_("✓ {text}").format(text=_(text)))
    else:
        raise ClaimNotBorneOut(
            _(
                "the text says “{text}”, but this run does not show it. It was checked with the "
                "notebook's default parameters and seeds 0, 1 and 2; other parameters, and even "
                "another number of CPU threads or another machine, can send training another way."
            ).format(text=_(text))
        )
