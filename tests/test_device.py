"""``device="auto"``: CUDA, else Apple's MPS, else the CPU — checked by faking what PyTorch sees."""

from __future__ import annotations

import pytest
import torch

from companion import runtime


@pytest.fixture
def sees(monkeypatch):
    def fake(*, cuda: bool, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return fake


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(sees, cuda, mps, expected):
    sees(cuda=cuda, mps=mps)
    assert runtime.resolve_device("auto") == torch.device(expected)


def test_explicit_mps_needs_an_mps_device(sees):
    sees(cuda=False, mps=True)
    assert runtime.resolve_device("MPS") == torch.device("mps")
    sees(cuda=False, mps=False)
    with pytest.raises(ValueError, match="no Apple MPS device"):
        runtime.resolve_device("mps")


def test_cpu_is_always_available(sees):
    sees(cuda=True, mps=True)
    assert runtime.resolve_device("cpu") == torch.device("cpu")


def test_run_summary_names_the_device(sees):
    assert "Apple MPS" in runtime.run_summary(torch.device("mps"))
    assert "CPU" in runtime.run_summary(torch.device("cpu"))
