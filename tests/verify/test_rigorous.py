"""Ball-arithmetic evaluation (theory/rigorous.py) and rigorous bound verdicts (verify/rigorous_judge.py).

The evaluator is cross-checked against mpmath's interval arithmetic (``mpmath.iv``) and a 60-digit
point evaluation on Hypothesis-built expression trees; the judge gets mutation tests (a trajectory
pushed below the bound is ``violated``; one sitting at it within rounding is ``undecided``, never
``holds``).
"""

import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from flint import arb, fmpq, fmpz
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from twostage.theory.rigorous import (
    Truth,
    UnsupportedExpression,
    ball,
    decide,
    evaluate,
    to_float,
)
from twostage.verify.judge import judge_bound, judge_bound_float
from twostage.verify.rigorous_judge import judge_bound_rigorous
from twostage.verify.verdict import Status

x, y = sp.symbols("x y", positive=True)
E, E0, t = sp.symbols("E E0 t")
RICCATI = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)  # chen-luo-2025 Thm 1, eq. (11)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])

# ------------------------------------------------------------------ reference evaluators (mpmath)


def _mp_eval(e, env, ctx):
    """Evaluate ``e`` in an mpmath context: ``mpmath.iv`` (intervals) or ``mpmath.mp`` (points)."""
    if isinstance(e, sp.Rational):
        return ctx.mpf(int(e.p)) / int(e.q)
    if e is sp.pi:
        return ctx.pi
    if e is sp.E:
        return ctx.e
    if isinstance(e, sp.Symbol):
        return env[e]
    args = [_mp_eval(a, env, ctx) for a in e.args]
    if isinstance(e, sp.Add):
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if isinstance(e, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(e, sp.Pow):
        b, ex = args
        if e.exp.is_Integer:
            return b ** int(e.exp)
        lo = b.a if ctx is mpmath.iv else b
        if lo <= 0:
            raise ValueError("outside the real domain")
        return ctx.exp(ex * ctx.log(b))
    if isinstance(e, sp.exp):
        return ctx.exp(args[0])
    if isinstance(e, sp.log):
        lo = args[0].a if ctx is mpmath.iv else args[0]
        if lo <= 0:
            raise ValueError("outside the real domain")
        return ctx.log(args[0])
    if isinstance(e, sp.Abs):
        return abs(args[0])
    if isinstance(e, (sp.Min, sp.Max)):
        pick = min if isinstance(e, sp.Min) else max
        if ctx is mpmath.iv:
            return ctx.mpf([pick(a.a for a in args), pick(a.b for a in args)])
        return pick(args)
    raise NotImplementedError(type(e))


def _leaf():
    return st.one_of(st.sampled_from([x, y]), st.fractions(-5, 5, max_denominator=7).map(sp.Rational))


def _safe(fn):
    """Build a node, or ``None`` when SymPy refuses (non-comparable Min args) or folds it to zoo/nan."""
    def build(args):
        try:
            e = fn(*args)
        except (ValueError, TypeError, ZeroDivisionError):
            return None
        return None if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I) else e
    return build


def _node(children):
    small_int = st.sampled_from([-2, -1, 2, 3])
    frac = st.sampled_from([sp.Rational(1, 2), sp.Rational(-1, 3), sp.Rational(4, 3), sp.Rational(5, 2)])
    two = st.tuples(children, children)
    one = st.tuples(children)
    return st.one_of(
        two.map(_safe(lambda a, b: a + b)), two.map(_safe(lambda a, b: a * b)),
        st.tuples(children, small_int).map(_safe(lambda a, n: a ** n)),
        st.tuples(children, frac).map(_safe(lambda a, q: a ** q)),
        one.map(_safe(lambda a: sp.exp(sp.Min(a, 20)))),
        one.map(_safe(sp.log)), one.map(_safe(sp.sqrt)), one.map(_safe(sp.Abs)),
        two.map(_safe(sp.Min)), two.map(_safe(sp.Max)),
    ).filter(lambda e: e is not None)


EXPRS = st.recursive(_leaf(), _node, max_leaves=6)


def _arb(v) -> arb:
    """An mpmath number as an arb ball containing it (exact mantissa/exponent conversion)."""
    sign, man, exp, _ = mpmath.mpf(v)._mpf_
    return (-1) ** sign * arb(fmpz(man)) * arb(2) ** int(exp)
