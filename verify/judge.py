"""Judges: turn measured numbers into a tri-state :class:`Measurement`, one function per kind.

Each judge takes the measurement, the theoretical object and a *stated* tolerance (the numerical
error the measurement can carry: integrator tolerance, dtype rounding). A value within tolerance of
the bound is ``undecided``.

>>> import numpy as np
>>> from twostage.verify.judge import judge_bound_float, judge_scaling
>>> judge_bound_float(np.array([1.0, 2.0]), np.array([1.5, 2.5]), "<=", tol=1e-9).status.value
'holds'
>>> judge_bound_float(np.array([1.0, 2.6]), np.array([1.5, 2.5]), "<=", tol=1e-9).status.value
'violated'
>>> judge_bound_float(np.array([2.5]), np.array([2.5]), "<=", tol=1e-9).status.value
'undecided'
>>> x = np.array([1e-3, 1e-2, 1e-1]); judge_scaling(x, 3 * x**2, expected=2.0, tol=0.1).status.value
'holds'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from twostage.verify.rigorous_judge import dtype_eps, judge_bound_rigorous
from twostage.verify.verdict import Measurement, Status, classify, relative_slack


def judge_bound(
    relational: Any,
    values: dict[Any, Any],
    *,
    tol: float,
    exact: tuple[Any, ...] = (),
    abs_err: Any = 0.0,
    info: dict[str, Any] | None = None,
    times: np.ndarray | None = None,
    floor: float = 0.0,
) -> Measurement:
    """The claim's relational (its ``formula``: ``lhs (>=|>|<=|<) rhs``) at every point of ``values``, decided
    in ball arithmetic by :func:`twostage.verify.rigorous_judge.judge_bound_rigorous` (CONTRIBUTING.md,
    *Rigorous bound verdicts*).

    ``values`` maps each free symbol to a scalar or one entry per point. Every measured float is a ball of
    relative radius ``tol + 4 eps(float64)`` plus ``abs_err``; symbols in ``exact`` (time grids, drawn
    configuration values) stay exact. The sense comes from the relational itself, so a formula with its
    relation flipped is judged as written.

    >>> import sympy as sp
    >>> E, t = sp.symbols("E t")
    >>> ts = np.linspace(0.0, 0.5, 6)
    >>> judge_bound(sp.Ge(E, 1 + t), {E: 2 + ts, t: ts}, tol=1e-9, exact=(t,)).status.value
    'holds'
    >>> judge_bound(sp.Le(E, 1 + t), {E: 2 + ts, t: ts}, tol=1e-9, exact=(t,)).status.value
    'violated'
    """
    return judge_bound_rigorous(relational, values or {}, rel_err=tol + 4 * dtype_eps("float64"),
                                abs_err=abs_err, exact=exact, times=times, info=info, floor=floor)


def judge_bound_float(
    measured: np.ndarray,
    bound: np.ndarray,
    sense: str,
    tol: float,
    info: dict[str, Any] | None = None,
    times: np.ndarray | None = None,
    floor: float = 0.0,
) -> Measurement:
    """``measured (sense) bound`` on float arrays (no formula): for bounds that are numbers, not expressions.

    Margin is the smallest relative slack; within ``tol`` of the bound is ``undecided``. Any NaN/inf in
    ``measured`` is a ``numerical-failure`` (with the index where it appeared). A claim's formula is judged by
    :func:`judge_bound`, not this.
    """
    measured = np.asarray(measured, dtype=float).ravel()
    bound = np.asarray(bound, dtype=float).ravel()
    info = dict(info or {})
    bad = ~np.isfinite(measured)
    if bad.any():
        k = int(np.argmax(bad))
        info.update(index=k, time=None if times is None else float(np.ravel(times)[k]),
                    reason="non-finite value")
        return Measurement(Status.NUMERICAL_FAILURE, None, info)
    ok = np.isfinite(bound)
    if not ok.any():
        return Measurement(Status.UNDECIDED, None, {**info, "reason": "bound not finite anywhere"})
    slack = relative_slack(measured[ok], bound[ok], sense, floor)
    k = int(np.argmin(slack))
    idx = int(np.flatnonzero(ok)[k])
    worst = {
        **info,
        "index": idx,
        "measured": float(measured[idx]),
        "bound": float(bound[idx]),
        "sense": sense,
        "tol": tol,
    }
    if times is not None:
        worst["time"] = float(np.ravel(times)[idx])
    return Measurement(classify(float(slack.min()), tol), float(slack.min()), worst)


RESIDUAL_BAND = 0.1  # judge_residual: undecided within this relative band around the tolerance


def judge_residual(residual: float, tol: float, info: dict[str, Any] | None = None,
                   band: float = RESIDUAL_BAND) -> Measurement:
    """An identity checked numerically, with an undecided band around the tolerance (as in judge_bound).

    Rule: ``residual < (1 - band) tol`` holds, ``residual > (1 + band) tol`` is violated, anything between is
    undecided (a residual at the tolerance is not evidence either way). Margin ``1 - residual/tol``
    (1 = exact, 0 = at the tolerance).

    >>> [judge_residual(r, 1e-10).status.value for r in (1e-14, 0.99999e-10, 1e-10, 1.2e-10)]
    ['holds', 'undecided', 'undecided', 'violated']
    """
    rule = f"residual < {1 - band:g}*tol holds, > {1 + band:g}*tol violated, else undecided (tol={tol:g})"
    info = {**(info or {}), "residual": float(residual), "tol": tol, "rule": rule}
    if not math.isfinite(residual):
        return Measurement(Status.NUMERICAL_FAILURE, None, info)
    margin = 1.0 - residual / tol
    if residual < (1 - band) * tol:
        status = Status.HOLDS
    elif residual > (1 + band) * tol:
        status = Status.VIOLATED
    else:
        status = Status.UNDECIDED
    return Measurement(status, margin, info)


def fit_loglog(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and slope standard error of ``log|y|`` against ``log x``."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.abs(np.asarray(y, float)))
    res = stats.linregress(lx, ly)
    return float(res.slope), float(res.intercept), float(res.stderr if len(lx) > 2 else 0.0)


def judge_scaling(
    x: np.ndarray, y: np.ndarray, expected: float, tol: float, info: dict[str, Any] | None = None
) -> Measurement:
    """diffrax-style order test: fitted log-log slope within ``tol`` of ``expected``.

    With a slope standard error ``se``: ``|slope-expected| + 2 se < tol`` holds, ``- 2 se > tol``
    is violated, anything in between is undecided. Margin: ``(tol - |slope-expected|)/tol``.
    """
    y = np.asarray(y, float)
    if not np.all(np.isfinite(y)):
        return Measurement(Status.NUMERICAL_FAILURE, None, {**(info or {}), "reason": "non-finite sample"})
    slope, intercept, se = fit_loglog(x, y)
    err = abs(slope - expected)
    w = {**(info or {}), "slope": slope, "expected": expected, "stderr": se, "tol": tol,
         "x": [float(v) for v in np.ravel(x)], "y": [float(v) for v in y]}
    if err + 2 * se < tol:
        status = Status.HOLDS
    elif err - 2 * se > tol:
        status = Status.VIOLATED
    else:
        status = Status.UNDECIDED
    return Measurement(status, (tol - err) / tol, w)


LIMIT_FACTOR = 10.0  # judge_limit: an approach must shrink the distance by at least this factor


def _fitted_decay(d: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Least-squares fit ``log d = a + b x`` over the record: ``(b, fitted decrease over the record)``."""
    pos = d > 0
    if pos.sum() < 3 or np.ptp(x[pos]) == 0:
        return 0.0, 1.0
    b = float(np.polyfit(x[pos], np.log(d[pos]), 1)[0])
    return b, float(np.exp(-b * np.ptp(x[pos])))


