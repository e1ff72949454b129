"""Image data for 5.1.3 and 5.2: generated moon phases, scikit-learn's digits and MNIST.

* :func:`moon_phase` / :func:`moon_phases` draw the book's full-moon / half-moon pictures (Fig. 5-2)
  with a shadow covering a chosen fraction of the disc; :func:`shadow_fraction` measures it back.
* :func:`load_digits_split` — 8×8 handwritten digits that ship with scikit-learn (always offline).
* :func:`load_mnist` reads MNIST's idx files from a cache folder and downloads them when the
  network is there; :func:`load_mnist_split` splits the 10,000-image test file into 8,000 training
  and 2,000 held-out images with a fixed seed (the only split this project's machines carry).

MNIST lives in the data folder (:func:`companion.data.cache.data_root`) under
``<root>/mnist/t10k-images-idx3-ubyte.gz`` etc.
"""

from __future__ import annotations

import gzip
import math
import struct
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from companion.data.cache import DataUnavailableError, data_root, write_file
from companion.validation import check_float, check_int, check_probability, check_seed

# ---------------------------------------------------------------- moons (Fig. 5-2)


def moon_phase(
    shadow: float,
    size: int = 28,
    *,
    radius: float | None = None,
    noise: float = 0.0,
    seed: int | None = None,
    supersample: int = 4,
) -> np.ndarray:
    """A ``size×size`` grey image (floats in [0, 1]) of
    a moon whose shadow covers ``shadow`` of the disc.

    The terminator is a half-ellipse, as for the real moon: pixel (x, y) of the disc (centre 0,
    radius r) is lit when x ≤ (1 − 2·shadow)·√(r² − y²). Each row of the disc is then shadowed over
    exactly the fraction ``shadow`` of its width, so the whole disc is too. shadow = 0 is a full
    moon, 0.5 a half moon (right half dark), 1 a new moon. Pixels are anti-aliased by averaging
    ``supersample²`` sub-pixels; ``noise`` adds Gaussian noise of that standard deviation (clipped).
    """
    check_probability(shadow, "shadow (a fraction of the disc)")
    check_int(size, "size", min=4)
    check_float(noise, "noise", min=0.0)
    check_int(supersample, "supersample", min=1)
    if seed is not None:
        check_seed(seed)
    if radius is not None:
        check_float(radius, "radius", min=0.0, min_open=True)
    r = radius if radius is not None else 0.4 * size
    if not 0 < r <= size / 2:
        raise ValueError(f"radius must be in (0, size/2] = (0, {size / 2}], got {r}")
    lit = _lit_subpixels(shadow, size, r, supersample).mean(axis=(1, 3))
    if noise > 0:
        rng = np.random.default_rng(seed)
        lit = np.clip(lit + noise * rng.standard_normal(lit.shape), 0.0, 1.0)
    return lit.astype(np.float32)


