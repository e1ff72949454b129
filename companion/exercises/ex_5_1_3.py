"""Exercises of notebook 5.1.3, autoencoders for vision
(编码器-解码器模型在计算机视觉领域的应用)."""

from __future__ import annotations

import torch

from companion.exercises.answers import Precision
from companion.exercises.core import Mistake, explain_question
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import experiment_exercise, predict_exercise
from companion.i18n import N_
from companion.model_utils import model_device

predict_exercise(
    id="5.1.3-noise-mse",
    section=N_("5.1.3 image denoising"),
    title=N_("MSE between an image and its copy with Gaussian noise of std 0.5 (no clipping)"),
    value=0.25,
    precision=Precision(2),
    answer_name="my_mse",
    mistakes=[
        (
            "std",
            0.5,
            N_(
                "0.5 is the noise's standard deviation; the mean *squared* error of noise 0.5·ε "
                "is its variance"
            ),
        ),
        (
            "rmse",
            0.5**0.5,
            N_("that is a root of something; the MSE of the noise is E[(0.5 ε)²] = 0.25 · E[ε²]"),
        ),
    ],
    solution=N_(
        """\
# noisy − clean = 0.5·ε with ε ~ N(0, 1) per pixel, and E[ε²] = 1
my_mse = 0.5**2 * 1  # E[(0.5 ε)²] = 0.25, the variance of the noise
"""
    ),
    solution_note=N_(
        "The notebook clips noisy images to [0, 1], which removes part of the noise: its 'noisy "
        "input' column is below σ²."
    ),
    hints=(
        N_("The error per pixel is the noise itself, 0.5·ε."),
        N_("The mean of a squared N(0, s²) variable is its variance s²."),
    ),
)

predict_exercise(
    id="5.1.3-encoder-parameters",
    section=N_("5.1.3 feature extraction"),
    title=N_("Parameters of one fully connected layer from a 28×28 image to a 32-number code"),
    value=784 * 32 + 32,
    precision=Precision(0),
    answer_name="my_count",
    mistakes=[
        ("no-bias", 784 * 32, N_("you counted the weights but not the 32 biases")),
        (
            "sum",
            784 + 32,
            N_(
                "a fully connected layer has one weight per (input, output) pair: multiply, "
                "don't add"
            ),
        ),
        ("image-side", 28 * 32 + 32, N_("the layer sees all 28 × 28 = 784 pixels, not one row")),
    ],
    solution=N_(
        """\
inputs, outputs = 28 * 28, 32  # the image is flattened to 784 numbers
my_count = inputs * outputs + outputs  # a 32 × 784 weight matrix and 32 biases: 25,120
"""
    ),
    solution_note=N_("Check: sum(p.numel() for p in torch.nn.Linear(784, 32).parameters())."),
    hints=(
        N_("The image is flattened to 28 × 28 = 784 inputs."),
        N_("Weights: one per input per output. Then one bias per output."),
    ),
)


# ---------------------------------------------------------------- 5.1.3-add-noise (implement)


def _add_noise_independent(x, level, eps):
    return torch.minimum(torch.maximum(x + level * eps, torch.zeros_like(x)), torch.ones_like(x))


def _add_noise_cases():
    g = torch.Generator().manual_seed(513)
    return [
        (torch.rand(4, 1, 8, 8, generator=g), level, torch.randn(4, 1, 8, 8, generator=g))
        for level in (0.5, 0.1, 1.5)
    ] + [(torch.rand(3, 6, generator=g), 0.0, torch.randn(3, 6, generator=g))]


