"""The book's figures of 5.2.1 drawn from a model's (or PCA's) real numbers.

* :func:`plot_linear_autoencoder` — Fig. 5-1: x → W → c → Wᵀ → x̂ with the real matrices and
  one image;
* :func:`plot_noise_regions` — Fig. 5-3: the noise region (a box) around each code in a 2-D
  latent space;
* :func:`plot_code_curves` — Fig. 5-4 as the book draws it: in a 1-D latent space every image's code
  becomes a bell curve q(z|x) (and, for contrast, a plain AE's point, and what the decoder draws);
* :func:`plot_code_bells` — Fig. 5-4 in a 2-D latent space: many images' codes as points (AE) and
  as Gaussian ellipses (VAE);
* :func:`plot_vae_structure` — Fig. 5-5: one image through a VAE, with its means, log-variances,
  noise, sampled code and the two loss terms.

Every number written on a figure is a text artist whose ``gid`` names it (``"c0"``, ``"m"``,
``"z"``…) and every region a patch with a ``gid`` (``"box0"``, ``"bell3"``), so tests read the
figure back and compare it with the model.
"""

from __future__ import annotations

import torch

from companion.model_utils import model_device
from companion.plot.diagrams import (
    BOX,
    _arrow,
    _box,
    _canvas,
    _check_n_values,
    _label,
    format_vector,
)
from companion.prob.gaussian import fig_5_5_loss, kl_to_standard_normal


def _matrix(t, name: str, ndim: int) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(t)
    if t.dim() != ndim or t.numel() == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D tensor, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t.detach().cpu().float()


