"""Prop 1 / escape-time scaling checkers: the right exponent holds, a wrong one is violated."""

import twostage.verify.checks.chen_luo_prop1 as p1
from twostage.verify.verdict import Status

CFG = p1.Prop1Draw(n=3, s=2, d=2, seed=4)


def test_agreement_is_order_eps_squared_not_cubed():
    assert p1.agreement_measure(CFG).status is Status.HOLDS
    assert p1.agreement_measure(CFG, expected=3.0).status is Status.VIOLATED
    assert p1.agreement_measure(CFG, expected=1.0).status is Status.VIOLATED


def test_qk_quasistatic_exponent():
    assert p1.quasistatic_measure(CFG).status is Status.HOLDS
    assert p1.quasistatic_measure(CFG, expected=1.0).status is Status.VIOLATED


def test_escape_time_scales_like_inverse_eps():
    assert p1.escape_measure(CFG).status is Status.HOLDS
    assert p1.escape_measure(CFG, expected=-2.0).status is Status.VIOLATED
