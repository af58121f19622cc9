"""gong-2025 earlier version (topic ``earlier``), split in two: the disputed proof step is reported violated
where its left side (>= log 2) exceeds x, with the automatically found region; the quoted bound itself is
judged on the measured K^1 at t1 of the default-variant run. Mutation tests hand the judges a claim with its
formula replaced or a sabotaged run; nothing is monkeypatched."""

import dataclasses

import numpy as np
import sympy as sp

from twostage.numerics.gong.setting import DEFAULT, GongConfig
from twostage.theory.claims import load_all
from twostage.theory.gong import earlier as ev
from twostage.verify.checks.gong import earlier as ge
from twostage.verify.verdict import Status

STEP = load_all().get("gong-2025/earlier/K1-proof-step")
BOUND = load_all().get("gong-2025/earlier/K1-bound")


def test_proof_step_is_reported_violated_with_region():
    m = ge.k1_proof_step(STEP, (6.0, 3.0, 0.0))
    assert m.status is Status.VIOLATED
    assert [r["a"] for r in m.worst["region"]] == list(ge.REGION_EXPONENTS)
    assert m.worst["region"][2]["d_min"] is not None
    assert m.worst["failing_step_x"] == "Interval.Ropen(0, 2*log(2))"
    # where x is large (small L) the step is true
    assert ge.k1_proof_step(STEP, (2.0, 1.0, 0.0)).status is Status.HOLDS


def test_proof_step_mutations():
    # the step with its right side never small (x + 10) holds everywhere
    never_small = dataclasses.replace(STEP, formula=sp.LessThan(ev.LOSS_FLOOR, ev.x + 10))
    assert ge.k1_proof_step(never_small, (6.0, 3.0, 0.0)).status is Status.HOLDS
    # a step whose right side is x - 5 fails where the step held
    lowered = dataclasses.replace(STEP, formula=sp.LessThan(ev.LOSS_FLOOR, ev.x - 5))
    assert ge.k1_proof_step(lowered, (2.0, 1.0, 0.0)).status is Status.VIOLATED


def _run(k1: float) -> dict:
    t = np.array([0, 10, 20, 30])
    return {"t": t, "K_P": np.full((4, 3), k1)}


def test_bound_itself_on_a_measured_k1():
    assert ge.k1_bound(BOUND, DEFAULT, _run(0.01)).status is Status.HOLDS  # loose at small d
    assert ge.k1_bound(BOUND, DEFAULT, _run(5.0)).status is Status.VIOLATED  # sabotaged: K1 not learned
    tight = dataclasses.replace(BOUND, formula=sp.LessThan(ev.K1, 1 / sp.sqrt(sp.log(ev.d)) / 100))
    assert ge.k1_bound(tight, DEFAULT, _run(0.01)).status is Status.VIOLATED
    shared = dataclasses.replace(DEFAULT, coupling="shared")
    assert ge.k1_bound(BOUND, shared, _run(0.01)).status is Status.NOT_APPLICABLE
    assert isinstance(shared, GongConfig)
