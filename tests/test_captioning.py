"""The CNN image encoder and the captioning model (CNN encoder + attention GRU decoder)."""

import matplotlib.pyplot as plt
import pytest
import torch

from companion import decoding
from companion.data.shapes import CaptionData, generate_shapes
from companion.inference import decode_data
from companion.models.captioning import (
    CNNImageEncoder,
    attention_maps,
    attention_mass,
    coordinate_channels,
    make_captioner,
)
from companion.plot import plot_caption_attention, show_captioned_images
from companion.train import train_seq2seq


def test_encoder_turns_an_image_into_a_grid_of_vectors():
    torch.manual_seed(0)
    enc = CNNImageEncoder(hidden=16, channels=(8, 8))
    out = enc(torch.rand(3, 3, 32, 32))
    assert enc.grid_shape(32, 32) == (8, 8)
    assert out.outputs.shape == (3, 64, 16) and out.mask.shape == (3, 64) and out.mask.all()
    assert torch.allclose(out.context, out.outputs.mean(1))
    assert enc(torch.rand(2, 3, 48, 32)).outputs.shape == (2, 12 * 8, 16)


def test_grid_cells_see_only_their_neighbourhood():
    """A change in the top-left corner moves only the cells near it: cell i ↔ image region i.

    Two blocks of two 3×3 convolutions and a 2×2 pool see 16×16 pixels: a 4×4 change at the corner
    can reach grid cells 0…2 in each direction, never cell 3 or beyond.
    """
    torch.manual_seed(0)
    enc = CNNImageEncoder(hidden=16, channels=(8, 8)).eval()
    images = torch.rand(1, 3, 32, 32)
    changed = images.clone()
    changed[:, :, :4, :4] = 1 - changed[:, :, :4, :4]  # grid cell (0, 0) covers pixels 0…3
    with torch.no_grad():
        a, b = enc.feature_map(images)[0], enc.feature_map(changed)[0]  # [16, 8, 8]
    moved = (a - b).abs().amax(0) > 1e-6
    assert moved[0, 0]
    assert not moved[3:, :].any() and not moved[:, 3:].any()


def test_coordinate_channels_say_where_a_pixel_is():
    images = torch.zeros(2, 3, 4, 5)
    x, y = coordinate_channels(images)[0, 3], coordinate_channels(images)[0, 4]
    assert torch.allclose(x[0], torch.linspace(-1, 1, 5)) and torch.allclose(
        x[:, 0], torch.full((4,), -1.0)
    )
    assert torch.allclose(y[:, 0], torch.linspace(-1, 1, 4)) and torch.allclose(
        y[0], torch.full((5,), -1.0)
    )


def test_encoder_rejects_bad_images():
    enc = CNNImageEncoder(hidden=8, channels=(4,))
    with pytest.raises(ValueError, match="float tensor"):
        enc(torch.zeros(2, 3, 16, 16, dtype=torch.long))
    with pytest.raises(ValueError, match="colour channels"):
        enc(torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="at least"):
        enc(torch.zeros(2, 3, 1, 16))
    with pytest.raises(ValueError, match="must be an integer ≥ 1"):
        CNNImageEncoder(hidden=0)


def test_captioner_overfits_a_few_images_and_its_attention_covers_the_grid():
    torch.manual_seed(0)
    data = CaptionData.from_shapes(generate_shapes(8, seed=0), "en")
    model = make_captioner(len(data.tgt_vocab), hidden=32, emb_dim=16, channels=(8, 16))
    history = train_seq2seq(model, [data.batch(range(8))], epochs=120, lr=5e-3, progress=False)
    assert history.last["loss"] < 0.05
    model.eval()
    images = data.shapes.images
    captions = [
        " ".join(data.tgt_vocab.decode(h[0].tokens)) for h in decode_data(model, data, max_len=12)
    ]
    assert captions == data.shapes.captions("en")
    beam = decoding.beam_search(
        model.step,
        model.init_state(images, None),
        beam_width=3,
        max_len=12,
        bos_id=data.tgt_vocab.bos_id,
        eos_id=data.tgt_vocab.eos_id,
    )
    assert [" ".join(data.tgt_vocab.decode(h[0].tokens)) for h in beam] == captions
    ids = [data.tgt_ids[i] + [data.tgt_vocab.eos_id] for i in range(2)]
    maps = attention_maps(model, images[:2], ids)
    assert [m.shape for m in maps] == [(len(ids[0]), 8, 8), (len(ids[1]), 8, 8)]
    assert torch.allclose(maps[0].sum((1, 2)), torch.ones(len(ids[0])), atol=1e-5)
    with pytest.raises(ValueError, match="one non-empty"):
        attention_maps(model, images[:2], ids[:1])
    # in training mode too: BatchNorm's running statistics are used, not one image's, and kept
    stats = [b.clone() for b in model.buffers()]
    model.train()
    again = attention_maps(model, images[:2], ids)
    assert model.training and all(
        torch.equal(a, b) for a, b in zip(stats, model.buffers(), strict=True)
    )
    assert all(torch.allclose(a, b) for a, b in zip(again, maps, strict=True))


def test_attention_mass_sums_weights_inside_each_region():
    maps = torch.zeros(2, 2, 2)
    maps[0, 0, 0], maps[0, 1, 1], maps[1, 0, 1] = 0.7, 0.3, 1.0
    regions = torch.tensor([[[1, 0], [0, 0]], [[0, 1], [0, 1]]])
    assert torch.allclose(attention_mass(maps, regions), torch.tensor([[0.7, 0.3], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="share the grid"):
        attention_mass(maps, torch.ones(1, 3, 2))


def test_caption_plots_draw_one_panel_per_image_and_word():
    images = generate_shapes(3, seed=0).images
    fig = show_captioned_images(images, ["a", "b", "c"], ncols=2, second=["1", "2", "3"])
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "a\n1"
    fig2 = plot_caption_attention(
        images[0], ["red", "circle", "<eos>"], torch.rand(3, 8, 8), ncols=3
    )
    assert [ax.get_title().split("\n")[0] for ax in fig2.axes] == ["red", "circle", "<eos>"]
    plt.close("all")
    with pytest.raises(ValueError, match="one caption per image"):
        show_captioned_images(images, ["a"])
    with pytest.raises(ValueError, match="T = len"):
        plot_caption_attention(images[0], ["red"], torch.rand(3, 8, 8))
