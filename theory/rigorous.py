"""Rigorous evaluation of bound expressions in ball arithmetic (python-flint ``arb``).

A SymPy expression is compiled once into a tree of closures and evaluated on an environment
``{symbol: value}``. Exact inputs (integers, fractions, SymPy rationals, integer configurations)
stay exact: Add/Mul/integer powers/Min/Max/Abs of exact values are computed in exact rational
arithmetic (``fmpq``). Everything else is a ball (``arb``: midpoint and radius) that is guaranteed to
contain the true value -- a measured float enters as ``ball(x, rel=..., abs_=...)`` whose radius is
the declared error. A relational is then decided tri-state:

* ``holds`` when the ball of ``lhs - rhs`` lies on the right side of 0 (certainly),
* ``violated`` when it lies certainly on the wrong side,
* ``undecided`` otherwise (the value sits at the bound within the declared error or rounding),

escalating the working precision (53, 106, 212, ... bits) while that can still help, and
reporting the precision at which the decision was made (0 = exact rational arithmetic). Outside an
expression's real domain (``log`` of a non-positive ball, a fractional power of a negative one) the
ball is ``nan`` and the answer is ``undecided`` with ``finite=False``.

The node compiler and the value helpers (:func:`ball`, :func:`exact`) live in
:mod:`twostage.theory.rigorous_compile` and are re-exported here. Supported nodes: Add, Mul, Pow
(integer, rational and real exponents), exp, log, sqrt, Min, Max, Abs, sign-free elementary
functions (sin, cos, tan, sinh, cosh, tanh, atan), rationals, integers, Floats (their exact binary
value), pi, E, symbols, ``Indexed`` (the environment maps the ``IndexedBase`` to a sequence, indexed
literally) and ``Sum`` over concrete integer limits.

>>> import sympy as sp
>>> from fractions import Fraction
>>> E, E0, t = sp.symbols("E E0 t")
>>> riccati = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)     # chen-luo-2025 Thm 1, eq. (11)
>>> at = {E0: Fraction(1, 8), t: Fraction(3, 2)}          # bound = (2 - 3/2)**-3 = 8 exactly
>>> decide(riccati, {**at, E: ball(8.01, rel=1e-12)}).truth.value
'holds'
>>> decide(riccati, {**at, E: ball(8.0, rel=1e-12)}).truth.value    # at the bound within its error
'undecided'
>>> d = decide(riccati, {**at, E: Fraction(8)}); d.truth.value, d.prec   # exact inputs stay exact
('holds', 0)
>>> decide(riccati, {**at, E: ball(7.99, rel=1e-12)}).truth.value
'violated'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sympy as sp
from flint import arb, fmpq

from twostage.theory.rigorous_compile import (  # noqa: F401  (re-exported: the public API lives here)
    PRECISIONS,
    UnsupportedExpression,
    Value,
    _add,
    _mul,
    as_arb,
    ball,
    compile_expr,
    dtype_error,
    exact,
    is_finite,
    precision,
    to_float,
)


class Truth(str, Enum):
    """Tri-state answer; the values coincide with :class:`twostage.verify.verdict.Status`."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Decision:
    """Outcome of :func:`decide`: truth, the precision (bits; 0 = exact) it was decided at, the
    ball of ``lhs - rhs`` (oriented so that positive means satisfied for ``>=``/``>``/``==``) and
    the balls of both sides."""

    truth: Truth
    prec: int | None
    diff: Value
    lhs: Value
    rhs: Value
    finite: bool = True
    reason: str = ""

    @property
    def slack(self) -> float:
        """Midpoint of the oriented difference as a float (nan when not finite)."""
        return to_float(self.diff)

# ----------------------------------------------------------------------------- evaluation


def make_env(values: Mapping[Any, Any]) -> dict:
    """Environment from ``{symbol: value}``: exact inputs via :func:`exact`, balls kept, sequences
    (for ``IndexedBase``) converted element-wise. Keys may be Symbols, IndexedBases or names."""
    env: dict = {}
    for k, v in values.items():
        key = k.label if isinstance(k, sp.IndexedBase) else (sp.Symbol(k) if isinstance(k, str) else k)
        env[key] = _convert(v)
    return env


