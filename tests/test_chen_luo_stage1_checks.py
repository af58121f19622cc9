"""Stage-1 numerical checkers of chen-luo-2025 hold on the real dynamics and fail on mutations.

Each mutation is one a reviewer could make by mistake: a wrong exponent, a bound tightened beyond
the reported margin, a wrong oracle, or a sabotaged trajectory.
"""

import numpy as np
import pytest
import sympy as sp

import twostage.verify.checks.chen_luo_stage1 as s1
from twostage.theory.claims import load_all
from twostage.verify.verdict import Status

CFG = s1.Stage1Draw(d=3, B=4, seed=11)
POS = s1.Stage1Draw(d=3, B=4, seed=11, sign=1)
NEG = s1.Stage1Draw(d=3, B=4, seed=11, sign=-1)


def formula(cid):
    return load_all().get(cid).formula


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


def test_edot_lower_holds_and_wrong_exponent_fails():
    rel = formula("chen-luo-2025/thm1/edot-lower")
    assert s1.edot_lower_measure(CFG, rel).status is Status.HOLDS
    S = syms("chen-luo-2025/thm1/edot-lower")
    wrong = sp.Ge(S["Edot"], 3 * sp.Abs(S["E"]) ** sp.Rational(5, 3))
    assert s1.edot_lower_measure(CFG, wrong).status is Status.VIOLATED


def test_riccati_positive_holds_and_tightened_beyond_margin_fails():
    rel = formula("chen-luo-2025/thm1/riccati-positive")
    m = s1.riccati_positive_measure(POS, rel)
    assert m.status is Status.HOLDS and m.margin > 0
    assert s1.riccati_positive_measure(POS, tighten(rel, 1 + 3 * m.margin)).status is Status.VIOLATED


def test_riccati_positive_sabotaged_trajectory_fails(monkeypatch):
    rel = formula("chen-luo-2025/thm1/riccati-positive")
    real = s1.trajectories(POS)
    bad = {k: v.copy() for k, v in real.items()}
    m = bad["mask"][0]
    t, E = bad["t"][0], bad["E"][0]
    i0 = s1.start_index(E[m], 0.0)
    k = np.flatnonzero(m & (E > 1.0) & (E < 50))[-1]
    E[k] = 0.5 * (E[i0] ** (-1 / 3) - (t[k] - t[i0])) ** -3  # a dip below the Riccati bound
    monkeypatch.setattr(s1, "trajectories", lambda cfg, device="cpu": bad)
    assert s1.riccati_positive_measure(POS, rel).status is Status.VIOLATED


def test_riccati_nonpositive_holds_and_tightened_fails():
    rel = formula("chen-luo-2025/thm1/riccati-nonpositive")
    assert s1.riccati_nonpositive_measure(NEG, rel).status is Status.HOLDS
    assert s1.riccati_nonpositive_measure(NEG, tighten(rel, sp.Rational(1, 2))).status is Status.VIOLATED


def test_riccati_nonpositive_rejects_config_outside_assumption():
    from twostage.numerics.config import ConfigError

    with pytest.raises(ConfigError, match="E-t0-nonpositive"):
        s1.riccati_nonpositive_measure(POS, formula("chen-luo-2025/thm1/riccati-nonpositive"))


def test_tstar_upper_holds_and_halved_bound_fails():
    rel = formula("chen-luo-2025/thm1/tstar-upper")
    assert s1.tstar_upper_measure(CFG, rel).status is Status.HOLDS
    S = syms("chen-luo-2025/thm1/tstar-upper")
    wrong = sp.Le(S["T_star"], S["t0"] + S["E_t0"] ** sp.Rational(-1, 3) / 2)
    assert s1.tstar_upper_measure(CFG, wrong).status is Status.VIOLATED


def test_upper_general_holds_and_wrong_exponent_fails():
    rel = formula("chen-luo-2025/thm1/upper-general")
    assert s1.upper_general_measure(CFG, rel).status is Status.HOLDS
    S = syms("chen-luo-2025/thm1/upper-general")
    wrong = sp.Le(S["E"], (S["T_star"] - S["t"]) ** -2)
    assert s1.upper_general_measure(CFG, wrong).status is Status.VIOLATED


def test_blowup_counts_and_a_run_cut_short_is_a_counterexample():
    k, n = s1.blowup_count(3, 32, seed=5)
    assert (k, n) == (32, 32)
    k, n = s1.blowup_count(3, 32, seed=5, max_steps=5)  # sabotaged: cannot reach the event
    from twostage.verify.judge import judge_binomial

    assert judge_binomial(k, n, 1.0).status is Status.VIOLATED


def test_nondegeneracy_counts_and_balanced_draws_are_degenerate():
    k, n, _ = s1.nondegenerate_count(4, 512, seed=2)
    assert k == n
    Wv, W1, _ = (x.numpy() for x in s1.initialisation(s1.Stage1Draw(4, 64, 3)))
    k, n, info = s1.nondegenerate_ok(Wv, W1, Wv.copy(), 4)  # W2 = Wv^T: D1 = 0 exactly
    assert k == 0 and info["min_abs_D1"] == 0.0


def test_dm1_oracle_agrees_and_the_riccati_bound_is_not_the_blowup_time():
    assert s1.dm1_measure(s1.Dm1Draw(0.7, 0.3, 1.2)).status is Status.HOLDS
    # mutation: replace the exact oracle by bound (11) T* <= E0^{-1/3} (1.5832 vs 1.400750)
    bound11 = lambda w, m, c: (w * m * c) ** (-1.0 / 3.0)
    assert s1.dm1_measure(s1.Dm1Draw(0.7, 0.3, 1.2), oracle=bound11).status is Status.VIOLATED


def test_dm1_config_outside_assumption_is_rejected():
    from twostage.numerics.config import ConfigError

    with pytest.raises(ConfigError, match="dm1-escape"):
        s1.Dm1Draw(0.7, -0.3, 1.2)
