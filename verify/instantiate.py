"""A claim's printed formula mapped onto a concrete symbolic instance as proof obligations (issue 12, item 1).

The identity claims of chen-luo-2025 (Prop 2 (9), eq. (16), Prop 4, Thm 1 step 3) are printed in the paper's
abstract objects -- scalar symbols (``E``, ``Wv_sq``), ``MatrixSymbol`` s of size ``d_m`` (``W^{[1]}``),
``IndexedBase`` entries with free or summed indices (``W_v[k]``, ``Sum(.., (k', 1, d_m))``) and time
derivatives ``Derivative(X, t)`` along the effective flow (7). :func:`instantiate` evaluates *that formula*
on the concrete symbol matrices of width ``d``, so every constant, exponent, term and relation of the printed
formula is what SymPy proves; an edited formula is an edited proof obligation.

``bindings`` (kept next to the formula, in the claim's theory module) say what each name means concretely:

* a concrete value -- a SymPy expression or matrix in the instance's symbols (``W^{[1]}`` -> the ``d x d``
  symbol matrix, ``E`` -> ``W_v W1 W2`` expanded);
* a template ``sp.Lambda(vars, body)`` written in the formula's own abstract objects: ``Edot`` ->
  ``Lambda((), Derivative(E, t))``, an indexed quantity ``q[i]`` ->
  ``Lambda(i, Derivative(W2[i] dW2[i], t))``; the body is instantiated in turn (``vars`` bound to the index
  values).

Indices are 1-based as printed (a vector's entry ``k`` is its ``k-1``-th element); every free integer index of
a relation runs over ``1..d`` (one obligation per assignment); ``Derivative(X, (t, n))`` is the ``n``-th
derivative along ``pairs`` by the chain rule (:func:`~twostage.theory.chen_luo.model.flow_derivative`), and a
relation whose side *is* such a derivative carries ``along`` so that the numerical cross-check recomputes it
by a finite difference. ``Eq`` gives ``'eq'``, ``Ne`` ``'ne'``, ``<, <=, >, >=`` ``'lt', 'le', 'gt', 'ge'``
obligations. A node or name the instance does not know raises
:class:`~twostage.errors.UnsupportedExpression` (the checker reports ``undecided``).

>>> import sympy as sp
>>> t, E = sp.symbols("t E")
>>> x, y = sp.symbols("x y")            # a toy flow: dx/dt = y, dy/dt = x  (E = x y)
>>> pairs = [(sp.Matrix([x, y]), sp.Matrix([y, x]))]
>>> X2, Y2 = sp.symbols("X2 Y2")
>>> binds = {"X2": x**2, "Y2": y**2, "E": x * y}
>>> [ob.sense for ob in instantiate(sp.Eq(sp.Derivative(X2 - Y2, t), 0), binds, pairs, {})]
['eq']
>>> ob, = instantiate(sp.Eq(sp.Derivative(X2, t), 2 * E), binds, pairs, {})
>>> ob.lhs, ob.rhs, ob.along[0]
(2*x*y, 2*x*y, x**2)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from twostage.errors import UnsupportedExpression
from twostage.theory.chen_luo.model import Obligation, flow_derivative

Pairs = Sequence[tuple[sp.Matrix, sp.Matrix]]
_SENSE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


class _Instance:
    """The evaluator: formula nodes -> concrete values (scalars or matrices); ``along`` where a node is a
    time derivative."""

    def __init__(self, bindings: Mapping[str, Any], pairs: Pairs, dims: Mapping[str, int], time: str) -> None:
        self.bindings, self.pairs, self.dims, self.time = dict(bindings), list(pairs), dict(dims), time

    # -------------------------------------------------------------------------------- names and indices
    def _bound(self, name: str, env: dict) -> Any:
        if name not in self.bindings:
            raise UnsupportedExpression(f"{name!r} has no concrete meaning on this instance (bindings: "
                                        f"{sorted(self.bindings)})")
        return self.bindings[name]

    def _template(self, lam: sp.Lambda, args: Sequence[int], env: dict) -> tuple[Any, tuple | None]:
        if len(lam.variables) != len(args):
            raise UnsupportedExpression(f"template {lam} takes {len(lam.variables)} indices, got {len(args)}")
        return self.value(lam.expr, {**env, **dict(zip(lam.variables, args))})

    def index(self, node: sp.Basic, env: dict) -> int:
        v = sp.sympify(self.value(node, env)[0])
        if not v.is_Integer:
            raise UnsupportedExpression(f"index {node} is not an integer on this instance ({v})")
        return int(v)

    def _entry(self, M: Any, idx: Sequence[int], name: str) -> Any:
        M = sp.Matrix(M) if isinstance(M, sp.MatrixBase) else None
        if M is None:
            raise UnsupportedExpression(f"{name} is indexed but bound to a scalar")
        if len(idx) == 1 and 1 in M.shape:
            flat = list(M)
            if not 1 <= idx[0] <= len(flat):
                raise UnsupportedExpression(f"{name}[{idx[0]}] is outside 1..{len(flat)}")
            return flat[idx[0] - 1]
        if len(idx) == 2 and 1 <= idx[0] <= M.rows and 1 <= idx[1] <= M.cols:
            return M[idx[0] - 1, idx[1] - 1]
        raise UnsupportedExpression(f"{name}{list(idx)} does not address an entry of a {M.shape} matrix")

    def _size(self, n: Any, env: dict) -> int:
        return self.index(n, env) if isinstance(n, sp.Basic) else int(n)

    # -------------------------------------------------------------------------------- the evaluator
    def value(self, node: Any, env: dict) -> tuple[Any, tuple | None]:
        """``(concrete value, along)``: ``along = (F, pairs)`` when ``node`` is ``Derivative(X, t)`` with
        ``F`` the instantiated ``X`` differentiated once less."""
        if isinstance(node, sp.Derivative):
            return self._derivative(node, env)
        if isinstance(node, sp.Symbol) and node in env:
            return env[node], None
        if isinstance(node, sp.Symbol) and node.name in self.dims:
            return sp.Integer(self.dims[node.name]), None
        if isinstance(node, sp.Symbol | sp.MatrixSymbol):
            b = self._bound(node.name, env)
            if isinstance(b, sp.Lambda):
                return self._template(b, (), env)
            if isinstance(node, sp.MatrixSymbol):
                shape = (self._size(node.rows, env), self._size(node.cols, env))
                if not isinstance(b, sp.MatrixBase) or b.shape != shape:
                    got = getattr(b, "shape", b)
                    raise UnsupportedExpression(f"{node.name} is {shape} but bound to {got}")
            return b, None
        if isinstance(node, sp.Indexed):
            idx = [self.index(i, env) for i in node.indices]
            b = self._bound(node.base.name, env)
            if isinstance(b, sp.Lambda):
                return self._template(b, [sp.Integer(i) for i in idx], env)
            return self._entry(b, idx, node.base.name), None
        return self._compound(node, env), None

    def _derivative(self, node: sp.Derivative, env: dict) -> tuple[Any, tuple]:
        F, _ = self.value(node.expr, env)
        (var, order), *rest = node.variable_count
        if rest or var.name != self.time:
            raise UnsupportedExpression(f"{node}: only time derivatives d^n/d{self.time}^n are instantiated")
        for _ in range(int(order) - 1):
            F = flow_derivative(F, self.pairs)
        return flow_derivative(F, self.pairs), (F, tuple(self.pairs))

    def _compound(self, node: Any, env: dict) -> Any:
        if isinstance(node, sp.Number | int):
            return sp.sympify(node)
        if isinstance(node, sp.Sum):
            return self._sum(node.function, node.limits, env)
        if isinstance(node, sp.ZeroMatrix | sp.Identity | sp.OneMatrix):
            r, c = self._size(node.rows, env), self._size(node.cols, env)
            return {sp.ZeroMatrix: sp.zeros(r, c), sp.Identity: sp.eye(r), sp.OneMatrix: sp.ones(r, c)}[
                type(node)]
        args = [self.value(a, env)[0] for a in node.args]
        if isinstance(node, sp.Add | sp.MatAdd):
            out = args[0]
            for a in args[1:]:
                out = out + a
            return out
        if isinstance(node, sp.Mul | sp.MatMul):
            out = args[0]
            for a in args[1:]:
                out = out * a
            return out
        if isinstance(node, sp.Pow | sp.MatPow):
            return args[0] ** args[1]
        if isinstance(node, sp.Transpose):
            return args[0].T
        if isinstance(node, MatrixExpr) or any(isinstance(a, sp.MatrixBase) for a in args):
            raise UnsupportedExpression(f"matrix node {type(node).__name__} is not instantiated")
        if isinstance(node, sp.Function | sp.Abs):
            return node.func(*args)
        raise UnsupportedExpression(f"node {type(node).__name__} ({node}) is not instantiated")

    def _sum(self, body: Any, limits: tuple, env: dict) -> Any:
        (j, lo, hi), *inner = limits
        total = sp.S.Zero
        for val in range(self.index(lo, env), self.index(hi, env) + 1):
            e = {**env, j: sp.Integer(val)}
            total = total + (self._sum(body, tuple(inner), e) if inner else self.value(body, e)[0])
        return total


def _free_indices(rel: sp.Basic, inst: _Instance) -> list[sp.Symbol]:
    """The free integer symbols of ``rel`` that are not names of the instance: the relation's indices."""
    named = set(inst.bindings) | set(inst.dims) | {inst.time}
    free = sorted((s for s in rel.free_symbols if isinstance(s, sp.Symbol) and s.name not in named),
                  key=str)
    if any(not s.is_integer for s in free):
        names = [s for s in free if not s.is_integer]
        raise UnsupportedExpression(f"{names} in {rel} have no concrete meaning on this instance")
    return free