implement_exercise(
    id="5.1.3-add-noise",
    section=N_("5.1.3 image denoising"),
    title=N_("add_noise(x, level, eps): the corruption a denoising autoencoder learns to undo"),
    answer_name="add_noise",
    spec=FunctionSpec(cases=_add_noise_cases, expected=_add_noise_independent),
    mistakes=(
        Mistake(
            "no-clip",
            lambda ctx: lambda x, level, eps: x + level * eps,
            N_("pixel values must stay in [0, 1]: clip the noisy image (torch.clamp)"),
            fix=lambda ctx: lambda x, level, eps: torch.clamp(x + level * eps, 0, 1),
        ),
        Mistake(
            "variance-weight",
            lambda ctx: lambda x, level, eps: (x + level**2 * eps).clamp(0, 1),
            N_("level is the noise's standard deviation: multiply eps by level, not level²"),
        ),
        Mistake(
            "multiplicative",
            lambda ctx: lambda x, level, eps: (x * (1 + level * eps)).clamp(0, 1),
            N_("the noise is added to the pixels (x + level·ε), not multiplied with them"),
        ),
        Mistake(
            "clip-noise-only",
            lambda ctx: lambda x, level, eps: x + (level * eps).clamp(0, 1),
            N_("clip the noisy image, not the noise"),
        ),
    ),
    solution=N_(
        """\
def add_noise(x, level, eps):
    # x: images in [0, 1]; eps: standard-normal noise of the same shape
    return (x + level * eps).clamp(0.0, 1.0)
"""
    ),
    solution_note=N_(
        "companion.models.add_noise does the same and draws eps itself from a generator."
    ),
    hints=(
        N_("Scale the standard-normal eps to standard deviation `level` and add it to x."),
        N_("The result is an image again: keep its pixels in [0, 1]."),
    ),
)


# ---------------------------------------------------------------- 5.1.3-denoise-mse (experiment)


def _denoise(context, level=0.9, seed=0):
    from companion.models import add_noise

    model, clean = context["model"], context["images"]
    noisy = add_noise(clean, level, generator=torch.Generator().manual_seed(seed))
    device = model_device(model)
    model.eval()
    with torch.no_grad():
        out = model.reconstruct(noisy.to(device)).cpu()
    return noisy, out


def _demo_autoencoder() -> dict:
    from companion.models import make_autoencoder

    torch.manual_seed(0)
    return {
        "model": make_autoencoder((1, 8, 8), 4),
        "images": torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)),
    }


def _denoise_names(context) -> dict:
    def denoise(model, clean, level, seed=0):  # the notebook's helper, for the same objects
        return _denoise({"model": model, "images": clean}, level, seed)

    return {"dae": context["model"], "test_x": context["images"], "denoise": denoise}


experiment_exercise(
    id="5.1.3-denoise-mse",
    section=N_("5.1.3 image denoising"),
    title=N_("Denoising beyond the training noise: the DAE's MSE at noise level 0.9"),
    measure=lambda ctx: (_denoise(ctx)[1] - ctx["images"]).pow(2).mean().item(),
    precision=Precision(4),
    answer_name="my_mse",
    mistakes=[
        (
            "noisy-input",
            lambda ctx: (_denoise(ctx)[0] - ctx["images"]).pow(2).mean().item(),
            N_(
                "that is the MSE of the noisy input itself: compare the autoencoder's output "
                "with the clean images"
            ),
        ),
        (
            "rmse",
            lambda ctx: (_denoise(ctx)[1] - ctx["images"]).pow(2).mean().sqrt().item(),
            N_("that is the root of the MSE; report the mean squared error itself"),
        ),
    ],
    solution=N_(
        """\
clean = test_x[:200]
noisy, out = denoise(dae, clean, 0.9, seed=0)
my_mse = (out - clean).pow(2).mean().item()
"""
    ),
    solution_names=_denoise_names,
    hints=(
        N_("The notebook's `denoise(model, clean, level, seed=...)` returns (noisy, output)."),
        N_("Use clean = test_x[:200], level 0.9 and seed=0, and compare the output with clean."),
    ),
    needs=("model", "images"),
    demo_context=_demo_autoencoder,
)


# ---------------------------------------------------------------- 5.1.3-knn (implement)


def _knn_loop(train_codes, train_labels, test_codes, k):
    """A plain loop (independent of the vectorised solution): sort distances, count votes."""
    from collections import Counter

    predictions = []
    train, labels = train_codes.tolist(), train_labels.tolist()
    for point in test_codes.tolist():
        distances = [
            (sum((a - b) ** 2 for a, b in zip(point, code, strict=True)), label)
            for code, label in zip(train, labels, strict=True)
        ]
        votes = Counter(label for _, label in sorted(distances)[:k])
        predictions.append(max(sorted(votes), key=lambda label: votes[label]))
    return torch.tensor(predictions)


