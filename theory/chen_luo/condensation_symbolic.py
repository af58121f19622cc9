"""Symbolic side of chen-luo-2025 §4.4 (condensation): Assumption 1, Props 4-5, the exact cosine formulas.

Everything is written on the concrete symbol matrices of :func:`effective.closed_state` (``W_v`` 1 x d,
``W1`` d x d, ``W2`` d x 1) and :func:`effective.full_state` (with ``W_V``), time ``tbar`` written ``t``:

* **Assumption 1** (PAPER): the ``2d`` quantities ``W2_i W_v W1^i`` and ``W_{v,i} W1_i W2`` and the ``2 d^2``
  Gram entries ``<W2_i W1^i, W2_j W1^j>``, ``<W_{v,i} W1_i, W_{v,j} W1_j>`` are positive
  (:func:`assumption1_quantities`, :func:`assumption1_predicate`); :func:`assumption1_fractions_numpy` is the
  batched numpy evaluator of ``|A1|/d`` and ``|A2|/d^2``.
* **Prop 4** (ERRATUM-CORRECTED, App. A item 6): the derivatives of the Ass.-1 quantities along (7)
  (:func:`prop4_obligations`); each right side is a sum of terms that are positive under Ass. 1, so the
  quantities increase and Ass. 1 is forward invariant. The Gram-entry derivatives (DERIVED) factor as
  ``(W2_j dW2_i + W2_i dW2_j)(<W1^i, W1^j> + W2_i W2_j)``: both factors carry the sign of ``W2_i W2_j``.
* **Prop 5** (PAPER (23)-(27)) with the DERIVED remark: ``(u - 1)^2 q = K_ij^2`` with
  ``K = W1 W1^T - W_v^T W_v`` conserved (:func:`prop5_obligations`), whence the exact ``cos xi_ij``
  formula (:data:`COS_XI_FORMULA`).
* **Thm 2** (DERIVED concrete reading): ``W_V = v^T W_v + (I - v^T v) W_V(0)``, hence the exact column
  cosine (:data:`COLUMN_COSINE_FORMULA`) and :func:`column_cosine_obligations`.

>>> import numpy as np
>>> Wv, W1, W2 = np.array([1.0, 2.0]), np.array([[1.0, 0.5], [0.2, 1.0]]), np.array([1.0, 1.0])
>>> [float(x) for x in assumption1_fractions_numpy(Wv, W1, W2)]
[1.0, 1.0]
>>> [float(x) for x in assumption1_fractions_numpy(Wv, W1, -W2)]      # W2 -> -W2 breaks the A1 signs
[0.0, 1.0]
>>> from twostage.theory.chen_luo.model import residual_is_zero
>>> all(residual_is_zero(ob) for ob in prop4_obligations(2))
True
"""

from __future__ import annotations

from functools import cache
from itertools import product

import numpy as np
import sympy as sp

from twostage.theory.chen_luo.effective import (
    closed_pairs,
    closed_rhs,
    closed_state,
    full_pairs,
    full_state,
    inner,
    sq,
    unit_row,
)
from twostage.theory.chen_luo.model import Obligation, flow_derivative

REF_A1 = "chen-luo-2025 Assumption 1"
REF_P4 = "chen-luo-2025 Prop 4 (erratum A.6, corrected form §4.4)"
REF_P5 = "chen-luo-2025 Prop 5, eqs. (23)-(27)"
REF_T2 = "chen-luo-2025 Thm 2 (derived concrete reading)"


# ------------------------------------------------------------------------------------ Assumption 1
def sign_weighted(d: int) -> tuple[list[sp.Matrix], list[sp.Matrix]]:
    """Sign-weighted columns ``W2_i W1^i`` and rows ``W_{v,i} W1_i`` of Assumption 1 (d x 1 and 1 x d)."""
    Wv, W1, W2 = closed_state(d)
    return [W2[i] * W1[:, i] for i in range(d)], [Wv[i] * W1[i, :] for i in range(d)]


@cache
def assumption1_quantities(d: int) -> dict[str, list[sp.Expr]]:
    """``A1``: ``W2_i dW2_i = W2_i W_v W1^i`` and ``W_{v,i} dW_{v,i} = W_{v,i} W1_i W2`` (i = 0..d-1, in that
    order, 2d polynomials); ``A2``: the column and row Gram entries for all ordered pairs (2 d^2)."""
    Wv, _, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    cols, rows = sign_weighted(d)
    a1 = [sp.expand(W2[i] * dW2[i]) for i in range(d)] + [sp.expand(Wv[i] * dWv[i]) for i in range(d)]
    a2 = [inner(cols[i], cols[j]) for i, j in product(range(d), repeat=2)]
    a2 += [inner(rows[i], rows[j]) for i, j in product(range(d), repeat=2)]
    return {"A1": a1, "A2": a2}