POINTS = st.fractions(Fraction(1, 50), 20, max_denominator=1000)


@SETTINGS
@given(EXPRS, POINTS, POINTS)
def test_ball_contains_true_value_and_agrees_with_mpmath_iv(expr, px, py):
    mpmath.mp.dps = 60
    mpmath.iv.prec = 53
    try:
        ref = _mp_eval(expr, {x: mpmath.mpf(px.numerator) / px.denominator,
                              y: mpmath.mpf(py.numerator) / py.denominator}, mpmath.mp)
        box = _mp_eval(expr, {x: mpmath.iv.mpf(px.numerator) / px.denominator,
                              y: mpmath.iv.mpf(py.numerator) / py.denominator}, mpmath.iv)
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    assume(mpmath.isfinite(ref) and abs(ref) < mpmath.mpf(10) ** 30)
    assume(mpmath.isfinite(box.a) and mpmath.isfinite(box.b))
    v = evaluate(expr, {x: px, y: py})
    event("exact" if isinstance(v, fmpq) else "ball")
    if isinstance(v, fmpq):  # exact rational arithmetic: compare exactly with SymPy
        assert sp.Rational(int(v.p), int(v.q)) == expr.subs({x: sp.Rational(px), y: sp.Rational(py)})
        return
    assume(v.is_finite())  # a ball touching a domain boundary is nan: undecided, never wrong
    true = _arb(ref) + arb(0, 1e-45 * (1 + abs(float(ref))))  # the 60-digit value, widened by its error
    assert v.overlaps(true), (expr, px, py, v, ref)
    iv_ball = _arb(box.a).union(_arb(box.b))  # mpmath.iv's interval as a ball
    assert v.overlaps(iv_ball), (expr, v, box)
    # more bits never lose the true value and shrink the ball
    v2 = evaluate(expr, {x: px, y: py}, prec=212)
    assert v2.overlaps(true) and v2.rad() <= v.rad() * 1.01


def test_exact_inputs_stay_exact():
    v = evaluate(sp.Rational(1, 3) + x ** 2 - sp.Max(x, 2) * sp.Abs(y - 5), {x: Fraction(3, 2), y: 7})
    assert isinstance(v, fmpq) and v == fmpq(1, 3) + fmpq(9, 4) - 2 * 2
    # perfect rational powers stay exact too: (1/8)**(-1/3) == 2
    assert evaluate(x ** sp.Rational(-1, 3), {x: Fraction(1, 8)}) == fmpq(2)
    assert not isinstance(evaluate(x ** sp.Rational(-1, 3), {x: Fraction(1, 7)}), fmpq)


def test_decisions_are_tri_state_and_report_precision():
    at = {E0: Fraction(1, 8), t: Fraction(3, 2)}  # bound = 8
    assert decide(RICCATI, {**at, E: ball(8.0 * (1 + 1e-9), rel=1e-12)}).truth is Truth.HOLDS
    assert decide(RICCATI, {**at, E: ball(8.0 * (1 - 1e-9), rel=1e-12)}).truth is Truth.VIOLATED
    d = decide(RICCATI, {**at, E: ball(8.0, rel=1e-12)})
    assert d.truth is Truth.UNDECIDED and d.prec is None and d.finite
    exact = decide(RICCATI, {**at, E: 8})
    assert exact.truth is Truth.HOLDS and exact.prec == 0  # equality is allowed by >=
    assert decide(sp.Gt(E, 8), {E: 8}).truth is Truth.VIOLATED
    # a difference below float64 resolution needs more bits, and says how many it took
    esc = decide(sp.Ge(sp.exp(x), 1 + x + x ** 2 / 2), {x: 1e-20})
    assert esc.truth is Truth.HOLDS and esc.prec > 53
    strict = decide(sp.Lt(sp.exp(x), 1 + x), {x: 1e-20})
    assert strict.truth is Truth.VIOLATED and strict.prec > 53


def test_escalation_stops_when_the_input_error_dominates():
    d = decide(sp.Le(x, 1), {x: ball(1.0, rel=1e-10)})
    assert d.truth is Truth.UNDECIDED and "106 bits" in d.reason  # 53 then 106, radius did not shrink


