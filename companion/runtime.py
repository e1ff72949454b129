"""Reproducibility and device selection shared by every notebook."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from companion.validation import check_bool, check_seed


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (CPU and all GPUs)."""
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` (or
    ``"cuda:1"``) or ``"mps"`` into a ``torch.device``.

    ``"auto"`` picks a CUDA GPU when one is visible, else Apple's MPS (Apple-silicon Macs), else
    the CPU. Asking for a GPU the machine lacks is an error rather than a silent fall-back, so a
    GPU run cannot quietly become a CPU run.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not device.strip():
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {device!r}")
    device = device.strip().lower()
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but PyTorch sees no CUDA GPU here; "
                "use device='auto' or 'cpu'"
            )
        return torch.device(device)
    if device == "mps":
        if not _mps_available():
            raise ValueError(
                "device='mps' was requested but PyTorch sees no Apple MPS device "
                "here; use device='auto' or 'cpu'"
            )
        return torch.device("mps")
    if device == "cpu":
        return torch.device("cpu")
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {device!r}")


def run_summary(device: torch.device) -> str:
    """One line naming the device and the versions that matter for reproducing a run."""
    where = "CPU"
    if device.type == "cuda":
        where = f"CUDA ({torch.cuda.get_device_name(device)})"
    elif device.type == "mps":
        where = "Apple MPS"
    return (
        f"companion {_version()} | device: {where} | torch {torch.__version__} | "
        f"numpy {np.__version__} | python {platform.python_version()}"
    )


def setup(
    seed: int = 0,
    device: str | torch.device = "auto",
    *,
    smoke: bool = False,
    language: str | None = None,
    quiet: bool = False,
) -> torch.device:
    """Seed everything, pick the device and print one line describing the run.

    Every notebook calls this right after its ``parameters`` cell. ``smoke`` tells
    :func:`companion.claims.claim` whether this is a CI-sized run whose numbers are not checked
    against the prose. ``language`` (``"en"`` or
    ``"zh"``; default: leave it as it is) is the language of the package's messages to the
    student (exercises, hints, solutions), see :mod:`companion.i18n`. It also turns on the CJK
    font for every figure drawn afterwards (:func:`companion.plot.fonts.use_cjk_font`: Chinese
    labels instead of boxes, or one line naming the font to install). Returns the chosen device.
    """
    check_bool(quiet, "quiet")
    check_bool(smoke, "smoke")
    from companion.claims import set_smoke

    set_smoke(smoke)
    if language is not None:
        from companion.i18n import set_language

        set_language(language)
    from companion.plot.fonts import use_cjk_font

    use_cjk_font()  # here, not at import: matplotlib loads only when a notebook sets up
    seed_everything(seed)
    chosen = resolve_device(device)
    if chosen.type == "cpu" and "COMPANION_THREADS" in os.environ:
        threads = os.environ["COMPANION_THREADS"]
        if not threads.strip().isdigit():
            raise ValueError(
                f"the environment variable COMPANION_THREADS must be a whole number "
                f"of CPU threads, got {threads!r}; unset it or set e.g. 2"
            )
        torch.set_num_threads(max(1, int(threads)))
    if not quiet:
        print(run_summary(chosen) + f" | seed {seed}")
    return chosen


def _version() -> str:
    from companion import __version__

    return __version__
