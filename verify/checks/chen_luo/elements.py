"""Per-element judging along a batch of trajectories integrated to blow-up (chen-luo-2025 stage 1).

A batch of ``B`` initialisations is integrated once (``numerics.chen_luo.blowup.integrate_to_blowup`` or
the condensation integrator); every element is judged on its own record and the results are combined. An
element that did not reach the blow-up event has no ``T*`` bracket: it is a ``numerical-failure`` for the
claims that need one, never silently skipped.
"""

from __future__ import annotations

import math

from twostage.verify.judge import as_relation
from twostage.verify.verdict import Measurement, Status, combine


def blowup_failure(tr: dict, b: int) -> Measurement | None:
    """``numerical-failure`` for an element that did not reach the blow-up event, else ``None``."""
    if not tr["reached"][b]:
        t = tr["t"][b][tr["mask"][b]]
        return Measurement(Status.NUMERICAL_FAILURE, None, {"element": b, "reason":
                           "blow-up event not reached (max steps or non-finite state)",
                           "time": float(t[-1]) if len(t) else None})
    return None


def each_element(tr: dict, B: int, judge_one, needs_blowup: bool = True) -> Measurement:
    """Combine ``judge_one(b)`` (a Measurement, a list of them, or ``None`` for nothing in the judged
    domain) over the ``B`` elements of a batch. An element that did not reach the blow-up event is a
    ``numerical-failure`` when ``needs_blowup`` (its T* bracket is unknown)."""
    out = []
    for b in range(B):
        fail = blowup_failure(tr, b) if needs_blowup else None
        r = fail if fail is not None else judge_one(b)
        if r is not None:
            out.extend(r if isinstance(r, list) else [r])
    return combine(out)


def per_element(tr: dict, B: int, judge_one, needs_blowup: bool = True) -> Measurement:
    """:func:`each_element` with ``judge_one(b, t, E)`` given the element's recorded (valid) points."""

    def one(b: int):
        m = tr["mask"][b]
        return judge_one(b, tr["t"][b][m], tr["E"][b][m])

    return each_element(tr, B, one, needs_blowup)


class _ByName(dict):
    """Symbols by name; a name the formula no longer has (an audit mutation dropped its term) gives a fresh
    symbol, whose value the judges then ignore -- the edited formula is judged, not a ``KeyError``."""

    def __missing__(self, name: str) -> object:
        import sympy as sp

        return sp.Symbol(name)


def symbols_by_name(expr) -> dict[str, object]:
    """The free symbols of ``expr`` by name (how a judge addresses a formula's quantities); a name ``expr``
    does not have gives a fresh symbol.

    >>> import sympy as sp
    >>> s = symbols_by_name(sp.Symbol("T") <= 1)
    >>> s["T"], s["E_t0"]
    (T, E_t0)
    """
    return _ByName({s.name: s for s in expr.free_symbols})


def symbols_of(claim) -> dict[str, object]:
    """:func:`symbols_by_name` of ``claim.formula``."""
    return symbols_by_name(claim.formula)


def first_of(items, what: str):
    """The first of ``items`` (a generator over a formula's parts); a formula that has none (an edit dropped
    it) cannot be judged by the check: :class:`~twostage.errors.UnsupportedExpression` (an ``undecided``)."""
    for x in items:
        return x
    from twostage.errors import UnsupportedExpression

    raise UnsupportedExpression(f"the formula has no {what}")


def relations(formula) -> tuple:
    """The relationals of a claim's formula (the arguments of an ``And``, or the formula itself)."""
    import sympy as sp

    return tuple(formula.args) if isinstance(formula, sp.And) else (formula,)


def value_of(expr, values: dict[str, float]) -> float:
    """``expr`` evaluated with its free symbols given by name (a formula's right side at measured values); an
    ``Integral`` in it is evaluated by ``mpmath.quad`` (30 digits) of its lambdified integrand.

    >>> import sympy as sp
    >>> m, a = sp.symbols("m a", positive=True)
    >>> round(value_of(sp.Integral(1 / (m**2 + a), (m, 0, sp.oo)), {"a": 4.0}), 12)   # pi / (2 sqrt(a))
    0.785398163397
    """
    import sympy as sp

    e = sp.sympify(expr).subs({s: values[s.name] for s in expr.free_symbols})
    v = complex(e.replace(lambda a: isinstance(a, sp.Integral), _quad) if e.has(sp.Integral) else e)
    return v.real if v.imag == 0 else v  # complex where the formula is not real at these values


def _quad(integral):
    """A one-variable definite ``Integral`` with numeric limits, by ``mpmath.quad``."""
    import mpmath
    import sympy as sp

    ((x, lo, hi),) = integral.limits
    f = sp.lambdify(x, integral.function, "mpmath")
    mp = lambda v: mpmath.inf if v == sp.oo else -mpmath.inf if v == -sp.oo else mpmath.mpf(float(v))  # noqa
    lo, hi = mp(lo), mp(hi)
    pts = [lo, lo + 1, hi] if mpmath.isfinite(lo) and not mpmath.isfinite(hi) else [lo, hi]
    with mpmath.workdps(30):
        return sp.sympify(mpmath.quad(f, pts))


def _box(v):
    """A measured value as SymPy: a number (``math.inf``: never observed finite) or an interval (lo, hi)."""
    import math

    import sympy as sp

    if isinstance(v, tuple):
        lo, hi = (_box(x) for x in v)
        return lo if lo == hi else sp.AccumBounds(lo, hi)
    return sp.oo if v == math.inf else -sp.oo if v == -math.inf else sp.Float(float(v))


