"""Checkers for the derived signal-growth laws and the Q stage time of gong-2025's default variant
(:mod:`twostage.theory.gong.growth`, DERIVED; numerics :mod:`twostage.numerics.gong.growth`).

* ``derived/p-signal-growth`` and ``derived/q-signal-growth``: the claim's relational
  ``DeltaS <= DeltaH * rate(...)`` at every recorded interval -- every GD step of the first ``2 T1`` steps
  (:func:`~twostage.numerics.gong.growth.early_run`, ``EARLY_SEEDS`` seeds) and every 10 steps after them
  in the stage claims' run (the same cached run, :func:`twostage.verify.checks.gong.stages.run`). A rate
  that does not depend on the signal (Q) bounds the growth from the first record on (cumulative
  intervals); the P rate depends on ``S_P`` and is judged per interval. The laws are *expected* updates
  (over the training sample and the initialisation), so they are judged on the mean over seeds, each mean a
  ball of three standard errors over seeds (the label balance of 128 prompts alone moves one seed's Q rate
  by ~9%).
* ``derived/q-stage-time``: the claim's ``T_Q >= t_Q`` per seed, ``T_Q`` known to the 10-step record grid.
* ``derived/q-stage-time-scaling``: the log-log slope of the median ``T_Q`` in ``q_scale`` at one constant
  rate against the claim's ``beta``.

Every judge reads ``claim.formula`` (configuration values are put in by symbol name, :func:`configured`), so
a test hands it an edited formula (a wrong constant, exponent or a flipped relation) or a sabotaged
trajectory.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import sympy as sp

from twostage.numerics.gong import growth as ng
from twostage.numerics.gong.setting import DEFAULT, GongConfig
from twostage.numerics.gong.stages import first_reach
from twostage.theory.gong import growth as th
from twostage.verify.check import checker
from twostage.verify.checks.gong import stages as gst
from twostage.verify.judge import judge_bound, judge_scaling
from twostage.verify.verdict import Measurement, Status, combine

P = "gong-2025"
RECORD = 10  # record grid of the stage claims' run (gst.run)
SCALING_SEEDS = 4
#: seeds of the early every-step run (no held-out data, 40 steps: cheap): the Q law is nearly attained in the
#: first steps (measured/derived rate ~0.9 in the default), so its mean needs a small standard error to decide
EARLY_SEEDS = 64
Q_SCALES = (0.2, 0.25, 0.3)


def config_values(cfg: GongConfig) -> dict[str, float]:
    """Configuration values by the claims' symbol names (``eta`` is the constant rate ``eta1``; ``nu_minus``
    the folded-normal mean of the configuration, :func:`~twostage.theory.gong.growth.nu_minus`)."""
    return {"gamma0": cfg.gamma0, "sigma": cfg.sigma, "zeta": cfg.zeta, "q_scale": cfg.q_scale, "b0": cfg.b0,
            "d_q": cfg.d_q, "eta1": cfg.eta1, "eta2": cfg.eta2, "T1": cfg.T1, "eta": cfg.eta1,
            "nu_minus": th.nu_minus_value(cfg.zeta, cfg.d_q, cfg.sigma)}


def configured(rel: sp.Basic, cfg: GongConfig) -> sp.Basic:
    """The claim's relational with the configuration values put in by symbol name, evaluated to 30 digits:
    what is left are the measured symbols (the configuration values are exact inputs)."""
    v = config_values(cfg)
    put = rel.subs({s: v[s.name] for s in rel.free_symbols if s.name in v})
    return put if put in (sp.true, sp.false) else sp.N(put, 30)  # an edited formula SymPy can decide


@lru_cache(maxsize=8)
def _early(cfg: GongConfig, seeds: int, seed: int, device: str) -> dict:
    return ng.early_run(cfg, seeds, seed, device=device)


def growth_runs(cfg: GongConfig, ctx) -> dict:
    """The early every-step run and the stage claims' run (cached, shared with ``stage/*``)."""
    seeds = EARLY_SEEDS * ctx.profile.scale
    return {"early": _early(cfg, seeds, ctx.seed, ctx.device), "full": gst.two_stage_run(cfg, ctx)}


def seed_mean_increments(tr: dict, key: str, cfg: GongConfig,
                         cumulative: bool = False) -> dict[str, np.ndarray]:
    """Per recorded interval: mean over seeds of ``DeltaS`` and of ``S`` at its start, ``DeltaH``, and three
    standard errors of the mean ``DeltaS``. ``cumulative``: every interval starts at the first record (for a
    rate that does not depend on the signal: the growth accumulates while its noise averages out)."""
    seeds = np.asarray(tr[key]).shape[1]
    if key == "S_Q":  # the Q knowledge is carried by either sign of u^T W_Q u (the a_l are symmetric)
        tr = {"t": tr["t"], key: np.abs(tr[key])}
    inc = ng.increments(tr, key, cfg, cumulative=cumulative)
    dS = inc["DeltaS"].reshape(-1, seeds)
    return {"DeltaS": dS.mean(1), "S": inc["S"].reshape(-1, seeds).mean(1),
            "DeltaH": inc["DeltaH"].reshape(-1, seeds)[:, 0],
            "err": 3 * dS.std(1, ddof=1) / np.sqrt(seeds)}


