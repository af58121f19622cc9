"""chen-luo-2025 Prop 1 and escape-time scaling checkers: the right exponent holds, a wrong one is violated.

The judges receive the measured data and the expected exponent; the identity judges of Prop 1 are tested in
``test_identities.py``.
"""

import math

import torch

import twostage.verify.checks.chen_luo.blowup as cbl
import twostage.verify.checks.chen_luo.prop1 as p1
from twostage.numerics.chen_luo.init import InitConfig, init_normalised
from twostage.numerics.chen_luo.prop1 import compare_with_effective
from twostage.theory.claims import load_all
from twostage.verify.checks.chen_luo.draws import Prop1Draw
from twostage.verify.verdict import Status

F64 = torch.float64

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
    c, t = claim("chen-luo-2025/escape/inverse-eps"), cbl.escape_times(CFG)
    assert cbl.inverse_eps(c, CFG, t).status is Status.HOLDS
    assert cbl.inverse_eps(c, CFG, t, expected=-2.0).status is Status.VIOLATED


def test_prop1_agreement_scales_like_eps_squared(small):
    pb = init_normalised(InitConfig(d=3, eps=0.01, B=2, seed=1))
    r = compare_with_effective(small, pb, [1e-2, 3e-3], fractions=(0.2, 0.4))
    slope = torch.log(r["distance"][0] / r["distance"][1]) / math.log(1e-2 / 3e-3)
    assert ((slope > 1.8) & (slope < 2.2)).all(), slope
    assert float(r["distance"].max()) < 1e-3
    qk = torch.log(r["rel_QK"][0] / r["rel_QK"][1]) / math.log(1e-2 / 3e-3)
    assert ((qk > 1.8) & (qk < 2.2)).all(), qk  # P2: W_Q, W_K move by O(eps^2) relative
