"""gong-2025 earlier version (topic ``earlier``): the quoted stage-1 loss bound is reported violated where
the proof's loss floor exceeds it, with the automatically found region; a mutated claim (a bound that never
drops below the floor) holds. The judge receives the claim with its formula replaced; nothing is
monkeypatched."""

import dataclasses

import sympy as sp

from twostage.theory.claims import load_all
from twostage.theory.gong import earlier as ev
from twostage.verify.checks.gong import earlier as ge
from twostage.verify.verdict import Status

CLAIM = load_all().get("gong-2025/earlier/K1-bound")


def test_k1_bound_is_reported_violated_with_region():
    m = ge.k1_bound(CLAIM, (6.0, 3.0, 0.0))
    assert m.status is Status.VIOLATED
    assert [r["a"] for r in m.worst["region"]] == list(ge.REGION_EXPONENTS)
    assert m.worst["region"][2]["d_min"] is not None
    assert m.worst["failing_step_x"] == "Interval.Ropen(0, 2*log(2))"
    # where the quoted bound is large (small L) it is not contradicted
    assert ge.k1_bound(CLAIM, (2.0, 1.0, 0.0)).status is Status.HOLDS


def test_k1_bound_mutations():
    # a bound that never drops below log 2 + x/2 (a constant 10) holds everywhere
    never_small = dataclasses.replace(CLAIM, formula=sp.LessThan(ev.K1, 10))
    assert ge.k1_bound(never_small, (6.0, 3.0, 0.0)).status is Status.HOLDS
    # the bound with its eps_W factor lost (a misquote) is violated where the quoted one held
    misquoted = dataclasses.replace(CLAIM, formula=sp.LessThan(ev.K1, ev.QUOTED_BOUND.subs(ev.eps_W, 1)))
    assert ge.k1_bound(misquoted, (2.0, 1.0, 0.0)).status is Status.VIOLATED
