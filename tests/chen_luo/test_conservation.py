"""chen-luo-2025 conservation laws of (7) (topic ``conservation``): Prop 2 (9), its matrix forms, the norm
growth and Thm 1's step-3 identity are judged on the claims' own formulas (issue 12, item 1).

Mutation tests: each registered formula holds; the same formula with one constant x2, one exponent + 1, one
term dropped or one relation flipped (``=`` to ``!=``) is ``violated`` -- the judge instantiates the edited
formula, so the edit is what SymPy is asked to prove.
"""

import dataclasses

import pytest
import sympy as sp

from twostage.theory.chen_luo import conservation as tc
from twostage.theory.chen_luo.effective import closed_binding, full_binding
from twostage.theory.claims import load_all
from twostage.verify.checks.chen_luo import conservation as cc
from twostage.verify.identity import IdentityConfig, judge_obligations
from twostage.verify.instantiate import instantiate
from twostage.verify.verdict import Status

P = "chen-luo-2025"
JUDGES = {"prop2/conservation": cc.conservation, "prop2/norm-growth": cc.norm_growth,
          "prop2/matrix-invariants": cc.matrix_invariants, "thm1/velocity-difference": cc.velocity_difference}


def claim(cid):
    return load_all().get(f"{P}/{cid}")


def judge(cid, formula=None, d=2, seed=1):
    c = claim(cid)
    c = c if formula is None else dataclasses.replace(c, formula=formula)
    return JUDGES[cid](c, IdentityConfig((d,), seed), None)


def edit_relation(formula, k, new):
    """``formula`` (an ``And``) with its ``k``-th relation replaced by ``new(relation)``."""
    rels = list(formula.args)
    rels[k] = new(rels[k])
    return sp.And(*rels, evaluate=False)


def flip(rel):
    return sp.Ne(rel.lhs, rel.rhs, evaluate=False)


@pytest.mark.parametrize("cid", list(JUDGES))
def test_the_registered_formulas_hold(cid):
    m = judge(cid)
    assert m.status is Status.HOLDS, m.worst
    assert m.worst["max_relative_residual"] < 1e-9


@pytest.mark.parametrize("cid", list(JUDGES))
def test_a_flipped_relation_is_violated(cid):
    for k in range(len(claim(cid).formula.args)):
        m = judge(cid, edit_relation(claim(cid).formula, k, flip))
        assert m.status is Status.VIOLATED, (cid, k, m.worst)


def test_norm_growth_constant_x2_is_violated():
    """``d/dt ||W1||^2 = 4E`` (the issue's example: it used to hold)."""
    f = claim("prop2/norm-growth").formula
    m = judge("prop2/norm-growth", edit_relation(f, 1, lambda r: sp.Eq(r.lhs, 2 * r.rhs, evaluate=False)))
    assert m.status is Status.VIOLATED and len(m.worst["failed"]) == 1


def test_velocity_difference_constants_and_terms_are_read():
    f = claim("thm1/velocity-difference").formula
    x2 = edit_relation(f, 2, lambda r: sp.Eq(r.lhs, 2 * r.rhs, evaluate=False))  # 4E(|W2|^2 - |Wv|^2)
    no_p3 = edit_relation(f, 0, lambda r: sp.Eq(r.lhs, r.rhs.args[0], evaluate=False))  # one term dropped
    for bad in (x2, no_p3):
        assert judge("thm1/velocity-difference", bad).status is Status.VIOLATED


def test_conservation_exponent_and_index_edits_are_violated():
    f = claim("prop2/conservation").formula
    Wv, W1 = sp.IndexedBase("W_v"), sp.IndexedBase("W^{[1]}")
    k, kp = sp.symbols("k k'", integer=True)
    i = next(i for i, r in enumerate(f.args) if r.has(Wv[k] ** 2) and r.has(W1[k, kp]))  # the row law
    cubed = edit_relation(f, i, lambda r: r.xreplace({Wv[k] ** 2: Wv[k] ** 3}))  # exponent + 1
    swapped = edit_relation(f, i, lambda r: r.xreplace({W1[k, kp]: W1[kp, k]}))  # a column where the row is
    for bad in (cubed, swapped):
        assert judge("prop2/conservation", bad).status is Status.VIOLATED


