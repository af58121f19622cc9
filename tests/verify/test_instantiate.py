"""verify/instantiate.py: a claim formula mapped onto a concrete instance (issue 12, item 1).

On a toy flow ``dx/dt = y, dy/dt = x`` (and a 3-vector ``w`` with ``dw/dt = w``): names, 1-based indexed
entries, free indices (one obligation per value), sums, templates, derivatives of any order, relations; what
the instance cannot mean is an ``UnsupportedExpression`` (the checker's verdict is then ``undecided``).
"""

import dataclasses

import pytest
import sympy as sp

from twostage.errors import UnsupportedExpression
from twostage.theory.claims import load_all
from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.identity import judge_obligations
from twostage.verify.instantiate import instantiate
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

t = sp.Symbol("t", real=True)
x, y = sp.symbols("x y")
w = sp.Matrix(1, 3, sp.symbols("w0:3"))
PAIRS = [(sp.Matrix([x, y]), sp.Matrix([y, x])), (w, w)]
k, j = sp.symbols("k j", integer=True)
n = sp.Symbol("n", positive=True, integer=True)
W = sp.IndexedBase("W")
X2, E = sp.symbols("X2 E")
NAMES = {"X2": x**2, "E": x * y, "W": w}


def obligations(formula, names=None):
    return instantiate(formula, {**NAMES, **(names or {})}, PAIRS, {"n": 3})


def status(formula, names=None):
    return judge_obligations(obligations(formula, names)).status


def test_a_free_index_gives_one_obligation_per_value_and_indices_are_one_based():
    obs = obligations(sp.Eq(sp.Derivative(W[k], t), W[k]))
    assert [ob.lhs for ob in obs] == list(w) and [ob.along[0] for ob in obs] == list(w)
    assert status(sp.Eq(sp.Derivative(W[k], t), W[k])) is Status.HOLDS
    assert status(sp.Eq(sp.Derivative(W[k], t), 2 * W[k])) is Status.VIOLATED


def test_sums_run_over_the_width_and_their_limits_are_read():
    s = sp.Sum(W[j] ** 2, (j, 1, n))
    assert obligations(sp.Eq(s, 0))[0].lhs == sum(v**2 for v in w)
    assert obligations(sp.Eq(sp.Sum(W[j], (j, 2, n)), 0))[0].lhs == w[1] + w[2]
    assert status(sp.Eq(sp.Derivative(s, t), 2 * s)) is Status.HOLDS
    assert status(sp.Eq(sp.Derivative(s, t), 3 * s)) is Status.VIOLATED


def test_derivatives_of_any_order_and_templates():
    assert status(sp.Eq(sp.Derivative(X2, t), 2 * E)) is Status.HOLDS
    assert status(sp.Eq(sp.Derivative(x**2 - y**2, (t, 2)), 0), {"x": x, "y": y}) is Status.HOLDS
    (ob,) = obligations(sp.Eq(sp.Derivative(X2, (t, 2)), 2 * X2 + 2 * sp.Symbol("Y2")), {"Y2": y**2})
    assert ob.along[0] == 2 * x * y and judge_obligations([ob]).status is Status.HOLDS
    Edot, q = sp.Symbol("Edot"), sp.IndexedBase("q")
    names = {"Edot": sp.Lambda((), sp.Derivative(E, t)), "q": sp.Lambda(k, sp.Derivative(W[k] ** 2, t))}
    assert status(sp.Eq(Edot, X2 + sp.Symbol("Y2")), {**names, "Y2": y**2}) is Status.HOLDS
    assert status(sp.Eq(q[k], 2 * W[k] ** 2), names) is Status.HOLDS
    assert status(sp.Eq(q[k], W[k] ** 2), names) is Status.VIOLATED
    assert all(ob.along is not None for ob in obligations(sp.Eq(q[k], 2 * W[k] ** 2), names))


def test_relations_are_judged_as_written():
    eq = sp.Eq(sp.Derivative(X2, t), 2 * E)
    assert sorted(ob.sense for ob in obligations(sp.And(eq, sp.Ne(X2, 0)))) == ["eq", "ne"]
    assert status(sp.Ne(eq.lhs, eq.rhs)) is Status.VIOLATED
    assert status(sp.Eq(2 * E, eq.lhs, evaluate=False)) is Status.HOLDS  # the derivative on the right
    (ob,) = obligations(sp.Lt(2 * E, eq.lhs))
    assert ob.sense == "gt" and ob.along is not None  # sides swapped, relation kept
    assert status(sp.Ge(eq.lhs, eq.rhs)) is Status.HOLDS
    assert status(sp.Gt(eq.lhs, eq.rhs)) is Status.VIOLATED
    assert status(sp.Ge(eq.lhs, 3 * eq.rhs)) is Status.UNDECIDED  # not an identity: not decided here


@pytest.mark.parametrize("formula", [
    sp.Eq(sp.Symbol("unbound"), 0),                      # a name the instance does not know
    sp.Eq(W[4], 0),                                       # outside 1..3
    sp.Eq(sp.Derivative(X2, x), 0),                       # not a time derivative
    sp.Eq(X2, sp.Symbol("r", real=True)),                 # a free non-integer symbol
    X2 + 1,                                               # not a relation
])
def test_what_the_instance_cannot_mean_is_unsupported(formula):
    with pytest.raises(UnsupportedExpression):
        obligations(formula)


def test_a_checker_given_an_unbound_name_is_undecided_not_an_internal_error():
    cid = "chen-luo-2025/prop2/norm-growth"
    c = load_all().get(cid)
    bad = dataclasses.replace(c, formula=sp.Eq(sp.Derivative(sp.Symbol("Wq_sq"), t), 0))
    m = load_checkers()[cid](Context(get_profile("ci")), bad)
    assert m.status is Status.UNDECIDED and "Wq_sq" in m.worst["reason"]
