"""Compiler behind :mod:`twostage.theory.rigorous`: SymPy nodes -> closures over ball values.

Values are ``fmpq`` (exact rationals: Add, Mul, integer powers, Min/Max/Abs of exact values and
perfect rational powers stay exact) or python-flint ``arb`` balls (everything else, at the working
precision of ``flint.ctx.prec``). A value outside an expression's real domain is an ``arb`` nan.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> compile_expr(x ** 2 + sp.Rational(1, 3))({x: exact(2)})
13/3
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy as sp
from flint import arb, ctx, fmpq, fmpz

from twostage.errors import UnsupportedExpression

Value = Any  # fmpq (exact) or arb (ball); Indexed bases map to sequences of these
Node = Callable[[dict], Value]

#: working precisions tried in turn (bits); 53 matches float64 rounding
PRECISIONS = (53, 106, 212, 424, 848)
_EPS64 = 2.0 ** -52
_UP = 1.0 + 4.0 * 2.0 ** -53  # rounds a float radius computation upwards


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

