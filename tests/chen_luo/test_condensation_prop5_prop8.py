"""chen-luo-2025 Prop 5 (i) (the C_1/C_2 split, eq. (20)) and Prop 8 (38) in its own form (topic
``condensation``, issue 12 item 4): both hold along the real dynamics and fail on an edited formula or a
sabotaged trajectory. The judges receive the claim (formula replaced for a mutation) and the trajectories."""

import dataclasses

import numpy as np
import sympy as sp

import twostage.verify.checks.chen_luo.condensation.bounds as cb
import twostage.verify.checks.chen_luo.condensation.split as cs
import twostage.verify.checks.chen_luo.condensation.trajectory as ct
from twostage.theory.claims import load_all
from twostage.verify.verdict import Status

P = "chen-luo-2025"
CFG = ct.CondensationDraw(d=3, B=4, seed=5)
SPLIT, EQ38 = f"{P}/prop5/c1-c2-split", f"{P}/prop8/energy-upper-38"


def claim(cid, rel=None):
    c = load_all().get(cid)
    return c if rel is None else dataclasses.replace(c, formula=rel)


def syms(cid):
    return {s.name: s for s in load_all().get(cid).formula.free_symbols}


def sabotaged(edit):
    tr = {k: np.array(v, copy=True) for k, v in ct.trajectories(CFG).items()}
    edit(tr)
    return tr


def test_split_holds_every_index_diverges_at_the_rate_of_the_norm():
    m = cs.c1_c2_split(claim(SPLIT), CFG, ct.trajectories(CFG))
    assert m.status is Status.HOLDS
    slopes, _ = cs.index_slopes(ct.trajectories(CFG), 0)
    assert np.allclose(slopes, 1 / 3, atol=2e-3)  # measured: every index in C_1, |W_v,i| ~ E^(1/3)


def test_split_fails_on_a_wrong_exponent_a_flipped_relation_and_an_empty_c1():
    S = syms(SPLIT)
    n, a1, a2 = S["n_{C_1}"], S["a_{C_1}"], S["a_{C_2}"]
    for wrong in (sp.And(sp.Ge(n, 1), sp.Eq(a1, sp.Rational(1, 2)), sp.Eq(a2, 0)),      # exponent 1/2
                  sp.And(sp.Ge(n, 1), sp.Ne(a1, sp.Rational(1, 3)), sp.Eq(a2, 0)),      # relation flipped
                  sp.And(sp.Ge(n, 4), sp.Eq(a1, sp.Rational(1, 3)), sp.Eq(a2, 0))):     # d = 3 < 4 in C_1
        assert cs.c1_c2_split(claim(SPLIT, wrong), CFG, ct.trajectories(CFG)).status is Status.VIOLATED, wrong


def test_split_fails_when_a_coordinate_grows_slower_than_the_norm():
    def slow(tr):  # index 0 of element 0 grows like E^(1/4): neither diverging at the norm's rate nor finite
        tr["Wv"][0, :, 0] = np.sign(tr["Wv"][0, :, 0]) * np.maximum(tr["E"][0], 1.0) ** 0.25

    assert cs.c1_c2_split(claim(SPLIT), CFG, sabotaged(slow)).status is Status.VIOLATED


def test_split_judges_a_finite_coordinate_in_c2():
    def frozen(tr):  # index 0 of element 0 converges to 0.3: it is in C_2 with slope 0
        tr["Wv"][0, :, 0] = 0.3 + 1.0 / np.maximum(tr["E"][0], 1.0)

    m = cs.c1_c2_split(claim(SPLIT), CFG, sabotaged(frozen))
    assert m.status is Status.HOLDS
    S = syms(SPLIT)
    c2_wrong = sp.And(sp.Ge(S["n_{C_1}"], 1), sp.Eq(S["a_{C_1}"], sp.Rational(1, 3)),
                      sp.Eq(S["a_{C_2}"], sp.Rational(1, 12)))
    assert cs.c1_c2_split(claim(SPLIT, c2_wrong), CFG, sabotaged(frozen)).status is Status.VIOLATED


def test_eq38_holds_and_a_smaller_constant_or_exponent_fails():
    m = cb.prop8_eq38(claim(EQ38), CFG, ct.trajectories(CFG))
    assert m.status is Status.HOLDS and m.worst["pairs"] > 50
    S = syms(EQ38)
    Et, Es, t, s, c = S["E_t"], S["E_s"], S["t"], S["s"], S[r"\cos\Theta_2"]
    third = sp.Rational(1, 3)
    smaller_C = sp.Le(Et, (Es ** -third - third * c ** sp.Rational(-4, 3) * (t - s)) ** -3)
    assert cb.prop8_eq38(claim(EQ38, smaller_C), CFG, ct.trajectories(CFG)).status is Status.VIOLATED
    flipped = sp.Ge(Et, claim(EQ38).formula.rhs)
    assert cb.prop8_eq38(claim(EQ38, flipped), CFG, ct.trajectories(CFG)).status is Status.VIOLATED


def test_eq38_fails_when_the_energy_jumps():
    def jump(tr):  # element 0's energy multiplied by 1.5 from a few points after T_3 on
        i3 = cb.t3_proof_index(tr, 0)
        tr["E"][0, i3 + 5:] *= 1.5

    assert cb.prop8_eq38(claim(EQ38), CFG, sabotaged(jump)).status is Status.VIOLATED