def plot_linear_autoencoder(
    x,
    encoder_weight,
    decoder_weight,
    mean=None,
    *,
    image_shape=(8, 8),
    title: str = "Fig. 5-1 PCA as an autoencoder: x → W → c → Wᵀ → x̂",
):
    """Fig. 5-1 for one image: ``x`` ``[D]`` (flattened), the encoder matrix ``W`` ``[k, D]``, the
    code ``c = W(x − x̄)`` ``[k]``, the decoder matrix ``[D, k]`` (Wᵀ for PCA) and
    ``x̂ = x̄ + Wᵀc``. Panels are titled with the real shapes; the code's numbers are written out
    (gids ``"c0"``…). Returns the figure."""
    import matplotlib.pyplot as plt

    x = _matrix(x, "x", 1)
    W, V = (
        _matrix(encoder_weight, "encoder_weight", 2),
        _matrix(decoder_weight, "decoder_weight", 2),
    )
    k, D = W.shape
    mean = torch.zeros(D) if mean is None else _matrix(mean, "mean", 1)
    h, w = image_shape
    if x.numel() != D or V.shape != (D, k) or mean.numel() != D or h * w != D:
        raise ValueError(
            f"shapes do not fit: x {tuple(x.shape)}, W {tuple(W.shape)}, decoder "
            f"{tuple(V.shape)}, mean {tuple(mean.shape)}, image_shape {image_shape}"
        )
    c = W @ (x - mean)
    x_hat = mean + V @ c
    fig, axes = plt.subplots(
        1, 5, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1, 1.6, 0.35, 0.5, 1]}
    )
    lim = float(max(W.abs().max(), V.abs().max()))
    panels = [
        (x.reshape(h, w), f"x: input\n[{D}] = {h}×{w} image", "gray"),
        (W, f"W: encoder\n[{k}×{D}]", "RdBu_r"),
        (c[:, None], f"c = W(x − x̄)\n[{k}]", "RdBu_r"),
        (V, f"Wᵀ: decoder\n[{D}×{k}]", "RdBu_r"),
        (x_hat.reshape(h, w), f"x̂ = x̄ + Wᵀc\n[{D}] = {h}×{w}", "gray"),
    ]
    c_lim = float(c.abs().max()) or 1.0
    for i, (ax, (data, label, cmap)) in enumerate(zip(axes, panels, strict=True)):
        kw = (
            {}
            if cmap == "gray"
            else {"vmin": -(c_lim if i == 2 else lim), "vmax": c_lim if i == 2 else lim}
        )
        ax.imshow(data.numpy(), cmap=cmap, aspect="equal" if cmap == "gray" else "auto", **kw)
        ax.set_title(label, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    for i, value in enumerate(c.tolist()):
        axes[2].text(
            0,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=8,
            gid=f"c{i}",
            color="white" if abs(value) > 0.5 * c_lim else "black",
        )
    fig.suptitle(title)
    fig.tight_layout()
    for a, b in zip(
        axes[:-1], axes[1:], strict=True
    ):  # arrows between the panels, in figure coordinates
        (x0, _), (x1, _) = a.get_position().p1, b.get_position().p0
        y = (a.get_position().y0 + a.get_position().y1) / 2
        fig.add_artist(
            plt.matplotlib.patches.FancyArrowPatch(
                (x0 + 0.003, y),
                (x1 - 0.003, y),
                transform=fig.transFigure,
                arrowstyle="->",
                mutation_scale=12,
                color="0.3",
            )
        )
    return fig


def plot_noise_regions(
    centres,
    half_width,
    *,
    labels,
    samples=None,
    probe=None,
    images=None,
    title: str = "Fig. 5-3 noise on the codes: every point of a box is trained "
    "to decode to its image",
):
    """Fig. 5-3: the codes ``centres`` ``[K, 2]`` of K images, each with its noise region, the box
    centre ± ``half_width`` (a float or one per axis) — patches with gids ``"box0"``…; optional
    noisy codes seen in training ``samples`` ``[K, S, 2]``, a ``probe`` point ``[2]`` (e.g. the
    midpoint, gid ``"probe"``) and ``images``: a list of ``(xy, image [H, W])`` drawn at ``xy``.
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    from matplotlib.patches import Rectangle

    centres = _matrix(centres, "centres", 2)
    if centres.shape[1] != 2:
        raise ValueError(
            f"centres must be [K, 2] codes of a 2-D latent space, got {tuple(centres.shape)}"
        )
    hw = torch.as_tensor(half_width, dtype=torch.float32).expand(2)
    if not (hw > 0).all():
        raise ValueError(f"half_width must be > 0, got {half_width}")
    if len(labels) != len(centres):
        raise ValueError(f"{len(labels)} labels for {len(centres)} codes")
    fig, ax = plt.subplots(figsize=(6, 5))
    colours = plt.get_cmap("tab10")
    for i, (centre, label) in enumerate(zip(centres, labels, strict=True)):
        ax.add_patch(
            Rectangle(
                (centre - hw).tolist(),
                *(2 * hw).tolist(),
                facecolor=colours(i),
                alpha=0.18,
                edgecolor=colours(i),
                lw=1.2,
                gid=f"box{i}",
            )
        )
        if samples is not None:
            s = _matrix(samples[i], "samples[i]", 2)
            ax.scatter(s[:, 0], s[:, 1], s=3, color=colours(i), alpha=0.4)
        x, y = centre.tolist()
        ax.scatter(
            x,
            y,
            color=colours(i),
            s=40,
            zorder=3,
            label=f"{label}: code ({centre[0]:.2f}, {centre[1]:.2f})",
        )
    if probe is not None:
        p = _matrix(probe, "probe", 1)
        px, py = p.tolist()
        ax.scatter(
            px,
            py,
            marker="x",
            color="k",
            s=70,
            zorder=4,
            gid="probe",
            label=f"probe ({p[0]:.2f}, {p[1]:.2f})",
        )
    for xy, image in images or []:
        box = OffsetImage(_matrix(image, "image", 2).numpy(), cmap="gray", zoom=1.3)
        ax.add_artist(
            AnnotationBbox(
                box,
                (float(xy[0]), float(xy[1])),
                xybox=(0, 42),
                boxcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "0.5"},
            )
        )
    ax.autoscale_view()
    lo, hi = (centres - 2 * hw).min(0).values, (centres + 2 * hw).max(0).values
    span = hi - lo
    ax.set_xlim(lo[0].item() - 0.05 * span[0].item(), hi[0].item() + 0.05 * span[0].item())
    ax.set_ylim(
        lo[1].item() - 0.05 * span[1].item(), hi[1].item() + 0.3 * span[1].item()
    )  # room for the images
    ax.set_xlabel("code dimension 1"), ax.set_ylabel("code dimension 2")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    return fig


def plot_code_bells(
    ae_codes,
    mu,
    logvar,
    *,
    labels=None,
    n_std: float = 2.0,
    max_bells: int = 150,
    title: str = "Fig. 5-4 codes as points (AE) and as Gaussian bells (VAE)",
):
    """Fig. 5-4 in a 2-D latent space: left, a plain AE's codes ``[N, 2]`` of N images as points;
    right, each image's q(z|x) = N(μ, e^logvar) as an ellipse of ``n_std`` standard deviations
    (patches with gids ``"bell0"``…, at most ``max_bells``), translucent so that overlaps show
    darker. ``labels`` colour both by class. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse

    ae_codes = _matrix(ae_codes, "ae_codes", 2)
    mu, logvar = _matrix(mu, "mu", 2), _matrix(logvar, "logvar", 2)
    if mu.shape != logvar.shape or mu.shape[1] != 2 or ae_codes.shape != mu.shape:
        raise ValueError(
            f"expected [N, 2] codes of the same N images, got ae_codes {tuple(ae_codes.shape)}, mu "
            f"{tuple(mu.shape)}, logvar {tuple(logvar.shape)}"
        )
    if not n_std > 0:
        raise ValueError(f"n_std must be > 0, got {n_std}")
    colour = plt.get_cmap("tab10")
    lab = [0] * len(mu) if labels is None else [int(v) for v in labels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6))
    left.scatter(ae_codes[:, 0], ae_codes[:, 1], s=4, c=[colour(v % 10) for v in lab])
    left.set_title("plain AE: each image is one point", fontsize=9)
    std = (0.5 * logvar).exp()
    for i in range(min(len(mu), max_bells)):
        right.add_patch(
            Ellipse(
                mu[i].tolist(),
                2 * n_std * std[i, 0].item(),
                2 * n_std * std[i, 1].item(),
                facecolor=colour(lab[i] % 10),
                alpha=0.08,
                edgecolor="none",
                gid=f"bell{i}",
            )
        )
    right.scatter(
        mu[:max_bells, 0], mu[:max_bells, 1], s=3, c=[colour(v % 10) for v in lab[:max_bells]]
    )
    right.set_title(f"VAE: each image is a bell N(μ, σ²), drawn to ±{n_std:g}σ", fontsize=9)
    right.set_aspect("equal"), right.autoscale_view()
    for ax in (left, right):
        ax.set_xlabel("code dimension 1"), ax.set_ylabel("code dimension 2")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_code_curves(
    mu,
    logvar,
    *,
    labels,
    images=None,
    points=None,
    strip=None,
    prior: bool = True,
    title: str = "Fig. 5-4 each image's code as a distribution curve q(z|x) (编码分布曲线)",
):
    """Fig. 5-4 in a 1-D latent space, in the book's layout: every image's code drawn as a curve.

    ``mu``, ``logvar`` ``[K]``: a VAE's q(z|x) = N(μ, e^logvar) for K images (the full and the half
    moon); each becomes a bell (a line with gid ``"bell{k}"``, its numbers in the text
    ``"bell{k}-label"``), the image drawn above its peak when ``images`` (K ``[H, W]`` arrays) are
    given. ``prior`` adds N(0, 1) (gid ``"prior"``). Optional panels: ``points`` ``[K]``, a plain
    AE's codes of the same images, as points on their own axis above (gids ``"point{k}"``); and
    ``strip = (z [M], decoded [M, H, W])``, what the VAE's decoder draws at M codes, in a row below
    with each code written under its image (gids ``"z{j}"``). Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    from companion.plot.fonts import use_cjk_font

    use_cjk_font()  # the book's terms in the title
    mu, logvar = _matrix(mu, "mu", 1), _matrix(logvar, "logvar", 1)
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must both be [K], got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    if len(labels) != len(mu):
        raise ValueError(f"{len(labels)} labels for {len(mu)} codes")
    std = (0.5 * logvar).exp()
    lo = float(min((mu - 4 * std).min(), -3.0))
    hi = float(max((mu + 4 * std).max(), 3.0))
    z = torch.linspace(lo, hi, 801)
    rows = (
        [("points", 0.8)] * (points is not None)
        + [("bells", 3.0)]
        + [("strip", 1.0)] * (strip is not None)
    )
    fig, axes = plt.subplots(
        len(rows),
        1,
        figsize=(9, 1.6 * sum(h for _, h in rows)),
        gridspec_kw={"height_ratios": [h for _, h in rows]},
        squeeze=False,
    )
    panel = {name: ax for (name, _), ax in zip(rows, axes[:, 0], strict=True)}
    colour = plt.get_cmap("tab10")

    def picture(ax, image, xy, offset):
        box = OffsetImage(_matrix(image, "image", 2).numpy(), cmap="gray", zoom=1.0)
        ax.add_artist(
            AnnotationBbox(box, xy, xybox=(0, offset), boxcoords="offset points", frameon=False)
        )

    ax = panel["bells"]
    peak = 0.0
    for k, (m, s, label) in enumerate(zip(mu.tolist(), std.tolist(), labels, strict=True)):
        density = torch.distributions.Normal(m, s).log_prob(z).exp()
        ax.plot(z, density, color=colour(k), lw=1.6, gid=f"bell{k}")
        ax.fill_between(z, density, color=colour(k), alpha=0.2)
        top = 1 / (s * (2 * torch.pi) ** 0.5)
        peak = max(peak, top)
        ax.text(
            m,
            top,
            f"{label}\nμ = {m:.2f}, σ = {s:.2f}",
            ha="center",
            va="bottom",
            fontsize=8,
            gid=f"bell{k}-label",
        )
        if images is not None:
            picture(ax, images[k], (m, top), 42)
    if prior:
        ax.plot(
            z,
            torch.distributions.Normal(0.0, 1.0).log_prob(z).exp(),
            "--",
            color="0.5",
            lw=1,
            gid="prior",
            label="prior p(z) = N(0, 1)",
        )
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xlim(lo, hi), ax.set_ylim(0, peak * 1.6 if images is not None else peak * 1.25)
    ax.set_xlabel("code z (1-D latent space)"), ax.set_ylabel("density q(z|x)")
    ax.set_title("VAE: each image becomes a bell curve over the codes", fontsize=9)
    if points is not None:
        pts = _matrix(points, "points", 1)
        if len(pts) != len(mu):
            raise ValueError(f"{len(pts)} points for {len(mu)} codes")
        top = panel["points"]
        top.axhline(0, color="0.6", lw=0.8)
        for k, p in enumerate(pts.tolist()):
            top.plot([p], [0], "o", color=colour(k), ms=7, gid=f"point{k}")
            top.text(
                p, 0.35, f"{labels[k]}: {p:.2f}", ha="center", fontsize=8, gid=f"point{k}-label"
            )
        span = float(pts.max() - pts.min()) or 1.0
        top.set_xlim(float(pts.min()) - 0.3 * span, float(pts.max()) + 0.3 * span)
        top.set_ylim(-0.5, 1), top.set_yticks([])
        top.set_title(
            "plain AE: each image is one point (its code axis has its own scale)", fontsize=9
        )
    if strip is not None:
        zs, decoded = _matrix(strip[0], "strip codes", 1), _matrix(strip[1], "strip images", 3)
        if len(zs) != len(decoded):
            raise ValueError(f"{len(zs)} strip codes for {len(decoded)} decoded images")
        bottom = panel["strip"]
        bottom.set_xlim(lo, hi), bottom.set_ylim(-1, 1), bottom.set_yticks([])
        for j, (zj, image) in enumerate(zip(zs.tolist(), decoded, strict=True)):
            picture(bottom, image, (zj, 0.25), 0)
            bottom.text(zj, -0.85, f"{zj:.2f}", ha="center", fontsize=7, gid=f"z{j}")
            ax.axvline(zj, color="0.85", lw=0.6, zorder=0)
        bottom.set_xlabel("what the decoder draws at these codes")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def trace_vae(model, image: torch.Tensor, *, generator: torch.Generator | None = None) -> dict:
    """One image through a VAE, every intermediate as a CPU tensor: ``mu``, ``logvar`` (σ = log σ²),
    ``eps``, ``weight`` = exp(σ/2), ``z`` = μ + weight·ε, ``output`` (decoded mean image), and the
    loss terms ``recon`` (−log p(x|z)), ``fig_5_5_loss`` and ``kl`` (5-17)."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        raise ValueError(
            f"image must be one [C, H, W] tensor, got {getattr(image, 'shape', type(image))}"
        )
    device = model_device(model)
    x = image[None].to(device)
    with torch.no_grad():
        mu, logvar = (t[0].cpu() for t in model.encode(x))
        eps = torch.randn(mu.shape, generator=generator)
        weight = (0.5 * logvar).exp()
        z = mu + weight * eps
        out = model.decoder(z[None].to(device))
        recon = -model.decoder.log_prob(x, out)[0].cpu()
        output = model.decoder.to_image(out)[0].cpu()
    return {
        "mu": mu,
        "logvar": logvar,
        "eps": eps,
        "weight": weight,
        "z": z,
        "output": output,
        "recon": recon,
        "fig_5_5_loss": fig_5_5_loss(mu, logvar),
        "kl": kl_to_standard_normal(mu, logvar),
    }


