"""Image data: generated moon phases (Fig. 5-2),
scikit-learn digits, the MNIST idx reader and cache.
"""

import gzip
import struct

import numpy as np
import pytest
import torch
from conftest import unavailable

from companion.data import (
    DataUnavailableError,
    load_digits_split,
    load_image_split,
    load_mnist,
    load_mnist_split,
    moon_phase,
    moon_phases,
    nearest_phase,
    read_idx,
    shadow_fraction,
)


@pytest.mark.parametrize("shadow", [0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 1.0])
@pytest.mark.parametrize("size", [8, 28, 64])
def test_moon_shadow_fraction_is_what_was_asked(shadow, size):
    image = moon_phase(shadow, size)
    assert image.shape == (size, size) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    tolerance = 0.01 if size >= 28 else 0.03  # anti-aliasing error shrinks with resolution
    assert abs(shadow_fraction(image) - shadow) < tolerance


def test_moon_geometry_half_moon_is_dark_on_the_right_and_full_moon_is_symmetric():
    half = moon_phase(0.5, 28)
    assert half[:, :14].sum() > 0 and half[:, 15:].sum() == 0
    full = moon_phase(0.0, 28)
    assert np.allclose(full, full[:, ::-1]) and np.allclose(full, full.T)


def test_moon_noise_is_seeded_and_clipped():
    a = moon_phase(0.3, 28, noise=0.2, seed=4)
    assert np.array_equal(a, moon_phase(0.3, 28, noise=0.2, seed=4))
    assert not np.array_equal(a, moon_phase(0.3, 28, noise=0.2, seed=5))
    assert 0 <= a.min() and a.max() <= 1


def test_moon_data_set_and_nearest_phase():
    x, f = moon_phases([0.0, 0.5], copies=3, noise=0.05)
    assert x.shape == (6, 1, 28, 28) and x.dtype == torch.float32
    assert f.tolist() == [0.0] * 3 + [0.5] * 3
    assert np.allclose(shadow_fraction(x), f.numpy(), atol=0.05)
    best, rmse = nearest_phase(moon_phase(0.25))
    assert best == 0.25 and rmse < 1e-6
    # a grey blend of a full and a half moon has the brightness of a 3/4 moon but is no moon
    blend = 0.5 * (moon_phase(0.0) + moon_phase(0.5))
    assert abs(shadow_fraction(blend) - 0.25) < 0.01
    assert nearest_phase(blend)[1] > 0.1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(shadow=1.5), r"shadow \(a fraction of the disc\) must be .* in \[0, 1\], got 1.5"),
        (dict(shadow=-0.1), r"shadow \(a fraction of the disc\) must be .* got -0.1"),
        (dict(shadow=0.2, size=2), "size must be an integer ≥ 4, got 2"),
        (dict(shadow=0.2, noise=-1), "noise must be a finite number ≥ 0, got -1"),
        (dict(shadow=0.2, radius=20), r"radius must be in \(0, size/2\] = \(0, 14.0\], got 20"),
    ],
)
def test_moon_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        moon_phase(**kwargs)


def test_digits_split_is_offline_scaled_and_seeded():
    split = load_digits_split()
    assert split.train_x.shape == (1437, 1, 8, 8) and split.test_x.shape == (360, 1, 8, 8)
    assert split.train_x.min() == 0 and split.train_x.max() == 1
    assert torch.equal(split.test_y, load_digits_split().test_y)
    batch_x, batch_y = next(iter(split.loader("train", batch_size=32)))
    assert batch_x.shape == (32, 1, 8, 8) and batch_y.shape == (32,)
    small = split.subset(100, 50)
    assert len(small.train_x) == 100 and len(small.test_x) == 50


def _write_idx(path, array, compress=True):
    codes = {np.uint8: 0x08}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def _fake_mnist(root, n=20):
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _write_idx(
        folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    )
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))
    return folder


def test_idx_reader_reads_plain_and_gzip_files(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", a, compress=False)
    _write_idx(tmp_path / "a.idx.gz", a)
    assert np.array_equal(read_idx(tmp_path / "a.idx"), a)
    assert np.array_equal(read_idx(tmp_path / "a.idx.gz"), a)


def test_mnist_from_a_cache_folder_given_by_argument_or_environment(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, n=20)
    x, y = load_mnist("test", tmp_path, download=False)
    assert x.shape == (20, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    split = load_mnist_split(n_test=5, download=False)
    assert len(split.train_x) == 15 and len(split.test_x) == 5


@pytest.mark.parametrize("damage", ["truncate", "garbage", "bad_header", "short_body"])
def test_corrupt_or_truncated_mnist_is_a_clear_value_error(tmp_path, damage):
    folder = _fake_mnist(tmp_path)
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    elif damage == "bad_header":
        path.write_bytes(gzip.compress(b"\x01\x02\x03\x04" + bytes(100)))
    else:
        path.write_bytes(gzip.compress(gzip.decompress(raw)[:-10]))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz.*(delete|download)"):
        load_mnist("test", tmp_path, download=False)


def test_offline_without_a_copy_is_a_one_line_data_unavailable_error(tmp_path, monkeypatch):
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailableError) as info:
        load_mnist("test", tmp_path)
    assert "\n" not in str(info.value) and "could not be downloaded" in str(info.value)
    assert not (tmp_path / "mnist").exists()  # no empty cache folder left behind
    with pytest.raises(DataUnavailableError, match="download=False"):
        load_mnist("test", tmp_path, download=False)


def test_image_split_falls_back_to_digits_with_one_line(tmp_path, monkeypatch, capsys):
    import urllib.request

    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline"))
    )
    split = load_image_split("mnist", tmp_path)
    assert split.image_shape == (1, 8, 8)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "digits" in out[0]


def test_real_mnist_test_split(shared_data):
    if not (shared_data / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        unavailable(f"no MNIST copy under {shared_data}")
    split = load_mnist_split(shared_data, download=False)
    assert split.train_x.shape == (8000, 1, 28, 28) and split.test_x.shape == (2000, 1, 28, 28)
    all_labels = torch.cat([split.train_y, split.test_y])
    assert torch.bincount(all_labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert abs(split.train_x.mean().item() - 0.1325) < 0.002  # MNIST's well-known mean intensity
    again = load_mnist_split(shared_data, download=False)
    assert torch.equal(split.test_y, again.test_y)  # fixed seed: same held-out images every time


def test_download_writes_into_the_cache_folder_when_the_network_answers(tmp_path, monkeypatch):
    import io
    import urllib.request

    rng = np.random.default_rng(1)
    payloads = {}
    for name, array in [
        ("t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)),
        ("t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 3, dtype=np.uint8)),
    ]:
        _write_idx(tmp_path / name, array)
        payloads[name] = (tmp_path / name).read_bytes()
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(payloads[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    x, y = load_mnist("test", tmp_path / "cache")
    assert x.shape == (3, 1, 28, 28) and len(requested) == 2
    assert (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
    load_mnist("test", tmp_path / "cache")
    assert len(requested) == 2  # cached: no second download
