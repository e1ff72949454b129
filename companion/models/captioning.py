"""Image captioning, "看图说话" (book section 5.3.6): a CNN encoder with an attention RNN decoder.

The encoder is a small convolutional network. Its last feature map is a grid of vectors, one per
image region; flattened, the grid is a "source sentence" of ``h × w`` positions, so the attention
decoder of section 5.3.3 reads it exactly as it reads the encoder states of a text: at every
generated word it weighs the regions (5-21…5-23), and those weights, put back on the grid, show
where the model "looks" when it says *red* or *triangle* (Xu et al., 2015, "Show, Attend and Tell").

Convolutions are translation-equivariant: a red circle yields the same features wherever it is.
A caption such as "… left of …" needs to know *where*, so two coordinate channels (x and y in
[-1, 1]) are appended to the image before the first convolution ("CoordConv", Liu et al., 2018).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from companion.model_utils import eval_mode
from companion.models.decoders import AttentionDecoder
from companion.models.encoders import Encoder, EncoderOutput, check_sizes
from companion.models.seq2seq import EncoderDecoder


def coordinate_channels(images: torch.Tensor) -> torch.Tensor:
    """``[B, C, H, W]`` → ``[B, C + 2, H, W]`` with
    x (left −1 … right 1) and y (top −1 … bottom 1).
    """
    b, _, h, w = images.shape
    y = torch.linspace(-1, 1, h, device=images.device, dtype=images.dtype)
    x = torch.linspace(-1, 1, w, device=images.device, dtype=images.dtype)
    grid = torch.stack(torch.meshgrid(x, y, indexing="xy"))  # [2, H, W]: channel 0 is x
    return torch.cat([images, grid.expand(b, -1, -1, -1)], dim=1)


class CNNImageEncoder(Encoder):
    """Blocks of two [Conv(3×3) → BatchNorm → ReLU] and a MaxPool(2), then a 1×1 conv to ``hidden``.

    ``forward(images [B, C, H, W]) -> EncoderOutput`` with ``outputs [B, h·w, hidden]`` (row-major
    grid cells), ``context [B, hidden]`` (their mean, the fixed-length summary for decoders without
    attention) and an all-true ``mask [B, h·w]``. Each pooling halves the grid: a 32×32 image and
    two blocks give an 8×8 grid, each cell summarising a 4×4-pixel region and its surroundings.
    """

    def __init__(
        self,
        hidden: int = 64,
        channels: tuple[int, ...] = (32, 64),
        *,
        in_channels: int = 3,
        coordinates: bool = True,
    ):
        super().__init__()
        check_sizes(hidden=hidden, in_channels=in_channels)
        if (
            isinstance(channels, (str, bytes))
            or not isinstance(channels, (tuple, list))
            or not channels
        ):
            raise ValueError(
                f"channels must be a non-empty tuple of channel counts, got {channels!r}"
            )
        check_sizes(**{f"channels[{i}]": c for i, c in enumerate(channels)})
        self.in_channels, self.coordinates, self.hidden_size = in_channels, coordinates, hidden
        layers: list[nn.Module] = []
        previous = in_channels + (2 if coordinates else 0)
        for width in channels:
            for _ in range(2):
                layers += [
                    nn.Conv2d(previous, width, 3, padding=1),
                    nn.BatchNorm2d(width),
                    nn.ReLU(),
                ]
                previous = width
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Conv2d(previous, hidden, 1), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.downsample = 2 ** len(channels)

    def grid_shape(self, height: int, width: int) -> tuple[int, int]:
        """Rows and columns of the feature grid for an image of this size."""
        return height // self.downsample, width // self.downsample

    def feature_map(self, images: torch.Tensor) -> torch.Tensor:
        """The last feature map ``[B, hidden, h, w]``."""
        if (
            not isinstance(images, torch.Tensor)
            or images.dim() != 4
            or not images.is_floating_point()
        ):
            raise ValueError(
                "images must be a float tensor of shape [batch, channels, height, width]"
            )
        if images.shape[1] != self.in_channels:
            raise ValueError(f"expected {self.in_channels} colour channels, got {images.shape[1]}")
        if min(images.shape[2:]) < self.downsample:
            raise ValueError(f"images must be at least {self.downsample}×{self.downsample} pixels")
        return self.net(coordinate_channels(images) if self.coordinates else images)

    def forward(self, images: torch.Tensor, lengths: torch.Tensor | None = None) -> EncoderOutput:
        """``lengths`` is ignored (every image has all
        its grid cells); it keeps the encoder signature.
        """
        grid = self.feature_map(images).flatten(2).transpose(1, 2)  # [B, h·w, hidden]
        mask = torch.ones(grid.shape[:2], dtype=torch.bool, device=grid.device)
        return EncoderOutput(grid, grid.mean(1), mask)


def make_captioner(
    vocab_size: int,
    *,
    hidden: int = 64,
    emb_dim: int = 32,
    channels: tuple[int, ...] = (32, 64),
    score: str = "additive",
    pad_id: int = 0,
    bos_id: int = 1,
    eos_id: int = 2,
) -> EncoderDecoder:
    """CNN image encoder + the attention GRU decoder
    of section 5.3.3, as an :class:`EncoderDecoder`.

    The model takes images where a translator takes source sentences (``src_lengths`` is
    ``None``), so :func:`~companion.train.train_seq2seq`, :mod:`companion.inference` and the
    searches of :mod:`companion.decoding` apply unchanged. Additive (Bahdanau) scores learn to
    single out one shape much faster here than the bilinear "general" score.
    """
    encoder = CNNImageEncoder(hidden, channels)
    decoder = AttentionDecoder(
        vocab_size, emb_dim, hidden, memory_dim=hidden, score=score, pad_id=pad_id
    )
    return EncoderDecoder(encoder, decoder, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)


@torch.no_grad()
def attention_maps(
    model: EncoderDecoder, images: torch.Tensor, tokens: Sequence[Sequence[int]]
) -> list[torch.Tensor]:
    """Attention over the image grid while the model
    reads each caption: one ``[T_i, h, w]`` per image.

    ``tokens[i]`` is a caption as ids without ``<bos>`` (e.g. a search result, ending in ``<eos>``
    or not); row t of the map is what the decoder looked at when it produced ``tokens[i][t]``.
    The model runs in eval mode (BatchNorm with its running statistics), restored afterwards.
    """
    if not isinstance(model.encoder, CNNImageEncoder):
        raise ValueError("attention_maps needs a captioning model with a CNNImageEncoder")
    if len(tokens) != images.shape[0] or any(len(t) == 0 for t in tokens):
        raise ValueError(
            f"need one non-empty token list per image, got {len(tokens)} for "
            f"{images.shape[0]} images"
        )
    rows, cols = model.encoder.grid_shape(*images.shape[2:])
    maps = []
    with eval_mode(model):
        for image, ids in zip(images, tokens, strict=True):
            tgt_in = torch.tensor([[model.bos_id, *list(ids)[:-1]]], device=images.device)
            every_cell = torch.tensor([rows * cols], device=images.device)  # the encoder ignores it
            weights = model.attention_weights(image[None], every_cell, tgt_in)[0]  # [T, rows·cols]
            maps.append(weights.reshape(len(ids), rows, cols))
    return maps


def attention_mass(maps: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """Share of each step's attention that falls on each region: ``[T, h, w] × [K, h, w] → [T, K]``.

    ``regions`` are 0/1 (or fractional) cell masks, e.g. the cells a shape touches.
    """
    if maps.dim() != 3 or regions.dim() != 3 or maps.shape[1:] != regions.shape[1:]:
        raise ValueError(
            f"maps [T, h, w] and regions [K, h, w] must share the grid; got "
            f"{tuple(maps.shape)} and {tuple(regions.shape)}"
        )
    return torch.einsum("thw,khw->tk", maps, regions.to(maps.dtype))
