"""Numerical checkers for chen-luo-2025 §4.4 (condensation after blow-up onset) and the §4.3 sharp limit.

One draw is ``B`` Gaussian normalised initialisations ``(W_V, W1, W2)`` of width ``d`` with a random unit
direction ``v`` (eq. (4); the law of ``W_v = v W_V`` does not depend on ``v``). The *full* effective
system (7) is integrated once per draw to ``E = E_MAX``
(:func:`numerics.chen_luo.condensation.integrate_condensation`, ``W_V`` integrated, not rebuilt), every
observable of Def. 5 is computed on the record, and the result is cached per draw, so all checkers of this
module (and of ``chen_luo_condensation_ass1``/``_exact``) share it: they use the same Hypothesis strategy,
and the derandomised ``ci`` profile draws the same configurations.

Judged domains (stated in each claim's tolerance):

* **limits** (``Eq(Limit(q, t, T*), value)``): ``q`` is the argument of the claim's ``Limit``, lambdified and
  evaluated on the recorded points with ``E >= E_WINDOW`` and, for claims resting on Assumption 1, after the
  last recorded time at which Ass. 1 failed; ``judge_limit`` on ``|q - value|`` (worst column/pair), tolerance
  ``LIMIT_TOL``. A ``q`` containing ``T*`` is evaluated at both ends of the ``T*`` bracket (the larger
  distance counts) and only where the bracket moves it by less than ``T_LIMIT_TOL / 10``;
* **bounds**: the claim's relational in ball arithmetic (``judge_bound(..., relational=...)``), each measured
  float with relative error ``INTEGRATOR_TOL``.

An element whose run never satisfies Assumption 1 is ``not-applicable`` for the claims that assume it (that it
is reached is the separate claim ``ass1/reached-as``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo import condensation as cn
from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.config import require
from twostage.theory.chen_luo.condensation import prop8_constant
from twostage.theory.chen_luo.condensation_symbolic import assumption1_fractions_numpy
from twostage.theory.claims import load_all
from twostage.verify.checks import Context, checker
from twostage.verify.checks.chen_luo.elements import each_element
from twostage.verify.judge import judge_bound, judge_limit
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
E_MAX = 1e18
INTEGRATOR_RTOL = 1e-11
INTEGRATOR_TOL = 1e-9  # relative error allowed for recorded values (rtol accumulated over the run)
E_WINDOW = 1e6  # limits and "near T*" bounds are judged on the recorded points with E >= E_WINDOW
E_BOUND = 1e12  # Weyl bounds: judged up to E = 1e12 (the drift of the conserved matrices grows with E)
SVD_TOL = 1e-13  # relative rounding of the bound values (eigen/singular values of the initial state)
LIMIT_TOL = 1e-3
T_LIMIT_TOL = 1e-2  # limits of quantities containing T* (only a bracket of T* is known)
MIN_POINTS = 8
MAX_DIM = 8


@dataclass(frozen=True)
class CondensationDraw:
    """``B`` Gaussian normalised initialisations of width ``d`` (eq. (4)) and a direction ``v`` (``seed``)."""

    d: int
    B: int
    seed: int

    def __post_init__(self) -> None:
        require(isinstance(self.d, int) and 2 <= self.d <= 64, "chen-luo-2025/ass/gaussian-init",
                f"d must be in [2, 64] (pairs and sigma_2 need d >= 2), got {self.d}")
        require(isinstance(self.B, int) and self.B >= 1, "chen-luo-2025/ass/gaussian-init",
                f"B >= 1, got {self.B}")
        require(isinstance(self.seed, int) and self.seed >= 0, "chen-luo-2025/ass/gaussian-init", "seed >= 0")


def draws(B: int = 4, max_dim: int = MAX_DIM) -> st.SearchStrategy[CondensationDraw]:
    return st.builds(CondensationDraw, d=st.integers(2, max_dim), B=st.just(B),
                     seed=st.integers(0, 2**31 - 1))


PAPER_DRAW = CondensationDraw(16, 4, 0)  # the width of the paper's reference instance (notes App. C.2)


def run_draws(ctx: Context, evaluate: Callable[[CondensationDraw], Measurement]) -> Measurement:
    """``run_property`` over the shared draws (``full``: B = 16, d up to 12), the paper's width pinned. The
    Hypothesis seed is ``ctx.seed``: every checker of the group draws the same configurations under every
    profile, so each trajectory is integrated once per run (:func:`trajectories` caches it)."""
    big = ctx.profile.scale >= 8
    strategy = draws(B=16 if big else 4, max_dim=12 if big else MAX_DIM)
    return run_property(strategy, evaluate, ctx.profile, examples=[PAPER_DRAW], seed=ctx.seed)


def initialisation(cfg: CondensationDraw, device: str = "cpu"):
    """``(W_V, W1, W2, v)``: N(0, 1) entries (normalised weights) and a uniform unit ``v``."""
    g = torch.Generator().manual_seed(cfg.seed)
    WV = torch.randn(cfg.B, cfg.d, cfg.d, generator=g, dtype=torch.float64)
    W1 = torch.randn(cfg.B, cfg.d, cfg.d, generator=g, dtype=torch.float64)
    W2 = torch.randn(cfg.B, cfg.d, generator=g, dtype=torch.float64)
    v = torch.randn(cfg.d, generator=g, dtype=torch.float64)
    return tuple(x.to(device) for x in (WV, W1, W2, v / v.norm()))


def _stays_from(ok: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per element, the first index after which ``ok`` holds at every valid point (-1 if not at the end)."""
    out = np.full(ok.shape[0], -1)
    for b in range(ok.shape[0]):
        k = int(mask[b].sum())
        bad = np.flatnonzero(~ok[b, :k])
        out[b] = 0 if len(bad) == 0 else (bad[-1] + 1 if bad[-1] + 1 < k else -1)
    return out


