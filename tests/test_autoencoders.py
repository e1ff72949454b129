"""Autoencoders, the denoising corruption and the VAE
(5.1.3, 5.2.1), trained through companion.train.fit.
"""

import pytest
import torch

from companion.models import (
    add_noise,
    make_autoencoder,
    make_autoencoder_loss,
    make_vae,
    make_vae_loss,
)
from companion.prob import kl_to_standard_normal
from companion.train import fit


def _blobs(n=64, shape=(1, 8, 8), seed=0):
    """Two kinds of image (top half or bottom half lit) with a little noise: easy to compress."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, *shape)
    half = shape[1] // 2
    x[: n // 2, :, :half] = 1.0
    x[n // 2 :, :, half:] = 1.0
    return (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("arch", ["linear", "mlp", "conv"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_shapes_for_every_architecture(arch, likelihood):
    x = torch.rand(5, 1, 8, 8)
    ae = make_autoencoder((1, 8, 8), 3, arch=arch, widths=(16,), likelihood=likelihood)
    assert ae.code(x).shape == (5, 3)
    assert ae.reconstruct(x).shape == x.shape
    vae = make_vae((1, 8, 8), 3, arch=arch, widths=(16,), likelihood=likelihood)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    out = vae(x)
    assert out.out.shape == x.shape and out.z.shape == (5, 3)
    assert vae.sample(4).shape == (4, 1, 8, 8)
    if likelihood == "bernoulli":
        assert 0 <= vae.sample(4).min() and vae.sample(4).max() <= 1


def test_pytorch_examples_vae_shape():
    vae = make_vae()  # 784-400-20-400-784
    sizes = [p.shape for p in vae.parameters()]
    assert torch.Size([400, 784]) in sizes and torch.Size([20, 400]) in sizes
    assert torch.Size([784, 400]) in sizes and vae.code_dim == 20


def test_vae_elbo_terms_and_gradients_reach_the_encoder():
    torch.manual_seed(0)
    vae = make_vae((1, 8, 8), 2, widths=(16,))
    x = _blobs(8)
    terms = vae.elbo(x)
    assert set(terms) == {"loss", "recon", "kl", "elbo"}
    terms["loss"].backward()
    # the reparameterisation trick: the log-variance head gets a gradient from the recon term too
    assert vae.encoder.logvar.weight.grad.abs().sum() > 0
    assert vae.encoder.mu.weight.grad.abs().sum() > 0


def test_noise_scale_zero_makes_the_vae_a_plain_autoencoder():
    vae = make_vae((1, 8, 8), 2, widths=(16,))
    x = _blobs(4)
    a, b = vae(x, noise_scale=0.0), vae(x, noise_scale=0.0)
    assert torch.equal(a.z, a.mu) and torch.equal(a.out, b.out)
    assert not torch.equal(vae(x).z, a.mu)


def test_fit_trains_the_autoencoder_and_vae():
    torch.manual_seed(0)
    data = [(_blobs(32, seed=s), torch.zeros(32)) for s in range(4)]
    ae = make_autoencoder((1, 8, 8), 2, widths=(32,))
    hist = fit(ae, data, make_autoencoder_loss(), epochs=15, lr=1e-2, progress=False)
    assert hist.epochs[-1]["mse"] < 0.5 * hist.epochs[0]["mse"]
    vae = make_vae((1, 8, 8), 2, widths=(32,))
    hist = fit(vae, data, make_vae_loss(), epochs=15, lr=1e-2, progress=False)
    assert hist.epochs[-1]["loss"] < 0.8 * hist.epochs[0]["loss"]
    assert {"recon", "kl", "elbo"} <= set(hist.last)


def test_denoising_loss_targets_the_clean_image():
    torch.manual_seed(0)
    ae = make_autoencoder((1, 8, 8), 2, widths=(16,), likelihood="gaussian")
    x = _blobs(16)
    clean = make_autoencoder_loss(0.0)(ae, x)
    torch.manual_seed(1)
    noisy = make_autoencoder_loss(0.5)(ae, x)
    torch.manual_seed(1)
    noisy_input = add_noise(x, 0.5)
    with torch.no_grad():
        assert torch.isclose(clean["mse"], (ae.reconstruct(x) - x).pow(2).mean())
        denoised = ae.reconstruct(noisy_input)
    assert torch.isclose(noisy["mse"], (denoised - x).pow(2).mean())  # target: the clean image
    assert not torch.isclose(noisy["mse"], (denoised - noisy_input).pow(2).mean())


def test_add_noise_level_and_clipping():
    x = torch.full((2000, 1, 2, 2), 0.5)
    g = torch.Generator().manual_seed(0)
    unclipped = add_noise(x, 0.1, generator=g, clip=False)
    assert abs((unclipped - x).std().item() - 0.1) < 0.005
    big = add_noise(x, 3.0)
    assert big.min() >= 0 and big.max() <= 1
    assert torch.equal(add_noise(x, 0.0), x)
    with pytest.raises(ValueError, match=r"level \(the noise level\) must be .* ≥ 0, got -0.1"):
        add_noise(x, -0.1)


def test_kl_term_is_5_17():
    vae = make_vae((1, 8, 8), 3, widths=(8,))
    x = _blobs(6)
    torch.manual_seed(3)
    terms = vae.elbo(x)
    mu, logvar = vae.encode(x)
    assert torch.isclose(terms["kl"], kl_to_standard_normal(mu, logvar).mean())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(image_shape=(8, 8)),
            r"image_shape must be \(channels, height, width\), got \(8, 8\)",
        ),
        (dict(code_dim=0), "code_dim must be an integer ≥ 1, got 0"),
        (dict(arch="rnn"), r"unknown arch 'rnn'; choose one of \['linear', 'mlp', 'conv'\]"),
        (dict(likelihood="poisson"), "unknown likelihood 'poisson'"),
        (dict(image_shape=(1, 10, 10), arch="conv"), "divisible by 4, got \\(10, 10\\)"),
    ],
)
def test_builders_reject_bad_arguments(kwargs, message):
    args = dict(image_shape=(1, 8, 8), code_dim=2) | kwargs
    with pytest.raises(ValueError, match=message):
        make_autoencoder(**args)
    with pytest.raises(ValueError, match=message):
        make_vae(**args)


def test_losses_reject_bad_batches_and_settings():
    ae = make_autoencoder((1, 8, 8), 2)
    with pytest.raises(ValueError, match="images"):
        make_autoencoder_loss()(ae, torch.zeros(3, 64))
    with pytest.raises(ValueError, match="beta must be a finite number ≥ 0, got -1"):
        make_vae_loss(beta=-1)


def test_codes_of_batches_and_restores_training_mode():
    from companion.models import codes_of

    ae, vae = make_autoencoder((1, 8, 8), 2, widths=(8,)), make_vae((1, 8, 8), 2, widths=(8,))
    x = torch.rand(25, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(codes_of(ae, x, batch_size=7), ae.code(x), atol=1e-6)
        assert torch.allclose(codes_of(vae, x, batch_size=7), vae.encode(x)[0], atol=1e-6)
    assert ae.training
    with pytest.raises(ValueError, match=r"images must have 4 dimension\(s\), got shape \[3, 64\]"):
        codes_of(ae, torch.rand(3, 64))
