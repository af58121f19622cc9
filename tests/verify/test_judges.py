"""The judges and the property runner decide correctly, and fail on wrong bounds (mutation tests)."""

import math

import numpy as np
from hypothesis import strategies as st

from twostage.verify.judge import (
    judge_binomial,
    judge_bound_float,
    judge_limit,
    judge_ordering,
    judge_residual,
    judge_scaling,
)
from twostage.verify.profiles import get_profile
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

T = np.linspace(0.0, 0.9, 50)
E = (1.0 - T) ** -3  # balanced case: E(t) = (T* - t)^-3 with T* = 1


def test_bound_holds_and_tightened_bound_is_violated():
    lower = (1.2 - T) ** -3  # a valid lower bound with room
    m = judge_bound_float(E, lower, ">=", tol=1e-9, times=T)
    assert m.status is Status.HOLDS and m.margin > 0
    # mutation: tighten beyond the reported margin
    tightened = lower * (1 + 2 * m.margin)
    assert judge_bound_float(E, tightened, ">=", tol=1e-9, times=T).status is Status.VIOLATED


def test_bound_attained_with_equality_is_undecided_never_holds():
    m = judge_bound_float(E, (1.0 - T) ** -3, ">=", tol=1e-12)
    assert m.status is Status.UNDECIDED


def test_nan_is_numerical_failure_with_time():
    bad = E.copy()
    bad[17] = np.nan
    m = judge_bound_float(bad, E, "<=", tol=1e-9, times=T)
    assert m.status is Status.NUMERICAL_FAILURE and m.worst["index"] == 17
    assert math.isclose(m.worst["time"], T[17])


def test_scaling_exponent_right_and_wrong():
    eps = np.array([1e-2, 3e-3, 1e-3])
    assert judge_scaling(eps, 5 * eps**2, expected=2.0, tol=0.1).status is Status.HOLDS
    assert judge_scaling(eps, 5 * eps**2, expected=3.0, tol=0.1).status is Status.VIOLATED
    noisy = 5 * eps**2 * np.array([1.0, 3.0, 0.4])
    assert judge_scaling(eps, noisy, expected=2.0, tol=0.1).status is not Status.HOLDS


def test_limit_residual_ordering():
    d = np.geomspace(1, 1e-8, 20)
    assert judge_limit(d, tol=1e-6).status is Status.HOLDS
    assert judge_limit(d[::-1], tol=1e-6).status is Status.VIOLATED
    assert judge_residual(1e-14, 1e-10).status is Status.HOLDS
    assert judge_residual(1e-3, 1e-10).status is Status.VIOLATED
    assert judge_ordering(1.0, 2.0, scale=1.0).status is Status.HOLDS
    assert judge_ordering(2.0, 1.0, scale=1.0).status is Status.VIOLATED
    assert judge_ordering(1.0, float("nan"), scale=1.0).status is Status.UNDECIDED


def test_binomial():
    assert judge_binomial(500, 500, 1.0).status is Status.HOLDS
    assert judge_binomial(499, 500, 1.0).status is Status.VIOLATED
    assert judge_binomial(990, 1000, 0.9).status is Status.HOLDS
    assert judge_binomial(800, 1000, 0.9).status is Status.VIOLATED
    assert judge_binomial(9, 10, 0.9).status is Status.UNDECIDED


def test_combine_severity():
    ms = [Measurement(Status.HOLDS, 0.5), Measurement(Status.NUMERICAL_FAILURE, None, {"i": 1})]
    assert combine(ms).status is Status.NUMERICAL_FAILURE
    assert combine([]).status is Status.NOT_APPLICABLE


def test_run_property_shrinks_counterexample():
    def evaluate(x):
        return Measurement(Status.VIOLATED if x >= 10 else Status.HOLDS, (10 - x) / 10, {"x": x})

    m = run_property(st.integers(0, 1000), evaluate, get_profile("quick"))
    assert m.status is Status.VIOLATED
    assert m.worst["config"] == 10 and m.worst["shrunk"]  # Hypothesis shrank to the boundary


def test_run_property_holds_counts_examples():
    m = run_property(st.floats(0.5, 1.0), lambda x: Measurement(Status.HOLDS, x), get_profile("ci"))
    assert m.status is Status.HOLDS and m.examples >= 2


# --- judges that can fail and say what they did (issue 12, item 3) -----------------------------------------


