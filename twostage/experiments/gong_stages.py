"""``twostage run gong-synthetic``: the reconstructed synthetic two-stage experiment with figures.

The paper's synthetic configuration is not retrievable (``docs/papers/gong_2025.md`` §7.1); this runs the
RECONSTRUCTED setting in its default variant (:data:`~twostage.numerics.gong.setting.DEFAULT`; README
"gong-2025 reconstruction") batched over seeds and writes, through :mod:`twostage.runs.store`
(``results/gong-synthetic/<config-hash>/``), the trajectory table (Parquet, one row per (step, seed)) and four
PNG figures: held-out P and Q accuracies beside each part's Bayes accuracy (SymPy/mpmath,
:func:`~twostage.theory.gong.setting.bayes_accuracy_q`), per-part losses, the block signals, and the
per-block singular values over time, each with the anneal step ``t1``. The summary states, per seed, the
stage numbers of the stage claims: at ``t1`` P >= 0.95 with Q <= 0.65, at the end Q >= 0.9 with P >= 0.95."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twostage.experiments import experiment
from twostage.numerics.device import describe
from twostage.numerics.gong.growth import derived_curves
from twostage.numerics.gong.setting import DEFAULT, GongConfig
from twostage.numerics.gong.stages import KEYS, PHASES, classify, first_reach, train
from twostage.publish.figures import png_bytes
from twostage.runs.checkpoint import Checkpointer, interval
from twostage.runs.store import is_complete, run_dir, write_run
from twostage.theory.gong.setting import bayes_accuracy_p, bayes_accuracy_q


@dataclass(frozen=True)
class SyntheticRun:
    """Everything that determines a ``gong-synthetic`` run (its config hash): the setting, the number of
    seeds, the base seed and the recording interval."""

    setting: GongConfig
    seeds: int
    seed: int
    record_every: int = 5


def figures(cfg: GongConfig, tr: dict, bayes: dict[str, float]) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sympy as sp

    t, t1 = tr["t"], float(cfg.T1)
    out = {}

    def band(ax, key, color, label):
        x = np.abs(tr["S_Q"]) if key == "S_Q_abs" else tr[key]
        lo, mid, hi = np.percentile(x, [10, 50, 90], axis=1)
        ax.plot(t, mid, color=color, label=label)
        ax.fill_between(t, lo, hi, color=color, alpha=0.2)

    def finish(ax, name, title, ylabel):
        ax.axvline(t1, color="gray", ls=":", label="$t_1$ (anneal)")
        ax.set_xlabel("GD step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)
        out[name] = png_bytes(ax.figure)
        plt.close(ax.figure)

    _, ax = plt.subplots(figsize=(6, 4))
    band(ax, "test_acc_P", "C0", "P part, held-out (median, 10-90%)")
    band(ax, "test_acc_Q", "C1", "Q part, held-out (median, 10-90%)")
    ax.axhline(bayes["P"], color="C0", ls="--", lw=0.8, label=f"Bayes P = {bayes['P']:.3f}")
    ax.axhline(bayes["Q"], color="C1", ls="--", lw=0.8, label=f"Bayes Q = {bayes['Q']:.3f}")
    finish(ax, "accuracies.png", "gong-2025 (reconstructed, default variant): two stages", "accuracy")
    _, ax = plt.subplots(figsize=(6, 4))
    for k, lab, c in (("test_K_P", "P-part loss $K^1$ (held-out)", "C0"),
                      ("test_K_Q", "Q-part loss $K^2$ (held-out)", "C1")):
        band(ax, k, c, lab)
    ax.axhline(float(sp.log(2)), color="k", lw=0.5)
    ax.set_yscale("log")
    finish(ax, "losses.png", "per-part losses and stage boundary", "logistic loss")
    _, ax = plt.subplots(figsize=(6, 4))
    law = derived_curves(cfg, t)
    band(ax, "S_P", "C0", r"P signal $w^{*\top}W_Pw^*$")
    band(ax, "S_Q_abs", "C1", r"Q signal $|u^\top W_Q u|$")
    ax.plot(t, law["P_bound"], "C0--", lw=1, label="derived bound (P: linear, then logarithmic)")
    ax.plot(t, law["Q_bound"], "C1--", lw=1, label=r"derived bound (Q: linear at $R_Q$)")
    ax.set_ylim(top=1.15 * max(np.abs(tr["S_Q"]).max(), tr["S_P"].max()))
    ax.axhline(law["S_star"], color="C1", ls=":", lw=0.8, label=r"Q threshold $S_*$")
    ax.axvline(law["t_Q"], color="C1", ls="-.", lw=0.8, label=r"derived $t_Q$ (lower bound on $T_Q$)")
    finish(ax, "signals.png", "block signals over time vs the derived laws (theory/gong/growth.py)",
           "signal weight")
    _, ax = plt.subplots(figsize=(6, 4))
    for j in range(tr["sv_P"].shape[2]):
        ax.plot(t, np.median(tr["sv_P"][:, :, j], 1), color="C0", alpha=1 - 0.3 * j,
                label="P block" if j == 0 else None)
        ax.plot(t, np.median(tr["sv_Q"][:, :, j], 1), color="C1", alpha=1 - 0.3 * j,
                label="Q block" if j == 0 else None)
    ax.set_yscale("log")
    finish(ax, "spectra.png", "per-block singular values over time (top 3, median over seeds)",
           "singular value")
    return out


def long_table(tr: dict) -> dict[str, np.ndarray]:
    R, S = tr["K"].shape
    table = {"t": np.repeat(tr["t"], S), "seed": np.tile(np.arange(S), R)}
    for k in (*KEYS[1:], "eta"):
        table[k] = tr[k].reshape(-1)
    for j in range(tr["sv_P"].shape[2]):
        table[f"sv_P_{j}"] = tr["sv_P"][:, :, j].reshape(-1)
        table[f"sv_Q_{j}"] = tr["sv_Q"][:, :, j].reshape(-1)
    return table


@experiment("gong-synthetic")
def gong_synthetic(profile, device, seed: int, out: Path) -> str:
    cfg = dataclasses.replace(DEFAULT, steps=DEFAULT.steps * profile.scale)
    seeds = 32 * profile.scale
    run = SyntheticRun(cfg, seeds, seed)
    root = Path(out).parent if Path(out).name == "gong-synthetic" else Path(out)
    if is_complete(run_dir(root, "gong-synthetic", run)):
        return f"gong-synthetic ({profile.name}): already complete -> {run_dir(root, 'gong-synthetic', run)}"
    ck = Checkpointer(run_dir(root, "gong-synthetic", run), interval(cfg.steps), label="gong-synthetic")
    t0 = time.perf_counter()
    tr = train(cfg, seeds, seed=seed, device=device, record_every=run.record_every, checkpoint=ck)
    wall = time.perf_counter() - t0
    bayes = {"P": bayes_accuracy_p(cfg.gamma0, cfg.sigma, cfg.p_part),
             "Q": bayes_accuracy_q(cfg.zeta, cfg.d_q, cfg.sigma)}
    i1 = int(np.searchsorted(tr["t"], cfg.T1))
    aP, aQ = tr["test_acc_P"], tr["test_acc_Q"]
    stage1 = float(((aP[i1] >= 0.95) & (aQ[i1] <= 0.65)).mean())
    stage2 = float(((aQ[-1] >= 0.9) & (aP[-1] >= 0.95)).mean())
    TP, TQ = first_reach(tr["t"], aP, 0.95), first_reach(tr["t"], aQ, 0.9)
    meta = {"seed": seed, "seeds": seeds, "device": describe(device), "wall_s": wall, "profile": profile.name,
            "bayes_accuracy": bayes, "frac_seeds_stage1": stage1, "frac_seeds_stage2": stage2,
            "provenance": "reconstructed setting, default variant (gong-2025 body not retrievable)"}
    d = write_run(root, "gong-synthetic", run, long_table(tr), meta, extra_files=figures(cfg, tr, bayes))
    ck.clear()
    return (f"gong-synthetic (default variant): {seeds} seeds, {cfg.steps} GD steps on {describe(device)} in "
            f"{wall:.1f}s -> {d}\n"
            f"  Bayes accuracy P = {bayes['P']:.4f}, Q = {bayes['Q']:.4f} (held-out accuracies below)\n"
            f"  t1 = {cfg.T1}: median P = {np.median(aP[i1]):.3f}, Q = {np.median(aQ[i1]):.3f}; "
            f"P >= 0.95 and Q <= 0.65 for {stage1:.0%} of seeds\n"
            f"  end T = {cfg.steps}: median P = {np.median(aP[-1]):.3f}, Q = {np.median(aQ[-1]):.3f}; "
            f"Q >= 0.9 and P >= 0.95 for {stage2:.0%} of seeds\n"
            f"  median T_P(0.95) = {np.median(TP):.0f}, T_Q(0.9) = {np.median(TQ):.0f}; top sv P/Q = "
            f"{np.median(tr['sv_P'][-1, :, 0]):.2f}/{np.median(tr['sv_Q'][-1, :, 0]):.2f}")


#: The variants of the phase table (README "gong-2025 reconstruction"): each a set of switches applied to
#: :data:`DEFAULT`, from the earlier single guess (one shared loss, trained bias) to the default.
PHASE_VARIANTS = {
    "shared-loss, trained b": dict(coupling="shared", q_scale=1.0, b0=0.0, train_b=True),
    "shared-loss, weak Q, trained b": dict(coupling="shared", b0=0.0, train_b=True),
    "shared-loss, mixture .5/.25/.25, trained b": dict(coupling="shared", mix=(0.5, 0.25, 0.25), b0=0.0,
                                                       train_b=True),
    "shared-loss, mixture .5/.25/.25, fixed b0": dict(coupling="shared", mix=(0.5, 0.25, 0.25)),
    "parallel, trained b": dict(q_scale=1.0, b0=0.0, train_b=True),
    "parallel, weak Q, trained b": dict(b0=0.0, train_b=True),
    "parallel, Q not weak, fixed b0": dict(q_scale=0.5),
    "default (parallel, weak Q, fixed b0)": {},
    "default, gaussian P part": dict(p_part="gaussian"),
}
PHASE_GRID = {"q_scale": (0.2, 0.25, 0.3), "eta1": (0.1, 0.2, 0.3)}  # around the default, its switches


def phase_cells() -> list[tuple[str, GongConfig]]:
    cells = [(name, dataclasses.replace(DEFAULT, **kw)) for name, kw in PHASE_VARIANTS.items()]
    cells += [(f"default, q_scale={qs}, eta1={e}", dataclasses.replace(DEFAULT, q_scale=qs, eta1=e))
              for qs in PHASE_GRID["q_scale"] for e in PHASE_GRID["eta1"]]
    return cells


def phase_figure(rows: dict[str, list]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = rows["cell"]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    left = np.zeros(len(names))
    for j, ph in enumerate(PHASES):
        v = np.asarray(rows[ph], dtype=float)
        ax.barh(names, v, left=left, color=f"C{j}", label=ph)
        left += v
    ax.invert_yaxis()
    ax.set_xlabel("fraction of seeds")
    ax.legend(fontsize=7, ncol=len(PHASES), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    out = png_bytes(fig)
    plt.close(fig)
    return out


@experiment("gong-phase")
def gong_phase(profile, device, seed: int, out: Path) -> str:
    """Phase table of the reconstruction family: per cell (variant or grid point), the fraction of seeds in
    each phase of :func:`~twostage.numerics.gong.stages.classify`, with both parts' Bayes accuracies."""
    seeds = 16 * profile.scale
    rows: dict[str, list] = {k: [] for k in ("cell", *PHASES, "bayes_P", "bayes_Q", "median_T_P",
                                             "median_T_Q", "config")}
    t0 = time.perf_counter()
    for name, cfg in phase_cells():
        tr = train(cfg, seeds, seed=seed, device=device, record_every=10, spectra=False)
        ph = classify(cfg, tr)
        rows["cell"].append(name)
        for k in PHASES:
            rows[k].append(float((ph == k).mean()))
        rows["bayes_P"].append(bayes_accuracy_p(cfg.gamma0, cfg.sigma, cfg.p_part))
        rows["bayes_Q"].append(bayes_accuracy_q(cfg.zeta, cfg.d_q, cfg.sigma))
        rows["median_T_P"].append(float(np.median(first_reach(tr["t"], tr["test_acc_P"], 0.95))))
        rows["median_T_Q"].append(float(np.median(first_reach(tr["t"], tr["test_acc_Q"], 0.9))))
        rows["config"].append(repr({k: v for k, v in dataclasses.asdict(cfg).items()
                                    if v != getattr(DEFAULT, k)}))
    wall = time.perf_counter() - t0
    table = {k: np.asarray(v) for k, v in rows.items()}
    meta = {"seed": seed, "seeds": seeds, "device": describe(device), "wall_s": wall, "profile": profile.name,
            "provenance": "reconstructed setting (gong-2025 body not retrievable)"}
    d = write_run(Path(out).parent if Path(out).name == "gong-phase" else Path(out), "gong-phase",
                  {"cells": [c for c, _ in phase_cells()], "seeds": seeds, "base": DEFAULT}, table, meta,
                  extra_files={"phases.png": phase_figure(rows)})
    lines = [f"{c:<44} " + " ".join(f"{k}={v:.2f}" for k in PHASES if (v := rows[k][i]) > 0)
             for i, c in enumerate(rows["cell"])]
    return f"gong-phase: {len(lines)} cells x {seeds} seeds in {wall:.1f}s -> {d}\n  " + "\n  ".join(lines)