def judge_limit(
    distance: np.ndarray, tol: float, info: dict[str, Any] | None = None, times: np.ndarray | None = None,
    factor: float = LIMIT_FACTOR,
) -> Measurement:
    """A quantity tends to its limit: ``distance`` (>= 0) along the approach, which must be *observed*.

    Rule: holds when the final distance is below ``tol`` *and* an approach was observed: the distance started
    outside the tolerance (``d[0] >= tol``) and the final one is at least ``factor`` times smaller than the
    largest one before it, or a log-linear fit of the distance against time decays by at least ``factor``
    over the record with the final distance the smallest seen (up to 1%). Violated when the final distance
    exceeds ``tol`` and did not decrease over the last half of the record. Anything else is undecided -- in
    particular a distance that was inside the tolerance all along, or that grew (nothing approached).
    Margin ``1 - final/tol``.

    >>> d = np.geomspace(1.0, 1e-8, 20)
    >>> judge_limit(d, 1e-6).status.value, judge_limit(np.full(20, 1e-8), 1e-6).status.value
    ('holds', 'undecided')
    """
    d = np.asarray(distance, float).ravel()
    rule = (f"final < tol and approach observed (d0 >= tol and final <= max(d)/{factor:g}, or fitted "
            f"log-decay by >= {factor:g}); final > tol and not decreasing over the last half: violated; "
            f"else undecided (tol={tol:g})")
    if not np.all(np.isfinite(d)):
        k = int(np.argmax(~np.isfinite(d)))
        return Measurement(Status.NUMERICAL_FAILURE, None, {**(info or {}), "index": k, "rule": rule})
    final = float(d[-1])
    x = np.arange(len(d), dtype=float) if times is None else np.asarray(times, float).ravel()
    slope, fitted = _fitted_decay(d, x)
    peak = float(d[:-1].max()) if len(d) > 1 else final
    w = {**(info or {}), "final_distance": final, "initial_distance": float(d[0]), "max_distance": peak,
         "fitted_decay_factor": fitted, "tol": tol, "rule": rule}
    if times is not None:
        w["time"] = float(x[-1])
    outside = d[0] >= tol and final * factor <= peak
    decays = fitted >= factor and final <= 1.01 * float(d.min())
    if final < tol and (outside or decays):
        status = Status.HOLDS
    elif final > tol and final >= d[len(d) // 2] * (1 - 1e-12):
        status = Status.VIOLATED
    else:
        status = Status.UNDECIDED
        w["reason"] = "final distance above tol but decreasing" if final >= tol else \
            "no approach observed (never outside tol, or not shrunk by the stated factor)"
    return Measurement(status, 1.0 - final / tol, w)


def judge_ordering(t_first: float, t_second: float, scale: float, info: dict[str, Any] | None = None,
                   tol: float = 0.0) -> Measurement:
    """Event ``first`` strictly before ``second``; a missing event (NaN) is undecided.

    Margin ``(t_second - t_first) / scale``.
    """
    w = {**(info or {}), "t_first": t_first, "t_second": t_second}
    if not (math.isfinite(t_first) and math.isfinite(t_second)):
        return Measurement(Status.UNDECIDED, None, {**w, "reason": "event not reached"})
    slack = (t_second - t_first) / scale
    return Measurement(classify(slack, tol), slack, w)


MIN_BINOMIAL = 20  # judge_binomial: fewer draws than this are never enough for holds
BINOMIAL_UNIT = "Bernoulli trials"  # what a binomial verdict's ``examples`` counts


def judge_binomial(
    successes: int, n: int, p_claimed: float, alpha: float = 0.01, info: dict[str, Any] | None = None,
    min_n: int = MIN_BINOMIAL,
) -> Measurement:
    """A probabilistic claim "P(event) >= p_claimed", judged by an exact (Clopper-Pearson) interval.

    Rule: the lower bound ``lo`` of the two-sided ``1-alpha`` interval of P(event) decides (for an a.s. claim
    with no failure, the one-sided bound ``alpha**(1/n)``). An almost-sure claim (``p_claimed == 1``) is
    violated by any failure (a counterexample); a ``w.h.p.`` claim is violated when the upper bound is below
    ``p_claimed``. It holds when ``lo >= p_claimed`` (a.s.: no failure) *and* ``n >= min_n``; anything else is
    undecided.

    Margin: ``lo - p_claimed`` for ``p_claimed < 1``; ``lo`` itself for an a.s. claim (the success probability
    certified at level ``alpha``). Both *grow* with the evidence: one success out of one gives ``lo = alpha``,
    never a large margin.

    >>> [round(judge_binomial(n, n, 1.0).margin, 4) for n in (1, 1024)]
    [0.01, 0.9955]
    >>> judge_binomial(5, 5, 1.0).status.value
    'undecided'
    """
    rule = (f"Clopper-Pearson lower bound lo (alpha={alpha:g}): holds when lo >= p_claimed "
            f"(a.s.: no failure) and n >= {min_n}; a.s. violated by any failure, else violated when the "
            f"upper bound < p_claimed; margin lo - p_claimed (a.s.: lo)")
    w = {**(info or {}), "successes": successes, "n": n, "p_claimed": p_claimed, "alpha": alpha, "rule": rule}
    if n <= 0:
        return Measurement(Status.UNDECIDED, None, {**w, "reason": "no draws"}, 0, BINOMIAL_UNIT)
    if p_claimed >= 1.0:
        if successes < n:
            return Measurement(Status.VIOLATED, -(n - successes) / n, w, examples=n, unit=BINOMIAL_UNIT)
        lo = alpha ** (1.0 / n)  # one-sided: success rates below lo are rejected at level alpha
        w.update(ci_low=lo, excluded_failure_rate=1.0 - lo)
        status, margin = Status.HOLDS, lo
    else:
        lo = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, n - successes + 1))
        hi = 1.0 if successes == n else float(stats.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
        w.update(ci_low=lo, ci_high=hi)
        margin = lo - p_claimed
        status = Status.HOLDS if lo >= p_claimed else Status.VIOLATED if hi < p_claimed else Status.UNDECIDED
    if status is Status.HOLDS and n < min_n:
        status = Status.UNDECIDED
        w["reason"] = f"only {n} draws (holds needs n >= {min_n})"
    return Measurement(status, margin, w, examples=n, unit=BINOMIAL_UNIT)


def as_relation(rel: Any, m: Measurement) -> Measurement:
    """A judge of ``lhs = rhs`` (``m``) read for the relation of ``rel``: ``Ne`` swaps holds and violated, so
    a flipped equation is judged as written (never an internal error); any other relation keeps ``m``.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> as_relation(sp.Ne(x, 1), judge_residual(0.0, 1e-9)).status.value
    'violated'
    """
    import dataclasses

    import sympy as sp

    if isinstance(rel, sp.Unequality) and m.status in (Status.HOLDS, Status.VIOLATED):
        swapped = Status.VIOLATED if m.status is Status.HOLDS else Status.HOLDS
        return dataclasses.replace(m, status=swapped, margin=None if m.margin is None else -m.margin,
                                   worst={**m.worst, "relation": "!="})
    return m
