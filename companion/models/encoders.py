"""Seq2Seq encoders behind one interface (book section 5.3.1, equations 5-18 and 5-19, Fig. 5-8).

Every encoder maps ``src [B, S]`` (token ids, right-padded) and ``lengths [B]`` to an
:class:`EncoderOutput`:

* ``outputs [B, S, H]`` — a vector for every source position (the ``h_i`` that attention reads),
  exactly zero on padding;
* ``context [B, H]`` — one fixed-length summary ``c`` of the whole input for decoders without
  attention. For recurrent encoders it is the last real step's hidden state, ``c = h_T`` (5-19);
  a bidirectional encoder joins the forward state at ``T`` with the backward state at ``1``; the
  CNN and Transformer encoders have no "last state" and average over the real positions;
* ``mask [B, S]`` — True on real tokens.

Padding never leaks: recurrent encoders run on packed sequences, the CNN zeroes padded positions
before every convolution, and the Transformer's self-attention gets a key padding mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from companion.validation import check_bool, check_choice, check_int, check_probability

ENCODERS = ("rnn", "gru", "lstm", "bigru", "bilstm", "cnn", "transformer")


@dataclass
class EncoderOutput:
    outputs: torch.Tensor  # [B, S, H] hidden state at every source step (zeros on padding)
    context: torch.Tensor  # [B, H] the fixed-length summary c
    mask: torch.Tensor  # [B, S] True on real tokens


def check_source(src: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Validate a padded batch and return its mask ``[B, S]`` (True on real tokens)."""
    if not isinstance(src, torch.Tensor) or src.dim() != 2 or src.dtype != torch.long:
        raise ValueError("src must be a LongTensor of shape [batch, time]")
    if not isinstance(lengths, torch.Tensor) or lengths.shape != src.shape[:1]:
        raise ValueError(
            f"lengths must be a tensor of shape [{src.shape[0]}], got "
            f"{tuple(getattr(lengths, 'shape', ()))}"
        )
    lengths = lengths.to(src.device)
    if (lengths < 1).any() or (lengths > src.shape[1]).any():
        raise ValueError(
            f"lengths must lie in 1…{src.shape[1]} (the padded length), got {lengths.tolist()}"
        )
    return torch.arange(src.shape[1], device=src.device)[None] < lengths[:, None]


