"""One formula per claim (issue 12, item 1): every checker's judge reads its claim's formula.

Each claim's check runs on a :class:`~twostage.verify.mutate.FormulaSpy` (one draw, a small profile) and must
read ``claim.formula``. The checkers listed in ``FORMULA_BLIND`` do not yet (their constants, exponents or
relations live in the checker, so an edit of the printed formula cannot change their verdict); they are
``xfail(strict=True)``: fixing one without removing it from the list fails this test, and so does a checker
that stops reading its formula. ``twostage audit`` measures the rest (what the reading checkers *catch*).
"""

from __future__ import annotations

import dataclasses

import pytest

from twostage.theory.claims import load_all
from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.mutate import reads_formula
from twostage.verify.profiles import get_profile

# checkers whose judge does not read claim.formula (measured 2026-12-07: 37 of 61 at bed6fe5; the restated
# def4, prop1 eps3/agreement/quasistatic, escape/inverse-eps and thm3 rank checks read it since; the §5.1
# anchor claims, realdata/type-exact-gap and the gong stage and spectral claims were written reading it)
FORMULA_BLIND = {
    "chen-luo-2025/eq16/edot-identity",
    "chen-luo-2025/thm1/blowup-as",
    "chen-luo-2025/oracle/balanced",
    "chen-luo-2025/oracle/dm1-elliptic",
    "chen-luo-2025/escape/homogeneity",
    "chen-luo-2025/ass1/reached-as",
    "chen-luo-2025/prop4/derivative-identities",
    "chen-luo-2025/prop2/conservation",
    "chen-luo-2025/prop2/norm-growth",
    "chen-luo-2025/prop2/matrix-invariants",
    "chen-luo-2025/thm1/velocity-difference",
    "chen-luo-2025/prop1/qk-order5",
    "chen-luo-2025/prop1/rescaled-gradient",
    "chen-luo-2025/stage2/loss-factorisation",
    "chen-luo-2025/prop3/dynamics-separation",
    "chen-luo-2025/prop3/kq-linear-law",
    "chen-luo-2025/prop3/kq-full-vs-linear",
    "chen-luo-2025/stage2/F-structure",
    "gong-2025/setting/gd-updates",
}

CLAIMS = [c.id for c in load_all().claims()]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", [
    pytest.param(i, marks=pytest.mark.xfail(strict=True, reason="checker does not read its formula yet"))
    if i in FORMULA_BLIND else i for i in CLAIMS])
def test_checker_reads_its_formula(claim_id):
    ctx = Context(dataclasses.replace(get_profile("ci"), examples=2, seeds=32, shrink=False))
    assert reads_formula(load_checkers()[claim_id], ctx, load_all().get(claim_id)), \
        f"{claim_id}: its checker never reads claim.formula"


def test_the_blind_list_names_real_claims():
    assert FORMULA_BLIND <= set(CLAIMS)