def assumption1_predicate(d: int) -> sp.Boolean:
    """Assumption 1 for width ``d`` as one SymPy conjunction of strict inequalities ``q > 0``."""
    q = assumption1_quantities(d)
    return sp.And(*[sp.StrictGreaterThan(e, 0) for e in q["A1"] + q["A2"]])


def assumption1_sets_numpy(Wv, W1, W2) -> tuple[np.ndarray, np.ndarray]:
    """Boolean membership ``(i in A1)`` (..., d) and ``((i, j) in A2)`` (..., d, d), batched (einsum forms of
    :func:`assumption1_quantities`): ``i in A1`` iff both A1 quantities of ``i`` are positive, ``(i, j)`` in
    ``A2`` iff both Gram entries are positive."""
    Wv, W1, W2 = (np.asarray(x, float) for x in (Wv, W1, W2))
    dWv = np.einsum("...kl,...l->...k", W1, W2)
    dW2 = np.einsum("...kl,...k->...l", W1, Wv)
    a1 = (W2 * dW2 > 0) & (Wv * dWv > 0)
    cols = W1 * W2[..., None, :]  # column i scaled by W2_i
    rows = W1 * Wv[..., :, None]  # row i scaled by W_{v,i}
    gc = np.einsum("...ki,...kj->...ij", cols, cols)
    gr = np.einsum("...ik,...jk->...ij", rows, rows)
    return a1, (gc > 0) & (gr > 0)


def assumption1_values_numpy(Wv, W1, W2) -> np.ndarray:
    """The values of every quantity of :func:`assumption1_quantities` (..., 2d + 2d^2), batched: the A1
    products ``W2_i dW2_i``, ``W_{v,i} dW_{v,i}`` and the column and row Gram entries (all ordered pairs)."""
    Wv, W1, W2 = (np.asarray(x, float) for x in (Wv, W1, W2))
    dWv = np.einsum("...kl,...l->...k", W1, W2)
    dW2 = np.einsum("...kl,...k->...l", W1, Wv)
    cols, rows = W1 * W2[..., None, :], W1 * Wv[..., :, None]
    gc = np.einsum("...ki,...kj->...ij", cols, cols)
    gr = np.einsum("...ik,...jk->...ij", rows, rows)
    flat = lambda g: g.reshape(g.shape[:-2] + (-1,))  # noqa: E731
    return np.concatenate([W2 * dW2, Wv * dWv, flat(gc), flat(gr)], -1)


def assumption1_fractions_numpy(Wv, W1, W2) -> tuple[np.ndarray, np.ndarray]:
    """Satisfaction fractions ``|A1|/d`` and ``|A2|/d^2`` (PAPER Ass. 1; Fig. 2a), batched (leading dims)."""
    a1, a2 = assumption1_sets_numpy(Wv, W1, W2)
    return a1.mean(-1), a2.reshape(a2.shape[:-2] + (-1,)).mean(-1)


# ------------------------------------------------------------------------------------ Prop 4
def _ob(name: str, F, rhs, ref: str, d: int) -> Obligation:
    """``dF/dt = rhs`` along the closed system (7) of width ``d``."""
    pairs = closed_pairs(d)
    return Obligation(name, flow_derivative(F, pairs), rhs, ref=ref, along=(F, tuple(pairs)))


def prop4_obligations(d: int, pairs: bool = True) -> list[Obligation]:
    """Corrected Prop 4 derivatives (ERRATUM) for every ``i``; with ``pairs`` the Gram-entry derivatives
    (DERIVED) for every ``i <= j``."""
    Wv, W1, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    cols, rows = sign_weighted(d)
    obs = []
    for i in range(d):
        obs.append(_ob(f"d/dt(W2_{i} dW2_{i}) = dW2_{i}^2 + sum_j <W2_i W1^i, W2_j W1^j> + W2_{i}^2 ||Wv||^2",
                       W2[i] * dW2[i],
                       dW2[i] ** 2 + sum(inner(cols[i], cols[j]) for j in range(d)) + W2[i] ** 2 * sq(Wv),
                       REF_P4, d))
        obs.append(_ob(f"d/dt(Wv_{i} dWv_{i}) = dWv_{i}^2 + sum_j <Wv_i W1_i, Wv_j W1_j> + Wv_{i}^2 ||W2||^2",
                       Wv[i] * dWv[i],
                       dWv[i] ** 2 + sum(inner(rows[i], rows[j]) for j in range(d)) + Wv[i] ** 2 * sq(W2),
                       REF_P4, d))
    return obs + (prop4_gram_obligations(d) if pairs else [])