def test_domain_errors_are_undecided_not_wrong():
    d = decide(sp.Ge(sp.log(E), 0), {E: -1})
    assert d.truth is Truth.UNDECIDED and not d.finite
    # x**(-1/3) of a negative x is complex in SymPy (principal branch): outside the real domain
    assert not decide(sp.Ge(E0 ** sp.Rational(-1, 3), 0), {E0: -8}).finite
    assert not decide(sp.Ge(1 / E, 0), {E: 0}).finite


def test_sums_over_concrete_indices_and_indexed_values():
    i, j = sp.Idx("i"), sp.symbols("j", integer=True)
    w = sp.IndexedBase("w")
    n = sp.Symbol("n", integer=True)
    assert evaluate(sp.Sum(w[i] ** 2, (i, 0, 2)), {w: [1, 2, 3]}) == 14
    assert evaluate(sp.Sum(1 / j ** 2, (j, 1, n)), {n: 4}) == fmpq(205, 144)
    v = evaluate(sp.Sum(w[i] ** 2, (i, 0, 1)), {w: [ball(1.0, abs_=1e-6), 2.0]})
    assert v.contains(arb(5)) and v.rad() > 1e-6


def test_unsupported_nodes_fail_loudly():
    with pytest.raises(UnsupportedExpression):
        evaluate(sp.gamma(x), {x: 2})
    with pytest.raises(KeyError, match="no value for symbol"):
        evaluate(x + y, {x: 1})


# ------------------------------------------------------------------ rigorous bound verdicts


def _balanced_riccati(n=200, scale=1.0):
    """chen-luo-2025 §4.3 balanced scalar case: E(t) = (E0^{-1/3} - t)^{-3} attains bound (11)."""
    ts = np.linspace(0.0, 0.45, n)
    return ts, scale * (1.0 - ts) ** -3


def test_bound_at_the_bound_within_rounding_is_undecided_never_holds():
    ts, e = _balanced_riccati()
    m = judge_bound_rigorous(RICCATI, {E: e, E0: 1, t: ts}, exact=[t])
    assert m.status is Status.UNDECIDED and m.worst["undecided"] == len(ts)
    # the float judge with a zero tolerance would have said "holds" one ulp above the bound
    above = np.nextafter(e, np.inf)
    assert judge_bound_float(above, e, ">=", tol=0.0).status is Status.HOLDS
    assert judge_bound_rigorous(RICCATI, {E: above, E0: 1, t: ts}, exact=[t]).status is Status.UNDECIDED


def test_bound_mutations_are_violated_and_the_real_thing_holds():
    ts, e = _balanced_riccati()
    ok = judge_bound_rigorous(RICCATI, {E: e * 1.001, E0: 1, t: ts}, exact=[t])
    assert ok.status is Status.HOLDS and ok.worst["prec"] == 53 and ok.margin == pytest.approx(1e-3, rel=1e-2)
    sabotaged = e.copy()
    sabotaged[137] *= 0.999  # one point of the trajectory pushed below the bound
    bad = judge_bound_rigorous(RICCATI, {E: sabotaged * 1.0005, E0: 1, t: ts}, exact=[t])
    assert bad.status is Status.VIOLATED and bad.worst["index"] == 137
    assert bad.worst["time"] == pytest.approx(ts[137]) and bad.margin < 0
    wrong_exponent = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -4)  # mutated bound: larger for t > 0
    m = judge_bound_rigorous(wrong_exponent, {E: e * 1.001, E0: 1, t: ts}, exact=[t])
    assert m.status is Status.VIOLATED


def test_declared_integration_error_widens_the_balls():
    ts, e = _balanced_riccati(50)
    close = e * (1 + 1e-8)
    assert judge_bound_rigorous(RICCATI, {E: close, E0: 1, t: ts}, exact=[t]).status is Status.HOLDS
    m = judge_bound_rigorous(RICCATI, {E: close, E0: 1, t: ts}, exact=[t], abs_err={E: 1e-6 * e})
    assert m.status is Status.UNDECIDED
    assert judge_bound_rigorous(RICCATI, {E: close, E0: 1, t: ts}, exact=[t],
                                dtype="float32").status is Status.UNDECIDED  # float32 rounding > 1e-8


