"""Checker for the disputed stage-1 loss bound of gong-2025's earlier version
(``gong-2025/earlier/K1-bound``, :mod:`twostage.theory.gong.earlier`).

The quantity the earlier proof bounds is ``max(log2 - x/2, log2 + x/2) >= log 2 + x/2`` [Rev-3]; the judge
evaluates the claim's own relational ``K1 <= bound`` (``claim.formula``) with that floor as ``K1`` over
Hypothesis-drawn ``(log10 d, a, eps_W1)`` (``L = d^a``, ``eps_W = L^{2/3}``, RECONSTRUCTED), with pinned cases
in the regime the bound is meant for (large d, large L). The automatically found region (first ``d`` where
the quoted bound falls below the floor, per exponent ``a``) goes into every judgement's ``worst`` dict, hence
into the verdict's. The topic is symbolic (no numerics module): the draws are the data.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from twostage.theory.gong import earlier as ev
from twostage.verify.check import checker
from twostage.verify.judge import judge_bound
from twostage.verify.verdict import Measurement

REGION_EXPONENTS = (1.0, 1.5, 2.0, 2.5, 3.0)


@lru_cache(maxsize=1)
def _region() -> tuple[tuple[dict, ...], str]:
    return tuple(ev.violation_region(a) for a in REGION_EXPONENTS), str(ev.failing_step_region())


def region() -> dict:
    """``worst`` entries: the violation region per exponent and the ``x`` where the proof's step fails."""
    per_a, step = _region()
    return {"region": [dict(r) for r in per_a], "failing_step_x": step}


@checker("gong-2025/earlier/K1-bound",
         draws=st.tuples(st.floats(1.0, 12.0), st.floats(1.0, 3.0), st.floats(0.0, 0.5)),
         examples=[(6.0, 2.0, 0.0), (3.0, 3.0, 0.01)])
def k1_bound(claim, case: tuple[float, float, float], data: None = None) -> Measurement:
    """``case = (log10 d, a, eps_W1)``: the claim's relational ``K1 <= bound`` in ball arithmetic, the loss
    floor ``log 2 + x/2`` entering as ``K1`` (computed in float64: a ball of a few ulps), ``d, L, eps_W,
    eps_W1`` as exact inputs."""
    lg, a, e1 = case
    dim = 10.0 ** lg
    _, floor = ev.evaluate(dim, a, e1)
    info = {"d": dim, "a": a, "eps_W1": e1, "loss_floor": floor, "log2": math.log(2),
            "counter_argument": "the proof bounds max(log2 - x/2, log2 + x/2) >= log 2 by a quantity -> 0 "
                                "[Rev-3]"}
    rel = claim.formula
    S = {s.name: s for s in rel.free_symbols}
    Lv = dim ** a
    named = {"K1": np.array([floor]), "d": dim, "L": Lv, "eps_W": Lv ** (2.0 / 3.0), "eps_W1": e1}
    vals = {S[k]: v for k, v in named.items() if k in S}
    m = judge_bound(rel, vals, tol=1e-12, exact=tuple(S[k] for k in ("d", "L", "eps_W",
                                                      "eps_W1") if k in S), info=info)
    return Measurement(m.status, m.margin, {**m.worst, **region()}, m.examples)
