"""Text → image, "根据文本描述，生成图片" (book section 5.3.6): an RNN encoder with a CNN decoder.

Section 5.3.6 notes that a CNN *decoder* can produce pictures, and that with an RNN *encoder* in
front of it the pair turns a text description into an image. :class:`TextToImage` runs the
captions of the shapes data (:mod:`companion.data.shapes`) backwards: "a red circle left of a blue
square" → a picture of exactly that.

* text encoder — the GRU of 5.3.1 over the caption's words and ``<eos>``; its last state is the
  caption's vector ``c`` (5-19);
* CNN decoder — a linear layer spreads ``c`` over a small grid of feature vectors, and transposed
  convolutions (卷积) double the grid until it is the image: 4×4 → 8×8 → 16×16 → 32×32, three
  output channels (RGB), one Bernoulli probability per pixel and channel;
* loss — binary cross-entropy summed over the pixels (the Bernoulli likelihood of 5.2.3).

A caption leaves open where its shapes sit and how large they are; trained on pictures that vary
those freely, a decoder that sees only the caption would draw their average, a blur. So the
pictures it learns from are drawn in one fixed layout
(:func:`companion.data.shapes.canonical_scene`): then every caption names exactly one picture.
(The other way out is a latent code for what the text leaves open — a conditional VAE, 5.2.)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from companion.models.encoders import check_sizes, make_encoder
from companion.validation import check_int


class ConvImageDecoder(nn.Module):
    """A vector ``[B, in_dim]`` → logits ``[B, out_channels, size, size]``.

    A linear layer makes a ``channels[0] × s × s`` grid (``s = size / 2^(len(channels) + 1)``);
    transposed convolutions (kernel 4, stride 2), each doubling the grid, go through
    ``channels[1:]`` and then to ``out_channels``.
    """

    def __init__(
        self,
        in_dim: int,
        *,
        size: int = 32,
        channels: Sequence[int] = (64, 32),
        out_channels: int = 3,
    ):
        super().__init__()
        check_sizes(in_dim=in_dim, out_channels=out_channels)
        channels = tuple(channels)
        if not channels:
            raise ValueError("channels must name at least one channel count, e.g. (64, 32)")
        check_sizes(**{f"channels[{i}]": c for i, c in enumerate(channels)})
        doublings = len(channels) + 1
        self.start = size // 2**doublings
        if self.start < 1 or self.start * 2**doublings != size:
            raise ValueError(
                f"size must be a multiple of 2^{doublings} (one doubling per layer), got {size}"
            )
        self.channels = channels
        self.fc = nn.Linear(in_dim, channels[0] * self.start**2)
        widths = [*channels, channels[-1]]
        layers: list[nn.Module] = []
        for a, b in zip(widths, widths[1:], strict=False):
            layers += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(widths[-1], out_channels, 4, stride=2, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        grid = F.relu(self.fc(h)).view(-1, self.channels[0], self.start, self.start)
        return self.net(grid)


class TextToImage(nn.Module):
    """Caption ids ``[B, T]`` and lengths ``[B]`` → pixel logits ``[B, 3, H, W]``."""

    def __init__(
        self,
        vocab_size: int,
        *,
        image_size: int = 32,
        emb_dim: int = 32,
        hidden: int = 64,
        channels: Sequence[int] = (64, 32),
    ):
        super().__init__()
        self.image_size = check_int(image_size, "image_size", min=8)
        self.text_encoder = make_encoder("gru", vocab_size, emb_dim, hidden)
        self.decoder = ConvImageDecoder(hidden, size=image_size, channels=channels)

    def encode_text(self, captions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The caption's vector ``c [B, hidden]``: the GRU's last state (5-19)."""
        return self.text_encoder(captions, lengths).context

    def forward(self, captions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode_text(captions, lengths))

    @torch.no_grad()
    def generate(self, captions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One picture per caption, ``[B, 3, H, W]`` with values in [0, 1]."""
        return torch.sigmoid(self(captions, lengths))


def caption_inputs(batch) -> tuple[torch.Tensor, torch.Tensor]:
    """A :class:`~companion.data.shapes.CaptionBatch`'s captions as the text encoder's input: the
    words and ``<eos>`` (``tgt_out``), and their lengths."""
    return batch.tgt_out, batch.tgt_mask.sum(1)


def text_to_image_loss(model: TextToImage, batch) -> torch.Tensor:
    """Binary cross-entropy of the batch's images given their captions, summed over the pixels
    and averaged over the images; for :func:`companion.train.fit`."""
    logits = model(*caption_inputs(batch))
    if logits.shape != batch.images.shape:
        raise ValueError(
            f"the model draws {tuple(logits.shape[1:])} images but the batch holds "
            f"{tuple(batch.images.shape[1:])}: build it with image_size={batch.images.shape[-1]}"
        )
    bce = F.binary_cross_entropy_with_logits(logits, batch.images, reduction="none")
    return bce.flatten(1).sum(1).mean()


def make_text_to_image(
    vocab_size: int,
    *,
    image_size: int = 32,
    emb_dim: int = 32,
    hidden: int = 64,
    channels: Sequence[int] = (64, 32),
) -> TextToImage:
    """A :class:`TextToImage` model for captions over ``vocab_size`` tokens."""
    check_sizes(vocab_size=vocab_size, emb_dim=emb_dim, hidden=hidden)
    return TextToImage(
        vocab_size, image_size=image_size, emb_dim=emb_dim, hidden=hidden, channels=channels
    )
