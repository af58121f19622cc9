"""chen-luo-2025 Thm 1 checkers (topic ``blowup``) hold on the real dynamics and fail on mutations.

Each mutation is one a reviewer could make by mistake: a wrong exponent, a bound tightened beyond the reported
margin, a wrong oracle, or a sabotaged trajectory. The judges receive the claim (with its formula replaced
for a mutation) and the trajectory (sabotaged where the test says so): nothing is monkeypatched.
"""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import twostage.verify.checks.chen_luo.blowup as s1
from twostage.numerics.chen_luo.nondegeneracy import nondegenerate_ok
from twostage.theory.claims import load_all
from twostage.verify.checks.chen_luo.nondegeneracy import DrawBatch, count
from twostage.verify.verdict import Status

CFG = s1.Stage1Draw(d=3, B=4, seed=11)
POS = s1.Stage1Draw(d=3, B=4, seed=11, sign=1)
NEG = s1.Stage1Draw(d=3, B=4, seed=11, sign=-1)


def formula(cid):
    return load_all().get(cid).formula


def claim(cid, rel=None):
    """The registered claim, or the same claim with its formula replaced by ``rel`` (a mutation)."""
    c = load_all().get(cid)
    return c if rel is None else dataclasses.replace(c, formula=rel)


def judge(fn, cid, cfg, rel=None, tr=None):
    """Run the registered judge ``fn`` of ``cid`` on ``cfg``'s trajectory (or the given one)."""
    return fn(claim(cid, rel), cfg, s1.trajectories(cfg) if tr is None else tr)


def syms(cid):
    return {s.name: s for s in formula(cid).free_symbols}


def tighten(rel, factor):
    """Same relational with its bound side moved against the measured side by ``factor``."""
    return rel.func(rel.lhs, rel.rhs * factor)


def test_constructive_sign_draws_meet_the_assumption():
    for cfg, sign in ((POS, 1), (NEG, -1)):
        Wv, W1, W2 = s1.initialisation(cfg)
        E0 = np.einsum("bk,bkl,bl->b", Wv.numpy(), W1.numpy(), W2.numpy())
        assert np.all(sign * E0 > 0)


EDOT, RIC_POS, RIC_NEG = ("chen-luo-2025/thm1/edot-lower", "chen-luo-2025/thm1/riccati-positive",
                          "chen-luo-2025/thm1/riccati-nonpositive")
TSTAR, UPPER = "chen-luo-2025/thm1/tstar-upper", "chen-luo-2025/thm1/upper-general"


def test_edot_lower_holds_and_wrong_exponent_fails():
    assert judge(s1.edot_lower, EDOT, CFG).status is Status.HOLDS
    S = syms(EDOT)
    wrong = sp.Ge(S["Edot"], 3 * sp.Abs(S["E"]) ** sp.Rational(5, 3))
    assert judge(s1.edot_lower, EDOT, CFG, wrong).status is Status.VIOLATED


def test_riccati_positive_holds_and_tightened_beyond_margin_fails():
    m = judge(s1.riccati_positive, RIC_POS, POS)
    assert m.status is Status.HOLDS and m.margin > 0
    tight = tighten(formula(RIC_POS), 1 + 3 * m.margin)
    assert judge(s1.riccati_positive, RIC_POS, POS, tight).status is Status.VIOLATED


def test_riccati_positive_sabotaged_trajectory_fails():
    bad = {k: v.copy() for k, v in s1.trajectories(POS).items()}
    m = bad["mask"][0]
    t, E = bad["t"][0], bad["E"][0]
    i0 = s1.start_index(E[m], 0.0)
    k = np.flatnonzero(m & (E > 1.0) & (E < 50))[-1]
    E[k] = 0.5 * (E[i0] ** (-1 / 3) - (t[k] - t[i0])) ** -3  # a dip below the Riccati bound
    assert judge(s1.riccati_positive, RIC_POS, POS, tr=bad).status is Status.VIOLATED


def test_riccati_nonpositive_holds_and_tightened_fails():
    assert judge(s1.riccati_nonpositive, RIC_NEG, NEG).status is Status.HOLDS
    tight = tighten(formula(RIC_NEG), sp.Rational(1, 2))
    assert judge(s1.riccati_nonpositive, RIC_NEG, NEG, tight).status is Status.VIOLATED


def test_riccati_nonpositive_rejects_config_outside_assumption():
    from twostage.errors import ConfigError

    with pytest.raises(ConfigError, match="E-t0-nonpositive"):
        judge(s1.riccati_nonpositive, RIC_NEG, POS)


def test_tstar_upper_holds_and_halved_bound_fails():
    assert judge(s1.tstar_upper, TSTAR, CFG).status is Status.HOLDS
    S = syms(TSTAR)
    wrong = sp.Le(S["T_star"], S["t0"] + S["E_t0"] ** sp.Rational(-1, 3) / 2)
    assert judge(s1.tstar_upper, TSTAR, CFG, wrong).status is Status.VIOLATED


def test_upper_general_holds_and_wrong_exponent_fails():
    assert judge(s1.upper_general, UPPER, CFG).status is Status.HOLDS
    S = syms(UPPER)
    wrong = sp.Le(S["E"], (S["T_star"] - S["t"]) ** -2)
    assert judge(s1.upper_general, UPPER, CFG, wrong).status is Status.VIOLATED


def test_blowup_counts_and_a_run_cut_short_is_a_counterexample():
    cid = "chen-luo-2025/thm1/blowup-as"
    count32 = s1.blowup_count(s1.CountDraw(3, 32, seed=5))
    assert count32 == (32, 32)
    assert s1.blowup_as(claim(cid), s1.CountDraw(3, 32, 5), count32).status is Status.HOLDS
    cut = s1.CountDraw(3, 32, seed=5, max_steps=5)  # sabotaged: cannot reach the event
    assert s1.blowup_as(claim(cid), cut, s1.blowup_count(cut)).status is Status.VIOLATED


def test_nondegeneracy_counts_and_balanced_draws_are_degenerate():
    k, n, _ = count(DrawBatch(4, 512, seed=2))
    assert k == n
    Wv, W1, _ = (x.numpy() for x in s1.initialisation(s1.Stage1Draw(4, 64, 3)))
    k, n, info = nondegenerate_ok(Wv, W1, Wv.copy(), 4)  # W2 = Wv^T: D1 = 0 exactly
    assert k == 0 and info["min_abs_D1"] == 0.0


def test_dm1_oracle_agrees_and_the_riccati_bound_is_not_the_blowup_time():
    cid, cfg = "chen-luo-2025/oracle/dm1-elliptic", s1.Dm1Draw(0.7, 0.3, 1.2)
    integrated = float(s1.nb.dm1_blowup_time(cfg.w, cfg.m, cfg.c)[0])
    assert s1.dm1_elliptic(claim(cid), cfg, integrated).status is Status.HOLDS
    # sabotage: the "integrated" value replaced by bound (11) T* <= E0^{-1/3} (1.5832 vs 1.400750)
    bound11 = (cfg.w * cfg.m * cfg.c) ** (-1.0 / 3.0)
    assert s1.dm1_elliptic(claim(cid), cfg, bound11).status is Status.VIOLATED


def test_dm1_config_outside_assumption_is_rejected():
    from twostage.errors import ConfigError

    with pytest.raises(ConfigError, match="dm1-escape"):
        s1.Dm1Draw(0.7, -0.3, 1.2)
