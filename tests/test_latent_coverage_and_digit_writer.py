"""companion.metrics.latent (empty tiles, Gaussian coverage) by brute force; the digit writer of
5.2.4 (a discrete latent: choose the digit, then write it) against torch.distributions."""

import pytest
import torch

from companion.metrics import bell_coverage, empty_tile_fraction
from companion.prob import fit_digit_writer


def test_empty_tiles_count_tiles_without_a_code():
    codes = torch.tensor([[0.1, 0.1], [0.15, 0.12], [0.9, 0.6], [5.0, 5.0]])  # last one outside
    assert empty_tile_fraction(codes, (0.0, 1.0), 2) == pytest.approx(1 - 2 / 4)
    assert empty_tile_fraction(codes, (0.0, 1.0), 1) == pytest.approx(0.0)


def test_bell_coverage_matches_a_brute_force_count():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 2, generator=g), torch.randn(7, 2, generator=g) - 1
    n, lo, hi = 20, -2.0, 2.0
    centres = [lo + (i + 0.5) * (hi - lo) / n for i in range(n)]
    std = (0.5 * logvar).exp()
    hits = sum(
        any(
            ((gx - m[0]) / s[0]) ** 2 + ((gy - m[1]) / s[1]) ** 2 <= 4
            for m, s in zip(mu, std, strict=True)
        )
        for gx in centres
        for gy in centres
    )
    assert bell_coverage(mu, logvar, (lo, hi), n, n_std=2.0) == pytest.approx(hits / n**2)


@pytest.mark.parametrize("bad", [(1.0, 1.0), (0.0, float("nan"))])
def test_coverage_rejects_bad_squares(bad):
    with pytest.raises(ValueError, match="lims"):
        empty_tile_fraction(torch.zeros(1, 2), bad, 3)


@pytest.fixture(scope="module")
def writer_and_data():
    g = torch.Generator().manual_seed(0)
    means = torch.tensor([[0.0, 0.0, 0.0], [3.0, 3.0, 0.0], [-3.0, 0.0, 3.0]])
    y = torch.tensor([0] * 300 + [1] * 600 + [2] * 100)
    x = means[y] + 0.5 * torch.randn(len(y), 3, generator=g)
    return fit_digit_writer(x, y, shrinkage=0.05), x, y


def test_digit_writer_is_the_mixture_of_5_4_with_a_sum(writer_and_data):
    writer, x, y = writer_and_data
    assert writer.prior.tolist() == pytest.approx([0.3, 0.6, 0.1])
    assert torch.allclose(writer.means, torch.stack([x[y == k].double().mean(0) for k in range(3)]))
    reference = writer.as_torch_mixture().log_prob(x.double())
    assert torch.allclose(writer.log_prob(x), reference)
    by_hand = (
        torch.stack(
            [
                writer.prior[k] * writer.components().log_prob(x.double()[:, None])[:, k].exp()
                for k in range(3)
            ]
        )
        .sum(0)
        .log()
    )  # Σ_k π_k N(x; μ_k, Σ_k)
    assert torch.allclose(writer.log_prob(x), by_hand)


def test_digit_writer_samples_choose_then_write(writer_and_data):
    writer, _, _ = writer_and_data
    k, x = writer.sample(20_000, generator=torch.Generator().manual_seed(1))
    freq = torch.bincount(k, minlength=3).double() / len(k)
    assert freq.tolist() == pytest.approx([0.3, 0.6, 0.1], abs=0.015)
    assert (
        writer.posterior(x).argmax(1) == k
    ).double().mean() > 0.99  # each sample reads as its digit
    _, fixed = writer.sample(500, digit=2, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(fixed.mean(0), writer.means[2], atol=0.1)
    with pytest.raises(ValueError, match="digit"):
        writer.sample(3, digit=7)
