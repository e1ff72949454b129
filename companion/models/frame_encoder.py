"""An encoder for continuous input frames (speech-like tasks of section 5.1.1, 语音识别).

Text encoders look each token id up in an embedding table; audio arrives as a sequence of
feature vectors instead (here the spectrogram frames of :mod:`companion.data.dtmf`). The
:class:`FrameEncoder` replaces the embedding with a learned projection of every frame and then
reads the frames with a (bidirectional) GRU, exactly like the recurrent text encoders (5-18):
``frames [B, S, F]`` and ``lengths [B]`` → :class:`~companion.models.encoders.EncoderOutput` with
``outputs [B, S, H]`` (zero on padding), ``context [B, H]`` and ``mask [B, S]``. Any decoder of
:mod:`companion.models.decoders` and every search of :mod:`companion.decoding` work on top of it
unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from companion.models.encoders import Encoder, EncoderOutput
from companion.validation import check_int


class FrameEncoder(Encoder):
    """``ReLU(LayerNorm(Linear(frame)))`` → GRU on packed
    sequences; the last real states form the context.

    Bidirectional by default (``hidden // 2`` units per direction); the context joins the forward
    state after the last real frame with the backward state after the first frame.
    """

    def __init__(
        self,
        n_features: int,
        hidden: int = 64,
        *,
        proj_dim: int | None = None,
        bidirectional: bool = True,
    ):
        super().__init__()
        check_int(n_features, "n_features", min=1)
        check_int(hidden, "hidden", min=2 if bidirectional else 1)
        if bidirectional and hidden % 2:
            raise ValueError(f"a bidirectional encoder needs an even hidden size, got {hidden}")
        proj_dim = hidden if proj_dim is None else check_int(proj_dim, "proj_dim", min=1)
        self.n_features, self.bidirectional, self.hidden_size = n_features, bidirectional, hidden
        self.proj = nn.Sequential(
            nn.Linear(n_features, proj_dim), nn.LayerNorm(proj_dim), nn.ReLU()
        )
        self.rnn = nn.GRU(
            proj_dim,
            hidden // 2 if bidirectional else hidden,
            batch_first=True,
            bidirectional=bidirectional,
        )

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        if (
            not isinstance(frames, torch.Tensor)
            or frames.dim() != 3
            or not frames.is_floating_point()
            or frames.shape[2] != self.n_features
        ):
            raise ValueError(
                f"frames must be a float tensor [batch, time, {self.n_features}], got "
                f"{getattr(frames, 'dtype', type(frames).__name__)} "
                f"{tuple(getattr(frames, 'shape', ()))}"
            )
        if not isinstance(lengths, torch.Tensor) or lengths.shape != frames.shape[:1]:
            raise ValueError(f"lengths must be a tensor of shape [{frames.shape[0]}]")
        if (lengths < 1).any() or (lengths > frames.shape[1]).any():
            raise ValueError(
                f"lengths must lie in 1…{frames.shape[1]} (the padded length), got "
                f"{lengths.tolist()}"
            )
        mask = (
            torch.arange(frames.shape[1], device=frames.device)[None]
            < lengths.to(frames.device)[:, None]
        )
        packed = pack_padded_sequence(
            self.proj(frames), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=frames.shape[1])
        context = torch.cat([h[-2], h[-1]], dim=-1) if self.bidirectional else h[-1]
        return EncoderOutput(out, context, mask)
