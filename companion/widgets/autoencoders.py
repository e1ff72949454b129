"""Widget callbacks for the autoencoder notebooks (5.1.3, 5.2.1, 5.2.2).

Each ``*_figure`` function takes a trained model, some images and the slider values and returns a
matplotlib Figure. The notebook calls it once with the default values (a static figure that
survives in saved notebooks and slides) and hands it to
:func:`companion.widgets.sliders.slider_widget` for live use.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from companion.model_utils import eval_mode, model_device
from companion.models.autoencoders import VAE, Autoencoder, add_noise
from companion.plot.images import plot_codes, plot_images
from companion.validation import check_float, check_seed, check_tensor


def _check_images(images: torch.Tensor, at_least: int = 1) -> None:
    check_tensor(images, "images", dim=4, dtype="float", finite=True)
    if len(images) < at_least:
        raise ValueError(
            f"images must be a tensor [N, C, H, W] with N ≥ {at_least}, got {len(images)} image(s)"
        )


@torch.no_grad()
def denoise(
    model: Autoencoder | VAE, clean: torch.Tensor, noise_level: float, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(noisy input, model's reconstruction) for ``clean`` images corrupted at ``noise_level``."""
    _check_images(clean)
    check_float(noise_level, "noise_level", min=0.0)
    check_seed(seed)
    noisy = add_noise(clean, noise_level, generator=torch.Generator().manual_seed(seed))
    with eval_mode(model):
        return noisy, model.reconstruct(noisy.to(model_device(model))).cpu()


def denoising_figure(
    model: Autoencoder | VAE, clean: torch.Tensor, noise_level: float = 0.5, *, seed: int = 0
):
    """Noise-level slider callback: noisy input, denoised output and clean target, side by side.

    The title reports the mean squared error of the noisy input and of the output against the
    clean images, so the gain of denoising is a number, not an impression.
    """
    import matplotlib.pyplot as plt

    noisy, recon = denoise(model, clean, noise_level, seed=seed)
    mse_in = (noisy - clean).pow(2).mean().item()
    mse_out = (recon - clean).pow(2).mean().item()
    n = len(clean)
    fig, ax = plt.subplots(figsize=(0.9 * n + 1.3, 3.2))
    plot_images(
        torch.cat([noisy, recon, clean]),
        n,
        ax=ax,
        row_labels=["noisy input", "denoised", "clean target"],
        title=f"noise level {noise_level:.2f}: MSE noisy {mse_in:.4f} → denoised {mse_out:.4f}",
    )
    fig.tight_layout()
    return fig


@torch.no_grad()
def perturb_codes(
    model: Autoencoder | VAE, images: torch.Tensor, noise_scale: float, *, seed: int = 0
) -> torch.Tensor:
    """Decode each image's code plus noise: z = code + noise_scale · spread · ε.

    ``spread`` is the standard deviation of the codes over ``images`` (per latent dimension), so
    the same ``noise_scale`` means the same *relative* nudge for an AE and a VAE whose codes live
    on different scales. ``noise_scale = 0`` decodes the plain code (a plain autoencoder).
    """
    _check_images(images, at_least=2)
    check_float(noise_scale, "noise_scale", min=0.0)
    check_seed(seed)
    with eval_mode(model):
        codes = model.code(images.to(model_device(model)))
        spread = codes.std(0, keepdim=True)
        eps = torch.randn(codes.shape, generator=torch.Generator().manual_seed(seed)).to(
            codes.device
        )
        return model.decode(codes + noise_scale * spread * eps).cpu()


def latent_noise_figure(
    models: Mapping[str, Autoencoder | VAE],
    images: torch.Tensor,
    noise_scale: float = 0.5,
    *,
    seed: int = 0,
):
    """Latent-noise slider callback: the input row, then each model's decode of its noisy codes.

    Titles give each model's mean squared error to the inputs at this noise scale.
    """
    import matplotlib.pyplot as plt

    if not isinstance(models, Mapping) or not models:
        raise ValueError("give at least one model as a dict, e.g. {'AE': ae, 'VAE': vae}")
    _check_images(images, at_least=2)
    check_float(noise_scale, "noise_scale", min=0.0)
    rows, labels, errors = [images.cpu()], ["input"], []
    for name, model in models.items():
        decoded = perturb_codes(model, images, noise_scale, seed=seed)
        rows.append(decoded)
        labels.append(name)
        errors.append(f"{name} {(decoded - images.cpu()).pow(2).mean().item():.4f}")
    n = len(images)
    fig, ax = plt.subplots(figsize=(0.9 * n + 1.2, 0.95 * len(rows) + 0.5))
    plot_images(
        torch.cat(rows),
        n,
        ax=ax,
        row_labels=labels,
        title=f"code + {noise_scale:.2f}·spread·ε — MSE: " + ", ".join(errors),
    )
    fig.tight_layout()
    return fig


def latent_explorer_figure(
    model: Autoencoder | VAE,
    z1: float = 0.0,
    z2: float = 0.0,
    *,
    codes: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
):
    """Latent explorer callback (two sliders, 2-D latent): where (z1, z2) sits among the data's
    codes, and what the decoder draws there."""
    import matplotlib.pyplot as plt

    if getattr(model, "code_dim", 2) != 2:
        raise ValueError("the latent explorer needs a model with a 2-D latent space")
    z1 = check_float(z1, "z1")
    z2 = check_float(z2, "z2")
    with eval_mode(model), torch.no_grad():
        image = model.decode(
            torch.tensor([[z1, z2]], dtype=torch.float32, device=model_device(model))
        ).cpu()
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.5, 3.6), gridspec_kw={"width_ratios": [1.25, 1]}
    )
    if codes is not None:
        plot_codes(codes, labels, ax=left, title="codes of the data (μ)")
    left.plot([z1], [z2], marker="X", color="black", markersize=13, markeredgecolor="white")
    left.set_xlabel("$z_1$")
    left.set_ylabel("$z_2$")
    plot_images(image, ax=right, title=f"decoder at z = ({z1:.2f}, {z2:.2f})")
    fig.tight_layout()
    return fig
