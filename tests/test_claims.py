"""companion.claims.claim: a prose sentence, checked in default mode, reported in smoke mode."""

import numpy as np
import pytest
import torch

import companion
from companion.claims import ClaimNotBorneOut, claim


@pytest.fixture(autouse=True)
def _default_mode_after():
    yield
    companion.setup(seed=0, device="cpu", smoke=False, quiet=True)


def test_default_mode_prints_a_claim_that_holds_and_stops_on_one_that_does_not(capsys):
    companion.setup(seed=0, device="cpu", quiet=True)
    assert claim(torch.tensor(2.0) > 1, "two is more than one") is None
    assert capsys.readouterr().out == "✓ two is more than one\n"
    with pytest.raises(ClaimNotBorneOut, match="the text says “one is more than two”"):
        claim(np.bool_(False), "one is more than two")


def test_smoke_mode_reports_without_stopping(capsys):
    companion.setup(seed=0, device="cpu", smoke=True, quiet=True)
    assert claim(False, "one is more than two") is None
    assert capsys.readouterr().out == "· not checked in smoke mode: one is more than two\n"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="text must be the sentence"):
        claim(True, "  ")
    with pytest.raises(TypeError, match="smoke must be True or False"):
        companion.setup(seed=0, device="cpu", smoke="yes", quiet=True)


def test_stop_checking_reports_the_reason_until_the_next_setup(capsys):
    from companion.claims import stop_checking

    companion.setup(seed=0, device="cpu", quiet=True)
    stop_checking("the prose's numbers are for MNIST")
    claim(False, "one is more than two")
    assert capsys.readouterr().out == (
        "· not checked (the prose's numbers are for MNIST): one is more than two\n"
    )
    companion.setup(seed=0, device="cpu", quiet=True)
    with pytest.raises(ClaimNotBorneOut):
        claim(False, "one is more than two")
    with pytest.raises(ValueError, match="reason must say why"):
        stop_checking(" ")
