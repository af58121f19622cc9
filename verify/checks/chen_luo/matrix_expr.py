"""Evaluating a claim's matrix formula (non-commutative SymPy symbols) on concrete matrices.

The chen-luo-2025 Stage-2 claims print matrix formulas (Thm 3, App. A.5 eqs. (54)-(57)) whose symbols are
non-commutative (``U``, ``\\Sigma``, ``W_{Q}(0)``) or scalar (``t``). :func:`evaluate` walks such an
expression and computes it with given values, by name: torch tensors (a batch ``(..., d, d)``, scalars of
shape ``(..., 1, 1)``; the numerics) or SymPy matrices (an exact instance; the symbolic part). Products keep
their order, ``cosh``, ``sinh`` and ``exp`` of a matrix are matrix functions (``torch.linalg.matrix_exp``;
entrywise on the diagonal of an exact diagonal SymPy matrix), integer powers are repeated products. A symbol
with no value, or any other node, is an :class:`~twostage.errors.UnsupportedExpression` (an ``undecided``
verdict, never an internal error).

>>> import sympy as sp, torch
>>> S, t = sp.Symbol("S", commutative=False), sp.Symbol("t")
>>> M = evaluate(sp.cosh(S * t), {"S": torch.diag(torch.tensor([1.0, 2.0], dtype=torch.float64)),
...                               "t": torch.tensor(0.5, dtype=torch.float64)})
>>> [round(float(x), 6) for x in torch.diagonal(M)] == [round(float(torch.cosh(torch.tensor(v))), 6)
...                                                      for v in (0.5, 1.0)]
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
import torch

from twostage.errors import UnsupportedExpression

_FUNCS = ("cosh", "sinh", "exp")


def _matfun(name: str, X: Any) -> Any:
    if isinstance(X, torch.Tensor):
        if name == "exp":
            return torch.linalg.matrix_exp(X)
        E, Ei = torch.linalg.matrix_exp(X), torch.linalg.matrix_exp(-X)
        return (E + Ei) / 2 if name == "cosh" else (E - Ei) / 2
    if isinstance(X, sp.MatrixBase):
        if not X.is_diagonal():
            raise UnsupportedExpression(f"{name} of a non-diagonal exact matrix")
        return sp.diag(*[getattr(sp, name)(X[i, i]) for i in range(X.rows)])
    raise UnsupportedExpression(f"{name} of a scalar where a matrix is expected")


def evaluate(expr: sp.Basic, values: Mapping[str, Any]) -> Any:
    """``expr`` with every symbol replaced by ``values[name]`` (see the module docstring): commutative
    factors of a product scale (a scalar ``t`` of shape ``(..., 1, 1)`` broadcasts), non-commutative ones
    multiply as matrices in their order."""
    if isinstance(expr, sp.Symbol):
        if expr.name not in values:
            raise UnsupportedExpression(f"no value for the symbol {expr.name!r}")
        return values[expr.name]
    if isinstance(expr, sp.Number):
        exact = any(isinstance(v, sp.MatrixBase | sp.Basic) for v in values.values())
        return expr if exact else float(expr)
    if isinstance(expr, sp.Add):
        parts = [evaluate(a, values) for a in expr.args]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out
    if isinstance(expr, sp.Mul):
        c, nc = expr.args_cnc()
        out = None
        for a in nc:
            v = evaluate(a, values)
            out = v if out is None else out @ v if isinstance(v, torch.Tensor) else out * v
        for a in c:
            v = evaluate(a, values)
            out = v if out is None else v * out
        return out
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and int(expr.exp) >= 1:
        base, out = evaluate(expr.base, values), None
        for _ in range(int(expr.exp)):
            out = base if out is None else out @ base if isinstance(base, torch.Tensor) and \
                not expr.base.is_commutative else out * base
        return out
    if isinstance(expr, sp.Function) and expr.func.__name__ in _FUNCS and len(expr.args) == 1:
        return _matfun(expr.func.__name__, evaluate(expr.args[0], values))
    raise UnsupportedExpression(f"cannot evaluate {type(expr).__name__} {expr} as a matrix expression")
