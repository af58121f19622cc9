"""Checks of the limit claims of chen-luo-2025 §4.4 (Thm 2, Props 5, 7, Cor 1, stable rank) and the §4.3 sharp
limit, judged along the shared trajectories (:mod:`.trajectory`).

A limit claim reads ``Eq(Limit(q, t, T*), value)`` (or an ``And`` of such): ``q`` is the argument of the
claim's ``Limit``, lambdified and evaluated on the recorded points with ``E >= E_WINDOW`` and, for claims
resting on Assumption 1, after the last recorded time at which Ass. 1 failed; ``judge_limit`` on
``|q - value|`` (worst column/pair), tolerance ``LIMIT_TOL``. A ``q`` containing ``T*`` is evaluated at both
ends of the ``T*`` bracket (the larger distance counts) and only where the bracket moves it by less than
``T_LIMIT_TOL / 10``. Each judge reads the claim it is given (``claim.formula``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.condensation.trajectory import (
    ALONG,
    CondensationDraw,
    not_applicable,
    window,
)
from twostage.verify.checks.chen_luo.elements import each_element
from twostage.verify.judge import as_relation, judge_limit
from twostage.verify.verdict import Measurement, Status

P = "chen-luo-2025"
LIMIT_TOL = 1e-3
T_LIMIT_TOL = 1e-2  # limits of quantities containing T* (only a bracket of T* is known)
MIN_POINTS = 8


def _symbol_values(tr: dict, b: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per-point values of every symbol a limit formula may use; columns (k, or pairs ij) on the last axis."""
    n = len(idx)
    vals = {name: tr[name][b][idx] for name in ("E", "Edot", "Wv_sq", "W2_sq", "dW2_norm", "cos_zeta",
                                                 "srank_WV", "srank_W1", "cos_col", "cos_psi")}
    vals["cos_xi"] = tr["cos_xi"][b][idx].reshape(n, -1)
    vals["t"] = tr["t"][b][idx]
    return vals


def limit_distance(eq: sp.Eq, vals: dict, T_bracket: tuple[float, float]) -> np.ndarray:
    """``|q - value|`` per point (worst column) for ``eq = Eq(Limit(q, t, T*), value)`` (or ``Ne``: the same
    distance, :func:`as_relation` reads the verdict for the flipped relation); with ``T*`` in ``q``
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


def limit_measure(cfg: CondensationDraw, tr: dict, formula: sp.Basic, ass1: bool) -> Measurement:
    """Judge every ``Eq(Limit(...), value)`` of ``formula`` on every element of the draw's trajectories ``tr``
    (see the module docstring)."""
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
            out.append(as_relation(eq, judge_limit(dist, tol, info, times=vals["t"])))
        return out

    return each_element(tr, cfg.B, one)


@checker(f"{P}/thm2/condensation", **ALONG)
def condensation(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Thm 2: every column of ``W_V`` condenses on ``v`` (``|cos(W_V^k, v)| -> 1``), judged
    after Assumption 1 holds for good."""
    return limit_measure(cfg, tr, claim.formula, ass1=True)


@checker(f"{P}/prop5/cos-xi-limit", **ALONG)
def cos_xi_limit(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 5 (ii), eq. (21): ``cos xi_ij -> 1`` under Assumption 1."""
    return limit_measure(cfg, tr, claim.formula, ass1=True)


@checker(f"{P}/prop5/ratio-limits", **ALONG)
def ratio_limits(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 5 (iii), eq. (22): ``||dW2/dt|| / ||W_v||^2 -> 1`` and
    ``||dW2/dt|| / ||W2||^2 -> 1`` under Assumption 1."""
    return limit_measure(cfg, tr, claim.formula, ass1=True)


@checker(f"{P}/cor1/cos-psi", **ALONG)
def cos_psi(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Cor 1, eq. (34): ``cos psi_k -> 1`` under Assumption 1."""
    return limit_measure(cfg, tr, claim.formula, ass1=True)


@checker(f"{P}/prop7/cos-zeta-limit", **ALONG)
def cos_zeta_limit(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 7 (sharpened; §9 P11): ``cos zeta -> 1`` under Assumption 1."""
    return limit_measure(cfg, tr, claim.formula, ass1=True)


@checker(f"{P}/thm1/sharp-limit", **ALONG)
def sharp_limit(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 §4.3 self-similar asymptotics: ``E (T*-t)^3 -> 1``, ``-Edot E^{-4/3} / 3 -> -1`` and
    ``Edot E^{-4/3} -> 3`` (no Assumption 1: the whole window ``E >= E_WINDOW``)."""
    return limit_measure(cfg, tr, claim.formula, ass1=False)


@checker(f"{P}/lowrank/stable-rank", **ALONG)
def stable_rank(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 §9 P12: the stable ranks of ``W1`` and ``W_V`` tend to 1."""
    return limit_measure(cfg, tr, claim.formula, ass1=False)
