"""``twostage run gong-synthetic``: the reconstructed synthetic two-stage experiment with figures.

The paper's synthetic configuration is not retrievable (``docs/papers/gong_2025.md`` §7.1); this runs
the RECONSTRUCTED setting (:class:`~twostage.numerics.gong.setting.GongConfig`) batched over seeds and writes,
through :mod:`twostage.runs.store` (``results/gong-synthetic/<config-hash>/``), the trajectory table
(Parquet, one row per (step, seed)) and three PNG figures: block signal growth vs the derived first-order
estimate ``S_P(t) ~ eta1 m1^2 t / 4``, per-part losses with the stage boundary ``t1``, block spectra over
time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twostage.experiments import experiment
from twostage.numerics.device import describe
from twostage.numerics.gong.setting import GongConfig
from twostage.numerics.gong.stages import event_time, train
from twostage.publish.figures import png_bytes
from twostage.runs.checkpoint import Checkpointer, interval
from twostage.runs.store import is_complete, run_dir, write_run


@dataclass(frozen=True)
class SyntheticRun:
    """Everything that determines a ``gong-synthetic`` run (its config hash): the setting, the number of
    seeds, the base seed and the recording interval."""

    setting: GongConfig
    seeds: int
    seed: int
    record_every: int = 5


def figures(cfg: GongConfig, tr: dict) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sympy as sp

    from twostage.theory.gong import signals as dv

    m1 = float(dv.m1_expr().subs({dv.gamma0: cfg.gamma0, dv.sigma: cfg.sigma}))
    t = tr["t"]
    t1 = float(np.nanmedian(tr["t1"])) if not np.isnan(tr["t1"]).all() else None
    out = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, np.median(tr["S_P"], 1), label=r"P signal $w^{*\top}W_Pw^*$ (median)")
    ax.plot(t, np.median(np.abs(tr["S_Q"]), 1), label=r"Q signal $|u^\top W_Qu|$ (median)")
    ax.plot(t, cfg.eta1 * m1**2 * t / 4, "k--", label=r"derived first order $\eta_1 m_1^2 t/4$")
    ax.set_ylim(0, 1.3 * float(np.max(tr["S_P"])))
    if t1 is not None:
        ax.axvline(t1, color="gray", ls=":", label="$t_1$ (median)")
    ax.set_xlabel("GD step")
    ax.legend(fontsize=8)
    ax.set_title("gong-2025 (reconstructed): block signal growth")
    out["signals.png"] = png_bytes(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, lab in (("K_P", "P-only loss"), ("K_Q", "Q-only loss"), ("K", "full loss")):
        ax.plot(t, np.median(tr[k], 1), label=lab)
    if t1 is not None:
        ax.axvline(t1, color="gray", ls=":", label="$t_1$ (median)")
    ax.axhline(float(sp.log(2)), color="k", lw=0.5)
    ax.set_yscale("log")
    ax.set_xlabel("GD step")
    ax.legend(fontsize=8)
    ax.set_title("per-part losses and stage boundary")
    out["losses.png"] = png_bytes(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for j in range(tr["sv_P"].shape[2]):
        ax.plot(t, np.median(tr["sv_P"][:, :, j], 1), color="C0", alpha=1 - 0.25 * j,
                label="P block" if j == 0 else None)
        ax.plot(t, np.median(tr["sv_Q"][:, :, j], 1), color="C1", alpha=1 - 0.25 * j,
                label="Q block" if j == 0 else None)
    ax.set_xlabel("GD step")
    ax.set_ylabel("top singular values (median over seeds)")
    ax.legend(fontsize=8)
    ax.set_title("block spectra over time")
    out["spectra.png"] = png_bytes(fig)
    plt.close(fig)
    return out


def long_table(tr: dict) -> dict[str, np.ndarray]:
    R, S = tr["K"].shape
    table = {"t": np.repeat(tr["t"], S), "seed": np.tile(np.arange(S), R)}
    for k in ("K", "K_P", "K_Q", "acc", "acc_P", "acc_Q", "S_P", "S_Q", "dW_P", "dW_Q", "eta"):
        table[k] = tr[k].reshape(-1)
    for j in range(tr["sv_P"].shape[2]):
        table[f"sv_P_{j}"] = tr["sv_P"][:, :, j].reshape(-1)
        table[f"sv_Q_{j}"] = tr["sv_Q"][:, :, j].reshape(-1)
    return table


@experiment("gong-synthetic")
def gong_synthetic(profile, device, seed: int, out: Path) -> str:
    cfg = GongConfig(d_p=16, d_q=16, L=16, n=64 * profile.scale, steps=300 * profile.scale, eps1=0.1)
    seeds = 16 * profile.scale
    run = SyntheticRun(cfg, seeds, seed)
    root = Path(out).parent if Path(out).name == "gong-synthetic" else Path(out)
    if is_complete(run_dir(root, "gong-synthetic", run)):
        return f"gong-synthetic ({profile.name}): already complete -> {run_dir(root, 'gong-synthetic', run)}"
    ck = Checkpointer(run_dir(root, "gong-synthetic", run), interval(cfg.steps), label="gong-synthetic")
    t0 = time.perf_counter()
    tr = train(cfg, seeds, seed=seed, device=device, record_every=run.record_every, checkpoint=ck)
    wall = time.perf_counter() - t0
    TP, TQ = event_time(tr["t"], tr["K_P"]), event_time(tr["t"], tr["K_Q"])
    meta = {"seed": seed, "seeds": seeds, "device": describe(device), "wall_s": wall, "profile": profile.name,
            "provenance": "reconstructed setting (gong-2025 body not retrievable)"}
    d = write_run(root, "gong-synthetic", run, long_table(tr), meta, extra_files=figures(cfg, tr))
    ck.clear()
    return (f"gong-synthetic: {seeds} seeds, {cfg.steps} GD steps on {describe(device)} in {wall:.1f}s "
            f"-> {d}\n"
            f"  median T_P = {np.nanmedian(TP):.0f}, median T_Q = {np.nanmedian(TQ):.0f}, "
            f"median t1 = {np.nanmedian(tr['t1']):.0f}; final K_P = {np.median(tr['K_P'][-1]):.3f}, "
            f"K_Q = {np.median(tr['K_Q'][-1]):.3f}; top sv P/Q = {np.median(tr['sv_P'][-1, :, 0]):.2f}/"
            f"{np.median(tr['sv_Q'][-1, :, 0]):.2f}")
