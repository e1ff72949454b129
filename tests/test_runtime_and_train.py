import math
import subprocess
import sys

import pytest
import torch
from torch import nn

import companion
from companion import train
from companion.data import Seq2SeqData, generate_pairs
from companion.inference import translate
from companion.metrics import exact_match, token_accuracy
from companion.models import make_seq2seq, seq2seq_loss, sequence_cross_entropy


def test_setup_seeds_and_prints_one_line(capsys):
    dev = companion.setup(seed=5, device="cpu")
    a = torch.rand(3)
    companion.setup(seed=5, device="auto")
    assert torch.equal(a, torch.rand(3))
    assert dev == torch.device("cpu")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "torch" in lines[0] and "device" in lines[0]


@pytest.mark.parametrize("bad", ["tpu", "", 3])
def test_resolve_device_rejects_nonsense(bad):
    with pytest.raises(
        ValueError, match=f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {bad!r}"
    ):
        companion.resolve_device(bad)


def test_cuda_request_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # on a GPU machine too
    with pytest.raises(ValueError, match="no CUDA"):
        companion.resolve_device("cuda")


def test_import_is_light():
    """``import companion`` loads torch and nothing for plots, notebooks, widgets or metrics
    (tests never assert times: which modules load is what decides the time)."""
    heavy = ("matplotlib", "papermill", "sklearn", "ipywidgets", "sacrebleu", "nbformat", "scipy")
    code = (
        "import sys, companion\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sequence_cross_entropy_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = targets != 0
    expected = torch.nn.functional.cross_entropy(logits[mask], targets[mask])
    assert torch.allclose(sequence_cross_entropy(logits, targets, mask), expected)
    changed = logits.clone()
    changed[~mask] = 100.0  # whatever the model says at padded positions …
    assert torch.allclose(sequence_cross_entropy(changed, targets, mask), expected)  # … is ignored
    with pytest.raises(
        ValueError, match=r"shapes do not match: logits \(2, 3, 5\), targets \(2, 2\)"
    ):
        sequence_cross_entropy(logits, targets[:, :2], mask[:, :2])


def test_label_smoothing_is_cross_entropy_against_the_smoothed_target():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = targets != 0
    eps = 0.1
    log_p = logits[mask].log_softmax(-1)  # [N, V]
    smoothed = torch.full_like(log_p, eps / 5)
    smoothed[torch.arange(len(log_p)), targets[mask]] += 1 - eps  # 1 − ε + ε/V on the truth
    expected = -(smoothed * log_p).sum(-1).mean()
    got = sequence_cross_entropy(logits, targets, mask, label_smoothing=eps)
    assert torch.allclose(got, expected)
    with pytest.raises(ValueError, match="label_smoothing"):
        sequence_cross_entropy(logits, targets, mask, label_smoothing=1.0)


def test_label_smoothing_applies_while_training_only():
    data, model = _tiny_problem()
    batch = data.batch(list(range(8)))
    model.eval()  # no dropout here: the losses differ only by the smoothing
    plain = seq2seq_loss(model, batch)
    assert torch.equal(seq2seq_loss(model, batch, label_smoothing=0.2), plain)
    model.train()
    assert not torch.allclose(seq2seq_loss(model, batch, label_smoothing=0.2), plain)


def test_fit_steps_the_scheduler_after_every_optimiser_step():
    data, model = _tiny_problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    seen = []
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: seen.append(step) or 1 / (step + 1)
    )
    train.fit(
        model,
        data.batches(8),
        seq2seq_loss,
        epochs=2,
        optimizer=optimizer,
        scheduler=scheduler,
        progress=False,
    )
    assert seen == list(range(7))  # step 0 at construction, then one per batch (2 × 3)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1 / 7)
    other = torch.optim.lr_scheduler.LambdaLR(torch.optim.SGD(model.parameters(), lr=1.0), abs)
    with pytest.raises(ValueError, match="scheduler must schedule the optimizer"):
        train.fit(
            model,
            data.batches(8),
            seq2seq_loss,
            epochs=1,
            optimizer=optimizer,
            scheduler=other,
            progress=False,
        )
    with pytest.raises(TypeError, match="scheduler"):
        train.fit(
            model, data.batches(8), seq2seq_loss, epochs=1, scheduler="cosine", progress=False
        )


