"""Checkers for the gong-2025 reconstructed setting and its derived consequences.

* ``gong-2025/setting/gd-updates``: SymPy-derived GD step vs ``torch.autograd`` on random instances.
* ``gong-2025/derived/init-gradient``: SymPy identities + Monte Carlo with antithetic initialisations.
* ``gong-2025/derived/stage1-time``: measured ``T_P(eps)`` vs the first-order estimate ``t_P(eps)``.
* ``gong-2025/derived/stage1-time-scaling``: log-log slope of ``T_P`` in ``eta1``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st

from twostage.numerics.gong.setting import GongConfig, autograd_gradients, gradients, init_params, sample
from twostage.theory.gong import signals as dv
from twostage.theory.gong.setting import score_gradient_is_outer_product
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_bound, judge_residual, judge_scaling
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

_t_est = sp.lambdify((dv.eps, dv.eta1, dv.gamma0, dv.sigma), dv.stage1_time_estimate(), "math")


@st.composite
def small_configs(draw):
    """Configurations inside the reconstructed assumptions (free parameters drawn, the rest derived)."""
    return GongConfig(d_p=draw(st.integers(2, 6)), d_q=draw(st.integers(2, 6)), L=draw(st.integers(2, 8)),
                      n=draw(st.integers(2, 16)), gamma0=draw(st.floats(0.2, 2.0)),
                      zeta=draw(st.floats(0.2, 2.0)), sigma=draw(st.floats(0.5, 1.5)),
                      sigma0=draw(st.sampled_from([1e-3, 0.1, 1.0])))


def evaluate_updates(cfg: GongConfig, seed: int = 0, grad_fn=gradients) -> Measurement:
    g = torch.Generator().manual_seed(seed)
    p, q, y = sample(cfg, 3, generator=g)
    params = init_params(cfg, 3, generator=g)
    a, b = grad_fn(params, p, q, y), autograd_gradients(params, p, q, y)
    res = max(float((x - z).abs().max() / (z.abs().max() + 1e-30)) for x, z in zip(a, b))
    return judge_residual(res, 1e-10, {"seed": seed})


@checker("gong-2025/setting/gd-updates")
def check_updates(ctx: Context) -> Measurement:
    if not score_gradient_is_outer_product():
        return Measurement(Status.VIOLATED, -1.0, {"reason": "d(x^T W z)/dW != x z^T"})
    return run_property(small_configs(), lambda c: evaluate_updates(c, ctx.seed), ctx.profile,
                        examples=[GongConfig(d_p=4, d_q=4, L=5, n=8)])


def evaluate_init_gradient(cfg: GongConfig, n: int, seed: int = 0,
                           theory_p: float | None = None) -> Measurement:
    """Monte Carlo of E grad at symmetric init (pairs W0, -W0; sigma0 tiny) vs -(1/4) m1^2 w*w*^T and 0.

    Per-prompt gradients are the SymPy-derived ones (checked against autograd by the claim above).
    """
    sym_ok = (sp.simplify(dv.m1_expr() - (dv.gamma0 + dv.sigma * sp.sqrt(2 / sp.pi))) == 0
              and all(sp.simplify(v) == 0 for v in dv.init_gradient_q()))
    if not sym_ok:
        return Measurement(Status.VIOLATED, -1.0, {"reason": "symbolic identity failed"})
    cfg = GongConfig(**{**cfg.__dict__, "sigma0": 1e-8, "n": 1})
    g = torch.Generator().manual_seed(seed)
    p, q, y = sample(cfg, n, n=1, generator=g)  # n independent prompts, one per batch slot
    WP, WQ, b = init_params(cfg, n, generator=g)
    grads = [torch.stack(x) for x in zip(gradients((WP, WQ, b), p, q, y), gradients((-WP, -WQ, b), p, q, y))]
    gP, gQ = grads[0].mean(0), grads[1].mean(0)  # antithetic average, (n, d, d)
    coef = float(dv.init_gradient_p().subs({dv.gamma0: cfg.gamma0, dv.sigma: cfg.sigma})) \
        if theory_p is None else theory_p
    theoP = torch.zeros(cfg.d_p, cfg.d_p, dtype=gP.dtype)
    theoP[0, 0] = coef
    se = lambda G: float(torch.sqrt((G.var(0) / G.shape[0]).sum()))  # noqa: E731
    errP = float(torch.linalg.matrix_norm(gP.mean(0) - theoP))
    errQ = float(torch.linalg.matrix_norm(gQ.mean(0)))
    tolP, tolQ = 5 * se(gP) + 0.02 * abs(coef), 5 * se(gQ) + 0.02 * abs(coef)
    info = {"coef_theory": coef, "coef_measured": float(gP.mean(0)[0, 0]), "errP": errP, "errQ": errQ,
            "tolP": tolP, "tolQ": tolQ, "n": n}
    return combine([judge_residual(errP, tolP, info), judge_residual(errQ, tolQ, info)])


@checker("gong-2025/derived/init-gradient")
def check_init_gradient(ctx: Context) -> Measurement:
    strat = st.builds(GongConfig, d_p=st.integers(2, 6), d_q=st.integers(2, 6), L=st.integers(2, 8),
                      gamma0=st.floats(0.2, 2.0), zeta=st.floats(0.2, 2.0), sigma=st.floats(0.5, 1.5))
    n = 4000 * ctx.profile.scale
    return run_property(strat, lambda c: evaluate_init_gradient(c, n, ctx.seed), ctx.profile,
                        examples=[GongConfig(d_p=4, d_q=4, L=8)])


def first_hit(K: np.ndarray, level: float) -> np.ndarray:
    """Per seed, first step index with ``K <= level`` (nan if never); ``K`` is ``(steps+1, seeds)``."""
    hit = K <= level
    return np.where(hit.any(0), np.argmax(hit, axis=0).astype(float), np.nan)


def p_loss_curve(cfg: GongConfig, seeds: int, seed: int = 0, eta1: float | None = None) -> np.ndarray:
    """P-only loss at every step under constant ``eta1`` (fast path: the Q block does not affect f_P)."""
    from twostage.numerics.gong.stages import train

    c = GongConfig(**{**cfg.__dict__, "eta1": eta1 or cfg.eta1, "anneal": 1.0})
    return train(c, seeds, seed=seed, schedule="constant", record_every=1, spectra=False)["K_P"]


def evaluate_stage1_time(cfg: GongConfig, seeds: int, eps: float, seed: int = 0,
                         estimate=None) -> Measurement:
    t_est = _t_est(eps, cfg.eta1, cfg.gamma0, cfg.sigma) if estimate is None else estimate
    steps = int(math.ceil(8 * _t_est(eps, cfg.eta1, cfg.gamma0, cfg.sigma)))
    K = p_loss_curve(GongConfig(**{**cfg.__dict__, "steps": steps}), seeds, seed)
    T = first_hit(K, eps)
    if np.isnan(T).any():
        return Measurement(Status.UNDECIDED, None, {"reason": "P-loss did not reach eps", "eps": eps})
    info = {"eps": eps, "t_estimate": t_est, "T_P_median": float(np.median(T))}
    if estimate is not None:  # a replaced estimate has no SymPy form (mutation tests): float judge
        return judge_bound(T, np.full_like(T, t_est), ">=", tol=1.0 / max(t_est, 1.0), info=info)
    # the claim's relational T_P >= t_P(eps) in ball arithmetic; T_P is an integer step count known to
    # one GD step (absolute error 1), the configuration values are exact inputs
    from twostage.theory.claims import load_all

    rel = load_all().get("gong-2025/derived/stage1-time").formula
    S = {s.name: s for s in rel.free_symbols}
    vals = {S["T_P"]: T, S["epsilon"]: eps, S["eta1"]: cfg.eta1, S["gamma0"]: cfg.gamma0,
            S["sigma"]: cfg.sigma}
    return judge_bound(T, None, ">=", tol=0.0, info=info, relational=rel, values=vals,
                       abs_err={S["T_P"]: 1.0}, exact=(S["epsilon"], S["eta1"], S["gamma0"], S["sigma"]))


_STAGE1 = st.builds(GongConfig, d_p=st.integers(4, 10), d_q=st.just(4), L=st.integers(8, 16), n=st.just(64),
                    gamma0=st.floats(0.6, 1.5), sigma=st.just(1.0), eta1=st.floats(0.01, 0.05))


@checker("gong-2025/derived/stage1-time")
def check_stage1_time(ctx: Context) -> Measurement:
    return run_property(_STAGE1, lambda c: evaluate_stage1_time(c, 8 * ctx.profile.scale, 0.3, ctx.seed),
                        ctx.profile, examples=[GongConfig(d_p=8, d_q=4, L=16, n=64, eta1=0.02)])


def evaluate_scaling(cfg: GongConfig, seeds: int, eps: float = 0.2, seed: int = 0, expected: float = -1.0):
    etas = cfg.eta1 * np.array([0.25, 0.5, 1.0])
    steps = int(math.ceil(6 * _t_est(eps, etas[0], cfg.gamma0, cfg.sigma)))
    c = GongConfig(**{**cfg.__dict__, "steps": max(steps, 20)})
    T = np.array([np.nanmedian(first_hit(p_loss_curve(c, seeds, seed, float(e)), eps)) for e in etas])
    if np.isnan(T).any():
        return Measurement(Status.UNDECIDED, None, {"reason": "event not reached", "T": T.tolist()})
    return judge_scaling(etas, T, expected=expected, tol=0.15, info={"eta1": etas.tolist()})


@checker("gong-2025/derived/stage1-time-scaling")
def check_stage1_scaling(ctx: Context) -> Measurement:
    strat = st.builds(GongConfig, d_p=st.integers(4, 8), d_q=st.just(2), L=st.integers(8, 16), n=st.just(48),
                      gamma0=st.floats(0.8, 2.0), eta1=st.floats(0.1, 0.4))
    return run_property(strat, lambda c: evaluate_scaling(c, 4, seed=ctx.seed), ctx.profile,
                        examples=[GongConfig(d_p=6, d_q=2, L=12, n=48, eta1=0.2)])
