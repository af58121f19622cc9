"""Checkers for the gong-2025 stage and spectral predictions (§8 items 1-5; RECONSTRUCTED statements,
:mod:`twostage.theory.gong.stages`).

One batched training run per drawn configuration (seeds on the leading axis,
:func:`twostage.numerics.gong.stages.train`) is shared by the claims (:func:`run`, ``lru_cache``); each seed
is a Bernoulli trial of the claim. The judges count the successes of one configuration
(``judge_binomial``); :func:`pooled` pools the counts of every drawn configuration into one binomial verdict
(the ``pool`` of each check: per-configuration violations are not shrunk, a shrink would retrain dozens of
configurations). The judges take the trajectory dict, so tests hand them a sabotaged trajectory.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from twostage.numerics.gong.setting import GongConfig
from twostage.numerics.gong.stages import event_time, train, truncation_damage
from twostage.verify.check import checker, config_worst
from twostage.verify.judge import judge_binomial, judge_ordering
from twostage.verify.verdict import Measurement, Status, combine

P = "gong-2025"
P_CLAIMED, RHO, DELTA = 0.9, 0.5, 0.02
ANNEAL_SEEDS = 16

STAGE_CONFIGS = st.builds(GongConfig, d_p=st.integers(6, 10), d_q=st.integers(6, 10), L=st.integers(6, 12),
                          n=st.just(48), gamma0=st.floats(0.8, 1.5), zeta=st.floats(0.4, 0.8),
                          eta1=st.floats(0.1, 0.3), eps1=st.just(0.15), steps=st.just(150))
PINNED = GongConfig(d_p=8, d_q=8, L=8, n=48, eps1=0.15, steps=150)


@lru_cache(maxsize=32)
def run(cfg: GongConfig, seeds: int, seed: int, schedule: str = "two-stage", device: str = "cpu") -> dict:
    return train(cfg, seeds, seed=seed, schedule=schedule, record_every=5, device=device)


def _seeds(ctx) -> int:
    return 64 * ctx.profile.scale


def pooled(records: list[tuple[Measurement, GongConfig]]) -> Measurement:
    """Pool the per-seed Bernoulli trials of every drawn configuration into one binomial verdict.

    The pooled count is judged once; ``worst`` names the configuration with the lowest success fraction.
    Without any count (every configuration not applicable) the per-configuration results are combined.
    """
    binom = [(m, c) for m, c in records if "successes" in m.worst]
    if not binom:
        return combine([m for m, _ in records])
    k = sum(m.worst["successes"] for m, _ in binom)
    n = sum(m.worst["n"] for m, _ in binom)
    wm, wc = config_worst(binom, lambda m: m.worst["successes"] / max(m.worst["n"], 1))
    return judge_binomial(k, n, P_CLAIMED, info={"configs": len(binom), "worst_config": wc,
                                                 "worst_config_result": wm.worst})


def two_stage_run(cfg: GongConfig, ctx) -> dict:
    return run(cfg, _seeds(ctx), ctx.seed, device=ctx.device)


STAGES = dict(draws=STAGE_CONFIGS, examples=[PINNED], pool=pooled)


@checker(f"{P}/stage/ordering", simulate=two_stage_run, **STAGES)
def ordering(claim, cfg: GongConfig, tr: dict) -> Measurement:
    """``T_P < T_Q`` per seed (half-way event times of the P-only and Q-only losses)."""
    TP, TQ = event_time(tr["t"], tr["K_P"]), event_time(tr["t"], tr["K_Q"])
    ok = np.nan_to_num(TP, nan=np.inf) < np.nan_to_num(TQ, nan=np.inf)
    return judge_binomial(int(ok.sum()), len(ok), P_CLAIMED, info={"T_P_median": float(np.nanmedian(TP)),
                                                                  "T_Q_median": float(np.nanmedian(TQ))})


def _at(tr: dict, key: str, times: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(tr["t"], times), 0, len(tr["t"]) - 1)
    return tr[key][idx, np.arange(tr[key].shape[1])]


@checker(f"{P}/stage/q-suppression", simulate=two_stage_run, **STAGES)
def q_suppression(claim, cfg: GongConfig, tr: dict, rho: float = RHO) -> Measurement:
    """``|W_Q(t1) - W_Q(0)| <= rho |W_P(t1) - W_P(0)|`` per seed whose stage 1 ended."""
    t1 = tr["t1"]
    if np.isnan(t1).all():
        return Measurement(Status.NOT_APPLICABLE, None, {"reason": "stage 1 never ended"})
    ok = ~np.isnan(t1)
    ratio = _at(tr, "dW_Q", np.nan_to_num(t1))[ok] / _at(tr, "dW_P", np.nan_to_num(t1))[ok]
    return judge_binomial(int((ratio <= rho).sum()), int(ok.sum()), P_CLAIMED,
                          info={"ratio_max": float(ratio.max()), "ratio_median": float(np.median(ratio)),
                                "rho": rho})


@checker(f"{P}/stage/p-preservation", simulate=two_stage_run, **STAGES)
def p_preservation(claim, cfg: GongConfig, tr: dict, delta: float = DELTA) -> Measurement:
    """``K_P(t) <= K_P(t1) + delta`` for every recorded ``t >= t1``, per seed whose stage 1 ended."""
    t1 = tr["t1"]
    ok = ~np.isnan(t1)
    if not ok.any():
        return Measurement(Status.NOT_APPLICABLE, None, {"reason": "stage 1 never ended"})
    K1 = _at(tr, "K_P", np.nan_to_num(t1))
    after = tr["t"][:, None] >= t1[None, :]
    excess = np.where(after, tr["K_P"] - K1[None, :], -np.inf).max(0)[ok]
    return judge_binomial(int((excess <= delta).sum()), int(ok.sum()), P_CLAIMED,
                          info={"max_excess": float(excess.max()), "delta": delta})


def schedule_pair(cfg: GongConfig, ctx) -> dict:
    return {"two-stage": run(cfg, ANNEAL_SEEDS, ctx.seed, device=ctx.device),
            "anneal0": run(cfg, ANNEAL_SEEDS, ctx.seed, "anneal0", device=ctx.device)}


@checker(f"{P}/stage/annealing-ablation", simulate=schedule_pair, **STAGES)
def annealing_ablation(claim, cfg: GongConfig, runs: dict) -> Measurement:
    """Median ``T_P`` of the two-stage schedule before that of annealing from step 0 (exploratory)."""
    sched, anneal0 = runs["two-stage"], runs["anneal0"]
    a = float(np.nanmedian(event_time(sched["t"], sched["K_P"])))
    b = float(np.nanmedian(event_time(anneal0["t"], anneal0["K_P"])))
    return judge_ordering(a, b, scale=max(b, 1.0), info={"exploratory": True})


def run_and_truncate(cfg: GongConfig, ctx) -> dict:
    tr = run(cfg, _seeds(ctx), ctx.seed, device=ctx.device)
    dP, dQ = truncation_damage(cfg, tr, ctx.seed)
    return {**tr, "dP": dP, "dQ": dQ}


@checker(f"{P}/spectral/block-order", simulate=run_and_truncate, **STAGES)
def block_order(claim, cfg: GongConfig, tr: dict) -> Measurement:
    """Per seed: top singular value of ``W_Q`` above that of ``W_P`` at the end, and removing the smallest
    singular directions hurts the P-only loss more than the Q-only loss."""
    top_ok = tr["sv_Q"][-1, :, 0] > tr["sv_P"][-1, :, 0]
    trunc_ok = tr["dP"] > tr["dQ"]
    ok = top_ok & trunc_ok
    return judge_binomial(int(ok.sum()), len(ok), P_CLAIMED, info={
        "frac_top_Q_gt_P": float(top_ok.mean()), "frac_trunc_hurts_P_more": float(trunc_ok.mean()),
        "sv_P_median": float(np.median(tr["sv_P"][-1, :, 0])),
        "sv_Q_median": float(np.median(tr["sv_Q"][-1, :, 0]))})