def _knn_cases():
    g = torch.Generator().manual_seed(5131)
    cases = []
    for n, m, d, k in [(80, 30, 2, 5), (120, 40, 4, 3), (50, 20, 2, 7)]:
        labels = torch.randint(0, 2, (n,), generator=g)  # two classes and an odd k: no tied votes
        codes = torch.randn(n, d, generator=g) + 1.2 * labels[:, None]
        test = torch.randn(m, d, generator=g) + 0.6
        cases.append((codes, labels, test, k))
    return cases


def _knn_with(pick):
    def knn(train_codes, train_labels, test_codes, k):
        distances = torch.cdist(test_codes, train_codes)
        neighbours = pick(distances, k)
        return train_labels[neighbours].mode(dim=1).values

    return knn


implement_exercise(
    id="5.1.3-knn",
    section=N_("5.1.3 feature extraction (特征提取)"),
    title=N_("knn_predict(train_codes, train_labels, test_codes, k): judge codes by a k-NN vote"),
    answer_name="knn_predict",
    spec=FunctionSpec(
        cases=_knn_cases,
        expected=_knn_loop,
        rtol=0,
        atol=0,
        kind_note=N_("labels are integers: index train_labels rather than computing with floats"),
    ),
    mistakes=(
        Mistake(
            "one-neighbour",
            lambda ctx: _knn_with(lambda dist, k: dist.topk(1, largest=False).indices),
            N_("you used only the nearest neighbour; take a majority vote of the k nearest"),
        ),
        Mistake(
            "farthest",
            lambda ctx: _knn_with(lambda dist, k: dist.topk(k).indices),
            N_(
                "those are the k *farthest* training codes: topk(k, largest=False) or sort "
                "ascending"
            ),
            fix=lambda ctx: _knn_with(lambda dist, k: dist.topk(k, largest=False).indices),
        ),
        Mistake(
            "majority-class",
            lambda ctx: lambda codes, labels, test, k: labels.mode().values.repeat(len(test)),
            N_(
                "you predict the most common class for every test code; vote among each test "
                "code's own nearest neighbours"
            ),
        ),
    ),
    solution=N_(
        """\
def knn_predict(train_codes, train_labels, test_codes, k):
    distances = torch.cdist(test_codes, train_codes)  # [M, N] Euclidean
    nearest = distances.topk(k, largest=False).indices  # [M, k]
    return train_labels[nearest].mode(dim=1).values  # the majority vote
"""
    ),
    solution_note=N_(
        "sklearn.neighbors.KNeighborsClassifier(n_neighbors=k), used in the notebook, does the "
        "same."
    ),
    hints=(
        N_("For each test code, find the k training codes at the smallest Euclidean distance."),
        N_(
            "torch.cdist gives all distances at once; topk(k, largest=False) the nearest; "
            ".mode(dim=1) the majority label."
        ),
    ),
)


# ---------------------------------------------------------------- explain

explain_question(
    id="5.1.3-why-denoise",
    section=N_("5.1.3 image denoising"),
    title=N_("Why noise makes a better autoencoder"),
    answer=N_(
        "An autoencoder whose code is large enough can learn to copy its input almost exactly, "
        "pixel by pixel, without learning anything about what digits look like. A denoising "
        "autoencoder sees a corrupted image and must produce the clean one, so it cannot copy: it "
        "has to know which images are plausible and move the noisy input back towards them. That "
        "knowledge of the data's structure is what makes its codes and its reconstructions useful, "
        "and the noise level sets how much it must know."
    ),
)

explain_question(
    id="5.1.3-codes-without-labels",
    section=N_("5.1.3 feature extraction"),
    title=N_("Why codes learned without labels can help a classifier"),
    answer=N_(
        "The autoencoder is trained only to reconstruct, yet to do that through a small code it "
        "must keep what varies most between images — and for digits the class is a large part of "
        "that. So images of the same digit tend to get nearby codes, and a k-NN vote on the codes "
        "works. Nothing forces this: a property that matters to the label but barely changes the "
        "pixels (a thin stroke that turns a 7 into a 1) can be lost, which is why codes help less "
        "than features trained with the labels themselves."
    ),
)
