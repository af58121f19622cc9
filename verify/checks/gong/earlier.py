"""Checker for the disputed stage-1 loss bound of gong-2025's earlier version
(``gong-2025/earlier/K1-bound``).

The quantity the earlier proof bounds is ``max(log2 - x/2, log2 + x/2) >= log 2 + x/2`` [Rev-3]; the checker
compares it with the quoted right-hand side over Hypothesis-drawn ``(d, a, eps_W1)`` (``L = d^a``,
``eps_W = L^{2/3}``, RECONSTRUCTED) and pins the regime the bound is meant for (large d, large L). The
automatically found region (first ``d`` where the bound falls below the floor, per exponent ``a``) goes into
the verdict's ``worst`` dict.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from twostage.theory.gong import earlier as ev
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_bound
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement


def evaluate_k1(case: tuple[float, float, float], bound_fn=None) -> Measurement:
    """``case = (log10 d, a, eps_W1)``; ``bound_fn(d, a, eps_W1)`` replaces the quoted bound (mutation
    tests)."""
    lg, a, e1 = case
    dim = 10.0 ** lg
    bound, floor = ev.evaluate(dim, a, e1)
    if bound_fn is not None:
        bound = bound_fn(dim, a, e1)
    info = {"d": dim, "a": a, "eps_W1": e1, "loss_floor": floor, "log2": math.log(2),
            "counter_argument": "the proof bounds max(log2 - x/2, log2 + x/2) >= log 2 by a quantity -> 0 "
                                "[Rev-3]"}
    if bound_fn is not None:  # a replaced bound has no SymPy form: float judge
        return judge_bound(np.array([floor]), np.array([bound]), "<=", tol=1e-12, info=info)
    # the claim's own relational K1 <= bound, evaluated in ball arithmetic: the loss floor log 2 + x/2
    # enters as K1 (computed in float64: a ball of a few ulps), d, L, eps_W, eps_W1 as exact inputs
    rel = ev.K1_CLAIM.formula
    S = {s.name: s for s in rel.free_symbols}
    Lv = dim ** a
    vals = {S["K1"]: np.array([floor]), S["d"]: dim, S["L"]: Lv, S["eps_W"]: Lv ** (2.0 / 3.0),
            S["eps_W1"]: e1}
    return judge_bound(np.array([floor]), np.array([bound]), "<=", tol=1e-12, info=info, relational=rel,
                       values=vals, exact=(S["d"], S["L"], S["eps_W"], S["eps_W1"]))


@checker("gong-2025/earlier/K1-bound")
def check_k1(ctx: Context) -> Measurement:
    strat = st.tuples(st.floats(1.0, 12.0), st.floats(1.0, 3.0), st.floats(0.0, 0.5))
    m = run_property(strat, evaluate_k1, ctx.profile, examples=[(6.0, 2.0, 0.0), (3.0, 3.0, 0.01)])
    region = [ev.violation_region(a) for a in (1.0, 1.5, 2.0, 2.5, 3.0)]
    return Measurement(m.status, m.margin, {**m.worst, "region": region,
                                            "failing_step_x": str(ev.failing_step_region())}, m.examples)