def test_limit_that_never_approached_is_undecided():
    """Mutation: a distance inside the tolerance all along (or growing inside it) is no observed approach."""
    t = np.linspace(0.0, 1.0, 30)
    flat = np.full(30, 1e-8)
    growing = 1e-9 * (1 + 50 * t)  # grew 50-fold, yet stays below tol = 1e-6
    for d in (flat, growing):
        m = judge_limit(d, tol=1e-6, times=t)
        assert m.status is Status.UNDECIDED and "no approach" in m.worst["reason"], d
    assert "rule" in judge_limit(flat, tol=1e-6).worst


def test_limit_needs_the_stated_factor():
    d = np.geomspace(2e-6, 5e-7, 20)  # started outside tol, but shrank only 4-fold
    assert judge_limit(d, tol=1e-6).status is Status.UNDECIDED
    assert judge_limit(d, tol=1e-6, factor=3.0).status is Status.HOLDS


def test_limit_fitted_decay_inside_tol_holds():
    t = np.linspace(0.0, 10.0, 40)
    d = 1e-7 * np.exp(-t)  # inside tol from the start, but a clean exponential approach over e^10
    assert judge_limit(d, tol=1e-6, times=t).status is Status.HOLDS
    noisy = d.copy()
    noisy[-1] = 10 * noisy[:-1].min()  # the last point is not the closest: no fitted approach
    assert judge_limit(noisy, tol=1e-6, times=t).status is Status.UNDECIDED


def test_residual_has_an_undecided_band():
    tol = 1e-10
    assert judge_residual(0.99999 * tol, tol).status is Status.UNDECIDED
    assert judge_residual(tol, tol).status is Status.UNDECIDED
    assert judge_residual(0.5 * tol, tol).status is Status.HOLDS
    assert judge_residual(2 * tol, tol).status is Status.VIOLATED
    assert "rule" in judge_residual(0.5 * tol, tol).worst


def test_holds_with_zero_margin_is_undecided():
    m = combine([Measurement(Status.HOLDS, 0.5), Measurement(Status.HOLDS, 0.0, {"seed": 4})])
    assert m.status is Status.UNDECIDED and m.worst["seed"] == 4
    assert combine([Measurement(Status.HOLDS, 1e-6)]).status is Status.HOLDS


def test_binomial_margin_grows_with_evidence_and_needs_examples():
    small, large = judge_binomial(1, 1, 1.0), judge_binomial(1024, 1024, 1.0)
    assert small.status is Status.UNDECIDED  # one success is no evidence for "almost surely"
    assert large.status is Status.HOLDS and large.margin > small.margin
    assert small.margin <= 0.011  # alpha**(1/1): no large margin from one draw
    few = judge_binomial(10, 10, 0.5)
    assert few.status is Status.UNDECIDED and "draws" in few.worst["reason"]
    assert judge_binomial(200, 200, 0.9).margin > judge_binomial(40, 40, 0.9).margin


def test_every_relation_is_judged_never_an_exception():
    import sympy as sp

    from twostage.verify.judge import judge_bound

    E, t = sp.symbols("E t")
    ts = np.linspace(0.0, 0.5, 6)
    vals = {E: 2 + ts, t: ts}
    got = {name: judge_bound(rel, vals, tol=1e-9, exact=(t,)).status for name, rel in {
        "ge": sp.Ge(E, 1 + t), "flipped": sp.Le(E, 1 + t), "gt": sp.Gt(E, 1 + t), "lt": sp.Lt(E, 1 + t),
        "eq-wrong": sp.Eq(E, 1 + t), "ne": sp.Ne(E, 1 + t), "true": sp.true, "false": sp.false,
        "not-a-relation": E + t}.items()}
    assert got == {"ge": Status.HOLDS, "flipped": Status.VIOLATED, "gt": Status.HOLDS, "lt": Status.VIOLATED,
                   "eq-wrong": Status.VIOLATED, "ne": Status.HOLDS, "true": Status.UNDECIDED,
                   "false": Status.VIOLATED, "not-a-relation": Status.UNDECIDED}
    near = judge_bound(sp.Eq(E, 2 + t), {E: 2 + ts, t: ts}, tol=1e-9, exact=(t,))
    assert near.status is Status.UNDECIDED  # measured values can never prove an equality
    ints = np.arange(4.0)  # exact inputs: an equality can be proven
    assert judge_bound(sp.Eq(E, 2 + t), {E: 2 + ints, t: ints}, tol=0.0, exact=(t, E)).status is Status.HOLDS
