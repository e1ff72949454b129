"""A small speech-like task for section 5.1.1's third
use, speech recognition (语音识别): DTMF tones.

Telephone keypads send each digit as the sum of two sine tones (dual-tone multi-frequency, DTMF):
one from a low group (697, 770, 852, 941 Hz) and one from a high group (1209, 1336, 1477 Hz).
:func:`generate_dtmf` synthesises whole "spoken" digit strings — every tone and every pause of a
random length, a random loudness per tone, background noise — so that, as in speech, the input is a
continuous signal whose length and timing vary and whose symbols must be found, not read off.
:func:`spectrogram` turns a waveform into log-magnitude frames with ``torch.stft`` (one frame
every ``hop`` samples); :class:`AudioData` pads the frames and the digit strings into the same
:class:`~companion.data.batching.Seq2SeqBatch` the text tasks use, with float frames
``src [B, S, F]`` instead of token ids.

Everything is seeded: the same ``seed`` gives the same waveforms.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from companion.data.batching import BatchIterable, Seq2SeqBatch, lengths_to_mask, pad_sequences
from companion.data.vocab import Vocab
from companion.validation import check_float, check_int, check_seed

#: (low, high) frequency pair in Hz of every key used here (ITU-T Q.23)
DTMF_FREQUENCIES: dict[str, tuple[int, int]] = {
    "1": (697, 1209),
    "2": (697, 1336),
    "3": (697, 1477),
    "4": (770, 1209),
    "5": (770, 1336),
    "6": (770, 1477),
    "7": (852, 1209),
    "8": (852, 1336),
    "9": (852, 1477),
    "0": (941, 1336),
}
DIGITS = "0123456789"
SAMPLE_RATE = 8000  # Hz, telephone quality


@dataclass(frozen=True)
class DTMFExample:
    """One recording: ``waveform [N]`` (float32, about −1…1) and the ``digits`` it encodes."""

    waveform: torch.Tensor
    digits: str
    sample_rate: int = SAMPLE_RATE


def dtmf_waveform(
    digits: str,
    rng: random.Random,
    *,
    sample_rate: int = SAMPLE_RATE,
    tone_ms: tuple[float, float] = (40.0, 100.0),
    pause_ms: tuple[float, float] = (50.0, 100.0),
    noise: float = 0.1,
) -> torch.Tensor:
    """Synthesise ``digits``: pause, tone, pause, tone, …, pause, with random lengths in the given
    ranges (milliseconds), a random amplitude and phase per tone, plus Gaussian noise of standard
    deviation ``noise``."""
    if not isinstance(digits, str) or not digits or any(d not in DTMF_FREQUENCIES for d in digits):
        raise ValueError(f"digits must be a non-empty string of 0…9, got {digits!r}")
    check_int(sample_rate, "sample_rate", min=2 * 1477 + 1)  # above twice the highest tone
    check_float(noise, "noise", min=0.0)
    for name, (lo, hi) in (("tone_ms", tone_ms), ("pause_ms", pause_ms)):
        if not (0 < lo <= hi):
            raise ValueError(
                f"{name} must be a range (low, high) with 0 < low ≤ high, got {(lo, hi)}"
            )

    def samples(ms_range):
        return max(1, round(rng.uniform(*ms_range) * sample_rate / 1000))

    parts = [torch.zeros(samples(pause_ms))]
    for d in digits:
        t = torch.arange(samples(tone_ms), dtype=torch.float64) / sample_rate
        amp = rng.uniform(0.25, 0.5)
        tone = torch.zeros_like(t)
        for f in DTMF_FREQUENCIES[d]:
            tone = tone + torch.sin(2 * math.pi * f * t + rng.uniform(0, 2 * math.pi))
        parts += [(amp * tone).float(), torch.zeros(samples(pause_ms))]
    wave = torch.cat(parts)
    gen = torch.Generator().manual_seed(rng.getrandbits(62))
    return wave + noise * torch.randn(wave.shape, generator=gen)


def generate_dtmf(
    n: int,
    *,
    seed: int = 0,
    digits: tuple[int, int] = (1, 5),
    sample_rate: int = SAMPLE_RATE,
    noise: float = 0.1,
) -> list[DTMFExample]:
    """``n`` recordings of random digit strings with ``digits[0]…digits[1]`` digits each."""
    check_int(n, "n", min=1)
    lo, hi = digits
    check_int(lo, "digits[0]", min=1)
    check_int(hi, "digits[1]", min=lo)
    rng = random.Random(check_seed(seed))
    out = []
    for _ in range(n):
        s = "".join(rng.choice(DIGITS) for _ in range(rng.randint(lo, hi)))
        out.append(
            DTMFExample(dtmf_waveform(s, rng, sample_rate=sample_rate, noise=noise), s, sample_rate)
        )
    return out


def spectrogram(
    waveform: torch.Tensor,
    *,
    n_fft: int = 256,
    hop: int = 128,
    sample_rate: int = SAMPLE_RATE,
    max_hz: float = 1700.0,
) -> torch.Tensor:
    """Log-magnitude short-time Fourier transform, ``[frames, bins]`` (frequencies 0…``max_hz``).

    A Hann window of ``n_fft`` samples every ``hop`` samples (``n_fft=256`` at 8 kHz: bins
    31.25 Hz apart, one frame every 16 ms); ``log(1 + |STFT|)`` keeps loud and quiet tones in one
    range.
    """
    if not isinstance(waveform, torch.Tensor) or waveform.dim() != 1 or len(waveform) == 0:
        raise ValueError("waveform must be a non-empty 1-D tensor")
    check_int(n_fft, "n_fft", min=2)
    check_int(hop, "hop", min=1)
    spec = torch.stft(
        waveform.float(),
        n_fft,
        hop_length=hop,
        window=torch.hann_window(n_fft),
        center=True,
        return_complex=True,
    ).abs()  # [bins, frames]
    n_bins = min(spec.shape[0], int(max_hz * n_fft / sample_rate) + 1)
    return torch.log1p(spec[:n_bins].T)


def frequency_axis(
    n_bins: int, *, n_fft: int = 256, sample_rate: int = SAMPLE_RATE
) -> torch.Tensor:
    """The centre frequency in Hz of each of the first ``n_bins`` STFT bins."""
    return torch.arange(n_bins) * sample_rate / n_fft


class AudioData:
    """Spectrogram frames and digit strings, batched like :class:`~companion.data.Seq2SeqData`.

    ``src`` is float ``[B, S, F]`` (frames right-padded with zeros), ``src_lengths`` the real
    number of frames; the targets are the digit strings as tokens of ``tgt_vocab``.
    """

    def __init__(self, examples: Sequence[DTMFExample], tgt_vocab: Vocab | None = None, **stft):
        if len(examples) == 0:
            raise ValueError("no examples given")
        self.examples = list(examples)
        self.tgt_vocab = tgt_vocab or Vocab(list(DIGITS))
        self.frames = [spectrogram(e.waveform, sample_rate=e.sample_rate, **stft) for e in examples]
        self.tgt_ids = [self.tgt_vocab.encode(list(e.digits)) for e in examples]
        self.n_features = self.frames[0].shape[1]

    def __len__(self) -> int:
        return len(self.examples)

    def batch(self, indices: Sequence[int]) -> Seq2SeqBatch:
        v = self.tgt_vocab
        frames = [self.frames[i] for i in indices]
        lengths = torch.tensor([len(f) for f in frames])
        src = torch.nn.utils.rnn.pad_sequence(frames, batch_first=True)
        tgt_in, _ = pad_sequences([[v.bos_id] + self.tgt_ids[i] for i in indices], v.pad_id)
        tgt_out, tgt_len = pad_sequences([self.tgt_ids[i] + [v.eos_id] for i in indices], v.pad_id)
        return Seq2SeqBatch(
            src, lengths, lengths_to_mask(lengths), tgt_in, tgt_out, lengths_to_mask(tgt_len)
        )

    def batches(self, batch_size: int, *, shuffle: bool = False, seed: int = 0) -> BatchIterable:
        check_int(batch_size, "batch_size", min=1)
        return BatchIterable(self, batch_size, shuffle, check_seed(seed))