def _max_ratio(rel, vals: dict, dS) -> float:
    """Largest measured ``DeltaS`` over the bound's right-hand side (diagnostic; < 1 where an upper bound
    holds on the means)."""
    rest = [s for s in vals if s is not dS]
    bound = np.broadcast_to(sp.lambdify(rest, rel.rhs, "numpy")(*(vals[s] for s in rest)), vals[dS].shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nanmax(vals[dS] / bound))


def _judge_growth(claim, cfg: GongConfig, runs: dict, key: str) -> Measurement:
    rel = configured(claim.formula, cfg)
    S = {s.name: s for s in rel.free_symbols}
    dS_name = f"Delta{key}"
    cumulative = key not in S  # a rate free of the signal bounds the growth from the first record on
    parts, covered = [], -np.inf
    for name, tr in runs.items():  # a later run is judged on the intervals ending after the earlier ones
        inc = seed_mean_increments(tr, key, cfg, cumulative)
        keep = np.asarray(tr["t"][1:]) > covered
        covered = max(covered, float(tr["t"][-1]))
        named = {dS_name: inc["DeltaS"][keep], key: inc["S"][keep], "DeltaH": inc["DeltaH"][keep]}
        vals = {S[k]: v for k, v in named.items() if k in S}
        info = {"run": name, "cumulative": cumulative, "max_ratio": _max_ratio(rel, vals, S[dS_name])}
        parts.append(judge_bound(rel, vals, tol=0.0, exact=tuple(s for k, s in S.items() if k != dS_name),
                                 abs_err={S[dS_name]: inc["err"][keep]}, info=info, times=tr["t"][1:][keep]))
    return combine(parts)


GROWTH = dict(draws=gst.STAGE_CONFIGS, examples=[DEFAULT], simulate=growth_runs, cost=2)


@checker(f"{P}/derived/p-signal-growth", **GROWTH)
def p_signal_growth(claim, cfg: GongConfig, runs: dict) -> Measurement:
    """``DeltaS_P <= DeltaH m1^2 sigmoid(-x0 S_P)`` (``claim.formula``) on the seed means of every
    interval."""
    return _judge_growth(claim, cfg, runs, "S_P")


@checker(f"{P}/derived/q-signal-growth", **GROWTH)
def q_signal_growth(claim, cfg: GongConfig, runs: dict) -> Measurement:
    """``DeltaS_Q <= DeltaH R_Q`` (``claim.formula``) on the seed means of every interval."""
    return _judge_growth(claim, cfg, runs, "S_Q")


@checker(f"{P}/derived/q-stage-time", draws=gst.STAGE_CONFIGS, examples=[DEFAULT],
         simulate=gst.two_stage_run, cost=1)
def q_stage_time(claim, cfg: GongConfig, tr: dict) -> Measurement:
    """``T_Q >= t_Q`` (``claim.formula``) per seed; ``T_Q`` is the first *recorded* step with held-out Q
    accuracy >= 0.9, so it is known to the record grid (absolute error ``RECORD`` steps)."""
    TQ = first_reach(tr["t"], tr["test_acc_Q"], 0.9)
    if not np.isfinite(TQ).all():
        return Measurement(Status.UNDECIDED, None, {"reason": "Q not learned in some seed",
                                                    "T_Q": TQ.tolist()})
    rel = configured(claim.formula, cfg)
    info = {"T_Q_min": float(TQ.min()), "T_Q_median": float(np.median(TQ))}
    if not isinstance(rel, sp.core.relational.Relational):  # the configured relation SymPy decided (an edit)
        return judge_bound(rel, {}, tol=0.0, info=info)
    S = {s.name: s for s in rel.free_symbols}
    info["t_Q"] = float(rel.rhs) if rel.rhs.is_number else None
    return judge_bound(rel, {S["T_Q"]: TQ}, tol=0.0, abs_err={S["T_Q"]: float(RECORD)}, info=info)


def _constant_estimate(cfg: GongConfig):
    """``S_*/(eta R_Q)`` of the derivation (:func:`~twostage.theory.gong.growth.constant_rate_time`) as a
    float function of ``q_scale``: it only sizes the runs (how many steps to simulate)."""
    expr = th.constant_rate_time()
    v = config_values(cfg)
    put = {s: v[s.name] for s in expr.free_symbols if s is not th.q_s}
    return sp.lambdify(th.q_s, expr.subs(put), "math")


def scaling_sample(cfg: GongConfig, ctx) -> dict:
    T = ng.q_stage_times(cfg, SCALING_SEEDS, Q_SCALES, _constant_estimate(cfg), seed=ctx.seed,
                         device=ctx.device)
    return {"q_scale": np.array(Q_SCALES), "T": T}


@checker(f"{P}/derived/q-stage-time-scaling", draws=[dataclasses.replace(DEFAULT, eta1=0.2)],
         simulate=scaling_sample, cost=2)
def q_stage_time_scaling(claim, cfg: GongConfig, data: dict) -> Measurement:
    """Fitted log-log slope of the median ``T_Q`` in ``q_scale`` (constant rate) within 0.3 of the claim's
    ``beta`` (``-4``)."""
    q, T = data["q_scale"], data["T"]
    if not np.isfinite(T).all():
        return Measurement(Status.UNDECIDED, None, {"reason": "Q not learned in some run", "T": T.tolist()})
    return judge_scaling(q, T, expected=float(claim.formula.rhs), tol=0.3, info={"q_scale": q.tolist()})
