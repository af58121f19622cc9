"""Checkers for the exact (identity) claims of chen-luo-2025 §4.4: Prop 4's corrected derivatives, Thm 2's
column-cosine formula and Prop 5's ``cos xi_ij`` formula.

Each identity is judged twice:

1. **symbolic** (:mod:`twostage.theory.chen_luo.condensation_symbolic`): every obligation has
   ``simplify(lhs - rhs) == 0`` for concrete widths ``d`` (ci: 2 and 3), the claimed formula being the claim's
   own ``formula`` object -- a mutated formula fails here;
2. **numerical**: at a random Gaussian point (derivative obligations by a 4th-order finite difference of the
   differentiated quantity along the flow, not by the chain rule the proof used), relative residual below
   ``NUM_TOL``; for the two cosine formulas also along the integrated trajectories of the shared draws
   (:mod:`.trajectory`), ``max |definition - formula|`` below the claim's tolerance.

A symbolic failure is ``violated``. A numerical residual above tolerance at a random point (a symbolic proof
contradicted by arithmetic) is ``undecided``; along trajectories it is ``violated`` (the formula does not
describe the measured dynamics).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from twostage.numerics.config import require
from twostage.theory.chen_luo.condensation import prop4_binding
from twostage.theory.chen_luo.condensation_symbolic import (
    COLUMN_COSINE_FORMULA,
    COS_XI_FORMULA,
    REF_P4,
    K_ii,
    K_ij,
    K_jj,
    Pk_sq,
    Wvi,
    Wvj,
    Wvk,
    column_cosine_obligations,
    cos_xi_obligations,
    formula_numpy,
    prop4_gram_obligations,
    prop5_obligations,
)
from twostage.theory.chen_luo.model import Obligation, residual_is_zero
from twostage.theory.claims import load_all
from twostage.verify.check import Context, checker
from twostage.verify.checks.chen_luo.condensation.trajectory import ALONG, CondensationDraw, valid
from twostage.verify.identity import IdentityConfig, formula_measure
from twostage.verify.judge import as_relation, judge_residual
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
PROP4 = f"{P}/prop4/derivative-identities"
NUM_TOL = 1e-7
COLUMN_TOL = 1e-10
XI_TOL = 1e-9


def _numeric(ob: Obligation) -> Callable[[np.random.Generator], float]:
    """Relative residual of ``ob`` at a random point (``along`` obligations: finite difference along (7))."""
    syms = sorted(ob.free_symbols(), key=str)
    entries = lambda x: list(x) if isinstance(x, sp.MatrixBase) else [x]
    rhs = sp.lambdify(syms, entries(ob.rhs), modules="numpy")
    if ob.along is None:
        lhs = sp.lambdify(syms, entries(ob.lhs), modules="numpy")
        value = lambda x: (np.asarray(lhs(*x), float), 1.0)
    else:
        F, pairs = ob.along
        state = [s for M, _ in pairs for s in M]
        vel = [v for _, V in pairs for v in V]
        rest = [s for s in syms if s not in set(state)]
        Ff = sp.lambdify(state + rest, entries(F), modules="numpy")
        Vf = sp.lambdify(state + rest, vel, modules="numpy")

        def value(x):
            val = dict(zip(syms, x))
            th = np.array([val.get(s, 0.0) for s in state])
            other = [val[s] for s in rest]
            V = np.asarray(Vf(*th, *other), float)
            h = 1e-3 * np.linalg.norm(th) / max(np.linalg.norm(V), 1e-300)
            at = lambda a: np.asarray(Ff(*(th + a * h * V), *other), float)
            fd = (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h)
            return fd, float(np.max(np.abs(at(0)))) * np.linalg.norm(V) / np.linalg.norm(th)

    positive = np.array([bool(s.is_nonnegative) for s in syms])

    def residual(rng: np.random.Generator) -> float:
        x = rng.standard_normal(len(syms))
        x = np.where(positive, np.abs(x) + 0.1, x)
        lv, floor = value(x)
        rv = np.asarray(rhs(*x), float)
        scale = max(float(np.max(np.abs(lv))), float(np.max(np.abs(rv))), floor, 1.0)
        return float(np.max(np.abs(lv - rv))) / scale

    return residual


_PROVEN: dict[tuple, tuple[list[str], list]] = {}


def judge_symbolic(key: tuple, build: Callable[[], list[Obligation]], seed: int, info: dict) -> Measurement:
    """Symbolic proof (cached per ``key``) plus the numerical cross-check at a point drawn from ``seed``."""
    if key not in _PROVEN:
        obs = build()
        fails = [ob.name for ob in obs if not residual_is_zero(ob)]
        _PROVEN[key] = (fails, [(ob.name, _numeric(ob)) for ob in obs])
    fails, numeric = _PROVEN[key]
    info = {**info, "obligations": len(numeric), "seed": seed}
    if fails:
        return Measurement(Status.VIOLATED, -1.0, {**info, "failed": fails[:5],
                                                   "reason": "simplify(lhs - rhs) != 0"})
    rng = np.random.default_rng(seed)
    worst, bad = 0.0, []
    for name, res in numeric:
        r = res(rng)
        if not math.isfinite(r):
            return Measurement(Status.NUMERICAL_FAILURE, None, {**info, "obligation": name})
        worst = max(worst, r)
        if r >= NUM_TOL:
            bad.append(name)
    info["max_relative_residual"] = worst
    status = Status.UNDECIDED if bad else Status.HOLDS
    if bad:
        info["numeric_disagreement"] = bad
    return Measurement(status, 1.0 - worst / NUM_TOL, info)


SYMBOLIC_DIMS = (2, 3)  # widths of the symbolic instances proven with every trajectory draw (cached per run)


# ------------------------------------------------------------------------------------------- Prop 4
@dataclass(frozen=True)
class SymbolicDraw:
    """Width ``d`` of the symbolic instance and the seed of the numerical cross-check point."""

    d: int
    seed: int

    def __post_init__(self) -> None:
        require(2 <= self.d <= 6 and self.seed >= 0, "chen-luo-2025/ass/sizes",
                f"d in [2, 6] and seed >= 0, got d={self.d}, seed={self.seed}")


def prop4_measure(cfg: SymbolicDraw, formula=None) -> Measurement:
    """Prop 4's ``formula`` (default: the registered one) instantiated on the width-``cfg.d`` instance
    (:func:`~twostage.verify.identity.formula_measure`), plus the Gram-entry derivatives (DERIVED, not printed
    in the formula) as extra evidence."""
    formula = load_all().get(PROP4).formula if formula is None else formula
    return formula_measure(PROP4, formula, IdentityConfig((cfg.d,), cfg.seed), prop4_binding,
                           extra=prop4_gram_obligations, ref=REF_P4)


def _prop4_dims(ctx: Context) -> tuple[int, ...]:
    return (2, 3) + ((4,) if ctx.profile.name == "full" else ())


@checker(PROP4,
         draws=lambda ctx: st.builds(SymbolicDraw, d=st.sampled_from(_prop4_dims(ctx)),
                                     seed=st.integers(0, 2**31 - 1)),
         examples=lambda ctx: [SymbolicDraw(d, ctx.seed) for d in _prop4_dims(ctx)])
def prop4_identities(claim, cfg: SymbolicDraw, _=None) -> Measurement:
    """chen-luo-2025 Prop 4 (proof), App. A.2, corrected in §4.4: the claim's printed derivative identities,
    instantiated on the symbolic instance of width ``cfg.d`` and proven (see :func:`prop4_measure`)."""
    return prop4_measure(cfg, claim.formula)


# ------------------------------------------------------------------------------- along trajectories
def column_cosine_residual(cfg: CondensationDraw, tr: dict, formula=COLUMN_COSINE_FORMULA) -> float:
    """max over elements, points and columns of |cos(W_V^k, v) - formula(W_vk(t), ||P^k||^2)|."""
    f = formula_numpy(formula, (Wvk, Pk_sq))
    worst = 0.0
    for b in range(cfg.B):
        k = valid(tr, b)
        pred = f(tr["Wv"][b][k], tr["Pk_sq"][b][None, :])
        worst = max(worst, float(np.max(np.abs(tr["cos_col"][b][k] - pred))))
    return worst


def cos_xi_residual(cfg: CondensationDraw, tr: dict, formula=COS_XI_FORMULA) -> float:
    """max over elements, points and pairs of |cos xi_ij (definition) - formula(W_v(t), K(0))|."""
    f = formula_numpy(formula, (Wvi, Wvj, K_ij, K_ii, K_jj))
    worst = 0.0
    for b in range(cfg.B):
        k = valid(tr, b)
        w, K = tr["Wv"][b][k], tr["K0"][b]
        dg = np.diag(K)
        pred = f(w[:, :, None], w[:, None, :], K[None], dg[None, :, None], dg[None, None, :])
        worst = max(worst, float(np.max(np.abs(tr["cos_xi"][b][k] - pred))))
    return worst


# ------------------------------------------------------------------------------------------- Thm 2
def column_cosine_measure(cfg: CondensationDraw, tr: dict, formula=COLUMN_COSINE_FORMULA) -> Measurement:
    sym = [judge_symbolic(("column", d, str(formula)), lambda d=d: column_cosine_obligations(d, formula),
                          cfg.seed, {"d_symbolic": d}) for d in SYMBOLIC_DIMS]
    num = judge_residual(column_cosine_residual(cfg, tr, formula), COLUMN_TOL, {"d": cfg.d, "B": cfg.B})
    return as_relation(formula, combine([*sym, num]))  # a flipped "=" is judged as written


@checker(f"{P}/thm2/column-cosine-formula", **ALONG)
def column_cosine_formula(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Thm 2 (concrete reading, §4.4): the claim's column-cosine formula, proven symbolically
    and compared with the integrated trajectories."""
    return column_cosine_measure(cfg, tr, claim.formula)


# ------------------------------------------------------------------------------------------- Prop 5
def cos_xi_measure(cfg: CondensationDraw, tr: dict, formula=COS_XI_FORMULA) -> Measurement:
    build = lambda d: (lambda: prop5_obligations(d) + cos_xi_obligations(formula))
    sym = [judge_symbolic(("xi", d, str(formula)), build(d), cfg.seed, {"d_symbolic": d})
           for d in SYMBOLIC_DIMS]
    num = judge_residual(cos_xi_residual(cfg, tr, formula), XI_TOL, {"d": cfg.d, "B": cfg.B})
    return as_relation(formula, combine([*sym, num]))  # a flipped "=" is judged as written


@checker(f"{P}/prop5/cos-xi-formula", **ALONG)
def cos_xi_formula(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 5 proof, eqs. (23)-(28) (remark): the claim's ``cos xi_ij`` formula, proven
    symbolically (with (23)-(24)) and compared with the integrated trajectories."""
    return cos_xi_measure(cfg, tr, claim.formula)
