"""The speech-like DTMF task of 5.1.1: generator,
spectrogram frames, batching and the frame encoder.
"""

import random

import pytest
import torch

from companion.data.dtmf import AudioData, dtmf_waveform, frequency_axis, generate_dtmf, spectrogram
from companion.models import AttentionDecoder, EncoderDecoder
from companion.models.frame_encoder import FrameEncoder

# The keypad's frequency pairs, written out here from the ITU-T Q.23 table (not imported).
KEYPAD = {
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


def test_same_seed_same_recordings_other_seed_other_recordings():
    a, b, c = generate_dtmf(6, seed=3), generate_dtmf(6, seed=3), generate_dtmf(6, seed=4)
    assert [e.digits for e in a] == [e.digits for e in b]
    assert all(torch.equal(x.waveform, y.waveform) for x, y in zip(a, b, strict=True))
    assert [e.digits for e in a] != [e.digits for e in c]
    assert all(1 <= len(e.digits) <= 5 and e.digits.isdigit() for e in a)
    assert (
        len({len(e.waveform) for e in generate_dtmf(20, seed=0, digits=(3, 3))}) > 1
    )  # timing varies


@pytest.mark.parametrize("digit", sorted(KEYPAD))
def test_each_tone_is_its_keypad_frequency_pair(digit):
    rng = random.Random(int(digit))
    wave = dtmf_waveform(digit, rng, noise=0.0)
    tone = wave[wave != 0]  # silence is exactly zero without noise
    assert 0.040 * 8000 <= len(tone) <= 0.100 * 8000 + 1  # 40…100 ms
    spectrum = torch.fft.rfft(
        tone.double() * torch.hann_window(len(tone), dtype=torch.float64), n=8000
    ).abs()  # 1 Hz per bin
    first = int(spectrum.argmax())
    masked = spectrum.clone()
    masked[max(0, first - 60) : first + 60] = 0
    second = int(masked.argmax())
    assert sorted([first, second]) == pytest.approx(list(KEYPAD[digit]), abs=3)
    assert spectrum[[first, second]].min() > 20 * spectrum[1600:].max()  # nothing else is loud


def test_noise_and_pauses():
    rng = random.Random(0)
    quiet = dtmf_waveform("5", random.Random(0), noise=0.0)
    noisy = dtmf_waveform("5", rng, noise=0.1)
    assert len(quiet) == len(noisy)
    residual = noisy - quiet
    assert residual.std().item() == pytest.approx(0.1, rel=0.15)
    assert quiet[: int(0.050 * 8000)].abs().max() == 0  # starts with a pause of ≥ 50 ms
    with pytest.raises(ValueError, match="digits"):
        dtmf_waveform("12a", rng)
    with pytest.raises(ValueError, match="noise"):
        dtmf_waveform("1", rng, noise=float("nan"))


def test_spectrogram_frames_and_peaks():
    wave = dtmf_waveform("8", random.Random(1), noise=0.0)
    spec = spectrogram(wave)
    freqs = frequency_axis(spec.shape[1])
    assert spec.shape[0] == 1 + len(wave) // 128
    assert freqs[-1] <= 1700 < freqs[-1] + 31.25
    loudest = spec.sum(1).argmax()
    frame = spec[loudest].clone()
    low = freqs[frame[freqs < 1100].argmax()]
    high = freqs[(freqs >= 1100).nonzero()[0, 0] + frame[freqs >= 1100].argmax()]
    assert abs(low - 852) <= 31.25 and abs(high - 1336) <= 31.25
    assert spec[0].max() < 1e-3  # the leading pause is silent


def test_audio_batches_pad_frames_and_digits():
    examples = generate_dtmf(5, seed=2)
    audio = AudioData(examples)
    b = audio.batch([0, 1, 2, 3, 4])
    lengths = [len(spectrogram(e.waveform)) for e in examples]
    assert b.src.dtype == torch.float32 and b.src.shape == (5, max(lengths), audio.n_features)
    assert b.src_lengths.tolist() == lengths
    for k, e in enumerate(examples):
        assert torch.equal(b.src[k, : lengths[k]], spectrogram(e.waveform))
        assert b.src[k, lengths[k] :].abs().sum() == 0
        digits = [audio.tgt_vocab.itos[i] for i in b.tgt_out[k, : b.tgt_mask[k].sum()].tolist()]
        assert "".join(digits[:-1]) == e.digits and digits[-1] == "<eos>"
    assert sum(len(x) for x in audio.batches(2)) == 5


@pytest.mark.parametrize("bidirectional", [True, False])
@torch.no_grad()
def test_frame_encoder_shapes_and_padding_does_not_leak(bidirectional):
    torch.manual_seed(0)
    enc = FrameEncoder(7, 10, bidirectional=bidirectional).eval()
    frames, lengths = torch.randn(3, 6, 7), torch.tensor([6, 2, 4])
    out = enc(frames, lengths)
    assert out.outputs.shape == (3, 6, 10) and out.context.shape == (3, 10)
    assert out.mask.tolist() == [[True] * 6, [True, True] + [False] * 4, [True] * 4 + [False] * 2]
    assert torch.all(out.outputs[~out.mask] == 0)
    garbage = frames.clone()
    garbage[~out.mask] = 100 * torch.randn(int((~out.mask).sum()), 7)
    longer = torch.cat([garbage, torch.randn(3, 3, 7)], dim=1)  # extra padding columns too
    for other in (enc(garbage, lengths), enc(longer, lengths)):
        torch.testing.assert_close(other.outputs[:, :6], out.outputs)
        torch.testing.assert_close(other.context, out.context)
    for k, n in enumerate(lengths.tolist()):  # one sentence alone, no padding
        alone = enc(frames[k : k + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(alone.outputs[0], out.outputs[k, :n], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(alone.context[0], out.context[k], atol=1e-6, rtol=1e-5)
    if bidirectional:  # c = [forward after the last real frame; backward after the first]
        last = out.outputs[torch.arange(3), lengths - 1, :5]
        torch.testing.assert_close(out.context, torch.cat([last, out.outputs[:, 0, 5:]], -1))


def test_frame_encoder_refuses_token_ids_and_bad_lengths():
    enc = FrameEncoder(7, 10)
    with pytest.raises(ValueError, match="float"):
        enc(torch.zeros(2, 5, dtype=torch.long), torch.tensor([5, 5]))
    with pytest.raises(ValueError, match="lengths"):
        enc(torch.zeros(2, 5, 7), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="even"):
        FrameEncoder(7, 9)


@torch.no_grad()
def test_frame_encoder_drives_an_attention_decoder():
    audio = AudioData(generate_dtmf(3, seed=5))
    model = EncoderDecoder(
        FrameEncoder(audio.n_features, 8), AttentionDecoder(len(audio.tgt_vocab), 4, 8)
    )
    b = audio.batch([0, 1, 2])
    logits = model(b.src, b.src_lengths, b.tgt_in)
    assert logits.shape == (*b.tgt_in.shape, len(audio.tgt_vocab))
    weights = model.attention_weights(b.src, b.src_lengths, b.tgt_in)
    assert torch.all(weights[~b.src_mask[:, None, :].expand_as(weights)] == 0)
