"""Checker for chen-luo-2025 Def 4 / Thm 1: a Gaussian initialisation is non-degenerate almost surely, judged
on the polynomials of eq. (10) as the claim's formula defines them.

Two kinds of draw (both read ``claim.formula``):

* :class:`ExactDraw` -- integer initialisations (entries in [-3, 3], ``d = 1..4``): the formula's ``D1, D2``
  evaluated in exact arithmetic must equal the independent expansion of
  :func:`~twostage.theory.chen_luo.nondegeneracy.reference_D` (from the proof of Thm 1 case (iii)); one
  mismatch is ``violated`` (a wrong eq. (10), e.g. ``- max{..} D1``, is caught here);
* :class:`DrawBatch` -- ``16 x profile.seeds`` Gaussian draws per dimension (d = 1, 2, 4, 16): the formula's
  conditions (``D1 != 0``, ``D2 != 0``), counted and pooled into one exact binomial test (any degenerate draw
  is a counterexample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from twostage.numerics.chen_luo.blowup import gaussian_state
from twostage.numerics.chen_luo.nondegeneracy import nondegenerate_values
from twostage.theory.chen_luo import nondegeneracy as tn
from twostage.verify.check import checker
from twostage.verify.judge import judge_binomial
from twostage.verify.verdict import Measurement, Status, combine


@dataclass(frozen=True)
class DrawBatch:
    """``n`` Gaussian initialisations of dimension ``d`` from ``seed``."""

    d: int
    n: int
    seed: int


@dataclass(frozen=True)
class ExactDraw:
    """``n`` integer initialisations of dimension ``d`` (entries uniform in ``[-k, k]``) from ``seed``."""

    d: int
    n: int
    seed: int
    k: int = 3


def simulate(cfg: DrawBatch | ExactDraw, ctx=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The initial ``(W_v, W1, W2)`` of the draw (float Gaussian, or integer for :class:`ExactDraw`)."""
    if isinstance(cfg, ExactDraw):
        rng = np.random.default_rng(cfg.seed)
        g = lambda *shape: rng.integers(-cfg.k, cfg.k + 1, size=(cfg.n, *shape))  # noqa: E731
        return g(cfg.d), g(cfg.d, cfg.d), g(cfg.d)
    return tuple(x.numpy() for x in gaussian_state(cfg.d, cfg.n, cfg.seed))


def _satisfied(rel: sp.Basic, vals: dict[str, np.ndarray], zero: dict[str, np.ndarray]) -> np.ndarray:
    """A condition of the formula (``D (rel) c``) per draw; ``|D - c|`` below the rounding level is ``=``."""
    name, c = rel.lhs.name, float(rel.rhs)
    x, z = vals[name] - c, zero[name]
    tests = {sp.Unequality: np.abs(x) > z, sp.Equality: np.abs(x) <= z, sp.StrictGreaterThan: x > z,
             sp.GreaterThan: x >= -z, sp.StrictLessThan: x < -z, sp.LessThan: x <= z}
    return tests[type(rel)]


def exact_measure(claim, cfg: ExactDraw, state) -> Measurement:
    """The formula's ``D1, D2`` at integer points (exact) against :func:`tn.reference_D`."""
    defs = tn.definitions(claim.formula)
    syms = sorted(set().union(*(e.free_symbols for e in defs.values())), key=str)
    bad = []
    for b in range(cfg.n):
        a, bb, p, q = tn.exact_norms(*(x[b].tolist() for x in state))
        at = {s: {"Wv_sq": a, "W2_sq": bb, "dWv_sq": p, "dW2_sq": q}[s.name] for s in syms}
        got, ref = tuple(defs[k].xreplace(at) for k in ("D1", "D2")), tn.reference_D(a, bb, p, q)
        if got != ref:
            bad.append({"draw": b, "formula": [str(g) for g in got], "reference": list(ref)})
    info = {"d": cfg.d, "integer_draws": cfg.n, "mismatches": len(bad), "first": bad[0] if bad else None}
    if bad:
        return Measurement(Status.VIOLATED, -len(bad) / cfg.n, info)
    return Measurement(Status.HOLDS, 1.0, info)


def count_measure(claim, cfg: DrawBatch, state) -> Measurement:
    D1, D2, z1, z2 = nondegenerate_values(*state, tn.nondegeneracy_numpy(claim.formula))
    vals, zero = {"D1": D1, "D2": D2}, {"D1": z1, "D2": z2}
    ok = np.logical_and.reduce([_satisfied(r, vals, zero) for r in tn.conditions(claim.formula)])
    info = {"d": cfg.d, "min_abs_D1": float(np.abs(D1).min()), "min_abs_D2": float(np.abs(D2).min())}
    return judge_binomial(int(ok.sum()), cfg.n, 1.0, info=info)


def pool(records) -> Measurement:
    """One exact binomial verdict over the Gaussian counts, combined with every exact comparison."""
    counts = [m for m, d in records if isinstance(d, DrawBatch)]
    exact = [m for m, d in records if isinstance(d, ExactDraw)]
    k = sum(m.worst["successes"] for m in counts)
    n = sum(m.worst["n"] for m in counts)
    binom = judge_binomial(k, n, 1.0, info={"per_dimension": [m.worst for m in counts]})
    return combine([binom, *exact]) if exact else binom


def def4_draws(ctx) -> list:
    return ([ExactDraw(d, 64, ctx.seed + 101 * d) for d in (1, 2, 3, 4)]
            + [DrawBatch(d, 16 * ctx.profile.seeds, ctx.seed + d) for d in (1, 2, 4, 16)])


@checker("chen-luo-2025/def4/nondegenerate-as", simulate=simulate, pool=pool, draws=def4_draws)
def nondegenerate_as(claim, cfg: DrawBatch | ExactDraw, state) -> Measurement:
    if isinstance(cfg, ExactDraw):
        return exact_measure(claim, cfg, state)
    return count_measure(claim, cfg, state)