def plot_vae_structure(
    trace: dict,
    image: torch.Tensor,
    *,
    n_values: int = 3,
    title: str = "Fig. 5-5 the VAE, with one image's real numbers",
):
    """Fig. 5-5 for one image (a :func:`trace_vae` dict): input → encoder → mean code m and
    variance code σ → weight exp(σ/2) × noise e → z = m + exp(σ/2)·e → decoder → output, with the
    first ``n_values`` numbers of every vector (gids ``"m"``, ``"sigma"``, ``"weight"``, ``"e"``,
    ``"z"``) and the two loss terms (gids ``"recon"``, ``"extra"``). Returns the figure."""
    _check_n_values(n_values)
    missing = {"mu", "logvar", "eps", "weight", "z", "output", "recon", "fig_5_5_loss", "kl"} - set(
        trace
    )
    if missing:
        raise ValueError(f"trace lacks {sorted(missing)}: make it with trace_vae(model, image)")
    d = len(trace["mu"])
    fig, ax = _canvas(13.0, 5.2, title)
    ax.imshow(
        _matrix(image.reshape(image.shape[-2:]), "image", 2).numpy(),
        cmap="gray",
        extent=(-0.6, 0.6, 1.4, 2.6),
    )
    _label(ax, 0, 1.15, "input x", fontsize=8)
    _box(ax, 1.7, 2, "encoder\n(编码器)", "encoder", BOX["encoder"], w=1.1, h=0.8, fontsize=8)
    _arrow(ax, (0.65, 2), (1.15, 2))
    _box(
        ax,
        4.1,
        3.1,
        f"m (mean code)\n{format_vector(trace['mu'], n_values)}",
        "m",
        BOX["encoder"],
        w=2.4,
        h=0.7,
    )
    _box(
        ax,
        4.1,
        0.9,
        f"σ (log-variance code)\n{format_vector(trace['logvar'], n_values)}",
        "sigma",
        BOX["encoder"],
        w=2.4,
        h=0.7,
    )
    _arrow(ax, (2.25, 2.2), (2.9, 3.0)), _arrow(ax, (2.25, 1.8), (2.9, 1.0))
    _box(
        ax,
        6.9,
        0.9,
        f"weight exp(σ/2)\n{format_vector(trace['weight'], n_values)}",
        "weight",
        BOX["backward"],
        w=2.3,
        h=0.7,
    )
    _arrow(ax, (5.3, 0.9), (5.75, 0.9))
    _box(
        ax,
        6.9,
        -0.2,
        f"noise e ~ N(0, I)\n{format_vector(trace['eps'], n_values)}",
        "e",
        BOX["backward"],
        w=2.3,
        h=0.6,
    )
    _arrow(ax, (6.9, 0.1), (6.9, 0.55))
    _label(ax, 7.25, 0.32, "×", fontsize=11)
    _box(
        ax,
        8.8,
        2.0,
        f"z = m + exp(σ/2)·e\n{format_vector(trace['z'], n_values)}\n({d} numbers)",
        "z",
        BOX["context"],
        w=2.4,
        h=0.95,
    )
    _arrow(ax, (5.3, 3.1), (7.6, 2.3)), _arrow(ax, (8.05, 0.9), (8.3, 1.5))
    _box(ax, 10.6, 2, "decoder\n(解码器)", "decoder", BOX["decoder"], w=1.1, h=0.8, fontsize=8)
    _arrow(ax, (10.0, 2), (10.05, 2))
    ax.imshow(
        _matrix(trace["output"].reshape(trace["output"].shape[-2:]), "output", 2).numpy(),
        cmap="gray",
        extent=(11.5, 12.7, 1.4, 2.6),
    )
    _arrow(ax, (11.15, 2), (11.45, 2))
    _label(ax, 12.1, 1.15, "output x̂", fontsize=8)
    _label(
        ax,
        8.3,
        0.35,
        f"reconstruction error −log p(x|z) = {trace['recon'].item():.2f}",
        gid="recon",
        fontsize=8,
        ha="left",
    )
    _label(
        ax,
        8.3,
        -0.15,
        f"extra loss Σ(exp(σ) − (1 + σ) + m²) = {trace['fig_5_5_loss'].item():.2f}"
        f"\n(= 2 × KL (5-17) = 2 × {trace['kl'].item():.2f})",
        gid="extra",
        fontsize=8,
        ha="left",
    )
    ax.set_xlim(-0.8, 12.9), ax.set_ylim(-0.7, 3.7)
    return fig