def _tiny_problem():
    companion.setup(seed=0, device="cpu", quiet=True)
    data = Seq2SeqData.from_pairs(generate_pairs("numbers", 24, seed=0, max_value=99), "en", "zh")
    model = make_seq2seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        encoder="gru",
        decoder="context",
        init="context",
        emb_dim=16,
        hidden=64,
    )
    return data, model


def test_seq2seq_overfits_a_tiny_batch_and_translates():
    data, model = _tiny_problem()
    hist = train.fit(model, data.batches(24), seq2seq_loss, epochs=150, lr=1e-2, progress=False)
    assert hist.epochs[-1]["loss"] < 0.05 < hist.epochs[0]["loss"]
    preds = translate(model, data, [p.src for p in data.pairs])
    assert exact_match(preds, [p.tgt for p in data.pairs]) == 1.0


def test_fit_records_history_validation_and_checkpoints(tmp_path):
    data, model = _tiny_problem()
    ckpt = tmp_path / "m.pt"
    hist = train.fit(
        model,
        data.batches(8),
        seq2seq_loss,
        epochs=2,
        valid_data=data.batches(8),
        checkpoint_path=ckpt,
        progress=False,
        clip_grad_norm=1.0,
    )
    assert [e["epoch"] for e in hist.epochs] == [1, 2] and len(hist.steps) == 6
    assert "valid_loss" in hist.last and hist.series("loss") == [e["loss"] for e in hist.epochs]
    _, fresh = _tiny_problem()
    restored = train.load_checkpoint(ckpt, fresh)
    assert restored.epochs == hist.epochs
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)
    hist = train.fit(
        fresh, data.batches(8), seq2seq_loss, epochs=1, history=restored, progress=False
    )
    assert [e["epoch"] for e in hist.epochs] == [1, 2, 3]


def test_checkpoint_errors_are_clear(tmp_path):
    _, model = _tiny_problem()
    with pytest.raises(ValueError, match="no checkpoint"):
        train.load_checkpoint(tmp_path / "missing.pt", model)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable"):
        train.load_checkpoint(bad, model)


def test_nan_loss_stops_with_the_step_named():
    model = nn.Linear(2, 1)
    batches = [torch.ones(4, 2)] * 5

    calls = []

    def loss_fn(m, x):
        calls.append(1)
        return m(x).mean() * (math.nan if len(calls) == 3 else 1.0)

    with pytest.raises(train.NonFiniteLossError, match="step 3"):
        train.fit(model, batches, loss_fn, epochs=1, progress=False)


def test_fit_accepts_dict_losses_and_validates():
    model = nn.Linear(2, 1)
    batches = [torch.randn(4, 2) for _ in range(3)]
    hist = train.fit(
        model,
        batches,
        lambda m, x: {"loss": m(x).pow(2).mean(), "extra": torch.tensor(1.0)},
        epochs=1,
        progress=False,
    )
    assert hist.last["extra"] == 1.0
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar loss tensor, got \(4, 1\)"):
        train.fit(model, batches, lambda m, x: m(x), epochs=1, progress=False)
    with pytest.raises(ValueError, match="training data is empty: no batches in an epoch"):
        train.fit(model, [], lambda m, x: m(x).mean(), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an integer ≥ 0, got -1"):
        train.fit(model, batches, lambda m, x: m(x).mean(), epochs=-1)


def _vae_like_problem(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3))
    batches = [torch.randn(5, 3) for _ in range(7)]

    def loss_fn(m, x):
        err = (m(x) - x).pow(2)
        return {"loss": err.mean() + 0.1 * m[0].weight.pow(2).sum(), "mse": err.mean()}

    return model, batches, loss_fn


