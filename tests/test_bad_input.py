"""Bad and extreme input gets a clear ValueError/TypeError up front — never a wrong answer, a NaN
result or a hang. One test per class of failure that a probe of the public API once found."""

import math

import pytest
import torch

from companion.data import generate_pairs, tokenize_en
from companion.decoding import beam_search, exhaustive_search, greedy_search
from companion.metrics import corpus_bleu, sentence_bleu
from companion.prob import elbo, kl_gaussians, kl_to_standard_normal, reparameterize

BOS, EOS = 0, 1
SEARCHES = {
    "greedy": lambda step, state, **kw: greedy_search(step, state, bos_id=BOS, eos_id=EOS, **kw),
    "beam": lambda step, state, **kw: beam_search(
        step, state, bos_id=BOS, eos_id=EOS, beam_width=2, **kw
    ),
    "exhaustive": lambda step, state, **kw: exhaustive_search(
        step, state, bos_id=BOS, eos_id=EOS, **kw
    ),
}


def constant_step(table: torch.Tensor):
    """A step function that returns the same row ``table`` for every input."""
    return lambda prev, state: (table.expand(prev.shape[0], -1).clone(), state)


# ----------------------------------------------------------------------------- searches
def test_exhaustive_search_refuses_a_huge_space_before_it_allocates():
    calls = []

    def step(prev, state):
        calls.append(prev.shape[0])
        return torch.full((prev.shape[0], 1000), -math.log(1000)), state

    with pytest.raises(ValueError, match=r"exhaustive search would enumerate .* use a smaller"):
        exhaustive_search(step, torch.zeros(2, 1), bos_id=BOS, eos_id=EOS, max_len=3)
    assert calls == [2]  # only the first step ran, on the two inputs themselves


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_raw_logits_are_refused_with_the_fix(search):
    logits = torch.tensor([2.0, 0.5, -1.0, 3.0])  # logsumexp ≈ 3.4, not 0
    with pytest.raises(
        ValueError,
        match=r"step_fn must return log-probabilities \(e\.g\. "
        r"logits\.log_softmax\(-1\)\)",
    ):
        SEARCHES[search](constant_step(logits), torch.zeros(3, 1), max_len=3)
    # the same logits normalised are fine
    out = SEARCHES[search](constant_step(logits.log_softmax(-1)), torch.zeros(3, 1), max_len=3)
    assert len(out) == 3 and all(hyps and math.isfinite(hyps[0].score) for hyps in out)


@pytest.mark.parametrize("search", sorted(SEARCHES))
@pytest.mark.parametrize(
    "row,match",
    [
        ([math.nan, 0.0, -math.inf, -math.inf], "NaN"),
        ([math.inf, -math.inf, -math.inf, -math.inf], r"\+inf"),
        ([-math.inf] * 4, "all -inf"),
    ],
)
def test_nan_inf_and_impossible_rows_are_refused(search, row, match):
    with pytest.raises(ValueError, match=match):
        SEARCHES[search](constant_step(torch.tensor(row)), torch.zeros(2, 1), max_len=3)


def test_minus_inf_entries_are_allowed_and_never_chosen():
    row = torch.tensor([-math.inf, math.log(0.7), -math.inf, math.log(0.3)])
    for search in SEARCHES.values():
        for hyps in search(constant_step(row), torch.zeros(2, 1), max_len=2):
            assert all(0 not in h.tokens and 2 not in h.tokens for h in hyps)


@pytest.mark.parametrize(
    "alpha,error",
    [
        (math.inf, ValueError),
        (math.nan, ValueError),
        (1e6, ValueError),
        (-0.5, ValueError),
        ("1", TypeError),
    ],
)
def test_length_penalty_must_be_a_finite_number_in_range(alpha, error):
    step = constant_step(torch.tensor([0.25, 0.25, 0.25, 0.25]).log())
    for search in ("beam", "exhaustive"):
        with pytest.raises(error, match="length_penalty"):
            SEARCHES[search](step, torch.zeros(2, 1), max_len=3, length_penalty=alpha)


def test_the_largest_length_penalty_still_ranks_without_overflow():
    # At α = 10 the longest finished output wins whenever the per-token probabilities are equal.
    step = constant_step(torch.tensor([0.25, 0.25, 0.25, 0.25]).log())
    best = SEARCHES["beam"](step, torch.zeros(1, 1), max_len=30, length_penalty=10.0)[0][0]
    assert len(best.tokens) == 30 and best.score == pytest.approx(30 * math.log(0.25) / 30**10)
    full = SEARCHES["exhaustive"](
        step, torch.zeros(1, 1), max_len=4, length_penalty=10.0, n_best=1
    )[0][0]
    assert len(full.tokens) == 4 and full.score == pytest.approx(4 * math.log(0.25) / 4**10)


