"""Checkers for the gong-2025 stage and spectral predictions (§8 items 1-5; RECONSTRUCTED statements).

One batched training run per drawn configuration (seeds on the leading axis) is shared by the claims
(``lru_cache``); each seed is a Bernoulli trial of the claim and the count is judged by ``judge_binomial``.
The ``evaluate_*`` functions take a trajectory dict (as returned by ``numerics.gong.train.train``) so tests
can sabotage a trajectory and watch the verdict turn to ``violated``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from hypothesis import strategies as st

from twostage.numerics.gong.setting import GongConfig, losses, sample
from twostage.numerics.gong.stages import event_time, train, truncate_smallest
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_binomial, judge_ordering
from twostage.verify.prop import describe_config, run_property
from twostage.verify.verdict import Measurement, Status, combine

P_CLAIMED, RHO, DELTA = 0.9, 0.5, 0.02

STAGE_CONFIGS = st.builds(GongConfig, d_p=st.integers(6, 10), d_q=st.integers(6, 10), L=st.integers(6, 12),
                          n=st.just(48), gamma0=st.floats(0.8, 1.5), zeta=st.floats(0.4, 0.8),
                          eta1=st.floats(0.1, 0.3), eps1=st.just(0.15), steps=st.just(150))
PINNED = GongConfig(d_p=8, d_q=8, L=8, n=48, eps1=0.15, steps=150)


@lru_cache(maxsize=32)
def run(cfg: GongConfig, seeds: int, seed: int, schedule: str = "two-stage", device: str = "cpu") -> dict:
    return train(cfg, seeds, seed=seed, schedule=schedule, record_every=5, device=device)


def _seeds(ctx: Context) -> int:
    return 64 * ctx.profile.scale


def evaluate_ordering(tr: dict) -> Measurement:
    TP, TQ = event_time(tr["t"], tr["K_P"]), event_time(tr["t"], tr["K_Q"])
    ok = np.nan_to_num(TP, nan=np.inf) < np.nan_to_num(TQ, nan=np.inf)
    return judge_binomial(int(ok.sum()), len(ok), P_CLAIMED, info={"T_P_median": float(np.nanmedian(TP)),
                                                                  "T_Q_median": float(np.nanmedian(TQ))})


def _at(tr: dict, key: str, times: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(tr["t"], times), 0, len(tr["t"]) - 1)
    return tr[key][idx, np.arange(tr[key].shape[1])]


def evaluate_suppression(tr: dict, rho: float = RHO) -> Measurement:
    t1 = tr["t1"]
    if np.isnan(t1).all():
        return Measurement(Status.NOT_APPLICABLE, None, {"reason": "stage 1 never ended"})
    ok = ~np.isnan(t1)
    ratio = _at(tr, "dW_Q", np.nan_to_num(t1))[ok] / _at(tr, "dW_P", np.nan_to_num(t1))[ok]
    return judge_binomial(int((ratio <= rho).sum()), int(ok.sum()), P_CLAIMED,
                          info={"ratio_max": float(ratio.max()), "ratio_median": float(np.median(ratio)),
                                "rho": rho})


def evaluate_preservation(tr: dict, delta: float = DELTA) -> Measurement:
    t1 = tr["t1"]
    ok = ~np.isnan(t1)
    if not ok.any():
        return Measurement(Status.NOT_APPLICABLE, None, {"reason": "stage 1 never ended"})
    K1 = _at(tr, "K_P", np.nan_to_num(t1))
    after = tr["t"][:, None] >= t1[None, :]
    excess = np.where(after, tr["K_P"] - K1[None, :], -np.inf).max(0)[ok]
    return judge_binomial(int((excess <= delta).sum()), int(ok.sum()), P_CLAIMED,
                          info={"max_excess": float(excess.max()), "delta": delta})


def truncation_damage(cfg: GongConfig, tr: dict, seed: int,
                      keep: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Increase of the P-only and Q-only test losses when the smallest singular directions of W are
    removed."""
    g = torch.Generator().manual_seed(10_000 + seed)
    data = sample(cfg, tr["params"][0].shape[0], n=cfg.n_test // 4, generator=g)
    before = losses(tr["params"], *data)
    after = losses(truncate_smallest(tr["params"], keep), *data)
    return (after["K_P"] - before["K_P"]).numpy(), (after["K_Q"] - before["K_Q"]).numpy()


def evaluate_spectral(tr: dict, dP: np.ndarray, dQ: np.ndarray) -> Measurement:
    top_ok = tr["sv_Q"][-1, :, 0] > tr["sv_P"][-1, :, 0]
    trunc_ok = dP > dQ
    ok = top_ok & trunc_ok
    return judge_binomial(int(ok.sum()), len(ok), P_CLAIMED, info={
        "frac_top_Q_gt_P": float(top_ok.mean()), "frac_trunc_hurts_P_more": float(trunc_ok.mean()),
        "sv_P_median": float(np.median(tr["sv_P"][-1, :, 0])),
        "sv_Q_median": float(np.median(tr["sv_Q"][-1, :, 0]))})


def evaluate_annealing(tr_sched: dict, tr_anneal0: dict) -> Measurement:
    a = float(np.nanmedian(event_time(tr_sched["t"], tr_sched["K_P"])))
    b = float(np.nanmedian(event_time(tr_anneal0["t"], tr_anneal0["K_P"])))
    return judge_ordering(a, b, scale=max(b, 1.0), info={"exploratory": True})


def _prop(ctx: Context, fn) -> Measurement:
    """Pool the per-seed Bernoulli trials of every drawn configuration into one binomial verdict.

    Per-configuration measurements are recorded (no shrinking: a shrink would retrain dozens of
    configurations); the pooled count is judged once; ``worst`` is the configuration with the lowest
    success fraction.
    """
    recs: list[tuple[Measurement, object]] = []

    def ev(c):
        m = fn(c)
        recs.append((m, c))
        return m if m.status is not Status.VIOLATED else Measurement(Status.UNDECIDED, m.margin, m.worst,
                                                                     m.examples)

    run_property(STAGE_CONFIGS, ev, ctx.profile, examples=[PINNED])
    binom = [(m, c) for m, c in recs if "successes" in m.worst]
    if not binom:
        return combine([m for m, _ in recs]) if recs else Measurement(Status.NOT_APPLICABLE, None, {})
    k = sum(m.worst["successes"] for m, _ in binom)
    n = sum(m.worst["n"] for m, _ in binom)
    wm, wc = min(binom, key=lambda r: r[0].worst["successes"] / max(r[0].worst["n"], 1))
    return judge_binomial(k, n, P_CLAIMED, info={"configs": len(binom), "worst_config": describe_config(wc),
                                                 "worst_config_result": wm.worst})


@checker("gong-2025/stage/ordering")
def check_ordering(ctx: Context) -> Measurement:
    return _prop(ctx, lambda c: evaluate_ordering(run(c, _seeds(ctx), ctx.seed, device=ctx.device)))


@checker("gong-2025/stage/q-suppression")
def check_suppression(ctx: Context) -> Measurement:
    return _prop(ctx, lambda c: evaluate_suppression(run(c, _seeds(ctx), ctx.seed, device=ctx.device)))


@checker("gong-2025/stage/p-preservation")
def check_preservation(ctx: Context) -> Measurement:
    return _prop(ctx, lambda c: evaluate_preservation(run(c, _seeds(ctx), ctx.seed, device=ctx.device)))


@checker("gong-2025/stage/annealing-ablation")
def check_annealing(ctx: Context) -> Measurement:
    return _prop(ctx, lambda c: evaluate_annealing(run(c, 16, ctx.seed, device=ctx.device),
                                                   run(c, 16, ctx.seed, "anneal0", device=ctx.device)))


@checker("gong-2025/spectral/block-order")
def check_spectral(ctx: Context) -> Measurement:
    def ev(c):
        tr = run(c, _seeds(ctx), ctx.seed, device=ctx.device)
        return evaluate_spectral(tr, *truncation_damage(c, tr, ctx.seed))
    return _prop(ctx, ev)
