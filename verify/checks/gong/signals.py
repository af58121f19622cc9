"""Checkers for the gong-2025 derived signals of the reconstructed setting
(:mod:`twostage.theory.gong.signals`, DERIVED; the numerics are :mod:`twostage.numerics.gong.signals`).

* ``gong-2025/derived/init-gradient``: SymPy identities (``E|g| = sqrt(2/pi)``, ``E[yq] = E[q] = 0``), then
  a Monte Carlo with antithetic initialisations against the claim's coefficient ``G_P = -(1/4) m1^2``.
* ``gong-2025/derived/stage1-time``: measured ``T_P(eps)`` against the claim's relational
  ``T_P >= t_P(eps)`` in ball arithmetic.
* ``gong-2025/derived/stage1-time-scaling``: log-log slope of ``T_P`` in ``eta1`` against the claim's
  ``alpha`` (``-1``).

Each judge reads the claim's own formula (``claim.formula``), so a test hands it an edited formula (a wrong
coefficient, estimate or exponent) and sees the verdict turn.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st

from twostage.numerics.gong import signals as ns
from twostage.numerics.gong.setting import GongConfig
from twostage.theory.gong import signals as dv
from twostage.verify.check import checker
from twostage.verify.judge import as_relation, judge_bound, judge_residual, judge_scaling
from twostage.verify.verdict import Measurement, Status, combine

P = "gong-2025"
EPS_TIME = 0.3  # the P-loss level of derived/stage1-time
SCALING_SEEDS = 4


@lru_cache(maxsize=1)
def symbolic_identities_hold() -> bool:
    """``m1 = gamma0 + sigma sqrt(2/pi)`` and ``E[yq] = E[q] = 0`` (SymPy; the derivation's inputs)."""
    return (sp.simplify(dv.m1_expr() - (dv.gamma0 + dv.sigma * sp.sqrt(2 / sp.pi))) == 0
            and all(sp.simplify(v) == 0 for v in dv.init_gradient_q()))


def init_gradient_sample(cfg: GongConfig, ctx) -> dict:
    n = 4000 * ctx.profile.scale
    gP, gQ = ns.antithetic_init_gradient(cfg, n, ctx.seed)
    return {"gP": gP, "gQ": gQ}


@checker(f"{P}/derived/init-gradient",
         draws=st.builds(GongConfig, d_p=st.integers(2, 6), d_q=st.integers(2, 6), L=st.integers(2, 8),
                         gamma0=st.floats(0.2, 2.0), zeta=st.floats(0.2, 2.0), sigma=st.floats(0.5, 1.5)),
         simulate=init_gradient_sample, examples=[GongConfig(d_p=4, d_q=4, L=8)])
def init_gradient(claim, cfg: GongConfig, data: dict) -> Measurement:
    """Monte Carlo of E grad at symmetric init vs ``claim.formula``'s ``G_P w* w*^T`` (P block) and 0 (Q).

    Tolerance: 5 standard errors of the antithetic mean plus 2% of ``|G_P|``.
    """
    if not symbolic_identities_hold():
        return Measurement(Status.VIOLATED, -1.0, {"reason": "symbolic identity failed"})
    gP, gQ = data["gP"], data["gQ"]
    coef = float(claim.formula.rhs.subs({dv.gamma0: cfg.gamma0, dv.sigma: cfg.sigma}))
    theoP = torch.zeros(cfg.d_p, cfg.d_p, dtype=gP.dtype)
    theoP[0, 0] = coef
    errP = float(torch.linalg.matrix_norm(gP.mean(0) - theoP))
    errQ = float(torch.linalg.matrix_norm(gQ.mean(0)))
    tolP, tolQ = 5 * ns.standard_error(gP) + 0.02 * abs(coef), 5 * ns.standard_error(gQ) + 0.02 * abs(coef)
    info = {"coef_theory": coef, "coef_measured": float(gP.mean(0)[0, 0]), "errP": errP, "errQ": errQ,
            "tolP": tolP, "tolQ": tolQ, "n": gP.shape[0]}
    # the formula is the P block's (a flipped "=" judged as written); the Q block's zero: the derivation's
    p_block = as_relation(claim.formula, judge_residual(errP, tolP, info))
    return combine([p_block, judge_residual(errQ, tolQ, info)])


@lru_cache(maxsize=8)
def _estimate(rhs: sp.Expr):
    """``rhs`` as a float function of ``(epsilon, eta1, gamma0, sigma)`` (the claim's ``t_P``)."""
    return sp.lambdify((dv.eps, dv.eta1, dv.gamma0, dv.sigma), rhs, "math")


def stage1_time_sample(cfg: GongConfig, ctx) -> dict:
    return {"T": ns.stage1_times(cfg, 8 * ctx.profile.scale, EPS_TIME, ctx.seed), "eps": EPS_TIME}


@checker(f"{P}/derived/stage1-time",
         draws=st.builds(GongConfig, d_p=st.integers(4, 10), d_q=st.just(4), L=st.integers(8, 16),
                         n=st.just(64), gamma0=st.floats(0.6, 1.5), sigma=st.just(1.0),
                         eta1=st.floats(0.01, 0.05)),
         simulate=stage1_time_sample, examples=[GongConfig(d_p=8, d_q=4, L=16, n=64, eta1=0.02)])
def stage1_time(claim, cfg: GongConfig, data: dict) -> Measurement:
    """``T_P >= t_P(eps)`` (``claim.formula``) per seed, in ball arithmetic: ``T_P`` is an integer step count
    known to one GD step (absolute error 1); the configuration values are exact inputs."""
    T, eps = data["T"], data["eps"]
    if np.isnan(T).any():
        return Measurement(Status.UNDECIDED, None, {"reason": "P-loss did not reach eps", "eps": eps})
    rel = claim.formula
    info = {"eps": eps, "t_estimate": _estimate(rel.rhs)(eps, cfg.eta1, cfg.gamma0, cfg.sigma),
            "T_P_median": float(np.median(T))}
    S = {s.name: s for s in rel.free_symbols}
    named = {"T_P": T, "epsilon": eps, "eta1": cfg.eta1, "gamma0": cfg.gamma0, "sigma": cfg.sigma}
    vals = {S[k]: v for k, v in named.items() if k in S}
    return judge_bound(rel, vals, tol=0.0, exact=tuple(S[k] for k in named if k != "T_P" and k in S),
                       abs_err={S["T_P"]: 1.0}, info=info)


def stage1_sweep_sample(cfg: GongConfig, ctx) -> dict:
    etas, T = ns.stage1_time_sweep(cfg, SCALING_SEEDS, seed=ctx.seed)
    return {"eta1": etas, "T": T}


@checker(f"{P}/derived/stage1-time-scaling",
         draws=st.builds(GongConfig, d_p=st.integers(4, 8), d_q=st.just(2), L=st.integers(8, 16),
                         n=st.just(48), gamma0=st.floats(0.8, 2.0), eta1=st.floats(0.1, 0.4)),
         simulate=stage1_sweep_sample, examples=[GongConfig(d_p=6, d_q=2, L=12, n=48, eta1=0.2)])
def stage1_time_scaling(claim, cfg: GongConfig, data: dict) -> Measurement:
    """Fitted log-log slope of the median ``T_P`` in ``eta1`` within 0.15 of the claim's ``alpha``."""
    etas, T = data["eta1"], data["T"]
    if np.isnan(T).any():
        return Measurement(Status.UNDECIDED, None, {"reason": "event not reached", "T": T.tolist()})
    return judge_scaling(etas, T, expected=float(claim.formula.rhs), tol=0.15, info={"eta1": etas.tolist()})