# ----------------------------------------------------------------------------- data
def test_generate_pairs_refuses_unbounded_sizes_with_the_allowed_range():
    with pytest.raises(
        ValueError, match=r"n_items must be an integer in \[1, 100\], got 1000000000"
    ):
        generate_pairs("numbers", 2, n_items=10**9)
    with pytest.raises(
        ValueError,
        match=r"n \(the number of examples\) must be an integer in "
        r"\[1, 1000000\]",
    ):
        generate_pairs("numbers", 10**12)
    with pytest.raises(ValueError, match=r"n_items\[1\] \(high\) must be an integer in \[3, 100\]"):
        generate_pairs("numbers", 2, n_items=(3, 2))
    with pytest.raises(TypeError, match="n_items"):
        generate_pairs("numbers", 2, n_items=1.5)
    with pytest.raises(TypeError, match="max_value"):
        generate_pairs("numbers", 2, max_value=5.5)


@pytest.mark.parametrize(
    "text,tokens",
    [
        ("Café au lait", ["café", "au", "lait"]),
        ("naïve résumé, Zürich señor!", ["naïve", "résumé", ",", "zürich", "señor", "!"]),
        ("Ærøskøbing's Straße", ["ærøskøbing's", "straße"]),
        ("Cafe\u0301 = café", ["café", "=", "café"]),  # combining accent: the same word after NFC
        ("Москва и Αθήνα", ["москва", "и", "αθήνα"]),
        ("hello 你好", ["hello", "你", "好"]),  # Chinese characters stay one token each
    ],
)
def test_english_tokenizer_keeps_accented_and_non_latin_words(text, tokens):
    assert tokenize_en(text) == tokens


# ----------------------------------------------------------------------------- probability
def test_nan_scalars_fail_range_checks():
    mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="noise_scale"):
            reparameterize(mu, logvar, noise_scale=bad)
        with pytest.raises(ValueError, match="beta"):
            elbo(torch.zeros(3), mu, logvar, beta=bad)
    with pytest.raises(TypeError, match="beta must be a number"):
        elbo(torch.zeros(3), mu, logvar, beta=None)


def test_kl_refuses_non_finite_and_overflowing_inputs():
    mu = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="logvar must be finite"):
        kl_to_standard_normal(mu, torch.tensor([[0.0, math.nan, 0.0]] * 2))
    with pytest.raises(ValueError, match="mu2 must be finite"):
        kl_gaussians(mu, mu, torch.full((2, 3), math.inf), mu)
    with pytest.raises(ValueError, match="overflows torch.float32.*float64"):
        kl_to_standard_normal(mu, torch.full((2, 3), 100.0))  # exp(100) > float32's max
    assert torch.isfinite(
        kl_to_standard_normal(mu.double(), torch.full((2, 3), 100.0).double())
    ).all()
    with pytest.raises(TypeError, match="mu must be a torch.Tensor"):
        kl_to_standard_normal([[0.0]], torch.zeros(1, 1))
    with pytest.raises(TypeError, match="floating-point"):
        kl_to_standard_normal(
            torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long)
        )


# ----------------------------------------------------------------------------- metrics
@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: sentence_bleu("a b", None), "references must be a list of strings, got None"),
        (lambda: sentence_bleu(None, "a b"), "hypothesis must be a string, got None"),
        (lambda: corpus_bleu(None, ["a"]), "hypotheses must be a list of strings"),
        (lambda: corpus_bleu(["a"], [3]), r"references\[0\] must be a string or a list"),
    ],
)
def test_bleu_type_errors_name_the_argument(call, match):
    with pytest.raises(TypeError, match=match):
        call()


# ----------------------------------------------------------------------------- training
def _tiny():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    batches = [torch.randn(4, 2) for _ in range(3)]
    return model, batches, lambda m, b: m(b).pow(2).mean()


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(clip_grad_norm=math.nan), ValueError, "clip_grad_norm"),
        (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm"),
        (dict(clip_grad_norm=math.inf), ValueError, "clip_grad_norm"),
        (dict(lr=math.nan), ValueError, "lr must be a finite number > 0"),
        (dict(lr=-1.0), ValueError, "lr"),
        (dict(epochs=2.0), TypeError, "epochs must be an integer"),
        (dict(progress="no"), TypeError, "progress"),
        (dict(optimizer="adam"), TypeError, "optimizer"),
        (dict(on_epoch_end=3), TypeError, "on_epoch_end"),
    ],
)
def test_fit_refuses_bad_arguments_before_training(kwargs, error, match):
    from companion.train import fit

    model, batches, loss_fn = _tiny()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        fit(model, batches, loss_fn, **{"epochs": 1, "progress": False, **kwargs})
    assert all(
        torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)
    )  # untouched


def test_fit_refuses_a_one_shot_iterator_for_several_epochs_up_front():
    from companion.train import fit

    model, batches, loss_fn = _tiny()
    seen = []
    generator = (seen.append(b) or b for b in batches)
    with pytest.raises(
        ValueError,
        match="train_data is an iterator that can be read once.*pass a list or DataLoader",
    ):
        fit(model, generator, loss_fn, epochs=2, progress=False)
    assert seen == []  # refused before reading a single batch
    fit(model, iter(batches), loss_fn, epochs=1, progress=False)  # one pass is fine
    with pytest.raises(TypeError, match="train_data must be a re-iterable"):
        fit(model, None, loss_fn, epochs=1, progress=False)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit(None, batches, loss_fn, epochs=1, progress=False)
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        fit(model, batches, None, epochs=1, progress=False)


