"""Evaluate the right side of a Stage-2 claim's formula on measured values (issue 12, item 1: one formula per
claim).

The chen-luo-2025 Stage-2 formulas (Prop 3, eqs. (14)-(15), (46)) are written with matrix-valued
(non-commutative) symbols (``F``, ``W_K``, ``S_i``), indexed per-sample factors (``L_{1}[i]``) and sums
over samples. :func:`evaluate` walks such an expression and computes it from an environment of values, so a
judge tests the formula as printed -- a constant, a factor or a transpose edited in the formula changes what
is compared with the numerics:

* ``Sum(body, (i, a, b))``: the body summed over the integer range (1-based, as printed);
* ``Indexed(base, i)``: ``env[base][i - 1]``; a symbol whose value in ``env`` is callable (``S_i``) is called
  with the bound summation indices by name (``{"i": 2}``);
* ``Mul``: the commutative factors multiplied (``*``), the non-commutative ones matrix-multiplied in order
  (``@``); ``Pow`` of a commutative base (``sqrt(d_m)``), or of a matrix to a positive integer power;
* numbers through ``number`` (``float`` for torch/numpy values, ``mpmath.mpf`` for exact-ish scalars, or the
  SymPy number itself for symbolic matrices).

Anything else (an ``O(.)`` term, a function) is :class:`~twostage.errors.UnsupportedExpression`: the check
reports ``undecided`` with the reason, never an internal error.

>>> import sympy as sp
>>> F, W = sp.Symbol("F", commutative=False), sp.Symbol("W", commutative=False)
>>> evaluate(2 * F * W, {"F": sp.Matrix([[1, 2], [0, 1]]), "W": sp.eye(2)}, number=lambda x: x)
Matrix([
[2, 4],
[0, 2]])
>>> i, n = sp.symbols("i n", integer=True, positive=True)
>>> L = sp.IndexedBase("L")
>>> evaluate(sp.Sum(L[i], (i, 1, n)) / n, {"L": [1.0, 2.0, 6.0], "n": 3})
3.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from typing import Any

import sympy as sp

from twostage.errors import UnsupportedExpression


def _sympy_number(x: sp.Basic) -> sp.Basic:
    return x


def evaluate(expr: sp.Basic, env: Mapping[str, Any], number: Callable[[sp.Basic], Any] = float,
             bound: Mapping[str, int] | None = None) -> Any:
    """``expr`` with its symbols taken from ``env`` by name (see the module docstring); ``bound``: the
    summation indices in scope."""
    bound = dict(bound or {})
    ev = lambda e, b=bound: evaluate(e, env, number, b)  # noqa: E731
    if isinstance(expr, sp.Sum):
        if len(expr.limits) != 1:
            raise UnsupportedExpression(f"a sum over {len(expr.limits)} indices: {expr}")
        (i, lo, hi), = expr.limits
        a, b = int(ev(lo)), int(ev(hi))
        terms = [ev(expr.function, {**bound, i.name: j}) for j in range(a, b + 1)]
        if not terms:
            raise UnsupportedExpression(f"an empty sum: {expr}")
        return reduce(lambda x, y: x + y, terms)
    if isinstance(expr, sp.Indexed):
        if len(expr.indices) != 1:
            raise UnsupportedExpression(f"a multiply indexed quantity: {expr}")
        return _value(expr.base.name, env)[int(ev(expr.indices[0])) - 1]
    if isinstance(expr, sp.Symbol):
        if expr.name in bound:
            return bound[expr.name]
        v = _value(expr.name, env)
        return v(bound) if callable(v) else v
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        return number(expr)
    if isinstance(expr, sp.Add):
        return reduce(lambda x, y: x + y, (ev(a) for a in expr.args))
    if isinstance(expr, sp.Mul):
        c, nc = expr.args_cnc()
        scalar = reduce(lambda x, y: x * y, (ev(a) for a in c)) if c else None
        matrix = reduce(lambda x, y: x @ y, (ev(a) for a in nc)) if nc else None
        if matrix is None:
            return scalar
        return matrix if scalar is None else scalar * matrix
    if isinstance(expr, sp.Pow):
        base, exp = expr.args
        if base.is_commutative:
            return ev(base) ** ev(exp)
        if exp.is_Integer and exp > 0:
            m = ev(base)
            return reduce(lambda x, y: x @ y, [m] * int(exp))
        raise UnsupportedExpression(f"a matrix power other than a positive integer: {expr}")
    raise UnsupportedExpression(f"cannot evaluate {type(expr).__name__} {expr} on measured values")


def _value(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        raise UnsupportedExpression(f"the formula's symbol {name!r} is not a measured quantity "
                                    f"(known: {', '.join(sorted(env))})")
    return env[name]


def symbolic(expr: sp.Basic, env: Mapping[str, Any], bound: Mapping[str, int] | None = None) -> Any:
    """:func:`evaluate` on SymPy values (exact matrices of a symbolic instance): numbers stay exact."""
    return evaluate(expr, env, _sympy_number, bound)


def equation(rel: sp.Basic) -> sp.Basic:
    """``rel`` if it is one ``Eq`` or ``Ne`` (what the Stage-2 identities state), else
    :class:`UnsupportedExpression` (the check reports ``undecided``)."""
    if not isinstance(rel, sp.Equality | sp.Unequality):
        raise UnsupportedExpression(f"an equation (= or !=) is judged here, not {type(rel).__name__}: {rel}")
    return rel


def order_term(expr: sp.Basic) -> tuple[sp.Basic, float | None]:
    """``(expr without its O-term, the order k of O(var**k))``; ``k`` is ``None`` without an O-term (the
    formula then claims an exact equality).

    >>> d, x = sp.symbols("delta x")
    >>> order_term(x + sp.O(d**4))
    (x, 4.0)
    """
    orders = list(expr.atoms(sp.Order))
    if not orders:
        return expr, None
    if len(orders) > 1:
        raise UnsupportedExpression(f"more than one O-term: {expr}")
    o = orders[0]
    var = o.variables[0] if o.variables else None
    if var is None:
        raise UnsupportedExpression(f"an O-term without a variable: {o}")
    coeff, k = o.expr.as_coeff_exponent(var)
    if coeff.has(var) or not k.is_number:
        raise UnsupportedExpression(f"an O-term that is not a power of {var}: {o}")
    return expr.removeO(), float(k)
