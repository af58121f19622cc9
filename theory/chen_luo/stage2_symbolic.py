"""Symbolic machinery for Stage 2 of chen-luo-2025 (§4.5, App. A.3-A.4): a small symbolic instance of the
activation-free one-layer transformer and exact delta-series of its loss.

Stage 2 drops the activation (the FFN is linear), so the last-token output is ``f_i = softmax(z_i) X_i u``
with ``u = W_V W^{[1]} W^{[2]}`` and ``z_ij = X_{i,s} W_Q W_K^T X_{i,j}^T / sqrt(d)``. With ``W_Q = delta
Qbar``, ``W_K = delta Kbar`` the logits are ``z = delta^2 w``; we expand the softmax in ``eps = delta^2`` with
SymPy's ``series`` on *generic* symbols ``w_j`` (this is eq. (45)) and then substitute the matrix expressions,
so every Taylor coefficient below is an exact polynomial (times the common positive factor ``L_{1,i}``) and
"is it zero?" is decided by ``sympy.expand``.

>>> inst = symbolic_instance(1, 2, 2)
>>> inst.X[0].shape, inst.u.shape, len(symbolic_instance(1, 2, 2, "product").outer_symbols)
((2, 2), (2, 1), 10)
>>> p = softmax_series(2, 1)
>>> sp.expand(p[0][1] - (sp.Symbol("w_1") - sp.Symbol("w_2")) / 4)
0
>>> ratio_coeffs_generic(2, 1)[0]
1
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import sympy as sp

DELTA = sp.Symbol("delta", positive=True)
EPS = sp.Symbol("epsilon")


@dataclass(frozen=True)
class SymbolicInstance:
    """``n`` samples of ``s`` tokens (rows) of width ``d``; labels ``y_i``; outer weights; Qbar, Kbar."""

    n: int
    s: int
    d: int
    X: tuple[sp.Matrix, ...]
    y: tuple[sp.Symbol, ...]
    WV: sp.Matrix
    W1: sp.Matrix
    W2: sp.Matrix
    Qbar: sp.Matrix
    Kbar: sp.Matrix

    @property
    def u(self) -> sp.Matrix:
        """``u = W_V W^{[1]} W^{[2]}`` (a column), the only way the outer weights enter without activation."""
        return self.WV * self.W1 * self.W2

    @property
    def outer_symbols(self) -> list[sp.Symbol]:
        return sorted(set().union(*(m.free_symbols for m in (self.WV, self.W1, self.W2))), key=str)

    def mean_token(self, i: int) -> sp.Matrix:
        return sum((self.X[i][j, :] for j in range(self.s)), sp.zeros(1, self.d)) / self.s

    def S(self, i: int) -> sp.Matrix:
        """``S_i = sum_j X_{i,j}^T (X_{i,j} - Xbar_i)`` exactly as printed in eq. (15)."""
        xb = self.mean_token(i)
        return sum((self.X[i][j, :].T * (self.X[i][j, :] - xb) for j in range(self.s)),
                   sp.zeros(self.d, self.d))

    def c(self, i: int) -> list[sp.Expr]:
        """Token values ``c_ij = X_{i,j} u``."""
        uu = self.u
        return [(self.X[i][j, :] * uu)[0, 0] for j in range(self.s)]

    def g0(self, i: int) -> sp.Expr:
        """Uniform-attention output ``(1/s) sum_j X_{i,j} u``; ``L_{1,i} = exp(-y_i g0)``."""
        return sum(self.c(i)) / self.s

    def L1(self, i: int) -> sp.Expr:
        return sp.exp(-self.y[i] * self.g0(i))

    def logits(self, i: int, WQ: sp.Matrix, WK: sp.Matrix) -> list[sp.Expr]:
        """``z_ij = X_{i,s} W_Q W_K^T X_{i,j}^T / sqrt(d)``."""
        last = self.X[i][self.s - 1, :]
        return [(last * WQ * WK.T * self.X[i][j, :].T)[0, 0] / sp.sqrt(self.d) for j in range(self.s)]


@cache
def symbolic_instance(n: int = 2, s: int = 3, d: int = 2, outer: str = "vector") -> SymbolicInstance:
    """A fully symbolic instance (every entry its own symbol).

    ``outer="product"`` keeps ``W_V, W^{[1]}, W^{[2]}`` as separate symbolic matrices; ``outer="vector"``
    (default, much cheaper) sets ``W_V = W^{[1]} = I`` and ``W^{[2]} = u`` with symbolic ``u``: the
    activation-free loss depends on the outer weights only through ``u = W_V W^{[1]} W^{[2]}``, and by the
    chain rule ``grad_{W_V} = (grad_u)(W^{[1]}W^{[2]})^T``, ``grad_{W^{[1]}} = W_V^T (grad_u) W^{[2]T}``,
    ``grad_{W^{[2]}} = (W_V W^{[1]})^T grad_u`` carry the delta-order of ``grad_u`` (for nonzero outer
    weights).
    """
    X = tuple(sp.Matrix(s, d, lambda j, k, i=i: sp.Symbol(f"x_{i}{j}{k}")) for i in range(n))
    y = tuple(sp.Symbol(f"y_{i}") for i in range(n))
    if outer == "product":
        WV = sp.Matrix(d, d, lambda a, b: sp.Symbol(f"v_{a}{b}"))
        W1 = sp.Matrix(d, d, lambda a, b: sp.Symbol(f"a_{a}{b}"))
        W2 = sp.Matrix(d, 1, lambda a, b: sp.Symbol(f"b_{a}"))
    elif outer == "vector":
        WV, W1 = sp.eye(d), sp.eye(d)
        W2 = sp.Matrix(d, 1, lambda a, b: sp.Symbol(f"u_{a}"))
    else:
        raise ValueError(f"outer must be 'product' or 'vector', got {outer!r}")
    Q = sp.Matrix(d, d, lambda a, b: sp.Symbol(f"q_{a}{b}"))
    K = sp.Matrix(d, d, lambda a, b: sp.Symbol(f"k_{a}{b}"))
    return SymbolicInstance(n, s, d, X, y, WV, W1, W2, Q, K)


@cache
def softmax_series(s: int, order: int) -> tuple[tuple[sp.Expr, ...], ...]:
    """Coefficients ``P[j][m]`` of ``softmax(eps w)_j = sum_m eps^m P[j][m](w) + O(eps^{order+1})``.

    Generic symbols ``w_1..w_s``; computed by SymPy's ``series`` (this is the expansion behind eq. (45)).
    """
    w = sp.symbols(f"w_1:{s + 1}")
    den = sum(sp.exp(EPS * wj) for wj in w)
    out = []
    for j in range(s):
        ser = sp.series(sp.exp(EPS * w[j]) / den, EPS, 0, order + 1).removeO()
        out.append(tuple(sp.expand(ser.coeff(EPS, m)) for m in range(order + 1)))
    return tuple(out)


def _degree_terms(expr: sp.Expr, var: sp.Symbol) -> list[tuple[int, sp.Expr]]:
    """``[(k, coefficient term)]`` for each term of the expanded polynomial ``expr`` in ``var``."""
    out = []
    e = sp.expand(expr)
    if e == 0:
        return out
    for t in sp.Add.make_args(e):
        c, p = t.as_independent(var, as_Add=False)
        out.append((int(sp.degree(p, var)) if p != 1 else 0, c))
    return out


def _truncate(expr: sp.Expr, var: sp.Symbol, order: int) -> sp.Expr:
    """Drop powers of ``var`` above ``order`` from a polynomial in ``var``."""
    return sp.Add(*[c * var**k for k, c in _degree_terms(expr, var) if k <= order])


def exp_series(x: sp.Expr, var: sp.Symbol, order: int) -> sp.Expr:
    """Truncated ``exp(x)`` for a polynomial ``x`` in ``var`` with ``x(0) = 0`` (exact through
    ``var^order``)."""
    low = min((k for k, _ in _degree_terms(x, var)), default=order + 1)
    if low == 0 and sp.expand(x) != 0:
        raise ValueError("exp_series needs x(0) = 0")
    out, term, k = sp.Integer(1), sp.Integer(1), 1
    x = _truncate(x, var, order)
    while k * low <= order:
        term = _truncate(term * x, var, order)
        out += term / sp.factorial(k)
        k += 1
    return sp.expand(out)


@cache
def ratio_coeffs_generic(s: int, order: int) -> tuple[sp.Expr, ...]:
    """``R_m(w, c, y)`` with ``exp(-y sum_j softmax(eps w)_j c_j) / exp(-y cbar) = sum_m eps^m R_m +
    O(eps^{order+1})``.

    Generic symbols ``w_j`` (logits / eps), ``c_j`` (token values) and ``y``; exact polynomials.
    """
    P = softmax_series(s, order)
    c, y = sp.symbols(f"c_1:{s + 1}"), sp.Symbol("y")
    x = sum((sum((EPS**m * P[j][m] for m in range(1, order + 1)), sp.Integer(0)) * c[j] for j in range(s)),
            sp.Integer(0))
    r = exp_series(-y * x, EPS, order)
    return tuple(sp.expand(r.coeff(EPS, m)) for m in range(order + 1))


def generic_substitution(inst: SymbolicInstance, i: int, W: tuple | None = None) -> dict:
    """Map the generic ``w_j, c_j, y`` of sample ``i`` to the instance's matrix expressions
    (``W=(Qbar,Kbar)``)."""
    Q, K = W if W is not None else (inst.Qbar, inst.Kbar)
    s = inst.s
    w, c = sp.symbols(f"w_1:{s + 1}"), sp.symbols(f"c_1:{s + 1}")
    return {**dict(zip(w, inst.logits(i, Q, K))), **dict(zip(c, inst.c(i))), sp.Symbol("y"): inst.y[i]}


def ratio_series(inst: SymbolicInstance, i: int, order: int = 1, W: tuple | None = None) -> sp.Expr:
    """``L_i / L_{1,i}`` as a polynomial in ``delta``, exact through ``delta^(2*order)`` (full,
    activation-free loss).

    ``L_i = exp(-y_i f_i)``, ``f_i = sum_j softmax(z_i)_j c_ij``, ``W_Q = delta Qbar``, ``W_K = delta Kbar``,
    so ``z = delta^2 w``. Keep ``order`` small: the coefficients are expanded in every matrix entry.
    """
    sub = generic_substitution(inst, i, W)
    R = ratio_coeffs_generic(inst.s, order)
    return sp.expand(sum((DELTA ** (2 * m) * R[m].xreplace(sub) for m in range(order + 1)), sp.Integer(0)))


def g1(inst: SymbolicInstance, i: int, WQ: sp.Matrix, WK: sp.Matrix, misprint: bool = False) -> sp.Expr:
    """Exponent of ``L_{2,i}`` divided by ``-y_i``, eq. (46): ``sum_j (z_ij/s - sum_l z_il/s^2) X_{i,j} u``.

    ``misprint=True`` gives the main-text eq. (13), which lacks the first ``1/s`` (erratum, App. A item 2).
    """
    z = inst.logits(i, WQ, WK)
    c = inst.c(i)
    first = sp.Integer(1) if misprint else sp.Rational(1, inst.s)
    return sum(((first * z[j] - sum(z) / inst.s**2) * c[j] for j in range(inst.s)), sp.Integer(0))


def g1_matrix_form(inst: SymbolicInstance, i: int, WQ: sp.Matrix, WK: sp.Matrix) -> sp.Expr:
    """The same exponent in the matrix form of eq. (49): ``X_{i,s} W_Q W_K^T S_i u / (s sqrt(d))``."""
    last = inst.X[i][inst.s - 1, :]
    return (last * WQ * WK.T * inst.S(i) * inst.u)[0, 0] / (inst.s * sp.sqrt(inst.d))


def coefficients(expr: sp.Expr, var: sp.Symbol = DELTA, upto: int = 4) -> list[sp.Expr]:
    """Coefficients of ``var^0 .. var^upto`` of the (expanded) polynomial ``expr``; like terms are
    combined."""
    buckets: list[list[sp.Expr]] = [[] for _ in range(upto + 1)]
    for k, c in _degree_terms(expr, var):
        if k <= upto:
            buckets[k].append(c)
    return [sp.Add(*b) for b in buckets]


def is_zero(expr: sp.Expr) -> bool:
    """Exact zero test for the polynomial (in every symbol) expressions built here."""
    return sp.expand(expr) == 0


def random_point(symbols, seed: int = 0) -> dict:
    """A random rational point (exact arithmetic) for non-vanishing witnesses."""
    rng = random.Random(seed)
    return {s: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for s in sorted(symbols, key=str)}


def is_nonzero_somewhere(expr: sp.Expr, seed: int = 0) -> bool:
    """Witness of non-vanishing: exact evaluation at a random rational point (a nonzero value proves it)."""
    for k in range(3):
        val = expr.xreplace(random_point(expr.free_symbols, seed + k))
        if sp.nsimplify(sp.expand(val)) != 0:
            return True
    return False


def leading_order(coeffs: list[sp.Expr]) -> int | None:
    """Index of the first coefficient that is not identically zero (``None`` if all vanish)."""
    for m, cm in enumerate(coeffs):
        if not is_zero(cm):
            return m
    return None
