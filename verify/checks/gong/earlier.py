"""Checkers for the stage-1 loss bound of gong-2025's earlier version, split in two
(:mod:`twostage.theory.gong.earlier`): ``gong-2025/earlier/K1-bound`` judges the bound itself on the measured
``K^1`` at ``t1`` of the default-variant run (parallel coupling: ``K^1`` is the P sub-model's own loss);
``gong-2025/earlier/K1-proof-step`` judges the disputed step.

The step asserts ``max(log2 - x/2, log2 + x/2) <= x`` [Rev-3]; the judge evaluates the claim's own
relational (``claim.formula``) at ``x(d, a, eps_W1)`` over Hypothesis-drawn ``(log10 d, a, eps_W1)``
(``L = d^a``, ``eps_W = L^{2/3}``, RECONSTRUCTED), with pinned cases in the regime the bound is meant for
(large d, large L). The automatically found region (first ``d`` where the quoted bound falls below the step's
left side, per exponent ``a``) goes into every judgement's ``worst`` dict, hence into the verdict's; the draws
of the step are the data (no simulation).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from twostage.numerics.gong.earlier import k1_at_t1
from twostage.numerics.gong.setting import DEFAULT, GongConfig
from twostage.theory.gong import earlier as ev
from twostage.verify.check import checker
from twostage.verify.checks.gong.stages import two_stage_run
from twostage.verify.judge import judge_bound
from twostage.verify.verdict import Measurement, Status

REGION_EXPONENTS = (1.0, 1.5, 2.0, 2.5, 3.0)


@lru_cache(maxsize=1)
def _region() -> tuple[tuple[dict, ...], str]:
    return tuple(ev.violation_region(a) for a in REGION_EXPONENTS), str(ev.failing_step_region())


def region() -> dict:
    """``worst`` entries: the violation region per exponent and the ``x`` where the proof's step fails."""
    per_a, step = _region()
    return {"region": [dict(r) for r in per_a], "failing_step_x": step}


@checker("gong-2025/earlier/K1-proof-step",
         draws=st.tuples(st.floats(1.0, 12.0), st.floats(1.0, 3.0), st.floats(0.0, 0.5)),
         examples=[(6.0, 2.0, 0.0), (3.0, 3.0, 0.01)])
def k1_proof_step(claim, case: tuple[float, float, float], data: None = None) -> Measurement:
    """``case = (log10 d, a, eps_W1)``: the claim's relational ``max(log2 -+ x/2) <= x`` in ball arithmetic,
    ``x`` computed in float64 (a ball of a few ulps) from ``d, L = d^a, eps_W = L^{2/3}, eps_W1``."""
    lg, a, e1 = case
    dim = 10.0 ** lg
    _, floor = ev.evaluate(dim, a, e1)
    xv = 2 * (floor - math.log(2))
    info = {"d": dim, "a": a, "eps_W1": e1, "loss_floor": floor, "log2": math.log(2),
            "counter_argument": "the proof bounds max(log2 - x/2, log2 + x/2) >= log 2 by a quantity -> 0 "
                                "[Rev-3]"}
    rel = claim.formula
    S = {s.name: s for s in rel.free_symbols}
    vals = {S["x"]: np.array([xv])} if "x" in S else {}
    m = judge_bound(rel, vals, tol=1e-12, info=info)
    return Measurement(m.status, m.margin, {**m.worst, **region()}, m.examples)


def k1_run(cfg: GongConfig, ctx) -> dict:
    """The default-variant run of the stage claims (its K1 = the P sub-model's training loss)."""
    return two_stage_run(cfg, ctx)


@checker("gong-2025/earlier/K1-bound", draws=[DEFAULT], simulate=k1_run)
def k1_bound(claim, cfg: GongConfig, tr: dict) -> Measurement:
    """The measured ``K1`` at ``t1`` (largest over seeds) against the claim's quoted right side at the run's
    ``d = d_p``, ``L``, ``eps_W = L^{2/3}``, ``eps_W1 = 0`` (requires the parallel coupling, where the P
    sub-model's own loss is ``K^1``)."""
    if cfg.coupling != "parallel":
        return Measurement(Status.NOT_APPLICABLE, None,
                           {"reason": "K^1 is defined for the parallel coupling"})
    t1, k1 = k1_at_t1(cfg, tr)
    rel = claim.formula
    S = {s.name: s for s in rel.free_symbols}
    named = {"K1": np.array([k1]), "d": float(cfg.d_p), "L": float(cfg.L), "eps_W": float(cfg.L) ** (2 / 3),
             "eps_W1": 0.0}
    return judge_bound(rel, {S[k]: v for k, v in named.items() if k in S}, tol=1e-12,
                       info={"t1": t1, "K1_max": k1, "d": cfg.d_p, "L": cfg.L})
