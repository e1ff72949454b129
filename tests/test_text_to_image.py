"""Text → image (5.3.6): the fixed layout shows each caption, and the painter's pictures are read
back from their pixels alone (the pixel reader of test_shapes_data, which never sees a scene)."""

import pytest
import torch
import torch.nn.functional as F
from test_shapes_data import caption_from_pixels

import companion
from companion.data.shapes import (
    CaptionData,
    Scene,
    Shape,
    canonical_scene,
    generate_shapes,
    render_scene,
    scene_caption,
)
from companion.models import (
    ConvImageDecoder,
    caption_inputs,
    make_text_to_image,
    text_to_image_loss,
)
from companion.train import fit


def test_the_fixed_layout_draws_the_caption_in_one_picture_per_caption():
    shapes = generate_shapes(300, seed=0)
    drawn = shapes.canonical()
    assert drawn.captions("en") == shapes.captions("en")
    for image, caption in zip(drawn.images, drawn.captions("en"), strict=True):
        assert caption_from_pixels(image) == caption
    # the same caption gives the same picture, whatever the original layout was
    by_caption: dict[str, torch.Tensor] = {}
    for image, caption in zip(drawn.images, drawn.captions("en"), strict=True):
        assert torch.equal(by_caption.setdefault(caption, image), image)
    # and that picture lies inside what the random generator draws (centres, radius)
    scene = canonical_scene(shapes.scenes[0], 32)
    assert 0.3 * 16 <= scene.first.radius <= 0.42 * 16
    assert torch.equal(drawn.images[0], torch.from_numpy(render_scene(scene, 32)))


def test_one_per_caption_keeps_the_first_image_of_each_caption():
    shapes = generate_shapes(400, seed=1)
    unique = shapes.one_per_caption()
    captions = shapes.captions("en")
    assert unique.captions("en") == list(dict.fromkeys(captions))
    first = captions.index(unique.captions("en")[5])
    assert torch.equal(unique.images[5], shapes.images[first])


def test_the_decoder_doubles_its_grid_up_to_the_image():
    decoder = ConvImageDecoder(10, size=32, channels=(16, 8))
    assert decoder.start == 4  # 4 → 8 → 16 → 32
    assert decoder(torch.zeros(2, 10)).shape == (2, 3, 32, 32)
    assert ConvImageDecoder(10, size=16, channels=(8,))(torch.zeros(1, 10)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="multiple of 2"):
        ConvImageDecoder(10, size=30)
    with pytest.raises(ValueError, match="channels"):
        ConvImageDecoder(10, channels=())


def test_the_loss_is_the_bernoulli_likelihood_of_every_pixel():
    shapes = generate_shapes(6, seed=2).canonical()
    data = CaptionData.from_shapes(shapes, "en")
    companion.setup(seed=0, device="cpu", quiet=True)
    model = make_text_to_image(len(data.tgt_vocab), hidden=16, channels=(8, 8))
    batch = data.batch(range(6))
    p = model.generate(*caption_inputs(batch))  # probabilities, computed along another path
    by_hand = -(batch.images * p.log() + (1 - batch.images) * (1 - p).log()).sum((1, 2, 3)).mean()
    assert text_to_image_loss(model, batch).item() == pytest.approx(by_hand.item(), rel=1e-4)
    text_to_image_loss(model, batch).backward()
    grad = model.text_encoder.embed.weight.grad
    assert grad is not None and grad.abs().sum() > 0  # the caption's words get a gradient
    with pytest.raises(ValueError, match="image_size"):
        text_to_image_loss(make_text_to_image(len(data.tgt_vocab), image_size=16), batch)


def test_a_trained_painter_draws_what_its_captions_say():
    scenes = [
        Scene(Shape(a, ca, 0, 0, 1), Shape(b, cb, 0, 0, 1), rel)
        for a, ca, b, cb, rel in [
            ("circle", "red", "square", "blue", "left of"),
            ("triangle", "green", "circle", "yellow", "above"),
            ("square", "yellow", "triangle", "red", "left of"),
            ("circle", "blue", "circle", "green", "above"),
        ]
    ]
    drawn = [canonical_scene(s, 32) for s in scenes]
    images = torch.stack([torch.from_numpy(render_scene(s, 32)) for s in drawn])
    from companion.data.shapes import ShapeCaptions

    data = CaptionData.from_shapes(ShapeCaptions(images, drawn), "en")
    companion.setup(seed=0, device="cpu", quiet=True)
    model = make_text_to_image(len(data.tgt_vocab), hidden=32, channels=(32, 16))
    fit(model, data.batches(4), text_to_image_loss, epochs=300, lr=3e-3, progress=False)
    painted = model.generate(*caption_inputs(data.batch(range(4))))
    assert F.mse_loss(painted, images).item() < 0.01
    for picture, scene in zip(painted, scenes, strict=True):
        assert caption_from_pixels(picture) == scene_caption(scene)
