"""Widget callbacks (noise-level slider, latent-noise
slider, latent explorer) and image plots, called directly.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from companion.metrics import pca_by_svd, principal_angles
from companion.models import make_autoencoder, make_vae
from companion.plot import image_grid, latent_grid, plot_codes, plot_images, plot_latent_grid
from companion.widgets import (
    denoise,
    denoising_figure,
    latent_explorer_figure,
    latent_noise_figure,
    perturb_codes,
    slider_widget,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def images():
    return torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def ae():
    torch.manual_seed(0)
    return make_autoencoder((1, 8, 8), 2, widths=(16,))


@pytest.fixture
def vae():
    torch.manual_seed(0)
    return make_vae((1, 8, 8), 2, widths=(16,))


def _title(fig):
    return " ".join(ax.get_title() for ax in fig.axes)


def test_denoising_figure_reports_both_errors_and_changes_with_the_slider(ae, images):
    fig = denoising_figure(ae, images, 0.3)
    assert isinstance(fig, matplotlib.figure.Figure)
    noisy, recon = denoise(ae, images, 0.3)
    expected = (
        f"MSE noisy {(noisy - images).pow(2).mean():.4f} → denoised "
        f"{(recon - images).pow(2).mean():.4f}"
    )
    assert expected in _title(fig)
    assert _title(denoising_figure(ae, images, 0.8)) != _title(fig)
    clean_in, _ = denoise(ae, images, 0.0)
    assert torch.equal(clean_in, images)


def test_perturb_codes_zero_noise_is_plain_decoding_and_noise_is_seeded(ae, vae, images):
    for model in (ae, vae):
        with torch.no_grad():
            plain = model.decode(model.code(images))
        assert torch.allclose(perturb_codes(model, images, 0.0), plain)
        assert torch.equal(
            perturb_codes(model, images, 1.0, seed=3), perturb_codes(model, images, 1.0, seed=3)
        )
        assert not torch.allclose(perturb_codes(model, images, 1.0), plain)
    with pytest.raises(ValueError, match="noise_scale must be a finite number ≥ 0, got -1"):
        perturb_codes(ae, images, -1.0)
    with pytest.raises(ValueError, match="N ≥ 2, got 1 image"):
        perturb_codes(ae, images[:1], 0.5)  # the spread needs at least two codes


def test_latent_noise_figure_has_a_row_per_model(ae, vae, images):
    fig = latent_noise_figure({"AE": ae, "VAE": vae}, images, 0.5)
    assert "AE" in _title(fig) and "VAE" in _title(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["input", "AE", "VAE"]
    with pytest.raises(ValueError, match="give at least one model as a dict"):
        latent_noise_figure({}, images)


def test_latent_explorer_marks_the_point_and_decodes_it(vae, images):
    codes = vae.code(images).detach()
    fig = latent_explorer_figure(vae, 1.5, -0.5, codes=codes, labels=torch.arange(6) % 3)
    assert "(1.50, -0.50)" in _title(fig)
    marker = fig.axes[0].lines[0]
    assert marker.get_xdata()[0] == 1.5 and marker.get_ydata()[0] == -0.5
    shown = fig.axes[1].images[0].get_array()
    with torch.no_grad():
        expected = vae.decode(torch.tensor([[1.5, -0.5]]))[0, 0].numpy()
    assert np.allclose(np.asarray(shown), expected, atol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        latent_explorer_figure(make_vae((1, 8, 8), 3, widths=(8,)))


@pytest.mark.parametrize("was_training", [True, False])
def test_callbacks_decode_in_eval_mode_and_restore_the_mode(ae, vae, images, was_training):
    seen = []
    for model in (ae, vae):
        model.train(was_training)
        model.decoder.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    plt.close(denoising_figure(ae, images, 0.3))
    perturb_codes(vae, images, 0.5)
    plt.close(latent_noise_figure({"AE": ae}, images, 0.5))
    plt.close(latent_explorer_figure(vae, 0.5, 0.5))
    assert len(seen) == 4 and not any(seen)  # no dropout or batch statistics while drawing
    assert ae.training == vae.training == was_training


def test_slider_widget_calls_the_callback_when_a_control_moves():
    import ipywidgets

    seen = []

    def callback(level):
        seen.append(level)
        return plt.figure()

    widget = slider_widget(
        callback, level=ipywidgets.FloatSlider(value=0.2, min=0, max=1, step=0.1)
    )
    widget.update()  # what ipywidgets does on display
    widget.children[0].value = 0.7
    assert seen[-1] == pytest.approx(0.7) and 0.2 in [round(v, 1) for v in seen]


def test_image_grid_and_plots(images):
    canvas = image_grid(images, ncols=4, pad=1)
    assert canvas.shape == (2 * 8 + 1, 4 * 8 + 3)
    assert np.allclose(canvas[:8, :8], images[0, 0].numpy())
    ax = plot_images(images, 3, row_labels=["a", "b"], title="t")
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="1 row labels for 2 rows"):
        plot_images(images, 3, row_labels=["only one"])
    with pytest.raises(ValueError, match=r"expected grey images .* got shape \(0, 8, 8\)"):
        plot_images(torch.zeros(0, 1, 8, 8))
    codes, labels = torch.randn(20, 2), torch.arange(20) % 4
    ax = plot_codes(codes, labels)
    # one scatter per class, each holding exactly that class's codes, and a legend naming them
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]
    for k, points in enumerate(ax.collections):
        assert np.allclose(points.get_offsets(), codes[labels == k].numpy())
    with pytest.raises(ValueError, match=r"codes must have shape \[N, 2\], got \(20, 3\)"):
        plot_codes(torch.randn(20, 3))


def test_latent_grid_order_and_plot(vae):
    imgs, values = latent_grid(lambda z: z[:, :, None, None].expand(-1, 2, 8, 8), lims=(-1, 1), n=3)
    # row 0 is the top of the picture: largest z2; columns run over z1
    assert imgs[0, 1, 0, 0] == 1 and imgs[0, 0, 0, 0] == -1 and imgs[-1, 1, 0, 0] == -1
    assert np.allclose(values, [-1, 0, 1])
    ax = plot_latent_grid(
        lambda z: z[:, :, None, None].expand(-1, 2, 8, 8)[:, :1], lims=(-1, 1), n=3
    )
    # tiles are centred on their codes: the extent reaches half a grid step beyond the limits
    assert tuple(ax.images[0].get_extent()) == pytest.approx((-1.5, 1.5, -1.5, 1.5))
    assert np.allclose(ax.images[0].get_array()[0, 0], -1)  # top-left tile decodes z1 = -1


def test_pca_by_svd_and_principal_angles():
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(10, 2, generator=g, dtype=torch.float64))[0]
    x = (torch.randn(500, 2, generator=g, dtype=torch.float64) * torch.tensor([3.0, 2.0])) @ basis.T
    x = x + 0.01 * torch.randn(500, 10, generator=g, dtype=torch.float64) + 5
    mean, comps, explained = pca_by_svd(x, 2)
    assert torch.allclose(mean.double(), x.mean(0), atol=1e-5)
    assert torch.allclose(comps @ comps.T, torch.eye(2), atol=1e-5)
    assert principal_angles(comps.T.double(), basis).max() < 1.0
    assert explained.sum() > 0.99
    rotated = basis @ torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64) * 3  # same span
    assert principal_angles(basis, rotated).max() < 1e-4
    other = torch.eye(10, dtype=torch.float64)[:, :1]
    perp = other - basis @ (basis.T @ other)
    assert abs(principal_angles(basis, perp).item() - 90) < 1e-4
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 10\], got 0"):
        pca_by_svd(x, 0)
