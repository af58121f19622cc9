"""Symbolic instance of the one-layer transformer of chen-luo-2025 Def. 3, eqs. (1)-(3), (4).

``f(X) = tanh(softmax(X W_Q W_K^T X^T / sqrt(d_m)) X W_V W1) W2`` (row softmax, no bias, no residual),
exponential loss on the last token, ``L = (1/n) sum_i exp(-y_i f(X_i)_s)`` (eq. (3)), and the
small-initialisation scaling ``theta = eps * theta_bar`` (eq. (4) and the normalised parameters).

Everything is written once, in :func:`last_token_output`, on nested Python lists, so that the *same*
code builds (a) the exact SymPy loss (:func:`loss_exact`) and (b) its truncated power series in
``eps`` (:func:`loss_series`) when the entries are :class:`Series` objects. Prop. 1 is then *derived*
from the series, not typed (``prop1.py``).

The module also holds :class:`Obligation`, a proof obligation ``lhs (= or !=) rhs`` that the identity
checkers discharge with ``sympy.simplify`` plus a numerical cross-check, and :func:`flow_derivative`
(the time derivative of an expression along a vector field, by the chain rule).

>>> import sympy as sp
>>> w = sp.Symbol("w")
>>> a = Series.of_eps(w, order=3, ring=polynomial_ring([w]))   # eps * w
>>> (a * a).as_exprs()                                          # eps^2 w^2
(0, 0, w**2, 0)
>>> Series.apply("tanh", a * a * a).as_exprs()                  # tanh(eps^3 w^3) = eps^3 w^3 + O(eps^9)
(0, 0, 0, w**3)
>>> expansion_exprs(instance(1, 1, 1), order=3)                 # L = 1 - eps^3 y X V A B + O(eps^5)
(1, 0, 0, -Ab_00*Bb_0*Vb_00*X0_00*y_0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy as sp

EPS = sp.Symbol("eps", positive=True)
_X = sp.Symbol("x")


class Series:
    """A power series in ``eps`` truncated after ``eps**order``, coefficients in a polynomial ring.

    Coefficients are elements of a SymPy sparse polynomial ring over QQ (much faster than expanding
    SymPy expressions). Supports ``+ - *`` with series and scalars, ``/`` by a series with a nonzero
    constant term or by a scalar, and :meth:`apply` of an analytic function (``exp``, ``tanh``) to a
    series with zero constant term.
    """

    __slots__ = ("coeffs", "order", "ring")

    def __init__(self, coeffs: Sequence[Any], order: int, ring: Any) -> None:
        c = [_to_ring(ring, x) for x in coeffs[: order + 1]]
        self.coeffs = tuple(c + [ring.zero] * (order + 1 - len(c)))
        self.order = order
        self.ring = ring

    @classmethod
    def of_eps(cls, value: Any, order: int, ring: Any) -> Series:
        """``eps * value`` (a parameter scaled as in eq. (4))."""
        return cls([0, value], order, ring)

    def _lift(self, other: Any) -> Series:
        return other if isinstance(other, Series) else Series([other], self.order, self.ring)

    def __add__(self, other: Any) -> Series:
        o = self._lift(other)
        return Series([a + b for a, b in zip(self.coeffs, o.coeffs)], self.order, self.ring)

    __radd__ = __add__

    def __neg__(self) -> Series:
        return Series([-a for a in self.coeffs], self.order, self.ring)

    def __sub__(self, other: Any) -> Series:
        return self + (-self._lift(other))

    def __rsub__(self, other: Any) -> Series:
        return self._lift(other) - self

    def __mul__(self, other: Any) -> Series:
        if not isinstance(other, Series):
            k = _to_ring(self.ring, other)
            return Series([a * k for a in self.coeffs], self.order, self.ring)
        a, b = self.coeffs, other.coeffs
        out = []
        for k in range(self.order + 1):
            acc = self.ring.zero
            for i in range(k + 1):
                if a[i] and b[k - i]:
                    acc = acc + a[i] * b[k - i]
            out.append(acc)
        return Series(out, self.order, self.ring)

    __rmul__ = __mul__

    def reciprocal(self) -> Series:
        b = self.coeffs
        if not b[0].is_ground or b[0] == 0:
            raise ZeroDivisionError("reciprocal needs a nonzero constant leading coefficient")
        inv = self.ring.ground_new(1 / b[0].LC)
        r = [inv]
        for k in range(1, self.order + 1):
            r.append(-inv * sum((b[i] * r[k - i] for i in range(1, k + 1)), self.ring.zero))
        return Series(r, self.order, self.ring)

    def __truediv__(self, other: Any) -> Series:
        if isinstance(other, Series):
            return self * other.reciprocal()
        return self * (sp.S.One / sp.sympify(other))

    @staticmethod
    def apply(name: str, a: Series) -> Series:
        """``f(a)`` for ``f`` in SymPy (by name) and ``a`` without constant term: sum_m f^(m)(0)/m! a^m."""
        if a.coeffs[0] != 0:
            raise ValueError("Series.apply needs a zero constant term")
        taylor = _taylor(name, a.order)
        out, power = Series([taylor[0]], a.order, a.ring), Series([1], a.order, a.ring)
        for m in range(1, a.order + 1):
            power = power * a
            if taylor[m] != 0:
                out = out + power * taylor[m]
        return out

    def as_exprs(self, subs: dict | None = None) -> tuple[sp.Expr, ...]:
        """The coefficients as SymPy expressions (optionally substituting ring symbols)."""
        out = [c.as_expr() for c in self.coeffs]
        return tuple(e.xreplace(subs) if subs else e for e in out)


def _to_ring(ring: Any, x: Any) -> Any:
    if getattr(x, "ring", None) is ring:
        return x
    x = sp.sympify(x)
    if x.is_Rational:
        return ring.ground_new(ring.domain.from_sympy(x))
    return ring.from_expr(x)  # a polynomial in the ring's symbols


def polynomial_ring(symbols: Sequence[sp.Symbol]) -> Any:
    """A sparse polynomial ring over QQ in ``symbols`` (coefficients of :class:`Series`)."""
    return sp.polys.rings.ring(list(symbols), sp.QQ)[0]


@cache
def _taylor(name: str, order: int) -> tuple[sp.Expr, ...]:
    f = getattr(sp, name)(_X)
    return tuple(sp.diff(f, _X, m).subs(_X, 0) / sp.factorial(m) for m in range(order + 1))


def _mat(name: str, rows: int, cols: int) -> tuple[tuple[sp.Symbol, ...], ...]:
    return tuple(tuple(sp.Symbol(f"{name}_{i}{j}") for j in range(cols)) for i in range(rows))


@dataclass(frozen=True)
class Instance:
    """Symbols of one concrete instance (n samples, sequence length s, width d).

    ``X[i][j][k]``: entry k of token j of sample i (tokens are rows); ``y[i]``: label (a symbol, the
    identities hold for any value); ``WQ, WK, WV, W1`` (d x d) and ``W2`` (length d): the *normalised*
    parameters ``theta_bar = theta / eps`` (bars dropped in the symbol names ``Qb, Kb, Vb, Ab, Bb``).
    """

    n: int
    s: int
    d: int
    X: tuple
    y: tuple
    WQ: tuple
    WK: tuple
    WV: tuple
    W1: tuple
    W2: tuple

    def params(self) -> dict[str, list[sp.Symbol]]:
        """The normalised parameters by name, each flattened row-major."""
        flat = lambda m: [w for row in m for w in row]
        return {"WQ": flat(self.WQ), "WK": flat(self.WK), "WV": flat(self.WV), "W1": flat(self.W1),
                "W2": list(self.W2)}

    def symbols(self) -> list[sp.Symbol]:
        """Every symbol of the instance: data, labels, then the normalised parameters."""
        data = [x for Xi in self.X for row in Xi for x in row]
        return data + list(self.y) + [w for ws in self.params().values() for w in ws]

    def matrices(self) -> dict[str, sp.Matrix]:
        return {"WQ": sp.Matrix(self.WQ), "WK": sp.Matrix(self.WK), "WV": sp.Matrix(self.WV),
                "W1": sp.Matrix(self.W1), "W2": sp.Matrix(self.d, 1, list(self.W2))}

    def Z(self) -> sp.Matrix:
        """``Z = sum_i y_i sum_j X_ij`` (1 x d row), eq. (6)."""
        return sp.Matrix(1, self.d, lambda _, k: sum(self.y[i] * sum(self.X[i][j][k] for j in range(self.s))
                                                      for i in range(self.n)))


@cache
def instance(n: int, s: int, d: int) -> Instance:
    if min(n, s, d) < 1:
        raise ValueError(f"instance needs n, s, d >= 1, got {(n, s, d)}")
    X = tuple(_mat(f"X{i}", s, d) for i in range(n))
    y = tuple(sp.Symbol(f"y_{i}") for i in range(n))
    return Instance(n, s, d, X, y, _mat("Qb", d, d), _mat("Kb", d, d), _mat("Vb", d, d), _mat("Ab", d, d),
                    tuple(sp.Symbol(f"Bb_{k}") for k in range(d)))


def _vecmat(r: Sequence[Any], M: Sequence[Sequence[Any]]) -> list[Any]:
    return [sum((r[k] * M[k][j] for k in range(1, len(r))), r[0] * M[0][j]) for j in range(len(M[0]))]


def _dot(a: Sequence[Any], b: Sequence[Any]) -> Any:
    return sum((a[k] * b[k] for k in range(1, len(a))), a[0] * b[0])


def last_token_output(Xi, WQ, WK, WV, W1, W2, inv_sqrt_d: Any, exp: Callable, tanh: Callable) -> Any:
    """``f(X_i)_s`` of eqs. (1)-(2) for one sample, on nested lists (entries: SymPy or Series).

    Only the last row of the attention matrix is needed: query ``X_{i,s} W_Q``, keys ``X_{i,j} W_K``,
    logits scaled by ``inv_sqrt_d`` (``1/sqrt(d_m)``, or a ring symbol standing for it).
    """
    d = len(WV[0])
    s = len(Xi)
    q = _vecmat(Xi[s - 1], WQ)
    logits = [_dot(q, _vecmat(Xi[j], WK)) * inv_sqrt_d for j in range(s)]
    e = [exp(z) for z in logits]
    total = sum(e[1:], e[0])
    a = [ej / total for ej in e]  # row softmax, last row
    attn = [sum((a[j] * Xi[j][k] for j in range(1, s)), a[0] * Xi[0][k]) for k in range(d)]
    h = _vecmat(_vecmat(attn, WV), W1)
    return _dot([tanh(u) for u in h], W2)


def _scaled(inst: Instance, scale: Callable[[sp.Symbol], Any]):
    m = lambda M: [[scale(w) for w in row] for row in M]
    return m(inst.WQ), m(inst.WK), m(inst.WV), m(inst.W1), [scale(w) for w in inst.W2]


def loss_exact(inst: Instance) -> sp.Expr:
    """The exact loss (3) with ``theta = eps * theta_bar``, as a SymPy expression in ``eps`` and the bars."""
    params = _scaled(inst, lambda w: EPS * w)
    total = sp.S.Zero
    for i in range(inst.n):
        f = last_token_output(inst.X[i], *params, 1 / sp.sqrt(inst.d), sp.exp, sp.tanh)
        total += sp.exp(-inst.y[i] * f)
    return total / inst.n


INV_SQRT_D = sp.Symbol("r_d")  # stands for 1/sqrt(d_m) inside the polynomial ring


def loss_series(inst: Instance, order: int = 5) -> Series:
    """The loss (3) as a power series in ``eps`` truncated after ``eps**order`` (same code path).

    Coefficients live in a polynomial ring over QQ in the instance symbols and ``r_d`` (standing for
    ``1/sqrt(d_m)``); :func:`expansion_exprs` converts them to SymPy expressions.
    """
    ring = polynomial_ring(inst.symbols() + [INV_SQRT_D])
    params = _scaled(inst, lambda w: Series.of_eps(w, order, ring))
    exp = lambda a: Series.apply("exp", a)
    tanh = lambda a: Series.apply("tanh", a)
    total = Series([0], order, ring)
    for i in range(inst.n):
        f = last_token_output(inst.X[i], *params, ring(INV_SQRT_D), exp, tanh)
        total = total + Series.apply("exp", f * (-inst.y[i]))
    return total / inst.n


@cache
def loss_series_cached(inst: Instance, order: int = 5) -> Series:
    return loss_series(inst, order)


def from_ring(inst: Instance, p: Any) -> sp.Expr:
    """A ring element of :func:`loss_series` as a SymPy expression (``r_d -> 1/sqrt(d_m)``)."""
    return p.as_expr().xreplace({INV_SQRT_D: 1 / sp.sqrt(inst.d)})


@cache
def expansion_exprs(inst: Instance, order: int = 5) -> tuple[sp.Expr, ...]:
    """Coefficients ``L_0 .. L_order`` of the loss in powers of ``eps`` (SymPy, cached)."""
    return tuple(from_ring(inst, c) for c in loss_series_cached(inst, order).coeffs)


def expansion_gradient(inst: Instance, k: int, syms: Sequence[sp.Symbol], order: int = 5) -> sp.Matrix:
    """``grad L_k`` with respect to ``syms`` (differentiated in the polynomial ring: fast)."""
    ser = loss_series_cached(inst, order)
    c = ser.coeffs[k]
    return sp.Matrix([from_ring(inst, c.diff(ser.ring(w))) for w in syms])


# ---------------------------------------------------------------------------------------------------
# proof obligations


SENSES = ("eq", "ne", "le", "ge", "lt", "gt")


@dataclass(frozen=True)
class Obligation:
    """One identity to discharge: ``lhs == rhs`` (``sense='eq'``) or ``lhs != rhs`` (``sense='ne'``); the
    senses ``'le', 'ge', 'lt', 'gt'`` (an instantiated formula written with an inequality) are decided by
    the identity judge only where ``lhs - rhs`` is identically zero.

    ``lhs``/``rhs`` are SymPy expressions or matrices in concrete symbols. When ``along`` is given as
    ``(F, ((state, velocity), ...))``, ``lhs`` is the time derivative of ``F`` along that vector field
    and the numerical cross-check recomputes it by finite differences instead of trusting the chain
    rule. ``ref`` cites the equation the obligation encodes.
    """

    name: str
    lhs: Any
    rhs: Any
    sense: str = "eq"
    ref: str = ""
    along: tuple | None = None

    def __post_init__(self) -> None:
        if self.sense not in SENSES:
            raise ValueError(f"obligation {self.name!r}: sense must be one of {SENSES}")

    def difference(self) -> sp.Matrix:
        """``lhs - rhs`` as a column of entries (scalars become 1 x 1)."""
        lhs, rhs = sp.Matrix([self.lhs]) if not _is_matrix(self.lhs) else self.lhs, self.rhs
        rhs = sp.Matrix([rhs]) if not _is_matrix(rhs) else rhs
        if lhs.shape != rhs.shape:
            raise ValueError(f"obligation {self.name!r}: shapes {lhs.shape} and {rhs.shape} differ")
        return (lhs - rhs).reshape(lhs.rows * lhs.cols, 1)

    def free_symbols(self) -> set[sp.Symbol]:
        syms = _free(self.lhs) | _free(self.rhs)
        if self.along is not None:
            F, pairs = self.along
            syms |= _free(F)
            for state, vel in pairs:
                syms |= _free(state) | _free(vel)
        return syms


def _is_matrix(x: Any) -> bool:
    return isinstance(x, sp.MatrixBase)


def _free(x: Any) -> set:
    return set(x.free_symbols) if hasattr(x, "free_symbols") else set()


def residual_is_zero(ob: Obligation) -> bool:
    """``simplify(lhs - rhs) == 0`` entry by entry (expanding first keeps polynomial cases fast)."""
    for entry in ob.difference():
        if entry == 0:  # expanded polynomials cancel on construction
            continue
        e = sp.expand(entry)
        if e == 0:
            continue
        if e.is_polynomial():  # a nonzero expanded polynomial is nonzero: no need to simplify
            return False
        if sp.expand(sp.fraction(sp.together(e))[0]) == 0:  # rational function with zero numerator
            continue
        if sp.simplify(e) != 0:
            return False
    return True


def flow_derivative(expr: Any, pairs: Sequence[tuple[sp.Matrix, sp.Matrix]]) -> Any:
    """Time derivative of ``expr`` (scalar or matrix) along ``d state/dt = velocity`` (chain rule).

    >>> w, m = sp.symbols("w m")
    >>> flow_derivative(w**2 - m**2, [(sp.Matrix([w, m]), sp.Matrix([m, w]))])
    0
    """

    def ddt(e: sp.Expr) -> sp.Expr:
        total = sp.S.Zero
        for state, vel in pairs:
            for x, xdot in zip(state, vel):
                total += sp.diff(e, x) * xdot
        return sp.expand(total)

    return expr.applyfunc(ddt) if _is_matrix(expr) else ddt(expr)
