"""Every seed argument of the package is checked, with one message: a whole number in [0, 2³²−1].

The list of seeded entry points is derived from the source (every public function or settings
field named ``seed``), so a new one without a test here fails ``test_every_seed_is_covered``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

import companion
from companion import translation
from companion.data import Seq2SeqData, generate_pairs, images, split_pairs, tatoeba
from companion.data.dtmf import AudioData, generate_dtmf
from companion.data.shapes import generate_shapes
from companion.prob import LinearGaussian
from companion.validation import MAX_SEED, check_seed
from companion.widgets import autoencoders as ae_widgets

PACKAGE = Path(companion.__file__).parent
MESSAGE = r"seed must be an integer in \[0, 4294967295\] \(any fixed whole number, e.g. 0\)"
BAD = [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)]


class _Codes(nn.Module):
    """The least a widget needs: code, decode and reconstruct."""

    def code(self, x):
        return x.flatten(1)

    def decode(self, z):
        return z.view(-1, 1, 4, 4)

    def reconstruct(self, x):
        return x


PAIRS = generate_pairs("numbers", 6, seed=0)
IMAGES = torch.rand(3, 1, 4, 4)
SEEDED = {
    "batching.batches": lambda s: Seq2SeqData.from_pairs(PAIRS, "en", "zh").batches(2, seed=s),
    "dtmf.generate_dtmf": lambda s: generate_dtmf(2, seed=s),
    "dtmf.batches": lambda s: AudioData(generate_dtmf(2, seed=0)).batches(2, seed=s),
    "images.moon_phase": lambda s: images.moon_phase(0.3, seed=s),
    "images.moon_phases": lambda s: images.moon_phases([0.3], seed=s),
    "images.load_digits_split": lambda s: images.load_digits_split(seed=s),
    "images.load_mnist_split": lambda s: images.load_mnist_split("/nonexistent", seed=s),
    "images.load_image_split": lambda s: images.load_image_split("digits", seed=s),
    "images.loader": lambda s: images.load_digits_split().loader("train", seed=s),
    "shapes.generate_shapes": lambda s: generate_shapes(2, seed=s),
    "tatoeba.split_by_component": lambda s: tatoeba.split_by_component(PAIRS, seed=s),
    "tatoeba.load_tatoeba": lambda s: tatoeba.load_tatoeba(path="/nonexistent", seed=s),
    "text_tasks.generate_pairs": lambda s: generate_pairs("numbers", 2, seed=s),
    "text_tasks.split_pairs": lambda s: split_pairs(PAIRS, seed=s),
    "linear_gaussian.random": lambda s: LinearGaussian.random(3, 2, seed=s),
    "runtime.seed_everything": lambda s: companion.seed_everything(s),
    "runtime.setup": lambda s: companion.setup(seed=s, device="cpu", quiet=True),
    "translation.TranslatorSettings": lambda s: translation.TranslatorSettings(seed=s),
    "autoencoders.denoise": lambda s: ae_widgets.denoise(_Codes(), IMAGES, 0.1, seed=s),
    "autoencoders.denoising_figure": lambda s: ae_widgets.denoising_figure(
        _Codes(), IMAGES, seed=s
    ),
    "autoencoders.perturb_codes": lambda s: ae_widgets.perturb_codes(_Codes(), IMAGES, 0.1, seed=s),
    "autoencoders.latent_noise_figure": lambda s: ae_widgets.latent_noise_figure(
        {"AE": _Codes()}, IMAGES, seed=s
    ),
}


def seeded_in_source() -> set[str]:
    """``module.function`` (or ``module.Class`` for a settings field) for every public ``seed``."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "exercises" in path.parts:  # the checkers' own fixtures, not a student's entry point
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if "seed" in [a.arg for a in node.args.args + node.args.kwonlyargs]:
                    found.add(f"{path.stem}.{node.name}")
            if isinstance(node, ast.ClassDef):
                fields = [
                    getattr(i.target, "id", "") for i in node.body if isinstance(i, ast.AnnAssign)
                ]
                if "seed" in fields:
                    found.add(f"{path.stem}.{node.name}")
    return found


def test_every_seed_is_covered():
    assert seeded_in_source() == set(SEEDED)


@pytest.mark.parametrize("where", sorted(SEEDED))
@pytest.mark.parametrize("bad, error", BAD, ids=[repr(b) for b, _ in BAD])
def test_a_bad_seed_is_refused_with_the_same_message(where, bad, error):
    with pytest.raises(error, match=MESSAGE):
        SEEDED[where](bad)


def test_check_seed_accepts_the_whole_range():
    assert check_seed(0) == 0 and check_seed(MAX_SEED) == 2**32 - 1
    assert check_seed(torch.tensor(7)) == 7
    with pytest.raises(TypeError, match=r"got None"):
        check_seed(None)
