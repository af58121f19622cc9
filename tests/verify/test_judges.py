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
