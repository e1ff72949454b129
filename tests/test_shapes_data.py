"""The captioning data set: every caption is checked against the pixels, not against the scene."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from companion.data.shapes import (
    COLOURS,
    COLOURS_ZH,
    SHAPES_ZH,
    CaptionData,
    Scene,
    Shape,
    generate_shapes,
    scene_caption,
)


def read_shapes_from_pixels(image: torch.Tensor) -> list[dict]:
    """Find the shapes in an image without looking at the scene: colour, kind, bounding box."""
    pixels = image.numpy()
    labels, count = ndimage.label(pixels.max(axis=0) > 0.3)
    found = []
    for k in range(1, count + 1):
        ys, xs = np.nonzero(labels == k)
        mean_rgb = pixels[:, ys, xs].mean(axis=1)
        colour = min(COLOURS, key=lambda c: np.sum((np.asarray(COLOURS[c]) - mean_rgb) ** 2))
        box = (xs.min(), xs.max(), ys.min(), ys.max())
        fill = len(xs) / ((box[1] - box[0] + 1) * (box[3] - box[2] + 1))
        upper_share = np.mean(
            ys < (ys.min() + ys.max()) / 2
        )  # a triangle (apex up) is bottom-heavy
        kind = "square" if fill > 0.95 else "triangle" if upper_share < 0.33 else "circle"
        found.append({"colour": colour, "kind": kind, "box": box})
    return found


def caption_from_pixels(image: torch.Tensor) -> str:
    """Rebuild the caption from the two shapes found
    in the pixels; fail if the layout is ambiguous.
    """
    a, b = read_shapes_from_pixels(image)
    (ax0, ax1, ay0, ay1), (bx0, bx1, by0, by1) = a["box"], b["box"]
    apart_x = ax1 < bx0 or bx1 < ax0
    apart_y = ay1 < by0 or by1 < ay0
    assert apart_x != apart_y, "the two shapes must be separated along exactly one axis"
    if apart_x:
        left, right = (a, b) if ax1 < bx0 else (b, a)
        return f"a {left['colour']} {left['kind']} left of a {right['colour']} {right['kind']}"
    top, bottom = (a, b) if ay1 < by0 else (b, a)
    return f"a {top['colour']} {top['kind']} above a {bottom['colour']} {bottom['kind']}"


def test_captions_match_the_drawn_shapes():
    data = generate_shapes(300, seed=1)
    assert data.images.shape == (300, 3, 32, 32) and data.images.dtype == torch.float32
    for image, caption in zip(data.images, data.captions("en"), strict=True):
        assert caption_from_pixels(image) == caption


def test_captions_match_with_noise_and_larger_images():
    data = generate_shapes(60, seed=2, image_size=48, noise=0.03)
    assert data.images.min() >= 0 and data.images.max() <= 1
    for image, caption in zip(data.images, data.captions("en"), strict=True):
        assert caption_from_pixels(image) == caption


def test_every_colour_shape_and_relation_occurs():
    data = generate_shapes(400, seed=3)
    words = {w for c in data.captions("en") for w in c.split()}
    assert set(COLOURS) | {"circle", "square", "triangle", "left", "above"} <= words


def test_chinese_caption_says_the_same_as_the_english_one():
    scene = Scene(Shape("circle", "red", 8, 16, 5), Shape("square", "blue", 24, 16, 5), "left of")
    assert scene_caption(scene, "en") == "a red circle left of a blue square"
    assert scene_caption(scene, "zh") == "红色圆形在蓝色方形左边"
    assert scene_caption(scene, "en", mirrored=True) == "a blue square right of a red circle"
    assert scene_caption(scene, "zh", mirrored=True) == "蓝色方形在红色圆形右边"
    data = generate_shapes(50, seed=4)
    for s, en, zh in zip(data.scenes, data.captions("en"), data.captions("zh"), strict=True):
        a, b = s.first, s.second
        assert zh.startswith(COLOURS_ZH[a.colour] + SHAPES_ZH[a.kind] + "在")
        assert en.startswith(f"a {a.colour} {a.kind} ") and en.endswith(f"a {b.colour} {b.kind}")
        assert zh.endswith("左边" if "left of" in en else "上面")


def test_references_hold_caption_and_mirror():
    data = generate_shapes(20, seed=5)
    for s, refs in zip(data.scenes, data.references("en"), strict=True):
        assert refs == [scene_caption(s), scene_caption(s, mirrored=True)]
        assert ("right of" in refs[1]) == ("left of" in refs[0])


def test_generation_is_seeded():
    a, b, c = generate_shapes(30, seed=7), generate_shapes(30, seed=7), generate_shapes(30, seed=8)
    assert torch.equal(a.images, b.images) and a.scenes == b.scenes
    assert a.scenes != c.scenes


def test_caption_batches_are_shifted_and_padded():
    data = CaptionData.from_shapes(generate_shapes(10, seed=0), "zh")
    batch = data.batch(range(4))
    v = data.tgt_vocab
    assert batch.images.shape == (4, 3, 32, 32)
    assert (batch.tgt_in[:, 0] == v.bos_id).all()
    shifted = batch.tgt_mask[:, 1:]  # positions whose successor is a real token
    assert torch.equal(batch.tgt_in[:, 1:][shifted], batch.tgt_out[:, :-1][shifted])
    for row, caption in zip(batch.tgt_out, data.shapes.captions("zh")[:4], strict=True):
        assert "".join(v.decode(row.tolist())) == caption
    assert sum(len(b) for b in data.batches(3, shuffle=True)) == 10
    held_out = CaptionData.from_shapes(generate_shapes(5, seed=9), "zh", vocab=v)
    assert held_out.tgt_vocab is v


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, r"n \(the number of images\) must be an integer in \[1, 1000000\], got 0"),
        ({"n": 5, "image_size": 8}, r"image_size \(≥ 16 keeps the shapes recognisable\) .* got 8"),
        ({"n": 5, "noise": 0.5}, r"noise \(larger values drown the shapes\) .* got 0.5"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_shapes(**kwargs)


def test_bad_language_and_shape_raise_value_error():
    scene = generate_shapes(1).scenes[0]
    with pytest.raises(ValueError, match="lang"):
        scene_caption(scene, "fr")
    with pytest.raises(ValueError, match="batch_size"):
        CaptionData.from_shapes(generate_shapes(2), "en").batches(0)


def test_grid_coverage_counts_the_covered_pixels():
    from companion.data.shapes import grid_coverage, shape_mask

    shape = Shape("square", "red", 8.0, 10.0, 3.9)  # columns 4…11, rows 6…13
    cover = grid_coverage(shape, 32, 8, 8)
    assert cover.shape == (8, 8)
    assert cover.sum() * 16 == pytest.approx(shape_mask(shape, 32).sum())
    assert cover[2, 1] == cover[2, 2] == 1.0 and cover[0, 0] == 0.0
    assert cover[1, 1] == cover[3, 2] == pytest.approx(2 * 4 / 16)
    with pytest.raises(ValueError, match="divide"):
        grid_coverage(shape, 32, 5, 8)
