"""Fig. 5-1, 5-3, 5-4, 5-5 drawn from real numbers: what a figure shows equals the model's numbers,
recomputed along another path."""

import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from companion.models import make_vae
from companion.plot.vae_figures import (
    plot_code_bells,
    plot_code_curves,
    plot_linear_autoencoder,
    plot_noise_regions,
    plot_vae_structure,
    trace_vae,
)
from companion.prob import kl_to_standard_normal

matplotlib.use("Agg")
NUMBER = re.compile(r"-?\d+\.\d+")


def _texts(fig):
    return {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


def _numbers(text):
    return [float(v) for v in NUMBER.findall(text)]


def _patches(fig):
    return {p.get_gid(): p for ax in fig.axes for p in ax.patches if p.get_gid()}


def test_fig_5_1_shows_the_pca_code_and_the_real_shapes():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(50, 16, generator=g)
    mean = data.mean(0)
    _, _, vt = torch.linalg.svd(data - mean, full_matrices=False)
    W = vt[:3]  # [k, D] = [3, 16]
    fig = plot_linear_autoencoder(data[0], W, W.T, mean, image_shape=(4, 4))
    shown = [float(_texts(fig)[f"c{i}"]) for i in range(3)]
    expected = ((data[0] - mean) @ vt.T)[:3]  # the projection, computed another way
    assert shown == pytest.approx(expected.tolist(), abs=0.006)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "[3×16]" in titles and "[16×3]" in titles and "Fig. 5-1" in fig._suptitle.get_text()
    plt.close(fig)


def test_fig_5_1_rejects_matrices_that_do_not_fit():
    with pytest.raises(ValueError, match="shapes do not fit"):
        plot_linear_autoencoder(
            torch.zeros(16), torch.zeros(3, 16), torch.zeros(3, 16), image_shape=(4, 4)
        )


def test_fig_5_3_boxes_are_the_codes_plus_minus_the_noise_width():
    centres = torch.tensor([[0.5, -1.0], [2.0, 3.0]])
    fig = plot_noise_regions(centres, 0.25, labels=["full", "half"], probe=centres.mean(0))
    boxes = _patches(fig)
    for i, c in enumerate(centres):
        b = boxes[f"box{i}"]
        assert (b.get_x(), b.get_y()) == pytest.approx((c - 0.25).tolist())
        assert (b.get_width(), b.get_height()) == pytest.approx((0.5, 0.5))
    assert "Fig. 5-3" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="half_width"):
        plot_noise_regions(centres, 0.0, labels=["a", "b"])


def test_fig_5_4_bells_have_the_encoders_mean_and_spread():
    mu = torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    logvar = torch.tensor([[0.0, -2.0], [1.0, 0.0]])
    fig = plot_code_bells(torch.randn(2, 2), mu, logvar, n_std=2.0)
    bells = _patches(fig)
    for i in range(2):
        e = bells[f"bell{i}"]
        assert tuple(e.center) == pytest.approx(mu[i].tolist())
        std = (0.5 * logvar[i]).exp()
        assert (e.width, e.height) == pytest.approx((4 * std).tolist())
    plt.close(fig)


def test_fig_5_4_curves_are_the_posterior_densities_and_the_numbers_their_parameters():
    mu, logvar = torch.tensor([-1.5, 0.75]), torch.tensor([-2.0, 0.5])
    strip_z = torch.tensor([-2.0, 0.0, 1.25])
    fig = plot_code_curves(
        mu,
        logvar,
        labels=["full moon", "half moon"],
        images=[torch.zeros(4, 4), torch.ones(4, 4)],
        points=torch.tensor([3.0, -7.5]),
        strip=(strip_z, torch.rand(3, 4, 4)),
    )
    lines = {ln.get_gid(): ln for ax in fig.axes for ln in ax.lines if ln.get_gid()}
    texts = _texts(fig)
    for k in range(2):
        x, y = (torch.as_tensor(v, dtype=torch.float64) for v in lines[f"bell{k}"].get_data())
        reference = torch.distributions.Normal(mu[k].double(), (0.5 * logvar[k].double()).exp())
        assert torch.allclose(y, reference.log_prob(x).exp(), rtol=1e-5, atol=1e-7)
        m, s = _numbers(texts[f"bell{k}-label"])
        assert (m, s) == pytest.approx((mu[k].item(), (0.5 * logvar[k]).exp().item()), abs=0.006)
    x, y = (torch.as_tensor(v) for v in lines["prior"].get_data())
    assert torch.allclose(y, torch.distributions.Normal(0.0, 1.0).log_prob(x).exp(), atol=1e-6)
    assert [lines[f"point{k}"].get_xdata()[0] for k in range(2)] == [3.0, -7.5]
    assert [_numbers(texts[f"z{j}"])[0] for j in range(3)] == pytest.approx(strip_z.tolist())
    assert "Fig. 5-4" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="labels"):
        plot_code_curves(mu, logvar, labels=["one"])


def test_fig_5_5_numbers_are_the_vaes_own():
    torch.manual_seed(0)
    vae = make_vae((1, 8, 8), 4, widths=(16,))
    image = torch.rand(1, 8, 8)
    trace = trace_vae(vae, image, generator=torch.Generator().manual_seed(3))
    fig = plot_vae_structure(trace, image, n_values=4)
    texts = _texts(fig)
    with torch.no_grad():
        mu, logvar = vae.encode(image[None])
    eps = torch.randn(4, generator=torch.Generator().manual_seed(3))
    z = mu[0] + (0.5 * logvar[0]).exp() * eps  # z = m + exp(σ/2)·e, by hand
    for gid, values in [("m", mu[0]), ("sigma", logvar[0]), ("e", eps), ("z", z)]:
        assert _numbers(texts[gid])[:4] == pytest.approx(values.tolist(), abs=0.006), gid
    kl = kl_to_standard_normal(mu, logvar).item()
    extra, kl_shown = _numbers(texts["extra"])[-2:]
    assert extra == pytest.approx(2 * kl, abs=0.006) and kl_shown == pytest.approx(kl, abs=0.006)
    with torch.no_grad():
        recon = -vae.decoder.log_prob(image[None], vae.decoder(z[None])).item()
    assert _numbers(texts["recon"])[-1] == pytest.approx(recon, abs=0.006)
    plt.close(fig)


def test_fig_5_5_needs_a_full_trace():
    with pytest.raises(ValueError, match="trace_vae"):
        plot_vae_structure({"mu": torch.zeros(2)}, torch.zeros(1, 8, 8))