def _convert(v: Any) -> Any:
    if isinstance(v, (str, bytes)):
        raise TypeError("strings are not values")
    if getattr(v, "ndim", None) == 0:  # numpy scalars and 0-d arrays
        v = v.item()
    if isinstance(v, Sequence) or hasattr(v, "tolist"):
        return [_convert(x) for x in v]
    return exact(v)


def evaluate(expr: sp.Basic, values: Mapping[Any, Any], prec: int = 53) -> Value:
    """Ball (or exact rational) value of ``expr`` at ``values`` with working precision ``prec``.

    >>> x = sp.Symbol("x")
    >>> evaluate(sp.exp(x) - 1, {x: sp.Rational(1, 10)}).contains(arb("0.10517091807564762"))
    True
    >>> evaluate(sp.Rational(1, 3) + x ** 2, {x: 2})
    13/3
    """
    env = make_env(values)
    with precision(prec):
        return compile_expr(sp.sympify(expr))(env)


def relation_sides(rel: sp.Basic) -> tuple[sp.Basic, sp.Basic, str]:
    """``(lhs, rhs, op)`` with ``op`` one of ``>=, >, <=, <, ==, !=``."""
    ops = {sp.GreaterThan: ">=", sp.StrictGreaterThan: ">", sp.LessThan: "<=", sp.StrictLessThan: "<",
           sp.Equality: "==", sp.Unequality: "!="}
    for cls, op in ops.items():
        if isinstance(rel, cls):
            return rel.lhs, rel.rhs, op
    raise UnsupportedExpression(f"not a relational (Ge/Gt/Le/Lt/Eq/Ne): {rel}")


def _truth(d: Value, op: str) -> Truth:
    """Certain decision for the oriented difference ``d`` (positive = satisfied)."""
    if op in ("==", "!="):
        zero = (isinstance(d, fmpq) and d == 0) or (isinstance(d, arb) and d.is_exact() and d == 0)
        nonzero = bool(d != 0)  # certain for a ball
        yes, no = (Truth.HOLDS, Truth.VIOLATED) if op == "==" else (Truth.VIOLATED, Truth.HOLDS)
        return yes if zero else no if nonzero else Truth.UNDECIDED
    strict = op in (">", "<")
    if (d > 0) if strict else (d >= 0):
        return Truth.HOLDS
    if (d <= 0) if strict else (d < 0):
        return Truth.VIOLATED
    return Truth.UNDECIDED


def decide(rel: sp.Basic, values: Mapping[Any, Any], precisions: Sequence[int] = PRECISIONS) -> Decision:
    """Decide ``rel`` (Ge/Gt/Le/Lt/Eq/Ne) at ``values`` rigorously, escalating precision while useful.

    Escalation stops early when the difference's radius no longer shrinks (it is then dominated by
    the declared input errors, and more bits cannot decide).
    """
    lhs, rhs, op = relation_sides(rel)
    f_l, f_r = compile_expr(lhs), compile_expr(rhs)
    env = make_env(values)
    sign = -1 if op in ("<=", "<") else 1
    prev_rad = math.inf
    last: Decision | None = None
    for p in precisions:
        with precision(p):
            try:
                a, b = f_l(env), f_r(env)
                d = _add(a, _mul(fmpq(-1), b)) if sign > 0 else _add(b, _mul(fmpq(-1), a))
            except ZeroDivisionError:
                a = b = d = arb.nan()
        exact_d = isinstance(d, fmpq)
        if not is_finite(d):
            last = Decision(Truth.UNDECIDED, None, d, a, b, finite=False,
                            reason=f"not finite at {p} bits (outside the real domain, or a pole)")
            rad = math.inf
        else:
            t = _truth(d, op)
            if t is not Truth.UNDECIDED:
                return Decision(t, 0 if exact_d else p, d, a, b,
                                reason="exact rational arithmetic" if exact_d else f"decided at {p} bits")
            rad = 0.0 if exact_d else float(d.rad())
            last = Decision(Truth.UNDECIDED, None, d, a, b,
                            reason="equal to the bound within the declared error" if exact_d or rad == 0
                            else f"0 inside the ball at {p} bits (radius {rad:.3g})")
        if exact_d or rad == 0 or (math.isfinite(prev_rad) and rad > 0.5 * prev_rad):
            break
        prev_rad = rad
    assert last is not None
    return last