def _subpixel_grid(size: int, supersample: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel centre coordinates relative to the image centre, shaped [size, s, size, s]."""
    s = supersample
    centres = (np.arange(size * s) + 0.5) / s - size / 2
    y, x = np.meshgrid(centres, centres, indexing="ij")
    return y.reshape(size, s, size, s), x.reshape(size, s, size, s)


def _lit_subpixels(shadow: float, size: int, r: float, supersample: int) -> np.ndarray:
    y, x = _subpixel_grid(size, supersample)
    inside = x**2 + y**2 <= r**2
    half_width = np.sqrt(np.clip(r**2 - y**2, 0.0, None))
    return (inside & (x <= (1 - 2 * shadow) * half_width)).astype(np.float64)


def disc_mask(size: int = 28, radius: float | None = None, supersample: int = 4) -> np.ndarray:
    """Fraction of each pixel covered by the moon's
    disc (the area :func:`shadow_fraction` looks at).
    """
    r = radius if radius is not None else 0.4 * size
    y, x = _subpixel_grid(size, supersample)
    return (x**2 + y**2 <= r**2).mean(axis=(1, 3))


def shadow_fraction(images: np.ndarray | torch.Tensor, radius: float | None = None) -> np.ndarray:
    """Measured shadow fraction of moon images: 1 − (brightness on the disc) / (disc area).

    Accepts one image ``[H, W]`` or a batch ``[N, H, W]`` / ``[N, 1, H, W]`` (square, values in
    [0, 1]); returns one number per image. Exact (up to anti-aliasing) for :func:`moon_phase`
    output; for a blurry decoded image it is the shadow its total brightness implies.
    """
    a = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    single = a.ndim == 2
    a = a.reshape((-1, *a.shape[-2:]))
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"moon images must be square, got {a.shape[-2:]}")
    mask = disc_mask(a.shape[-1], radius)
    lit = (np.clip(a, 0, 1) * (mask > 0)).sum(axis=(1, 2)) / mask.sum()
    out = 1.0 - lit
    return out[0] if single else out


def nearest_phase(
    image: np.ndarray | torch.Tensor, *, steps: int = 101, radius: float | None = None
) -> tuple[float, float]:
    """(shadow, RMSE) of the clean moon that best matches ``image``: how moon-like a picture is.

    A sharp moon of any phase scores an RMSE near 0; a grey blend of two moons does not, even
    when its mean brightness (:func:`shadow_fraction`) looks right.
    """
    a = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    a = a.reshape(*a.shape[-2:])
    candidates = np.linspace(0, 1, steps)
    errors = [
        np.sqrt(np.mean((moon_phase(float(f), a.shape[-1], radius=radius) - a) ** 2))
        for f in candidates
    ]
    best = int(np.argmin(errors))
    return float(candidates[best]), float(errors[best])


def moon_phases(
    shadows, *, size: int = 28, copies: int = 1, noise: float = 0.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A data set of moons: ``copies`` noisy images for each shadow fraction in ``shadows``.

    Returns (images ``[N, 1, size, size]`` float32, shadow fractions ``[N]``).
    """
    if isinstance(shadows, (str, bytes)) or not hasattr(shadows, "__iter__"):
        raise TypeError(f"shadows must be a list of fractions in [0, 1], got {shadows!r}")
    shadows = [check_probability(f, f"shadows[{i}]") for i, f in enumerate(shadows)]
    if not shadows:
        raise ValueError("give at least one shadow fraction")
    check_int(copies, "copies", min=1)
    check_seed(seed)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for f in shadows:
        for _ in range(copies):
            images.append(moon_phase(f, size, noise=noise, seed=int(rng.integers(2**31))))
            labels.append(f)
    return torch.from_numpy(np.stack(images)[:, None]), torch.tensor(labels)


# ---------------------------------------------------------------- splits


@dataclass
class ImageSplit:
    """Training and held-out images (float32 in [0, 1], ``[N, 1, H, W]``) with integer labels."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def image_shape(self) -> tuple[int, int, int]:
        channels, height, width = self.train_x.shape[1:]
        return channels, height, width

    def __repr__(self) -> str:
        return (
            f"ImageSplit({self.name!r}: {len(self.train_x)} train / {len(self.test_x)} held out, "
            f"images {tuple(self.image_shape)})"
        )

    def loader(
        self, part: str = "train", batch_size: int = 128, shuffle: bool | None = None, seed: int = 0
    ) -> torch.utils.data.DataLoader:
        """A DataLoader of (images, labels) batches; shuffled with a fixed seed for ``"train"``."""
        check_seed(seed)
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        x, y = (self.train_x, self.train_y) if part == "train" else (self.test_x, self.test_y)
        shuffle = part == "train" if shuffle is None else shuffle
        return torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(x, y),
            batch_size=batch_size,
            shuffle=shuffle,
            generator=torch.Generator().manual_seed(seed) if shuffle else None,
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> ImageSplit:
        """The first ``n_train`` / ``n_test`` images (the split is already shuffled)."""
        return ImageSplit(
            self.name,
            self.train_x[:n_train],
            self.train_y[:n_train],
            self.test_x[:n_test],
            self.test_y[:n_test],
        )


def _split(name: str, x: np.ndarray, y: np.ndarray, n_test: int, seed: int) -> ImageSplit:
    if not 0 < n_test < len(x):
        raise ValueError(f"n_test must be between 1 and {len(x) - 1}, got {n_test}")
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    return ImageSplit(name, xt[train], yt[train], xt[test], yt[test])


def load_digits_split(n_test: int = 360, seed: int = 0) -> ImageSplit:
    """scikit-learn's 1,797 handwritten digits (8×8, grey
    levels 0…16 scaled to [0, 1]), split with a fixed seed.
    """
    from sklearn.datasets import load_digits

    check_seed(seed)
    digits = load_digits()
    return _split(
        "digits 8x8 (scikit-learn)", digits.images[:, None] / 16.0, digits.target, n_test, seed
    )


# ---------------------------------------------------------------- MNIST

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_IDX_TYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (MNIST's format; gzip-compressed or not) into a NumPy array.

    A corrupt or truncated file raises ``ValueError`` naming the file and the fix.
    """
    path = Path(path)
    fix = f"delete {path} and download it again (or point COMPANION_DATA at a good copy)"
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path} is corrupt or truncated ({exc}); {fix}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise ValueError(f"{path} is not an idx file (bad header); {fix}")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is truncated (header cut short); {fix}")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: header promises {expected} bytes of data "
            f"for shape {shape}, found {len(body)}; {fix}"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def download_mnist(
    split: str = "test", root: str | Path | None = None, timeout: float = 10.0
) -> Path:
    """Fetch MNIST's ``split`` files into ``<root>/mnist/`` (skipping ones already there).

    Raises :class:`DataUnavailableError` with a one-line message when no mirror answers.
    """
    folder = data_root(root) / "mnist"
    for name in _mnist_files(split):
        target = folder / name
        if target.is_file():
            continue
        errors = []
        for mirror in MNIST_MIRRORS:
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as response:
                    payload = response.read()
                write_file(target, payload)
                break
            except OSError as exc:  # URLError, timeouts and refused connections are OSErrors
                errors.append(f"{mirror}: {getattr(exc, 'reason', exc)}")
        else:
            raise DataUnavailableError(
                f"MNIST is not in {folder} and could not be downloaded (offline?): {errors[-1]}"
            )
    return folder


