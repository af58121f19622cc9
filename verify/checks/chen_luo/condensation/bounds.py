"""Checks of the bound claims of chen-luo-2025 §4.4 (Props 6, 7, 8) and §9 P12 (Weyl / interlacing), judged
along the shared trajectories (:mod:`.trajectory`).

Each judge evaluates the claim's own relational (``claim.formula``) in ball arithmetic
(``judge_bound(..., relational=...)``), each measured float with relative error ``INTEGRATOR_TOL``; the Weyl
bounds carry the error ball of :func:`weyl_error` instead.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from twostage.theory.chen_luo.condensation_symbolic import prop8_constant
from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.condensation.trajectory import (
    ALONG,
    E_WINDOW,
    INTEGRATOR_TOL,
    CondensationDraw,
    not_applicable,
    stays_from,
    valid,
)
from twostage.verify.checks.chen_luo.elements import each_element, first_of, relations, symbols_by_name
from twostage.verify.judge import judge_bound
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
E_BOUND = 1e12  # Weyl bounds: judged up to E = 1e12 (the drift of the conserved matrices grows with E)
SVD_TOL = 1e-13  # relative rounding of the bound values (eigen/singular values of the initial state)


# ------------------------------------------------------------------------------------------- Props 6, 7
def uniform_measure(cfg: CondensationDraw, tr: dict, formula, name: str) -> Measurement:
    """Props 6, 7: a uniform bound ``cos >= cos Theta > 0`` near ``T*`` with ``Theta`` measured. After
    Assumption 1 holds for good (``T_1``), ``cos Theta`` is the smallest value (over indices and times) on the
    recorded points before the window near ``T*`` (``E < E_WINDOW``; the first half of the points when that
    leaves fewer than 2 on either side); every relation of the formula is judged with it on the rest, up to
    ``E = E_MAX`` (an angle degrading towards ``T*`` is violated)."""
    sym = symbols_by_name(formula)
    theta = first_of((s for n_, s in sym.items() if "Theta" in n_), "cos Theta")

    def one(b: int) -> Measurement | list[Measurement]:
        start = tr["ass1_from"][b]
        if start < 0:
            return not_applicable(b)
        k = valid(tr, b)
        k = k[k >= start]
        if len(k) < 4:
            return Measurement(Status.UNDECIDED, None, {"element": b, "reason": "too few points after T_1"})
        early = k[tr["E"][b][k] < E_WINDOW]  # T_1 .. T_mid: before the window near T* (E >= E_WINDOW)
        half = len(early) if 2 <= len(early) <= len(k) - 2 else len(k) // 2
        first, second = k[:half], k[half:]
        cos_theta = float(np.min(tr[name][b][first]))
        x = tr[name][b][second]
        times = np.broadcast_to(tr["t"][b][second].reshape((-1,) + (1,) * (x.ndim - 1)), x.shape).ravel()
        info = {"element": b, "cos_Theta": cos_theta, "T_1": float(tr["t"][b][first[0]]),
                "T_mid": float(tr["t"][b][second[0]])}
        vals = {sym[name]: x.ravel(), theta: cos_theta}
        out = []
        for rel in relations(formula):
            along = sym[name] in rel.free_symbols
            out.append(judge_bound(rel, {s_: v for s_, v in vals.items() if s_ in rel.free_symbols},
                                   tol=INTEGRATOR_TOL, info={**info, "relation": str(rel)},
                                   times=times if along else None))
        return out

    return each_element(tr, cfg.B, one)


@checker(f"{P}/prop6/cos-phi-positive", **ALONG)
def cos_phi_positive(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 6: ``cos phi_i >= cos Theta_1 > 0`` for every ``i`` on ``(T_1, T*)``."""
    return uniform_measure(cfg, tr, claim.formula, "cos_phi")