def test_measured_float_config_is_a_ball_unless_declared_exact():
    ts, e = _balanced_riccati(20)
    e0 = 1.0 + 1e-13  # a measured E(0): its rounding error makes the bound a ball too
    bound = (e0 ** (-1 / 3) - ts) ** -3
    exact_cfg = judge_bound_rigorous(RICCATI, {E: bound * (1 + 1e-12), E0: e0, t: ts}, exact=[t, E0])
    measured_cfg = judge_bound_rigorous(RICCATI, {E: bound * (1 + 1e-12), E0: e0, t: ts}, exact=[t],
                                        rel_err=1e-11)
    assert exact_cfg.status is Status.HOLDS and measured_cfg.status is Status.UNDECIDED


def test_non_finite_measurement_is_numerical_failure():
    ts, e = _balanced_riccati(30)
    e[12] = np.nan
    m = judge_bound_rigorous(RICCATI, {E: e, E0: 1, t: ts}, exact=[t])
    assert m.status is Status.NUMERICAL_FAILURE and m.worst["index"] == 12 and m.worst["time"] == ts[12]


def test_points_outside_the_bounds_domain_are_excluded_and_counted():
    ts = np.array([0.1, 0.15, 0.3])
    rel = sp.Ge(E, sp.log(t - sp.Rational(1, 5)))  # undefined at t <= 0.2
    m = judge_bound_rigorous(rel, {E: np.array([5.0, 5.0, 5.0]), t: ts}, exact=[t])
    assert m.status is Status.HOLDS and m.worst["excluded"] == 2
    m = judge_bound_rigorous(rel, {E: np.array([5.0, 5.0]), t: ts[:2]}, exact=[t])
    assert m.status is Status.UNDECIDED and m.margin is None


def test_indexed_values_per_point():
    i = sp.Idx("i")
    w, r = sp.IndexedBase("w"), sp.Symbol("R")
    rel = sp.Le(sp.Sum(w[i] ** 2, (i, 0, 2)), r)
    pts = np.array([[1.0, 2.0, 2.0], [0.0, 1.0, 1.0]])  # |w|^2 = 9, 2
    assert judge_bound_rigorous(rel, {w: pts, r: np.array([9.5, 2.5])}).status is Status.HOLDS
    m = judge_bound_rigorous(rel, {w: pts, r: np.array([9.5, 1.5])})
    assert m.status is Status.VIOLATED and m.worst["index"] == 1


def test_judge_bound_is_the_formula_judged_in_balls_and_agrees_with_the_float_judge():
    ts, e = _balanced_riccati(40)
    bound = (1.0 - ts) ** -3
    old = judge_bound_float(e * 1.01, bound, ">=", 1e-9)  # the same numbers without the formula
    new = judge_bound(RICCATI, {E: e * 1.01, E0: 1, t: ts}, tol=1e-9, exact=(t,))
    assert old.status is new.status is Status.HOLDS and new.worst["rigorous"]
    assert new.margin == pytest.approx(old.margin, rel=1e-9)
    at = judge_bound(RICCATI, {E: e, E0: 1, t: ts}, tol=1e-9, exact=(t,))
    assert at.status is Status.UNDECIDED
    # the relation flipped in the formula is judged as written (no sense passed beside it to disagree)
    flipped = sp.Le(RICCATI.lhs, RICCATI.rhs)
    assert judge_bound(flipped, {E: e * 1.01, E0: 1, t: ts}, tol=1e-9, exact=(t,)).status is Status.VIOLATED
    with pytest.raises(KeyError, match="E0"):
        judge_bound(RICCATI, {E: e, t: ts}, tol=1e-9)


def test_a_few_hundred_points_are_fast():
    ts, e = _balanced_riccati(500)
    t0 = time.perf_counter()
    m = judge_bound_rigorous(RICCATI, {E: e * 1.01, E0: 1, t: ts}, exact=[t])
    assert m.status is Status.HOLDS and time.perf_counter() - t0 < 2.0


def test_to_float_of_exact_and_nan():
    assert to_float(fmpq(1, 4)) == 0.25 and np.isnan(to_float(arb.nan()))