def test_fit_history_equals_reading_every_step():
    model, batches, loss_fn = _vae_like_problem(3)
    hist = train.fit(model, batches, loss_fn, epochs=2, lr=1e-2, progress=False)
    ref_model, _, _ = _vae_like_problem(3)  # same seed: same weights and data
    optimizer = torch.optim.Adam(ref_model.parameters(), lr=1e-2)
    steps = []
    for _ in range(2):
        for x in batches:
            out = loss_fn(ref_model, x)
            steps.append({"loss": float(out["loss"].detach()), "mse": float(out["mse"].detach())})
            optimizer.zero_grad()
            out["loss"].backward()
            optimizer.step()
    assert [{k: r[k] for k in ("loss", "mse")} for r in hist.steps] == steps
    assert [r["step"] for r in hist.steps] == list(range(1, 15))
    for epoch, rows in zip(hist.epochs, (steps[:7], steps[7:]), strict=True):
        assert epoch["loss"] == sum(r["loss"] for r in rows) / 7
        assert epoch["mse"] == sum(r["mse"] for r in rows) / 7


def test_fit_reads_the_device_once_per_term_per_epoch(monkeypatch):
    model, batches, loss_fn = _vae_like_problem(0)
    monkeypatch.setattr(train, "READ_EVERY_S", math.inf)  # only the end-of-epoch read
    reads = []
    for name in ("__float__", "item", "tolist"):
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, _name=name):
            reads.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, name, spy)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)  # Adam reads its step counters with item()
    hist = train.fit(model, batches, loss_fn, epochs=2, optimizer=sgd, progress=False)
    monkeypatch.undo()
    assert len(hist.steps) == 14
    assert reads == ["tolist"] * 4  # 2 terms × 2 epochs, not 2 terms × 14 steps


def test_fit_trains_the_model_where_it_is():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    x = torch.randn(64, 2)
    batches = [(x[i : i + 16], x[i : i + 16] @ torch.tensor([[2.0], [-1.0]])) for i in (0, 16, 32)]
    moves = []
    to = model.to
    model.to = lambda *args, **kwargs: moves.append((args, kwargs)) or to(*args, **kwargs)

    def loss(m, batch):
        return (m(batch[0]) - batch[1]).pow(2).mean()

    before = train.evaluate(model, batches, loss)["loss"]
    hist = train.fit(model, batches, loss, epochs=30, lr=0.05, progress=False)
    assert hist.epochs[-1]["loss"] < 0.01 * before  # it learnt y = 2 x1 - x2
    assert train.evaluate(model, batches, loss)["loss"] < 0.01 * before
    assert all(torch.device(*a) == torch.device("cpu") for a, _ in moves)  # never elsewhere


def test_fit_without_a_device_does_not_move_the_model():
    """Placement only (no epoch runs: a model on the meta device has no values to train)."""
    model = nn.Linear(2, 1, device="meta")
    train.fit(model, [torch.ones(1, 2)], lambda m, x: m(x).sum(), epochs=0, progress=False)
    assert model.weight.device.type == "meta"  # device=None: no move (to the CPU or elsewhere)
    with pytest.raises(NotImplementedError, match="meta tensor"):  # what device="cpu" would do
        model.to("cpu")


def test_evaluate_brings_the_batches_to_the_model_and_leaves_the_model_there():
    model = nn.Linear(2, 1, device="meta")
    seen = []

    def loss(m, batch):
        seen.append((batch.device.type, m.weight.device.type))
        return m(batch).sum()

    with pytest.raises(NotImplementedError, match="meta tensor"):  # a meta loss has no value
        train.evaluate(model, [torch.ones(1, 2)], loss)
    assert seen == [("meta", "meta")]
    with pytest.raises(TypeError, match="device"):  # no device= that would move the batches only
        train.evaluate(model, [torch.ones(1, 2)], loss, device="cpu")


def test_accuracy_metrics():
    assert exact_match(["a", "b "], ["a", "c"]) == 0.5
    assert token_accuracy([["a", "b"], ["c"]], [["a", "x", "y"], ["c"]]) == 0.5
    with pytest.raises(ValueError, match="got 1 predictions but 0 references"):
        exact_match(["a"], [])
    with pytest.raises(ValueError, match="cannot score an empty list of predictions"):
        exact_match([], [])


def test_step_interface_matches_teacher_forced_forward():
    data, model = _tiny_problem()
    b = data.batch([0, 1, 2])
    full = model(b.src, b.src_lengths, b.tgt_in).log_softmax(-1)
    state = model.init_state(b.src, b.src_lengths)
    for t in range(b.tgt_in.shape[1]):
        log_probs, state = model.step(b.tgt_in[:, t], state)
        assert torch.allclose(log_probs, full[:, t], atol=1e-5)