def _mnist_files(split: str) -> tuple[str, str]:
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {sorted(MNIST_FILES)}, got {split!r}")
    return MNIST_FILES[split]


def load_mnist(
    split: str = "test",
    root: str | Path | None = None,
    *,
    download: bool = True,
    timeout: float = 10.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST's ``split`` as (images ``[N, 1, 28, 28]`` float32 in [0, 1], labels ``[N]`` int64).

    Reads ``<root>/mnist/`` (see :func:`data_root`); downloads missing files when ``download`` and
    the network allow, else raises :class:`DataUnavailableError` (one-line message).
    """
    images_name, labels_name = _mnist_files(split)
    folder = data_root(root) / "mnist"
    missing = [n for n in (images_name, labels_name) if not (folder / n).is_file()]
    if missing:
        if not download:
            raise DataUnavailableError(
                f"MNIST {split} files {missing} are not in {folder} (download=False)"
            )
        download_mnist(split, root, timeout=timeout)
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise ValueError(
            f"{folder} holds MNIST files of unexpected shapes {images.shape} and "
            f"{labels.shape}; delete them and download again"
        )
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    return x, torch.from_numpy(labels.astype(np.int64))


def load_mnist_split(
    root: str | Path | None = None,
    *,
    n_test: int = 2000,
    seed: int = 0,
    download: bool = True,
    timeout: float = 10.0,
) -> ImageSplit:
    """MNIST's 10,000-image test file split into 8,000
    training and 2,000 held-out images (fixed seed).

    The test file is small (1.6 MB) and is the copy this project's CI carries, so every notebook and
    benchmark trains on the same 8,000 images everywhere. Raises :class:`DataUnavailableError`
    when the file is neither cached nor downloadable.
    """
    check_seed(seed)
    x, y = load_mnist("test", root, download=download, timeout=timeout)
    return _split("MNIST (10k test file split 8000/2000)", x.numpy(), y.numpy(), n_test, seed)


def load_image_split(
    prefer: str = "mnist", root: str | Path | None = None, *, download: bool = True, seed: int = 0
) -> ImageSplit:
    """MNIST (8,000/2,000) when available, else scikit-learn's
    digits, printing one line if it falls back.
    """
    if prefer not in ("mnist", "digits"):
        raise ValueError(f"prefer must be 'mnist' or 'digits', got {prefer!r}")
    check_seed(seed)
    if prefer == "mnist":
        try:
            return load_mnist_split(root, seed=seed, download=download)
        except DataUnavailableError as exc:
            print(f"{exc} -> using scikit-learn's 8x8 digits instead.")
    return load_digits_split(seed=seed)