def test_matrix_invariant_sign_is_violated():
    """``W1 W1^T + W_v^T W_v`` is not conserved (the full system, ``W_v = v W_V``)."""
    f = claim("prop2/matrix-invariants").formula
    rel = f.args[0]
    plus = rel.lhs.expr.func(*(-a if a.could_extract_minus_sign() else a for a in rel.lhs.expr.args))
    bad = edit_relation(f, 0, lambda r: sp.Eq(sp.Derivative(plus, *r.lhs.variables), r.rhs, evaluate=False))
    assert judge("prop2/matrix-invariants", bad, d=2).status is Status.VIOLATED


def test_a_weakened_relation_holds_and_a_strict_one_fails():
    """``<=`` between identical sides holds, ``<`` is violated; an inequality between different sides is
    undecided (SymPy proves identities here, not inequalities)."""
    f = claim("prop2/norm-growth").formula
    le = edit_relation(f, 0, lambda r: sp.Le(r.lhs, r.rhs, evaluate=False))
    lt = edit_relation(f, 0, lambda r: sp.Lt(r.lhs, r.rhs, evaluate=False))
    le2 = edit_relation(f, 0, lambda r: sp.Le(r.lhs, 3 * r.rhs, evaluate=False))
    assert judge("prop2/norm-growth", le).status is Status.HOLDS
    assert judge("prop2/norm-growth", lt).status is Status.VIOLATED
    assert judge("prop2/norm-growth", le2).status is Status.UNDECIDED


def statement(ob):
    """What an obligation states, as comparable data: (the differentiated quantity or the left side, the right
    side), expanded entry by entry, and the relation."""
    entries = lambda x: tuple(sp.expand(e) for e in (x if isinstance(x, sp.MatrixBase) else [x]))  # noqa: E731
    return entries(ob.along[0] if ob.along else ob.lhs), entries(ob.rhs), ob.sense


@pytest.mark.parametrize("cid,hand_built,extra", [
    ("prop2/conservation", tc.conservation_obligations, None),
    ("prop2/norm-growth", tc.norm_growth_obligations, None),
    ("thm1/velocity-difference", tc.velocity_difference_obligations, None),
])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_the_printed_formula_states_what_the_hand_built_obligations_state(cid, hand_built, extra, d):
    """Two independent encodings of the paper's statement agree: the claim's printed formula instantiated on
    the width-d instance and the obligations written by hand from the paper (theory conservation.py)."""
    b = tc.velocity_binding(d) if cid.startswith("thm1") else closed_binding(d)
    obs = instantiate(claim(cid).formula, b.names, b.pairs, b.dims) + (extra(d) if extra else [])
    assert all(ob.along is not None for ob in obs)
    assert sorted(map(statement, obs), key=str) == sorted(map(statement, hand_built(d)), key=str)


def test_the_matrix_invariants_are_judged_on_the_full_system():
    """Prop 2's matrix forms on ``W_V``, ``v``, ``W_v = v W_V``: four d x d obligations, the last two the same
    as the hand-built ones (the first two are written on the closed system there)."""
    b = full_binding(2)
    obs = instantiate(claim("prop2/matrix-invariants").formula, b.names, b.pairs, b.dims)
    assert [ob.lhs.shape for ob in obs] == [(2, 2)] * 4
    assert {statement(ob) for ob in tc.matrix_invariant_obligations(2)[2:]} <= {statement(ob) for ob in obs}
    assert judge_obligations(obs).status is Status.HOLDS


def test_ddot_w2_is_read_from_the_formula():
    """``d^2 W2/dt^2 = W1^T W1 W2 + ||W_v||^2 W2`` (erratum A.5): the printed one holds; ``2 W1^T W1 W2`` and
    a ``W1 W2`` in place of ``W2`` in the last term (the paper's garbled index) are violated."""
    f = claim("thm1/velocity-difference").formula
    i = next(i for i, r in enumerate(f.args) if r.lhs.has(sp.MatrixSymbol))
    W1, W2 = (next(m for m in f.atoms(sp.MatrixSymbol) if m.name == n) for n in ("W^{[1]}", "W^{[2]}"))
    wv_sq = next(s for s in f.free_symbols if getattr(s, "name", "") == "Wv_sq")
    x2 = edit_relation(f, i, lambda r: sp.Eq(r.lhs, 2 * W1.T * W1 * W2 + wv_sq * W2, evaluate=False))
    garbled = edit_relation(f, i, lambda r: sp.Eq(r.lhs, W1.T * W1 * W2 + wv_sq * W1 * W2, evaluate=False))
    for bad in (x2, garbled):
        assert judge("thm1/velocity-difference", bad).status is Status.VIOLATED