def prop4_gram_obligations(d: int) -> list[Obligation]:
    """The Gram-entry derivatives of Prop 4's proof (DERIVED, not in the claim's printed formula) for every
    ``i <= j``: each factors as (sum of Ass.-1 products) x (a Gram entry + a product of the same sign)."""
    Wv, W1, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    cols, rows = sign_weighted(d)
    obs = []
    for i, j in [(a, b) for a in range(d) for b in range(a, d)]:
        c_ij = inner(W1[:, i], W1[:, j])
        r_ij = inner(W1[i, :], W1[j, :])
        obs.append(_ob(f"d/dt <W2_{i} W1^{i}, W2_{j} W1^{j}> = "
                       "(W2_j dW2_i + W2_i dW2_j)(<W1^i,W1^j> + W2_i W2_j)",
                       inner(cols[i], cols[j]),
                       (W2[j] * dW2[i] + W2[i] * dW2[j]) * (c_ij + W2[i] * W2[j]), REF_P4, d))
        obs.append(_ob(f"d/dt <Wv_{i} W1_{i}, Wv_{j} W1_{j}> = "
                       "(Wv_j dWv_i + Wv_i dWv_j)(<W1_i,W1_j> + Wv_i Wv_j)",
                       inner(rows[i], rows[j]),
                       (Wv[j] * dWv[i] + Wv[i] * dWv[j]) * (r_ij + Wv[i] * Wv[j]), REF_P4, d))
    return obs


# ------------------------------------------------------------------------------------ Prop 5
def prop5_obligations(d: int) -> list[Obligation]:
    """(23)-(25) for ``(i, j) = (0, 1)``: ``p = <W_{v,i} W1_i, W_{v,j} W1_j>``, ``q = W_{v,i}^2 W_{v,j}^2``;
    ``dp/dt = (W_{v,j} W1_j W2 W_{v,i}^2 + W_{v,i} W1_i W2 W_{v,j}^2)(1 + p/q)``, ``dq/dt = 2(...)``; the
    DERIVED remark ``(u - 1)^2 q = K_ij^2`` (``u = p/q``) and ``dK/dt = 0``, ``K = W1 W1^T - W_v^T W_v``."""
    if d < 2:
        raise ValueError("Prop 5 speaks of pairs i != j: d >= 2")
    Wv, W1, W2 = closed_state(d)
    _, rows = sign_weighted(d)
    i, j = 0, 1
    p = inner(rows[i], rows[j])
    q = Wv[i] ** 2 * Wv[j] ** 2
    common = (Wv[j] * (W1[j, :] * W2)[0] * Wv[i] ** 2 + Wv[i] * (W1[i, :] * W2)[0] * Wv[j] ** 2)
    K = W1 * W1.T - Wv.T * Wv
    u = p / q
    return [
        _ob("(23): dp/dt = (Wv_j W1_j W2 Wv_i^2 + Wv_i W1_i W2 Wv_j^2)(1 + p/q)", p, common * (1 + p / q),
            REF_P5, d),
        _ob("(24): dq/dt = 2 (Wv_j W1_j W2 Wv_i^2 + Wv_i W1_i W2 Wv_j^2)", q, 2 * common, REF_P5, d),
        Obligation("remark to (27): (u - 1)^2 q = K_ij^2", sp.together((u - 1) ** 2 * q), K[i, j] ** 2,
                   ref=REF_P5 + " (derived remark)"),
        _ob("K = W1 W1^T - Wv^T Wv is conserved", K, sp.zeros(d, d), "chen-luo-2025 §4.1 (derived)", d),
    ]


# ------------------------------------------------------------------------------------ exact cosines
Wvk, Pk_sq = sp.Symbol("W_vk", real=True), sp.Symbol("P_k_sq", nonnegative=True)
cos_col = sp.Symbol("cos_col")
Wvi, Wvj = sp.symbols("W_vi W_vj", real=True)
K_ij, K_ii, K_jj, cos_xi = sp.symbols("K_ij K_ii K_jj cos_xi", real=True)

#: DERIVED: cos(W_V^k, v^T) = W_vk / sqrt(W_vk^2 + ||((I - v^T v) W_V(0))^k||^2)
COLUMN_COSINE_FORMULA = sp.Eq(cos_col, Wvk / sp.sqrt(Wvk**2 + Pk_sq))
#: DERIVED: cos xi_ij = (|W_vi W_vj| + sign(W_vi W_vj) K_ij) / sqrt((W_vi^2 + K_ii)(W_vj^2 + K_jj)), with
#: sign(x) written x/|x| (the LaTeX reader has no sign function)
COS_XI_FORMULA = sp.Eq(cos_xi, (sp.Abs(Wvi * Wvj) + Wvi * Wvj * K_ij / sp.Abs(Wvi * Wvj))
                       / sp.sqrt((Wvi**2 + K_ii) * (Wvj**2 + K_jj)))