@functools.lru_cache(maxsize=32)
def trajectories(cfg: CondensationDraw, device: str = "cpu") -> dict[str, np.ndarray]:
    """Integrate (7) once for the draw; numpy series (B, K[, ...]) of every observable the checkers judge."""
    WV0, W10, W20, v = initialisation(cfg, device)
    run = cn.integrate_condensation(WV0, W10, W20, v, E_max=E_MAX, rtol=INTEGRATOR_RTOL, atol=1e-14)
    Wv, W1, W2 = run.reduced()
    dWv, _, dW2 = ob.velocities(Wv, W1, W2)
    r1, r2 = cn.growth_ratios(Wv, W1, W2)
    s_W1, s_WV = torch.linalg.svdvals(W1), torch.linalg.svdvals(run.WV)
    K_t = W1 @ W1.transpose(-1, -2) - Wv[..., :, None] * Wv[..., None, :]
    spec = lambda M: torch.linalg.matrix_norm(M, ord=2)
    cpu = lambda x: x.detach().cpu().numpy()
    Wv0 = cn.reduce_v(WV0, v)
    K0 = cpu(W10 @ W10.transpose(-1, -2) - Wv0[:, :, None] * Wv0[:, None, :])
    out = {
        "t": cpu(run.t), "mask": cpu(run.mask), "T_lo": cpu(run.T_lo), "T_hi": cpu(run.T_hi),
        "reached": cpu(run.reached), "E": cpu(ob.energy(Wv, W1, W2)), "Edot": cpu(ob.energy_rate(Wv, W1, W2)),
        "Wv": cpu(Wv), "Wv_sq": cpu(Wv.pow(2).sum(-1)), "W2_sq": cpu(W2.pow(2).sum(-1)),
        "dW2_norm": cpu(dW2.norm(dim=-1)), "ratio_Wv": cpu(r1), "ratio_W2": cpu(r2),
        "cos_col": cpu(cn.column_cosines(run.WV, v)), "cos_xi": cpu(cn.cos_xi(Wv, W1)),
        "cos_psi": cpu(cn.cos_psi(Wv, W1, W2)), "cos_phi": cpu(cn.cos_phi(Wv, W1, W2)),
        "cos_zeta": cpu(cn.cos_zeta(Wv, W1, W2)), "bracket": cpu(cn.prop8_bracket(Wv, W1, W2)),
        "sigma2_W1": cpu(s_W1[..., 1]), "sigma2_WV": cpu(s_WV[..., 1]),
        "sigma1_W1": cpu(s_W1[..., 0]), "sigma1_WV": cpu(s_WV[..., 0]),
        "drift_K": cpu(spec(K_t - K_t[:, :1])),
        "drift_P": cpu(spec(cn.frozen_part(run.WV, v) - cn.frozen_part(WV0, v)[:, None])),
        "srank_W1": cpu(cn.stable_rank(W1)), "srank_WV": cpu(cn.stable_rank(run.WV)),
        "lam_max_K0": cpu(cn.weyl_bound_W1(Wv0, W10)), "P_norm2": cpu(cn.weyl_bound_WV(WV0, v)),
        "Pk_sq": cpu(cn.frozen_part(WV0, v).pow(2).sum(-2)), "K0": K0,
    }
    a1, a2 = assumption1_fractions_numpy(out["Wv"], cpu(W1), cpu(W2))  # the theory layer's evaluator
    out["frac_ass1"] = np.minimum(a1, a2)
    out["ass1_from"] = _stays_from(out["frac_ass1"] == 1.0, out["mask"])
    return out


