"""Figures of the chen-luo-2025 experiments (Figs. 1-3 of the paper, companion versions) as PNG bytes.

Every figure marks the detected stage boundaries: the switch to attention-dominated relative change (solid),
the loss plateau (dashed; shaded where its end is known) and the step where the loss leaves it (dotted); see
:mod:`twostage.numerics.chen_luo.metrics` and :mod:`twostage.numerics.chen_luo.anchor_stages` for their
definitions. Undecided boundaries (a run that did not learn) are not drawn.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from twostage.numerics.chen_luo import metrics as MT  # noqa: E402
from twostage.publish.figures import png_bytes


def _marks(ax, bounds: dict) -> None:
    for key, style in (("switch", "-"), ("plateau", "--"), ("exit", ":")):
        if bounds.get(key) is not None:
            ax.axvline(bounds[key], color="grey", ls=style, lw=1, label=f"{key} (step {bounds[key]})")
    if bounds.get("plateau") is not None and bounds.get("plateau_end") is not None:
        ax.axvspan(bounds["plateau"], bounds["plateau_end"], color="grey", alpha=0.12)


def _series(ax, hist: dict, keys: list[str], title: str, bounds: dict, log: bool = False) -> None:
    for k in keys:
        if k in hist:
            label = k.split("/", 1)[-1] if k.count("/") == 1 and "." in k else k
            ax.plot(hist["step"], hist[k], label=label)
    _marks(ax, bounds)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("step")
    ax.legend(fontsize=6)


def training_figures(hist: dict, names: list[str], layers: int, bounds: dict) -> dict[str, bytes]:
    """Loss, relative changes (cumulative and windowed), effective ranks, Frobenius norms, Assumption-1 rates,
    singular-vector stability."""
    out = {}
    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    extra = [k for k in ("test_loss",) if k in hist]
    _series(axes[0, 0], hist, ["loss", *extra], "loss (last-token cross-entropy)", bounds)
    _series(
        axes[0, 1], hist, ["rd/outer", "rd/attention"], "relative change ||W-W0||/||W0|| per group", bounds
    )
    _series(
        axes[0, 2],
        hist,
        ["rate/outer", "rate/attention"],
        "windowed relative change between logs",
        bounds,
        log=True,
    )
    _series(axes[1, 0], hist, [f"erank/{n}" for n in names], "effective rank (Roy-Vetterli)", bounds)
    _series(axes[1, 1], hist, [f"norm/{n}" for n in names], "Frobenius norm", bounds, log=True)
    _series(
        axes[1, 2],
        hist,
        [f"{a}/l{k}" for k in range(layers) for a in ("A1", "A2")],
        "Assumption-1 satisfaction rates (adapted)",
        bounds,
    )
    fig.tight_layout()
    out["training.png"] = png_bytes(fig)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
    _series(
        ax[0],
        {**hist, "step": hist["step"][1:], **{k: v[1:] for k, v in hist.items() if k.startswith("svstab")}},
        [f"svstab/{n}" for n in names],
        "adjacent-log singular-vector stability (all)",
        bounds,
    )
    _series(
        ax[1],
        {**hist, "step": hist["step"][1:], **{k: v[1:] for k, v in hist.items() if k.startswith("svstab")}},
        [f"svstab1/{n}" for n in names],
        "adjacent-log stability of the leading singular vector",
        bounds,
    )
    fig.tight_layout()
    out["singular_vectors.png"] = png_bytes(fig)
    return out


def heatmaps(snaps: dict[int, dict[str, torch.Tensor]], steps: list[int], names: list[str]) -> bytes:
    """Cosine similarity of the neurons (columns), reordered by the leading eigenvector; one column per
    step."""
    fig, axes = plt.subplots(
        len(names), len(steps), figsize=(2.2 * len(steps), 2.2 * len(names)), squeeze=False
    )
    for j, st in enumerate(steps):
        for i, n in enumerate(names):
            ax = axes[i, j]
            ax.imshow(MT.reordered_cosine(snaps[st][n]).cpu().numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"step {st}", fontsize=8)
            if j == 0:
                ax.set_ylabel(n, fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def probe_figure(r: dict) -> bytes:
    """Stage-2 probe: log||W_Q|| against gradient-descent time with the predicted slope."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    t, ln = r["times"], r["log_norm"]
    ax.plot(t, ln, label="Q/K-only gradient descent")
    ax.plot(t, [ln[0] + r["rate_predicted"] * x for x in t], "--", label="slope log(1+eta s1)/eta")
    ax.set_xlabel("t = eta * steps")
    ax.set_ylabel("log ||W_Q||_F")
    ax.set_title(f"sigma1(F)={r['sigma1']:.3g}, measured {r['rate_measured']:.4g}", fontsize=8)
    ax.legend(fontsize=7)
    return png_bytes(fig)


def stage_figure(hist: dict, layers: int, bounds: dict, title: str = "") -> bytes:
    """§5.1 at a glance: loss and held-out accuracy, Assumption-1 satisfaction rates, the singular values of
    ``W_Q W_K^T`` (and their ratio) per block, and the groups' windowed relative changes, stages marked."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    _series(axes[0, 0], hist, ["loss", "test_loss", "test_acc"], "loss / held-out accuracy", bounds)
    _series(axes[0, 1], hist, [f"{a}/l{k}" for k in range(layers) for a in ("A1", "A2")],
            "Assumption-1 satisfaction rates", bounds)
    _series(axes[1, 0], hist, [f"{c}/l{k}" for k in range(layers) for c in ("qk_s1", "qk_s2", "qk_ratio")],
            "singular values of W_Q W_K^T (s1, s2, s2/s1)", bounds, log=True)
    _series(axes[1, 1], hist, ["rate/outer", "rate/attention"], "windowed relative change", bounds, log=True)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return png_bytes(fig)