def decide(formula, values: dict[str, object]) -> bool | None:
    """The formula's relation(s) at measured values given by name -- a number, ``math.inf`` for a quantity
    never observed finite, or an interval ``(lo, hi)`` known to contain it -- in interval arithmetic
    (``sympy.AccumBounds``): ``True`` when every relation holds at every point of the box, ``False`` when one
    holds at none, ``None`` when the box straddles it. Any relation is evaluated as written (``=``/``!=`` by
    whether the box of ``lhs - rhs`` contains 0), so a flipped formula is judged, never an internal error.

    >>> import sympy as sp
    >>> t, T = sp.symbols("t_ass1 T_star")
    >>> box = {"t_ass1": (0.0, 1.0), "T_star": (1.5, 2.0)}
    >>> [decide(r, box) for r in (t < T, t >= T, sp.Eq(t, T), t < T / 2)]
    [True, False, False, None]
    """
    import sympy as sp

    subs = {s: _box(values[s.name]) for s in formula.free_symbols}
    out = []
    for rel in relations(formula):
        if rel in (sp.true, sp.false):  # SymPy already decided it (``T_star >= oo`` for a real T_star)
            r = bool(rel)
        elif isinstance(rel, sp.Equality | sp.Unequality):
            diff = sp.sympify(rel.lhs - rel.rhs).subs(subs)
            if isinstance(diff, sp.AccumBounds):
                eq = False if not (diff.min <= 0 <= diff.max) else True if diff.min == diff.max == 0 else None
            else:
                eq = bool(diff == 0)
            r = eq if eq is None or isinstance(rel, sp.Equality) else not eq
        else:
            try:
                v = rel.func(*(sp.sympify(x).xreplace(subs) for x in (rel.lhs, rel.rhs)))
            except TypeError:  # SymPy cannot order the two sides
                v = None
            r = True if v is sp.true else False if v is sp.false else None
        out.append(r)
    return False if False in out else None if None in out else True


def count_decisions(decisions: list, info: dict) -> Measurement:
    """Per-draw Bernoulli counts of an almost-sure claim decided per element by :func:`decide` (``True``:
    success, ``False``: counterexample, ``None``: not decided by the measured intervals), for
    :func:`pool_binomial`."""
    from twostage.verify.judge import judge_binomial

    k, bad = decisions.count(True), decisions.count(False)
    u = len(decisions) - k - bad
    return judge_binomial(k, k + bad, 1.0, info={**info, "counterexamples": bad, "undecided": u})


def pool_binomial(records) -> Measurement:
    """One exact binomial verdict (probability 1) over the counts of all draws (each draw's result kept in
    ``per_dimension``); elements the measured intervals did not decide make a ``holds`` ``undecided``."""
    import dataclasses

    from twostage.verify.judge import judge_binomial

    ms = [m for m, _ in records]
    k = sum(m.worst["successes"] for m in ms)
    n = sum(m.worst["n"] for m in ms)
    u = sum(m.worst.get("undecided", 0) for m in ms)
    m = judge_binomial(k, n, 1.0, info={"per_dimension": [m.worst for m in ms]})
    if u and m.status is Status.HOLDS:
        return dataclasses.replace(m, status=Status.UNDECIDED, worst={
            **m.worst, "reason": f"{u} elements not decided by the measured intervals"})
    return m


def equations_on(formula, instance: dict[str, object], ref: str) -> list:
    """The formula's ``=``/``!=`` relations instantiated on a concrete instance (each symbol, by name, is
    replaced by the instance's expression for it), as proof obligations ``lhs == rhs`` (``!=``): SymPy then
    proves or refutes the printed formula itself, so an edited constant or exponent fails the proof."""
    import sympy as sp

    from twostage.theory.chen_luo.model import Obligation

    rep = {s: instance[s.name] for s in formula.free_symbols}
    return [Obligation(f"formula on the instance: {rel}", sp.sympify(rel.lhs).xreplace(rep),
                       sp.sympify(rel.rhs).xreplace(rep), "eq" if isinstance(rel, sp.Equality) else "ne", ref)
            for rel in relations(formula) if isinstance(rel, sp.Equality | sp.Unequality)]


def judge_equations(formula, values: dict[str, object], tol: float, info: dict | None = None) -> Measurement:
    """Every relation of the formula read as ``lhs = rhs`` at measured values (numbers or arrays, by name):
    the largest relative residual ``|lhs - rhs| / |rhs|`` by :func:`~twostage.verify.judge.judge_residual`,
    read for the relation as written (:func:`as_relation`), the results combined."""
    import numpy as np
    import sympy as sp

    from twostage.verify.judge import judge_residual

    ms = []
    for rel in relations(formula):
        syms = sorted(rel.free_symbols, key=str)
        f = sp.lambdify(syms, [rel.lhs, rel.rhs], "numpy")
        with np.errstate(all="ignore"):
            lhs, rhs = (np.asarray(x, dtype=complex) for x in f(*(values[s.name] for s in syms)))
            res = float(np.max(np.abs(lhs - rhs) / np.maximum(np.abs(rhs), 1e-300)))
        res = res if np.isfinite(res) else math.inf
        ms.append(as_relation(rel, judge_residual(res, tol, {**(info or {}), "relation": str(rel)})))
    return combine(ms)


def one_draw(m: Measurement) -> Measurement:
    """``m`` counted as the one drawn configuration it judged (the pieces combined into it count as none)."""
    import dataclasses

    return dataclasses.replace(m, examples=1, unit="")