def not_applicable(b: int) -> Measurement:
    return Measurement(Status.NOT_APPLICABLE, None, {"element": b, "reason": "Assumption 1 never holds"})


def _claim(cid: str):
    return load_all().get(cid)


def valid(tr: dict, b: int) -> np.ndarray:
    return np.flatnonzero(tr["mask"][b])


def window(tr: dict, b: int, ass1: bool) -> np.ndarray | None:
    """Indices judged for element ``b``: ``E >= E_WINDOW`` (and after Ass. 1 holds for good when ``ass1``);
    ``None`` when Assumption 1 never holds (the claim does not apply)."""
    k = valid(tr, b)
    keep = tr["E"][b][k] >= E_WINDOW
    if ass1:
        start = tr["ass1_from"][b]
        if start < 0:
            return None
        keep &= k >= start
    return k[keep]


# ------------------------------------------------------------------------------------------- limits
def _symbol_values(tr: dict, b: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per-point values of every symbol a limit formula may use; columns (k, or pairs ij) on the last axis."""
    n = len(idx)
    vals = {name: tr[name][b][idx] for name in ("E", "Edot", "Wv_sq", "W2_sq", "dW2_norm", "cos_zeta",
                                                 "srank_WV", "srank_W1", "cos_col", "cos_psi")}
    vals["cos_xi"] = tr["cos_xi"][b][idx].reshape(n, -1)
    vals["t"] = tr["t"][b][idx]
    return vals


def limit_distance(eq: sp.Eq, vals: dict, T_bracket: tuple[float, float]) -> np.ndarray:
    """``|q - value|`` per point (worst column) for ``eq = Eq(Limit(q, t, T*), value)``; with ``T*`` in ``q``
    the larger distance over the two ends of the bracket."""
    lim_, target = eq.lhs, eq.rhs
    if not isinstance(lim_, sp.Limit):
        raise ValueError(f"a limit claim must read Eq(Limit(q, t, T*), value), got {eq}")
    q = lim_.args[0]
    syms = sorted(q.free_symbols, key=lambda s: s.name)
    f = sp.lambdify(syms, q - target, modules="numpy")
    ends = T_bracket if any(s.name == "T_star" for s in syms) else T_bracket[:1]
    dist = None
    for T in ends:
        args = [T if s.name == "T_star" else (vals["t"] if s.name == "t" else vals[s.name]) for s in syms]
        dist_T = np.abs(np.asarray(f(*[a[:, None] if np.ndim(a) == 1 else a for a in args]), float))
        dist_T = dist_T.reshape(len(vals["t"]), -1).max(axis=1)
        dist = dist_T if dist is None else np.maximum(dist, dist_T)
    return dist


def limit_measure(cfg: CondensationDraw, formula: sp.Basic, ass1: bool, device: str = "cpu") -> Measurement:
    """Judge every ``Eq(Limit(...), value)`` of ``formula`` on every element (see the module docstring)."""
    tr = trajectories(cfg, device)
    eqs = formula.args if isinstance(formula, sp.And) else (formula,)

    def one(b: int) -> Measurement | list[Measurement]:
        idx = window(tr, b, ass1)
        if idx is None:
            return not_applicable(b)
        out = []
        lo, hi = float(tr["T_lo"][b]), float(tr["T_hi"][b])
        for eq in eqs:
            sub = idx
            tol = LIMIT_TOL
            if "T_star" in {s.name for s in eq.lhs.args[0].free_symbols}:
                t = tr["t"][b][idx]
                tol = T_LIMIT_TOL
                sub = idx[(t < lo) & (3 * (hi - lo) <= tol / 10 * (lo - t))]
            info = {"element": b, "limit": str(eq), "points": len(sub)}
            if len(sub) < MIN_POINTS:
                out.append(Measurement(Status.UNDECIDED, None, {**info, "reason": "judged window too short"}))
                continue
            vals = _symbol_values(tr, b, sub)
            dist = limit_distance(eq, vals, (lo, hi))
            info["E_last"] = float(tr["E"][b][sub[-1]])
            out.append(judge_limit(dist, tol, info, times=vals["t"]))
        return out

    return each_element(tr, cfg.B, one)


def _limit_checker(cid: str, ass1: bool) -> Callable[[Context], Measurement]:
    def check(ctx: Context) -> Measurement:
        rel = _claim(cid).formula
        return run_draws(ctx, lambda c: limit_measure(c, rel, ass1, ctx.device))

    return check


for _cid, _ass1 in ((f"{P}/thm2/condensation", True), (f"{P}/prop5/cos-xi-limit", True),
                    (f"{P}/prop5/ratio-limits", True), (f"{P}/cor1/cos-psi", True),
                    (f"{P}/prop7/cos-zeta-limit", True), (f"{P}/thm1/sharp-limit", False),
                    (f"{P}/lowrank/stable-rank", False)):
    checker(_cid)(_limit_checker(_cid, _ass1))


# ------------------------------------------------------------------------------------------- bounds
def _syms(relational) -> dict[str, sp.Symbol]:
    return {s.name: s for s in relational.free_symbols}


def positive_measure(cfg: CondensationDraw, relational, name: str, device: str = "cpu") -> Measurement:
    """Props 6, 7: ``relational`` (``cos > 0``) at every point (and index) of the Ass.-1 window."""
    tr = trajectories(cfg, device)
    sym = _syms(relational)[name]

    def one(b: int) -> Measurement:
        idx = window(tr, b, True)
        if idx is None or len(idx) == 0:
            return not_applicable(b)
        x = tr[name][b][idx]
        times = np.broadcast_to(tr["t"][b][idx].reshape((-1,) + (1,) * (x.ndim - 1)), x.shape).ravel()
        return judge_bound(None, None, _sense(relational), INTEGRATOR_TOL, {"element": b}, times=times,
                           relational=relational, values={sym: x.ravel()})

    return each_element(tr, cfg.B, one)


def _sense(relational) -> str:
    return ">=" if isinstance(relational, sp.GreaterThan | sp.StrictGreaterThan) else "<="


for _cid, _name in ((f"{P}/prop6/cos-phi-positive", "cos_phi"), (f"{P}/prop7/cos-zeta-positive", "cos_zeta")):
    def _check(ctx: Context, cid=_cid, name=_name) -> Measurement:
        rel = _claim(cid).formula
        return run_draws(ctx, lambda c: positive_measure(c, rel, name, ctx.device))

    checker(_cid)(_check)


def weyl_error(tr: dict, b: int, k: np.ndarray, which: str) -> np.ndarray:
    """Absolute error ball of the measured ``sigma_2``. Interlacing makes each bound a property of the
    conserved matrix alone (``W1 W1^T = K + W_v^T W_v``, ``W_V^T W_V = P^T P + W_v^T W_v``: for *every*
    ``W_v``), so what is decided is the bound along the computed ``W_v(t)`` with the exact ``K(0)`` (resp.
    ``P(0)``). Such a state differs from the computed one only through the measured drift of the conserved
    matrix (Weyl:
    ``|d sigma_2^2| <= ||K(t) - K(0)||_2``, resp. ``|d sigma_2| <= ||P(t) - P(0)||_2``), plus the SVD's
    backward error ``4 d eps sigma_1``; the integrator's error on the growing rank-one part cannot break
    it."""
    d = tr["Wv"].shape[-1]
    svd = 4 * d * np.finfo(float).eps * tr[f"sigma1_{which}"][b][k]
    if which == "WV":
        return tr["drift_P"][b][k] + svd
    dK, s2 = tr["drift_K"][b][k], tr["sigma2_W1"][b][k]
    return np.minimum(np.sqrt(dK), dK / np.maximum(s2, 1e-300)) + svd


def weyl_measure(cfg: CondensationDraw, relational, which: str, device: str = "cpu") -> Measurement:
    """``sigma_2(W)^(1|2) <= bound`` at every recorded point with ``E <= E_BOUND`` (``which``: W1 or WV),
    ``sigma_2`` with the error ball of :func:`weyl_error`, everything else with relative error ``SVD_TOL``."""
    tr = trajectories(cfg, device)
    s_name, b_name = (("sigma2_W1", "lam_max_K0") if which == "W1" else ("sigma2_WV", "P_norm2"))
    sym = _syms(relational)
    out = []
    for b in range(cfg.B):
        k = valid(tr, b)
        k = k[tr["E"][b][k] <= E_BOUND]
        vals = {sym[s_name]: tr[s_name][b][k], sym[b_name]: float(tr[b_name][b])}
        err = {sym[s_name]: weyl_error(tr, b, k, which)}
        info = {"element": b, "bound": float(tr[b_name][b]), "max_abs_err": float(err[sym[s_name]].max())}
        out.append(judge_bound(None, None, "<=", SVD_TOL, info, times=tr["t"][b][k],
                               relational=relational, values=vals, abs_err=err))
    return combine(out)


for _cid, _which in ((f"{P}/lowrank/weyl-W1", "W1"), (f"{P}/lowrank/weyl-WV", "WV")):
    def _check(ctx: Context, cid=_cid, which=_which) -> Measurement:
        rel = _claim(cid).formula
        return run_draws(ctx, lambda c: weyl_measure(c, rel, which, ctx.device))

    checker(_cid)(_check)


# ------------------------------------------------------------------------------------------- Prop 8
BRACKET = 1e-3  # judged where the T* bracket is below BRACKET (T_lo - t): the known T* end decides, and the
# upper side is not the construction of T_hi = t_end + E_end^{-1/3} itself
E_UPPER = 1e3  # upper side: its slack 1 - E (T*-t)^3 decays like E^{-4/3} (measured); error ball beyond


def t3_index(tr: dict, b: int) -> int:
    """First index after which Ass. 1 holds, ``cos zeta > 0`` and the Prop-8 bracket is ``<= 4`` (or -1)."""
    ok = (tr["frac_ass1"][b:b + 1] == 1.0) & (tr["cos_zeta"][b:b + 1] > 0) & (tr["bracket"][b:b + 1] <= 4.0)
    return int(_stays_from(ok, tr["mask"][b:b + 1])[0])


def prop8_measure(cfg: CondensationDraw, formula, device: str = "cpu") -> Measurement:
    """Both sides of the two-sided estimate on ``[T_3, T*)``, ``C`` from the measured ``cos Theta_2``."""
    tr = trajectories(cfg, device)
    has_C = lambda rel: "C" in _syms(rel)
    lower = next(a for a in formula.args if has_C(a))  # And() orders its arguments canonically
    upper = next(a for a in formula.args if not has_C(a))

    def one(b: int) -> Measurement | list[Measurement]:
        i3 = t3_index(tr, b)
        if i3 < 0:
            return Measurement(Status.NOT_APPLICABLE, None, {"element": b, "reason": "T_3 not reached"})
        k = valid(tr, b)
        k = k[k >= i3]
        t, E = tr["t"][b][k], tr["E"][b][k]
        lo, hi = float(tr["T_lo"][b]), float(tr["T_hi"][b])
        cos2 = float(tr["cos_zeta"][b][k].min())
        C = prop8_constant(cos2)
        info = {"element": b, "T3": float(t[0]), "cos_Theta2": cos2, "C": C}
        keep = (t < lo) & ((hi - lo) < BRACKET * (lo - t))  # both sides: where the T* bracket is negligible
        if not keep.any():
            return Measurement(Status.UNDECIDED, None, {**info, "reason": "no point outside the T* bracket"})
        sl = _syms(lower)
        out = [judge_bound(None, None, "<=", INTEGRATOR_TOL, {**info, "side": "lower"}, times=t[keep],
                           relational=lower, values={sl["C"]: C, sl["T_star"]: lo, sl["t"]: t[keep],
                                                     sl["E"]: E[keep]}, exact=(sl["t"],))]
        su = _syms(upper)
        keep &= E <= E_UPPER
        if keep.any():
            out.append(judge_bound(None, None, "<=", INTEGRATOR_TOL, {**info, "side": "upper"}, times=t[keep],
                                   relational=upper, exact=(su["t"],),
                                   values={su["E"]: E[keep], su["T_star"]: hi, su["t"]: t[keep]}))
        return out

    return each_element(tr, cfg.B, one)


@checker(f"{P}/prop8/upper-after-T3")
def check_prop8(ctx: Context) -> Measurement:
    rel = _claim(f"{P}/prop8/upper-after-T3").formula
    return run_draws(ctx, lambda c: prop8_measure(c, rel, ctx.device))
