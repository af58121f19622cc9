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

Supported nodes: Add, Mul, Pow (integer, rational and real exponents), exp, log, sqrt, Min, Max,
Abs, sign-free elementary functions (sin, cos, tan, sinh, cosh, tanh, atan), rationals, integers,
Floats (their exact binary value), pi, E, symbols, ``Indexed`` (the environment maps the
``IndexedBase`` to a sequence, indexed literally) and ``Sum`` over concrete integer limits.

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
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy as sp
from flint import arb, ctx, fmpq, fmpz

Value = Any  # fmpq (exact) or arb (ball); Indexed bases map to sequences of these
Node = Callable[[dict], Value]

#: working precisions tried in turn (bits); 53 matches float64 rounding
PRECISIONS = (53, 106, 212, 424, 848)
_EPS64 = 2.0 ** -52
_UP = 1.0 + 4.0 * 2.0 ** -53  # rounds a float radius computation upwards


class Truth(str, Enum):
    """Tri-state answer; the values coincide with :class:`twostage.verify.verdict.Status`."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNDECIDED = "undecided"


class UnsupportedExpression(TypeError):
    """The expression has a node the ball evaluator does not handle (one-line message)."""


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


# ----------------------------------------------------------------------------- values


def ball(x: float, rel: float = 0.0, abs_: float = 0.0) -> arb:
    """A measured float as a ball of radius ``rel*|x| + abs_`` (rounded up).

    >>> b = ball(2.0, rel=1e-3); b.contains(arb(2.002)), b.contains(arb(2.003))
    (True, False)
    """
    x = float(x)
    if not math.isfinite(x):
        return arb.nan()
    rad = (float(rel) * abs(x) + float(abs_)) * _UP
    return arb(x, rad) if rad > 0 else arb(x)


def dtype_error(x: float, k: float = 4.0, eps: float = _EPS64) -> float:
    """Declared rounding error of a computed float: ``k * eps * |x|`` (float64 ``eps`` by default)."""
    return k * eps * abs(float(x))


def exact(x: Any) -> Value:
    """Convert an exact input (int, Fraction, SymPy Rational/Integer, fmpq/fmpz, finite float) to a
    value that is exactly that number. Floats become exact balls of radius 0.

    >>> exact(Fraction(1, 3)), exact(3), exact(sp.Rational(2, 7))
    (1/3, 3, 2/7)
    """
    if isinstance(x, (fmpq, arb)):
        return x
    if isinstance(x, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(x, (fmpz, numbers.Integral)):
        return fmpq(int(x))
    if isinstance(x, Fraction):
        return fmpq(x.numerator, x.denominator)
    if isinstance(x, sp.Rational):
        return fmpq(int(x.p), int(x.q))
    if isinstance(x, sp.Float):
        r = sp.Rational(x)
        return fmpq(int(r.p), int(r.q))
    if isinstance(x, numbers.Real):
        return arb(float(x)) if math.isfinite(float(x)) else arb.nan()
    raise TypeError(f"cannot use {type(x).__name__} as an exact value")


def as_arb(v: Value) -> arb:
    return v if isinstance(v, arb) else arb(v)


def to_float(v: Value) -> float:
    """Midpoint as a float (``nan`` for a non-finite ball)."""
    if isinstance(v, fmpq):
        return int(v.p) / int(v.q)
    if not v.is_finite():
        return math.nan
    return float(v.mid())


def is_finite(v: Value) -> bool:
    return isinstance(v, fmpq) or v.is_finite()


@contextmanager
def precision(bits: int) -> Iterator[None]:
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


# ----------------------------------------------------------------------------- compiler


def _add(a: Value, b: Value) -> Value:
    if isinstance(a, fmpq) and isinstance(b, fmpq):
        return a + b
    return as_arb(a) + as_arb(b)


def _mul(a: Value, b: Value) -> Value:
    if isinstance(a, fmpq) and isinstance(b, fmpq):
        return a * b
    return as_arb(a) * as_arb(b)


def _int_pow(a: Value, n: int) -> Value:
    if isinstance(a, fmpq):
        if a == 0 and n < 0:
            return arb.nan()
        return a ** n
    if n < 0 and a.contains(0):
        return arb.nan()
    return a ** n


def _exact_root(a: fmpq, q: int) -> fmpq | None:
    """``a**(1/q)`` when it is rational (``a > 0``), else ``None``."""
    num, den = fmpz(a.p).root(q), fmpz(a.q).root(q)
    if num ** q == a.p and den ** q == a.q:
        return fmpq(num, den)
    return None


def _rat_pow(a: Value, p: int, q: int) -> Value:
    if isinstance(a, fmpq):
        if a == 0:
            return fmpq(0) if p > 0 else arb.nan()
        if a > 0:
            r = _exact_root(a, q)
            if r is not None:  # perfect powers stay exact: (1/8)**(-1/3) == 2
                return r ** p
    b = as_arb(a)
    if not b > 0:  # fractional power: real only for positive bases (SymPy's principal branch)
        if b.is_exact() and b == 0 and p > 0:
            return arb(0)
        return arb.nan()
    return b ** fmpq(p, q)


def _real_pow(a: Value, e: Value) -> Value:
    b, x = as_arb(a), as_arb(e)
    if not b > 0:
        return arb.nan()
    return b ** x


def _minmax(vals: list[Value], pick_max: bool) -> Value:
    if all(isinstance(v, fmpq) for v in vals):
        return max(vals) if pick_max else min(vals)
    out = as_arb(vals[0])
    for v in vals[1:]:
        out = out.max(as_arb(v)) if pick_max else out.min(as_arb(v))
    return out


def _abs(a: Value) -> Value:
    return abs(a)


def _exact_int(v: Value, what: str) -> int:
    if isinstance(v, fmpq) and v.q == 1:
        return int(v.p)
    if isinstance(v, arb) and v.is_exact() and v.is_integer():
        return int(v.unique_fmpz())
    raise UnsupportedExpression(f"{what} must evaluate to an exact integer, got {v}")


_UNARY: dict[type, Callable[[arb], arb]] = {
    sp.exp: arb.exp, sp.sin: arb.sin, sp.cos: arb.cos, sp.tan: arb.tan, sp.sinh: arb.sinh,
    sp.cosh: arb.cosh, sp.tanh: arb.tanh, sp.atan: arb.atan,
}


def _log(a: Value) -> Value:
    b = as_arb(a)
    return b.log() if b > 0 else arb.nan()


@lru_cache(maxsize=4096)
def compile_expr(expr: sp.Basic) -> Node:
    """Compile ``expr`` once into a closure ``f(env) -> value`` (cached by expression)."""
    e = sp.sympify(expr)
    if isinstance(e, sp.Rational):  # Integer, Rational, Half, One, Zero, ...
        c = exact(e)
        return lambda env: c
    if isinstance(e, sp.Float):
        c = exact(e)
        return lambda env: c
    if e is sp.pi:
        return lambda env: arb.pi()
    if e is sp.E:
        return lambda env: arb.const_e()
    if isinstance(e, (sp.Symbol, sp.Idx)):
        return _symbol(e)
    if isinstance(e, sp.Indexed):
        return _indexed(e)
    if isinstance(e, sp.Add):
        parts = [compile_expr(a) for a in e.args]
        return lambda env: _fold(_add, parts, env)
    if isinstance(e, sp.Mul):
        parts = [compile_expr(a) for a in e.args]
        return lambda env: _fold(_mul, parts, env)
    if isinstance(e, sp.Pow):
        return _pow(e)
    if isinstance(e, (sp.Min, sp.Max)):
        parts = [compile_expr(a) for a in e.args]
        pick_max = isinstance(e, sp.Max)
        return lambda env: _minmax([p(env) for p in parts], pick_max)
    if isinstance(e, sp.Abs):
        inner = compile_expr(e.args[0])
        return lambda env: _abs(inner(env))
    if isinstance(e, sp.log):
        if len(e.args) != 1:
            raise UnsupportedExpression("log with a base: rewrite as log(x)/log(b)")
        inner = compile_expr(e.args[0])
        return lambda env: _log(inner(env))
    if type(e) in _UNARY:
        fn, inner = _UNARY[type(e)], compile_expr(e.args[0])
        return lambda env: fn(as_arb(inner(env)))
    if isinstance(e, sp.Sum):
        return _sum(e)
    raise UnsupportedExpression(f"ball evaluation does not support {type(e).__name__}: {e}")


def _fold(op: Callable[[Value, Value], Value], parts: list[Node], env: dict) -> Value:
    acc = parts[0](env)
    for p in parts[1:]:
        acc = op(acc, p(env))
    return acc


def _symbol(s: sp.Symbol | sp.Idx) -> Node:
    def f(env: dict) -> Value:
        try:
            return env[s]
        except KeyError:
            raise KeyError(f"no value for symbol {str(s)!r}") from None

    return f


def _indexed(e: sp.Indexed) -> Node:
    base = e.base.label
    idx = [compile_expr(i) for i in e.indices]

    def f(env: dict) -> Value:
        try:
            seq = env[base]
        except KeyError:
            raise KeyError(f"no value for indexed base {base}") from None
        for i, node in enumerate(idx):
            seq = seq[_exact_int(node(env), f"index {i} of {e}")]
        return seq

    return f


def _pow(e: sp.Pow) -> Node:
    base = compile_expr(e.base)
    ex = e.exp
    if isinstance(ex, sp.Integer):
        n = int(ex)
        return lambda env: _int_pow(base(env), n)
    if isinstance(ex, sp.Rational):
        p, q = int(ex.p), int(ex.q)
        return lambda env: _rat_pow(base(env), p, q)
    expo = compile_expr(ex)

    def f(env: dict) -> Value:
        x = expo(env)
        if isinstance(x, fmpq) and x.q == 1:
            return _int_pow(base(env), int(x.p))
        return _real_pow(base(env), x)

    return f


def _sum(e: sp.Sum) -> Node:
    body = compile_expr(e.function)
    limits = [(i, compile_expr(a), compile_expr(b)) for i, a, b in e.limits]

    def f(env: dict) -> Value:
        return _sum_rec(body, limits, dict(env))

    return f


def _sum_rec(body: Node, limits: list, env: dict) -> Value:
    if not limits:
        return body(env)
    (i, lo, hi), rest = limits[0], limits[1:]
    a, b = _exact_int(lo(env), f"lower limit of {i}"), _exact_int(hi(env), f"upper limit of {i}")
    acc: Value = fmpq(0)
    for k in range(a, b + 1):
        env[i] = fmpq(k)
        acc = _add(acc, _sum_rec(body, rest, env))
    return acc


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
    >>> evaluate(sp.exp(x) - 1, {x: Fraction(1, 10)}).contains(arb("0.10517091807564762"))
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