def column_cosine_obligations(d: int, formula: sp.Eq = COLUMN_COSINE_FORMULA, k: int = 0) -> list[Obligation]:
    """Thm 2's exact column cosine for column ``k``: (i) ``W_V - v^T v W_V`` is conserved along (7) (so
    ``W_V(t) = v^T W_v(t) + P`` with ``P = (I - v^T v) W_V(0)``); on that form (ii) ``v W_V^k = W_{v,k}``,
    (iii) ``||W_V^k||^2 = W_{v,k}^2 + ||P^k||^2``; (iv) the claimed ``formula`` rewritten with
    ``||P^k||^2 = N^2 - W_{v,k}^2`` equals the definition ``W_{v,k}/N`` (``N = ||W_V^k||``)."""
    WV, W1, W2 = full_state(d)
    v = unit_row(d)
    pairs = full_pairs(d)
    M = sp.Matrix(d, d, lambda a, b: sp.Symbol(f"M_{a}{b}"))  # W_V(0)
    w = sp.Matrix(1, d, lambda _, b: sp.Symbol(f"w_{b}"))  # W_v(t)
    P = (sp.eye(d) - v.T * v) * M
    WVt = v.T * w + P
    col = WVt[:, k]
    N = sp.Symbol("N", positive=True)
    claimed = formula.rhs.xreplace({Wvk: w[k], Pk_sq: N**2 - w[k] ** 2})
    return [
        Obligation("d/dt(W_V - v^T v W_V) = 0", flow_derivative(WV - v.T * (v * WV), pairs), sp.zeros(d, d),
                   ref="chen-luo-2025 §2.3 (derived)", along=(WV - v.T * (v * WV), tuple(pairs))),
        Obligation(f"v W_V^{k} = W_v,{k}", sp.simplify((v * col)[0]), w[k], ref=REF_T2),
        Obligation(f"||W_V^{k}||^2 = W_v,{k}^2 + ||P^{k}||^2", sp.simplify(sq(col) - w[k] ** 2 - sq(P[:, k])),
                   0, ref=REF_T2),
        Obligation("claimed formula = (v W_V^k)/||W_V^k||", claimed, w[k] / N, ref=REF_T2),
    ]


def cos_xi_obligations(formula: sp.Eq = COS_XI_FORMULA) -> list[Obligation]:
    """The claimed ``cos xi_ij`` formula, with ``K_ij = G_ij - W_vi W_vj``, ``K_ii = G_ii - W_vi^2``,
    ``K_jj = G_jj - W_vj^2`` (``G = W1 W1^T``, the definition of ``K``), equals the definition
    ``W_vi W_vj G_ij / (|W_vi| |W_vj| sqrt(G_ii G_jj))`` in all four sign cases of ``(W_vi, W_vj)``."""
    a, b = sp.symbols("a b", positive=True)
    Gij = sp.Symbol("G_ij", real=True)
    Gii, Gjj = sp.symbols("G_ii G_jj", positive=True)
    obs = []
    for sa, sb in product((1, -1), repeat=2):
        x, y = sa * a, sb * b
        sub = {Wvi: x, Wvj: y, K_ij: Gij - x * y, K_ii: Gii - x**2, K_jj: Gjj - y**2}
        definition = x * y * Gij / (a * b * sp.sqrt(Gii * Gjj))
        obs.append(Obligation(f"cos xi formula, signs ({sa:+d}, {sb:+d})", formula.rhs.xreplace(sub),
                              definition, ref=REF_P5 + " (derived exact identity)"))
    return obs


def formula_numpy(formula: sp.Eq, args: tuple[sp.Symbol, ...]):
    """``formula.rhs`` lambdified in ``args`` (numpy, broadcasting) -- the object the checkers evaluate."""
    return sp.lambdify(args, formula.rhs, modules="numpy")


def prop8_constant(cos_theta2: float) -> float:
    """``C = C_0/3`` with ``C_0 = 4 (1/cos Theta_2)^{4/3}`` (PAPER, proof of Prop 8), for a measured
    ``cos Theta_2 = inf cos zeta`` on ``(T_3, T*)``.

    >>> prop8_constant(1.0)                # the bracket bound 4 alone: C = 4/3
    1.3333333333333333
    """
    return 4.0 / 3.0 * cos_theta2 ** (-4.0 / 3.0)