def masked_mean(outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of ``outputs [B, S, H]`` over the real positions of ``mask [B, S]``."""
    m = mask[..., None].to(outputs.dtype)
    return (outputs * m).sum(1) / m.sum(1)


def check_sizes(**sizes: int) -> None:
    """Layer sizes and counts (vocab_size, emb_dim, hidden, num_layers, …) are integers ≥ 1."""
    for name, value in sizes.items():
        check_int(value, name, min=1)


class Encoder(nn.Module):
    """Base class: ``forward(src, lengths) -> EncoderOutput``; ``hidden_size`` is H."""

    hidden_size: int
    embed: nn.Embedding


class RNNEncoder(Encoder):
    """Embedding → (bi)directional RNN/GRU/LSTM on
    packed sequences: ``h_t = f(x_t, h_{t-1})`` (5-18).

    With ``bidirectional=True`` each direction has ``hidden // 2`` units and the outputs join
    both directions; the context joins the forward direction's state after the last real token
    with the backward direction's state after the first token, so it has ``hidden`` units as well
    and can start a decoder of the same size.

    ``summary`` chooses the context: ``"last"`` (the final state, 5-19), ``"sum"`` (the book's
    alternative in 5.3.3, ``c = O_1 + … + O_n``) or ``"mean"`` of the outputs over real tokens.
    """

    SUMMARIES = ("last", "sum", "mean")

    CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        cell: str = "gru",
        bidirectional: bool = False,
        num_layers: int = 1,
        dropout: float = 0.0,
        summary: str = "last",
        pad_id: int = 0,
    ):
        super().__init__()
        check_choice(cell, "cell", sorted(self.CELLS))
        check_choice(summary, "summary", self.SUMMARIES)
        check_sizes(vocab_size=vocab_size, emb_dim=emb_dim, hidden=hidden, num_layers=num_layers)
        check_bool(bidirectional, "bidirectional")
        check_probability(dropout, "dropout")
        check_int(pad_id, "pad_id", min=0, max=vocab_size - 1)
        if bidirectional and hidden % 2:
            raise ValueError(f"a bidirectional encoder needs an even hidden size, got {hidden}")
        self.cell, self.bidirectional, self.summary = cell, bidirectional, summary
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = self.CELLS[cell](
            emb_dim,
            hidden // 2 if bidirectional else hidden,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.hidden_size = hidden

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        mask = check_source(src, lengths)
        packed = pack_padded_sequence(
            self.embed(src), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        if self.summary == "sum":  # padded outputs are zero, so this sums real steps only
            return EncoderOutput(out, out.sum(1), mask)
        if self.summary == "mean":
            return EncoderOutput(out, masked_mean(out, mask), mask)
        if self.cell == "lstm":
            h = h[0]  # (h, c): the decoder is started from h
        # h: [num_layers * directions, B, H/directions]; the last layer's entries come last
        context = torch.cat([h[-2], h[-1]], dim=-1) if self.bidirectional else h[-1]
        return EncoderOutput(out, context, mask)


class CNNEncoder(Encoder):
    """Embedding → a stack of residual 1-D convolutions; context = mean over real positions.

    Each layer sees ``kernel_size`` neighbours, so output ``i`` depends on inputs within
    ``receptive_field // 2`` positions of ``i`` — unlike an RNN state, which sees the whole prefix.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 64,
        *,
        kernel_size: int = 3,
        num_layers: int = 3,
        pad_id: int = 0,
    ):
        super().__init__()
        check_sizes(
            vocab_size=vocab_size,
            emb_dim=emb_dim,
            hidden=hidden,
            num_layers=num_layers,
            kernel_size=kernel_size,
        )
        check_int(pad_id, "pad_id", min=0, max=vocab_size - 1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.proj = nn.Linear(emb_dim, hidden)
        self.convs = nn.ModuleList(
            nn.Conv1d(hidden, hidden, kernel_size, padding=kernel_size // 2)
            for _ in range(num_layers)
        )
        self.hidden_size = hidden
        self.receptive_field = 1 + num_layers * (kernel_size - 1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        mask = check_source(src, lengths)
        keep = mask[:, None, :].float()  # [B, 1, S]
        x = self.proj(self.embed(src)).transpose(1, 2)  # [B, H, S] (channels first for Conv1d)
        for conv in self.convs:
            # zero the padding before every convolution: it then looks like the conv's own padding
            x = x + torch.relu(conv(x * keep))
        out = (x * keep).transpose(1, 2)
        return EncoderOutput(out, masked_mean(out, mask), mask)


def sinusoidal_positions(max_len: int, dim: int) -> torch.Tensor:
    """The fixed positional encodings of Vaswani et al. (2017): ``[max_len, dim]``."""
    check_int(max_len, "max_len", min=1)
    check_int(dim, "dim", min=2)
    if dim % 2:
        raise ValueError(f"dim must be even (sines and cosines in pairs), got {dim}")
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(max_len, dim)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class TransformerEncoder(Encoder):
    """Embedding + sinusoidal positions → ``nn.TransformerEncoder`` with a key padding mask.

    Every output position attends to every real input position (self-attention); the context is
    the mean over real positions.
    """

    positions: torch.Tensor  # a buffer: sinusoidal_positions(max_len, width)

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int | None = None,
        hidden: int = 64,
        *,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.0,
        max_len: int = 512,
        pad_id: int = 0,
    ):
        super().__init__()
        check_sizes(
            vocab_size=vocab_size,
            hidden=hidden,
            nhead=nhead,
            num_layers=num_layers,
            max_len=max_len,
        )
        if dim_feedforward is not None:
            check_int(dim_feedforward, "dim_feedforward", min=1)
        check_probability(dropout, "dropout")
        check_int(pad_id, "pad_id", min=0, max=vocab_size - 1)
        if hidden % nhead or hidden % 2:
            raise ValueError(f"hidden ({hidden}) must be even and divisible by nhead ({nhead})")
        # emb_dim is accepted for a uniform signature; the Transformer works at width ``hidden``
        self.embed = nn.Embedding(vocab_size, hidden, padding_idx=pad_id)
        self.register_buffer("positions", sinusoidal_positions(max_len, hidden), persistent=False)
        layer = nn.TransformerEncoderLayer(
            hidden, nhead, dim_feedforward or 2 * hidden, dropout, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(hidden), enable_nested_tensor=False
        )
        self.hidden_size = hidden

    def _inputs(
        self, src: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mask = check_source(src, lengths)
        if src.shape[1] > self.positions.shape[0]:
            raise ValueError(f"inputs longer than max_len={self.positions.shape[0]} tokens")
        return self.embed(src) * math.sqrt(self.hidden_size) + self.positions[: src.shape[1]], mask

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        x, mask = self._inputs(src, lengths)
        out = self.layers(x, src_key_padding_mask=~mask) * mask[..., None]
        return EncoderOutput(out, masked_mean(out, mask), mask)

    @torch.no_grad()
    def self_attention_weights(
        self, src: torch.Tensor, lengths: torch.Tensor, layer: int = 0
    ) -> torch.Tensor:
        """Self-attention weights ``[B, S, S]`` of one layer (averaged over its heads)."""
        if not 0 <= layer < len(self.layers.layers):
            raise ValueError(f"layer must lie in 0…{len(self.layers.layers) - 1}, got {layer}")
        x, mask = self._inputs(src, lengths)
        for block in self.layers.layers[:layer]:
            x = block(x, src_key_padding_mask=~mask)
        block = self.layers.layers[layer]
        h = block.norm1(x)  # the layers normalise first (norm_first=True)
        return block.self_attn(h, h, h, key_padding_mask=~mask, need_weights=True)[1]


def position_influence(encoder: Encoder, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """How strongly each input position drives each output: Jacobian norms for one sentence.

    ``src`` is one unpadded sentence ``[S]``. Returns ``(per_output [S, S], per_context [S])``:
    entry ``[i, j]`` is ``‖∂h_i / ∂x_j‖`` (Frobenius norm, ``x_j`` the embedding of token ``j``)
    and ``per_context[j]`` is ``‖∂c / ∂x_j‖``.
    """
    if not isinstance(encoder, Encoder):
        raise TypeError(
            f"encoder must be one of companion's encoders, got {type(encoder).__name__}"
        )
    if not isinstance(src, torch.Tensor) or src.dim() != 1 or src.numel() == 0:
        raise ValueError("position_influence expects one unpadded sentence: a 1-D tensor of ids")
    src, lengths = src[None], torch.tensor([src.numel()], device=src.device)
    current = {"emb": encoder.embed(src).detach()}  # what the encoder sees instead of its lookup
    hook = encoder.embed.register_forward_hook(lambda module, args, out: current["emb"])

    def run(emb):
        current["emb"] = emb
        out = encoder(src, lengths)
        return out.outputs[0], out.context[0]

    try:
        d_out, d_ctx = torch.autograd.functional.jacobian(run, current["emb"], vectorize=True)
    finally:
        hook.remove()
    # d_out: [S, H, 1, S, E] → norm over (H, E); d_ctx: [H, 1, S, E] → norm over (H, E)
    return d_out[:, :, 0].pow(2).sum((1, 3)).sqrt(), d_ctx[:, 0].pow(2).sum((0, 2)).sqrt()


def make_encoder(
    kind: str, vocab_size: int, emb_dim: int = 32, hidden: int = 64, *, pad_id: int = 0, **kwargs
) -> Encoder:
    """An encoder by name: ``rnn``, ``gru``, ``lstm``,
    ``bigru``, ``bilstm``, ``cnn``, ``transformer``.
    """
    check_choice(kind, "encoder", ENCODERS)
    if kind in ("rnn", "gru", "lstm"):
        return RNNEncoder(vocab_size, emb_dim, hidden, cell=kind, pad_id=pad_id, **kwargs)
    if kind in ("bigru", "bilstm"):
        return RNNEncoder(
            vocab_size, emb_dim, hidden, cell=kind[2:], bidirectional=True, pad_id=pad_id, **kwargs
        )
    if kind == "cnn":
        return CNNEncoder(vocab_size, emb_dim, hidden, pad_id=pad_id, **kwargs)
    if kind == "transformer":
        return TransformerEncoder(vocab_size, emb_dim, hidden, pad_id=pad_id, **kwargs)
    raise ValueError(f"unknown encoder {kind!r}; choose one of {list(ENCODERS)}")