def _relations(formula: sp.Basic) -> tuple:
    if isinstance(formula, sp.And):
        return tuple(formula.args)
    if isinstance(formula, sp.Rel):
        return (formula,)
    raise UnsupportedExpression(f"{type(formula).__name__} is not a relation or a conjunction of relations")


def _label(rel: sp.Basic, assignment: dict) -> str:
    text = str(rel)
    text = text if len(text) <= 100 else text[:97] + "..."
    where = ", ".join(f"{k}={v}" for k, v in assignment.items())
    return f"{text} [{where}]" if where else text


def instantiate(formula: sp.Basic, bindings: Mapping[str, Any], pairs: Pairs, dims: Mapping[str, int],
                time: str = "t", ref: str = "") -> list[Obligation]:
    """The obligations of ``formula`` on the instance (see the module docstring): one per relation of an
    ``And`` and per value ``1..d`` of each free index (``d``: the one entry of ``dims``)."""
    inst = _Instance(bindings, pairs, dims, time)
    width = next(iter(dims.values()), 1)
    obs = []
    for rel in _relations(formula):
        if rel.rel_op not in _SENSE:
            raise UnsupportedExpression(f"relation {rel.rel_op} is not judged")
        free = _free_indices(rel, inst)
        for values in itertools.product(range(1, width + 1), repeat=len(free)):
            env = {s: sp.Integer(v) for s, v in zip(free, values)}
            (lhs, along_l), (rhs, along_r) = inst.value(rel.lhs, env), inst.value(rel.rhs, env)
            sense = _SENSE[rel.rel_op]
            if along_l is None and along_r is not None:  # the derivative on the left, the relation as written
                lhs, rhs, along_l, sense = rhs, lhs, along_r, _FLIP[sense]
            obs.append(Obligation(_label(rel, dict(zip(free, values))), lhs, rhs, sense=sense, ref=ref,
                                  along=along_l))
    return obs
