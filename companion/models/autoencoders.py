"""Autoencoders and the variational autoencoder for images (5.1.3, 5.1.4, 5.2.1).

The pieces, smallest first:

* encoder bodies (:func:`mlp_body`, :func:`conv_body`) map an image ``[N, C, H, W]`` to features;
* decoders turn a code z into the parameters of p(x|z): :class:`BernoulliDecoder` (logits, loss =
  binary cross-entropy) or :class:`GaussianDecoder` (a mean with fixed variance, loss ∝ squared
  error). Both offer ``decoder(z)`` (raw output), ``log_prob(x, out)`` and ``to_image(out)``;
* :class:`Autoencoder`: x → code → x̂ (Fig. 5-1); with ``arch="linear"`` it is PCA's model;
* :class:`GaussianEncoder` + :class:`VAE`: x → (μ, log σ²) → z = μ + σ·ε → x̂ (Fig. 5-5), trained
  with the ELBO (5-12) whose KL term is (5-17).

:func:`make_autoencoder` and :func:`make_vae` build the standard shapes;
:func:`make_autoencoder_loss` and :func:`make_vae_loss` build loss functions for
:func:`companion.train.fit`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from companion.model_utils import eval_mode, model_device
from companion.prob.gaussian import bernoulli_log_prob, elbo, gaussian_log_prob, reparameterize
from companion.validation import check_choice, check_float, check_int, check_tensor, describe

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("linear", "mlp", "conv")


# ---------------------------------------------------------------- bodies


def mlp_body(in_dim: int, widths: Sequence[int]) -> tuple[nn.Module, int]:
    """Flatten, then Linear+ReLU layers of the given widths; returns (module, output width)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_dim
    for h in widths:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers), width


def mlp_head(code_dim: int, widths: Sequence[int], image_shape: tuple[int, int, int]) -> nn.Module:
    """The mirror of :func:`mlp_body`: code → widths
    reversed → one value per pixel, image-shaped.
    """
    layers: list[nn.Module] = []
    width = code_dim
    for h in reversed(widths):
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers += [nn.Linear(width, math.prod(image_shape)), nn.Unflatten(1, image_shape)]
    return nn.Sequential(*layers)


