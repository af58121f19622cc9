"""chen-luo-2025 Prop 1 and escape-time scaling checkers: the right exponent holds, a wrong one is violated.

The judges receive the measured data and the expected exponent; the identity judges of Prop 1 are tested in
``test_identities.py``.
"""

import twostage.verify.checks.chen_luo.blowup as bl
import twostage.verify.checks.chen_luo.prop1 as p1
from twostage.theory.claims import load_all
from twostage.verify.checks.chen_luo.draws import Prop1Draw
from twostage.verify.verdict import Status

CFG = Prop1Draw(n=3, s=2, d=2, seed=4)


def claim(cid):
    return load_all().get(cid)


def test_agreement_is_order_eps_squared_not_cubed():
    c, r = claim("chen-luo-2025/prop1/agreement-eps2"), p1.agreement(CFG)
    assert p1.agreement_eps2(c, CFG, r).status is Status.HOLDS
    assert p1.agreement_eps2(c, CFG, r, expected=3.0).status is Status.VIOLATED
    assert p1.agreement_eps2(c, CFG, r, expected=1.0).status is Status.VIOLATED


def test_qk_quasistatic_exponent():
    c, r = claim("chen-luo-2025/prop1/qk-quasistatic"), p1.agreement(CFG)
    assert p1.qk_quasistatic(c, CFG, r).status is Status.HOLDS
    assert p1.qk_quasistatic(c, CFG, r, expected=1.0).status is Status.VIOLATED


def test_escape_time_scales_like_inverse_eps():
    c, t = claim("chen-luo-2025/escape/inverse-eps"), bl.escape_times(CFG)
    assert bl.inverse_eps(c, CFG, t).status is Status.HOLDS
    assert bl.inverse_eps(c, CFG, t, expected=-2.0).status is Status.VIOLATED