def test_nan_validation_loss_stops_training_naming_the_epoch():
    from companion.train import NonFiniteLossError, fit

    model, batches, loss_fn = _tiny()
    with pytest.raises(NonFiniteLossError, match="validation loss became nan after epoch 1"):
        fit(
            model,
            batches,
            loss_fn,
            epochs=2,
            valid_data=[torch.full((4, 2), math.nan)],
            progress=False,
        )


def test_checkpoints_plain_state_dicts_directories_and_wrong_models(tmp_path):
    from companion.train import load_checkpoint, save_checkpoint

    model = torch.nn.Linear(2, 1)
    plain = tmp_path / "weights.pt"
    torch.save(model.state_dict(), plain)  # what most tutorials write
    other = torch.nn.Linear(2, 1)
    history = load_checkpoint(plain, other)
    assert torch.equal(other.weight, model.weight) and history.epochs == [] == history.steps
    with pytest.raises(ValueError, match="is a directory; give a file name"):
        save_checkpoint(tmp_path, model)
    with pytest.raises(ValueError, match="is a directory"):
        load_checkpoint(tmp_path, model)
    with pytest.raises(ValueError, match="do not fit this model.*size mismatch"):
        load_checkpoint(plain, torch.nn.Linear(3, 1))
    torch.save({"something": "else"}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a companion checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt", model)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        save_checkpoint(tmp_path / "a.pt", None)


# ----------------------------------------------------------------------------- models, widgets
def test_model_factories_and_noise_refuse_bad_sizes_and_nan():
    from companion.models import (
        add_noise,
        make_autoencoder,
        make_autoencoder_loss,
        make_seq2seq,
        make_vae,
        make_vae_loss,
    )

    with pytest.raises(TypeError, match="hidden must be an integer"):
        make_seq2seq(5, 5, hidden=2.5)
    with pytest.raises(TypeError, match="src_vocab_size must be an integer"):
        make_seq2seq(True, 5)
    with pytest.raises(ValueError, match=r"eos_id must be an integer in \[0, 1\]"):
        make_seq2seq(5, 2)
    with pytest.raises(ValueError, match=r"widths\[0\] must be an integer ≥ 1, got 0"):
        make_autoencoder((1, 8, 8), 2, widths=(0,))
    with pytest.raises(TypeError, match=r"image_shape\[1\] must be an integer"):
        make_vae((1, math.nan, 8), 2)
    with pytest.raises(TypeError, match="n must be an integer"):
        make_vae((1, 8, 8), 2, widths=(8,)).sample(2.5)
    for bad in (math.nan, math.inf, -0.1):
        with pytest.raises(ValueError, match="noise level"):
            add_noise(torch.rand(2, 1, 4, 4), bad)
        with pytest.raises(ValueError, match="beta"):
            make_vae_loss(bad)
        with pytest.raises(ValueError, match="noise_level"):
            make_autoencoder_loss(bad)


def test_widget_callbacks_refuse_nan_and_inf_before_drawing():
    from companion.models import make_autoencoder
    from companion.widgets import denoise, denoising_figure, latent_explorer_figure, perturb_codes

    model = make_autoencoder((1, 8, 8), 2, widths=(8,))
    images = torch.rand(3, 1, 8, 8)
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="noise_level"):
            denoise(model, images, bad)
        with pytest.raises(ValueError, match="noise_scale"):
            perturb_codes(model, images, bad)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="z1"):
            latent_explorer_figure(model, bad, 0.0)
    with pytest.raises(TypeError, match="noise_scale must be a number"):
        perturb_codes(model, images, "x")
    with pytest.raises(ValueError, match="images must be finite"):
        denoising_figure(model, torch.full((3, 1, 8, 8), math.nan), 0.5)


def test_sequence_data_refuses_wrong_kinds_with_the_fix():
    from companion.data import Pair, Seq2SeqData, lengths_to_mask, pad_sequences
    from companion.inference import translate
    from companion.models import make_seq2seq

    with pytest.raises(
        TypeError, match=r"pairs\[0\] must be a Pair\(src, tgt\).*Pair\(source, target\)"
    ):
        Seq2SeqData.from_pairs([("one", "一")], "en", "zh")
    data = Seq2SeqData.from_pairs([Pair("one", "一"), Pair("two", "二")], "en", "zh")
    for bad, error in ((math.nan, TypeError), (2.5, TypeError), (0, ValueError)):
        with pytest.raises(error, match="batch_size"):
            data.batches(bad)
    with pytest.raises(TypeError, match="lengths must be a torch.Tensor"):
        lengths_to_mask([1, 2])
    with pytest.raises(ValueError, match="lengths must be ≥ 0"):
        lengths_to_mask(torch.tensor([-1, 2]))
    with pytest.raises(TypeError, match="pad_id"):
        pad_sequences([[1, 2]], pad_id=-1.5)
    model = make_seq2seq(len(data.src_vocab), len(data.tgt_vocab), hidden=8, emb_dim=8)
    with pytest.raises(TypeError, match="sentences must be a list of strings"):
        translate(model, data, None)