def conv_body(
    image_shape: tuple[int, int, int], channels: tuple[int, int] = (16, 32)
) -> tuple[nn.Module, int]:
    """Two stride-2 convolutions (H×W → H/4×W/4), then flatten; returns (module, output width)."""
    c, h, w = image_shape
    c1, c2 = channels
    body = nn.Sequential(
        nn.Conv2d(c, c1, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
    )
    return body, c2 * (h // 4) * (w // 4)


def conv_head(
    code_dim: int, image_shape: tuple[int, int, int], channels: tuple[int, int] = (16, 32)
) -> nn.Module:
    """The mirror of :func:`conv_body`: code → H/4×W/4
    feature maps → two transposed convolutions.
    """
    c, h, w = image_shape
    c1, c2 = channels
    return nn.Sequential(
        nn.Linear(code_dim, c2 * (h // 4) * (w // 4)),
        nn.ReLU(),
        nn.Unflatten(1, (c2, h // 4, w // 4)),
        nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1),
    )


# ---------------------------------------------------------------- decoders: p(x|z)


class ImageDecoder(nn.Module, ABC):
    """Base of the decoders: ``net`` maps codes ``[N, d]`` to image-shaped parameters of p(x|z)."""

    likelihood = ""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    @abstractmethod
    def log_prob(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per image, ``[N]``, given ``out = decoder(z)``."""

    @abstractmethod
    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) given ``out = decoder(z)``."""

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.to_image(self(z))


class BernoulliDecoder(ImageDecoder):
    """p(x|z) = Π Bernoulli(x_i; sigmoid(f(z)_i)):
    outputs logits; −log p is binary cross-entropy.
    """

    likelihood = "bernoulli"

    def log_prob(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return bernoulli_log_prob(x, out)

    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)


class GaussianDecoder(ImageDecoder):
    """p(x|z) = N(x; f(z), e^logvar · I) with a fixed (or learned, one scalar) log-variance.

    With the variance fixed, −log p is the squared error / (2σ²) plus a constant: "MSE loss".
    """

    likelihood = "gaussian"

    def __init__(self, net: nn.Module, logvar: float = 0.0, learn_logvar: bool = False):
        super().__init__(net)
        self.logvar = nn.Parameter(torch.tensor(float(logvar)), requires_grad=learn_logvar)

    def log_prob(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return gaussian_log_prob(x, out, self.logvar)

    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        return out


# ---------------------------------------------------------------- models


class Autoencoder(nn.Module):
    """x → encoder → code c → decoder → x̂ (Fig. 5-1). Deterministic: one point per image."""

    def __init__(self, encoder: nn.Module, decoder: ImageDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The code of each image, ``[N, code_dim]``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (the mean of p(x|z)) for codes ``z``."""
        return self.decoder.mean(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.code(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder.to_image(self(x))


class GaussianEncoder(nn.Module):
    """q(z|x) = N(μ(x), diag exp(logvar(x))): a shared
    body, then one linear head each for μ and log σ².
    """

    def __init__(self, body: nn.Module, feature_dim: int, code_dim: int):
        super().__init__()
        self.body = body
        self.mu = nn.Linear(feature_dim, code_dim)
        self.logvar = nn.Linear(feature_dim, code_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)


@dataclass
class VAEOutput:
    out: torch.Tensor  # decoder output for z (logits or mean)
    mu: torch.Tensor  # [N, d]
    logvar: torch.Tensor  # [N, d]
    z: torch.Tensor  # [N, d], the sampled code


class VAE(nn.Module):
    """Variational autoencoder (Fig. 5-5): encode to (μ, log σ²), sample z = μ + σ·ε, decode."""

    def __init__(self, encoder: GaussianEncoder, decoder: ImageDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    @property
    def code_dim(self) -> int:
        return self.encoder.mu.out_features

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x), each ``[N, code_dim]``."""
        return self.encoder(x)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The point code of each image: the mean μ of q(z|x)."""
        return self.encode(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder.mean(z)

    def forward(
        self, x: torch.Tensor, noise_scale: float = 1.0, generator: torch.Generator | None = None
    ) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, noise_scale=noise_scale, generator=generator)
        return VAEOutput(self.decoder(z), mu, logvar, z)

    def elbo(self, x: torch.Tensor, beta: float = 1.0) -> dict[str, torch.Tensor]:
        """One-sample ELBO terms (see :func:`companion.prob.elbo`);
        ``"loss"`` is −ELBO per image.
        """
        o = self(x)
        return elbo(self.decoder.log_prob(x, o.out), o.mu, o.logvar, beta=beta)

    def reconstruct(self, x: torch.Tensor, noise_scale: float = 0.0) -> torch.Tensor:
        return self.decoder.to_image(self(x, noise_scale=noise_scale).out)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images: z ~ N(0, I) from the prior, then the decoder's mean."""
        check_int(n, "n", min=1)
        z = torch.randn(n, self.code_dim, generator=generator).to(model_device(self))
        return self.decode(z)


# ---------------------------------------------------------------- builders


def _check(
    image_shape: Sequence[int], code_dim: int, arch: str, likelihood: str
) -> tuple[int, int, int]:
    if (
        isinstance(image_shape, (str, bytes))
        or not isinstance(image_shape, Sequence)
        or len(image_shape) != 3
    ):
        raise ValueError(
            f"image_shape must be (channels, height, width), got {describe(image_shape)}"
        )
    channels, height, width = (
        check_int(s, f"image_shape[{i}]", min=1) for i, s in enumerate(image_shape)
    )
    shape = (channels, height, width)
    check_int(code_dim, "code_dim", min=1)
    check_choice(arch, "arch", ARCHS)
    check_choice(likelihood, "likelihood", LIKELIHOODS)
    if arch == "conv" and (shape[1] % 4 or shape[2] % 4):
        raise ValueError(f"arch='conv' needs height and width divisible by 4, got {shape[1:]}")
    return shape


def _decoder(net: nn.Module, likelihood: str) -> ImageDecoder:
    return BernoulliDecoder(net) if likelihood == "bernoulli" else GaussianDecoder(net)


def _body_and_head(
    shape: tuple[int, int, int], code_dim: int, arch: str, widths: Sequence[int]
) -> tuple[nn.Module, int, nn.Module]:
    if arch == "conv":
        body, width = conv_body(shape)
        return body, width, conv_head(code_dim, shape)
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise TypeError(
            f"widths must be a list of layer sizes such as (256,), got {describe(widths)}"
        )
    widths = (
        ()
        if arch == "linear"
        else tuple(check_int(w, f"widths[{i}]", min=1) for i, w in enumerate(widths))
    )
    body, width = mlp_body(math.prod(shape), widths)
    return body, width, mlp_head(code_dim, widths, shape)


def make_autoencoder(
    image_shape: Sequence[int] = (1, 28, 28),
    code_dim: int = 2,
    *,
    arch: str = "mlp",
    widths: Sequence[int] = (256,),
    likelihood: str = "bernoulli",
) -> Autoencoder:
    """An autoencoder for images. ``arch``: ``"linear"`` (one linear map each way: PCA's model),
    ``"mlp"`` (ReLU layers of sizes ``widths``) or ``"conv"`` (two stride-2 convolutions)."""
    shape = _check(image_shape, code_dim, arch, likelihood)
    body, width, head = _body_and_head(shape, code_dim, arch, widths)
    encoder = nn.Sequential(body, nn.Linear(width, code_dim))
    return Autoencoder(encoder, _decoder(head, likelihood))


def make_vae(
    image_shape: Sequence[int] = (1, 28, 28),
    code_dim: int = 20,
    *,
    arch: str = "mlp",
    widths: Sequence[int] = (400,),
    likelihood: str = "bernoulli",
) -> VAE:
    """A VAE; the defaults are the pytorch/examples MNIST VAE (784-400-20-400-784, Bernoulli).

    ``arch`` and ``widths`` as for :func:`make_autoencoder`."""
    shape = _check(image_shape, code_dim, arch, likelihood)
    body, width, head = _body_and_head(shape, code_dim, arch, widths)
    return VAE(GaussianEncoder(body, width, code_dim), _decoder(head, likelihood))


# ---------------------------------------------------------------- noise and losses


def add_noise(
    x: torch.Tensor, level: float, *, generator: torch.Generator | None = None, clip: bool = True
) -> torch.Tensor:
    """x + level · ε with ε ~ N(0, I), clipped to [0, 1]:
    the corruption of a denoising autoencoder.
    """
    check_tensor(x, "x", dtype="float")
    level = check_float(level, "level (the noise level)", min=0.0)
    noisy = x + level * torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return noisy.clamp(0.0, 1.0) if clip else noisy


def batch_images(batch: Any) -> torch.Tensor:
    """The images of a batch: the batch itself, or its first entry for (images, labels) pairs."""
    x = batch[0] if isinstance(batch, (list, tuple)) else batch
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError("expected images of shape [N, C, H, W] (alone or as (images, labels))")
    return x


def make_autoencoder_loss(
    noise_level: float = 0.0,
) -> Callable[[Autoencoder, Any], dict[str, torch.Tensor]]:
    """Loss for :func:`companion.train.fit`: −log p(clean x | code of noisy x) per image, plus MSE.

    ``noise_level > 0`` makes it a denoising autoencoder: the input is :func:`add_noise`-corrupted,
    the target is the clean image.
    """
    noise_level = check_float(noise_level, "noise_level", min=0.0)

    def loss(model: Autoencoder, batch: Any) -> dict[str, torch.Tensor]:
        x = batch_images(batch)
        inputs = add_noise(x, noise_level) if noise_level > 0 else x
        out = model(inputs)
        nll = -model.decoder.log_prob(x, out).mean()
        mse = (model.decoder.to_image(out) - x).pow(2).mean()
        return {"loss": nll, "mse": mse.detach()}

    return loss


@torch.no_grad()
def codes_of(
    model: Autoencoder | VAE, images: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Point codes (AE: the code; VAE: μ) of many
    images, in eval mode and in batches, on the CPU.
    """
    check_tensor(images, "images", dim=4)
    check_int(batch_size, "batch_size", min=1)
    device = model_device(model)
    with eval_mode(model):
        codes = [model.code(chunk.to(device)).cpu() for chunk in images.split(batch_size)]
    return torch.cat(codes)


def make_vae_loss(beta: float = 1.0) -> Callable[[VAE, Any], dict[str, torch.Tensor]]:
    """Loss for :func:`companion.train.fit`: the negative ELBO per image (recon + beta · KL)."""
    beta = check_float(beta, "beta", min=0.0)
    return lambda model, batch: model.elbo(batch_images(batch), beta=beta)
