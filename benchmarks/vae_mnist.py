"""VAE on MNIST (the pytorch/examples architecture):
companion.train.fit vs a plain hand-written loop.

The model is 784-400-20-400-784 with a Bernoulli decoder, Adam (lr 1e-3), batch 128. Both loops
train identical copies (same initial weights, same batch order) for the same number of epochs,
interleaved epoch by epoch so that machine load hits both alike. Printed: the per-epoch time of
each and their ratio (target ≤ 1.10), and the held-out negative ELBO in nats per image after the
last epoch.

Data: MNIST's 10,000-image test file split 8,000 train / 2,000 held out with a fixed seed (the copy
this project's machines carry; see companion.data.load_mnist_split). Give the folder that holds
``mnist/t10k-images-idx3-ubyte.gz`` with --data or COMPANION_DATA.

    python benchmarks/vae_mnist.py --data ../shared/data --epochs 10

Timings are wall-clock on whatever machine runs this; on a shared CPU they are noisy, so read the
median ratio, not single epochs. This script prints ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from _common import add_runtime_args, setup_runtime

from companion.data import DataUnavailableError, load_mnist_split
from companion.models import make_vae, make_vae_loss
from companion.train import History, evaluate, fit


def plain_negative_elbo(model, x) -> torch.Tensor:
    """Summed −ELBO of a batch, written out by hand as in pytorch/examples/vae (BCE + KLD)."""
    mu, logvar = model.encoder(x)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    bce = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def plain_epoch(model, loader, optimizer, device) -> float:
    """One epoch of a plain loop (loss averaged per image, as the loss of make_vae_loss does)."""
    model.train()
    total, n = 0.0, 0
    for x, _ in loader:
        x = x.to(device)
        loss = plain_negative_elbo(model, x) / len(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        n += len(x)
    return total / n


@torch.no_grad()
def plain_heldout(model, loader, device) -> float:
    """Held-out negative ELBO (nats/image), one z sample per image."""
    model.eval()
    total = sum(plain_negative_elbo(model, x.to(device)).item() for x, _ in loader)
    return total / len(loader.dataset)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help="folder holding mnist/ (default: COMPANION_DATA, then ~/.cache/companion)",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--progress", action="store_true", help="show fit's tqdm bar (counted in its time)"
    )
    args = add_runtime_args(parser).parse_args(argv)

    device = setup_runtime(args)
    try:
        split = load_mnist_split(args.data, seed=args.seed)
    except DataUnavailableError as exc:
        print(
            f"{exc}; pass --data or set COMPANION_DATA to a folder holding mnist/", file=sys.stderr
        )
        return 2
    print(
        f"{split}; threads {torch.get_num_threads()}; epochs {args.epochs}; batch {args.batch_size}"
    )

    model_fit = make_vae().to(device)
    model_plain = copy.deepcopy(model_fit)
    opt_fit = torch.optim.Adam(model_fit.parameters(), lr=1e-3)
    opt_plain = torch.optim.Adam(model_plain.parameters(), lr=1e-3)
    loader_fit = split.loader("train", batch_size=args.batch_size, seed=args.seed)
    loader_plain = split.loader("train", batch_size=args.batch_size, seed=args.seed)
    test = split.loader("test", batch_size=500)
    history = History()
    times_fit, times_plain = [], []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        fit(
            model_fit,
            loader_fit,
            make_vae_loss(),
            epochs=1,
            optimizer=opt_fit,
            history=history,
            device=device,
            progress=args.progress,
        )
        times_fit.append(time.perf_counter() - start)
        start = time.perf_counter()
        train_loss = plain_epoch(model_plain, loader_plain, opt_plain, device)
        times_plain.append(time.perf_counter() - start)
        print(
            f"epoch {epoch + 1:2d}: fit {times_fit[-1]:.2f} s (loss {history.last['loss']:.1f}), "
            f"plain {times_plain[-1]:.2f} s (loss {train_loss:.1f})"
        )

    torch.manual_seed(args.seed)
    heldout_fit = -evaluate(model_fit, test, make_vae_loss())["elbo"]
    torch.manual_seed(args.seed)
    heldout_plain = plain_heldout(model_plain, test, device)
    med_fit, med_plain = statistics.median(times_fit), statistics.median(times_plain)
    print(
        f"median seconds per epoch: companion.train.fit {med_fit:.3f}, plain loop {med_plain:.3f}; "
        f"ratio fit/plain {med_fit / med_plain:.3f} (target <= 1.10)"
    )
    print(
        f"held-out negative ELBO after {args.epochs} epochs (nats/image, 1 sample): "
        f"fit {heldout_fit:.2f}, plain loop {heldout_plain:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