@checker(f"{P}/prop7/cos-zeta-positive", **ALONG)
def cos_zeta_positive(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 7, eqs. (36)-(37): ``cos zeta >= cos Theta_2 > 0`` on ``(T_2, T*)``."""
    return uniform_measure(cfg, tr, claim.formula, "cos_zeta")


# ------------------------------------------------------------------------------------------- §9 P12 (Weyl)
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


def weyl_measure(cfg: CondensationDraw, tr: dict, relational, which: str) -> Measurement:
    """``sigma_2(W)^(1|2) <= bound`` at every recorded point with ``E <= E_BOUND`` (``which``: W1 or WV),
    ``sigma_2`` with the error ball of :func:`weyl_error`, everything else with relative error ``SVD_TOL``."""
    s_name, b_name = (("sigma2_W1", "lam_max_K0") if which == "W1" else ("sigma2_WV", "P_norm2"))
    sym = symbols_by_name(relational)
    out = []
    for b in range(cfg.B):
        k = valid(tr, b)
        k = k[tr["E"][b][k] <= E_BOUND]
        vals = {sym[s_name]: tr[s_name][b][k], sym[b_name]: float(tr[b_name][b])}
        err = {sym[s_name]: weyl_error(tr, b, k, which)}
        info = {"element": b, "bound": float(tr[b_name][b]), "max_abs_err": float(err[sym[s_name]].max())}
        out.append(judge_bound(relational, vals, tol=SVD_TOL, abs_err=err, info=info,
                               times=tr["t"][b][k]))
    return combine(out)


@checker(f"{P}/lowrank/weyl-W1", **ALONG)
def weyl_W1(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 §9 P12: ``sigma_2(W1(t))^2 <= lambda_max(K(0))`` (interlacing)."""
    return weyl_measure(cfg, tr, claim.formula, "W1")


@checker(f"{P}/lowrank/weyl-WV", **ALONG)
def weyl_WV(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 §9 P12: ``sigma_2(W_V(t)) <= ||(I - v^T v) W_V(0)||_2`` (interlacing)."""
    return weyl_measure(cfg, tr, claim.formula, "WV")


# ------------------------------------------------------------------------------------------- Prop 8
BRACKET = 1e-3  # judged where the T* bracket is below BRACKET (T_lo - t): the known T* end decides, and the
# upper side is not the construction of T_hi = t_end + E_end^{-1/3} itself
E_UPPER = 1e3  # upper side: its slack 1 - E (T*-t)^3 decays like E^{-4/3} (measured); error ball beyond


def t3_index(tr: dict, b: int) -> int:
    """First index after which Ass. 1 holds, ``cos zeta > 0`` and the Prop-8 bracket is ``<= 4`` (or -1)."""
    ok = (tr["frac_ass1"][b:b + 1] == 1.0) & (tr["cos_zeta"][b:b + 1] > 0) & (tr["bracket"][b:b + 1] <= 4.0)
    return int(stays_from(ok, tr["mask"][b:b + 1])[0])


def after_T3(tr: dict, b: int, i3: int) -> tuple | Measurement:
    """Element ``b``'s recorded points from ``T_3`` (index ``i3``) on: ``(indices, t, E, T_lo, T_hi,
    cos Theta_2)`` with ``cos Theta_2`` the smallest ``cos zeta`` there; ``not-applicable`` before ``T_3``."""
    if i3 < 0:
        return Measurement(Status.NOT_APPLICABLE, None, {"element": b, "reason": "T_3 not reached"})
    k = valid(tr, b)
    k = k[k >= i3]
    return (k, tr["t"][b][k], tr["E"][b][k], float(tr["T_lo"][b]), float(tr["T_hi"][b]),
            float(tr["cos_zeta"][b][k].min()))


def prop8_measure(cfg: CondensationDraw, tr: dict, formula) -> Measurement:
    """Both sides of the two-sided estimate on ``[T_3, T*)``, ``C`` from the measured ``cos Theta_2``."""
    has_C = lambda rel: "C" in symbols_by_name(rel)
    lower = first_of((a for a in formula.args if has_C(a)), "side with C")  # And() orders its arguments
    upper = first_of((a for a in formula.args if not has_C(a)), "side without C")

    def one(b: int) -> Measurement | list[Measurement]:
        got = after_T3(tr, b, t3_index(tr, b))
        if isinstance(got, Measurement):
            return got
        k, t, E, lo, hi, cos2 = got
        C = prop8_constant(cos2)
        info = {"element": b, "T3": float(t[0]), "cos_Theta2": cos2, "C": C}
        keep = (t < lo) & ((hi - lo) < BRACKET * (lo - t))  # both sides: where the T* bracket is negligible
        if not keep.any():
            return Measurement(Status.UNDECIDED, None, {**info, "reason": "no point outside the T* bracket"})
        sl = symbols_by_name(lower)
        out = [judge_bound(lower, {sl["C"]: C, sl["T_star"]: lo, sl["t"]: t[keep], sl["E"]: E[keep]},
                           tol=INTEGRATOR_TOL, exact=(sl["t"],), info={**info, "side": "lower"},
                                                                                                         times=t[keep])]
        su = symbols_by_name(upper)
        keep &= E <= E_UPPER
        if keep.any():
            out.append(judge_bound(upper, {su["E"]: E[keep], su["T_star"]: hi, su["t"]: t[keep]},
                                   tol=INTEGRATOR_TOL, exact=(su["t"],), info={**info, "side": "upper"},
                                   times=t[keep]))
        return out

    return each_element(tr, cfg.B, one)


@checker(f"{P}/prop8/upper-after-T3", **ALONG)
def prop8_two_sided(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 8, eqs. (38)-(39), with Thm 1 (11): ``C^-3 (T*-t)^-3 <= E <= (T*-t)^-3`` on
    ``[T_3, T*)``."""
    return prop8_measure(cfg, tr, claim.formula)


S_QUANTILES = (0.0, 0.2, 0.4, 0.6, 0.8)  # where s is taken on [T_3, T*) for eq. (38)


def t3_proof_index(tr: dict, b: int) -> int:
    """The ``T_3`` of the proof of (38): after it Ass. 1 holds, ``cos zeta > 0`` and the whole factor of
    ``Edot = (||dW2|| ||W2||)^{4/3} (||dW2||/||W2||^2)^{2/3} [bracket]`` beyond the first power stays
    ``<= 4``, i.e. ``Edot <= C_0 E^{4/3}`` (the bracket alone, :func:`t3_index`, is not enough: measured,
    (38) fails right after it while ``||dW2||/||W2||^2`` is still above 1)."""
    sl = slice(b, b + 1)
    factor = tr["bracket"][sl] * (tr["dW2_norm"][sl] / tr["W2_sq"][sl]) ** (2.0 / 3.0)
    ok = (tr["frac_ass1"][sl] == 1.0) & (tr["cos_zeta"][sl] > 0) & (factor <= 4.0)
    return int(stays_from(ok, tr["mask"][sl])[0])


def eq38_measure(cfg: CondensationDraw, tr: dict, formula) -> Measurement:
    """Prop 8 (38) on pairs ``s < t`` of ``[T_3, T*)``: ``s`` at the quantiles ``S_QUANTILES`` of the
    recorded points, every later ``t`` below the ``T*`` bracket with a positive base (the claim's note)."""
    sym = symbols_by_name(formula)
    cos_key = first_of((n_ for n_ in sym if "Theta" in n_), "cos Theta_2")
    base = formula.rhs.base if isinstance(formula.rhs, sp.Pow) else formula.rhs
    args = [sym["E_t"], sym["E_s"], sym["t"], sym["s"], sym[cos_key]]
    base_at = sp.lambdify(args, base, modules="numpy")

    def one(b: int) -> Measurement | list[Measurement]:
        got = after_T3(tr, b, t3_proof_index(tr, b))
        if isinstance(got, Measurement):
            return got
        k, t, E, lo, hi, cos2 = got
        ii, jj = [], []
        for q in S_QUANTILES:
            i = int(q * (len(k) - 1))
            j = np.arange(i + 1, len(k))
            j = j[(t[j] < lo) & ((hi - lo) < BRACKET * (lo - t[j]))]
            ii.append(np.full(len(j), i)), jj.append(j)
        ii, jj = np.concatenate(ii), np.concatenate(jj)
        vals = dict(zip(args, (E[jj], E[ii], t[jj], t[ii], cos2)))
        pos = np.broadcast_to(np.asarray(base_at(*vals.values()), float) > 0, ii.shape)
        info = {"element": b, "T3": float(t[0]), "cos_Theta2": cos2, "pairs": int(pos.sum()),
                "dropped_nonpositive_base": int((~pos).sum())}
        if not pos.any():
            return Measurement(Status.UNDECIDED, None, {**info, "reason": "no pair with a positive base"})
        vals = {kk: (v[pos] if np.ndim(v) else v) for kk, v in vals.items()}
        return judge_bound(formula, vals, tol=INTEGRATOR_TOL, exact=(sym["t"], sym["s"], sym[cos_key]),
                           info=info, times=vals[sym["t"]])

    return each_element(tr, cfg.B, one)


@checker(f"{P}/prop8/energy-upper-38", **ALONG)
def prop8_eq38(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 8, eq. (38): ``E(t) <= (E(s)^{-1/3} - C (t - s))^{-3}`` for ``T_3 <= s < t < T*``,
    ``C = (4/3) cos(Theta_2)^{-4/3}`` with ``cos Theta_2`` measured (all in the claim's formula)."""
    return eq38_measure(cfg, tr, claim.formula)
