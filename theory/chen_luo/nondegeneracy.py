"""Def. 4 of chen-luo-2025 (non-degenerate initialisation, eq. (10)) as polynomials in the initial weights.

``D1 = ||W_v||^2 - ||W2||^2`` and
``D2 = ||dW_v||^2 - ||dW2||^2 + min(||W_v||^2, ||W2||^2) D1`` with ``dW_v = (W1 W2)^T`` and
``dW2 = W1^T W_v^T`` at ``t = 0``. ``D2`` is piecewise polynomial: on ``||W_v|| <= ||W2||`` it is the
polynomial ``D2_v`` (min = ``||W_v||^2``), otherwise ``D2_2``. Each of ``D1, D2_v, D2_2`` is a
*nonzero* polynomial (proved below for concrete ``d`` and, for every ``d``, by restriction to the
first coordinate: the restrictions are the ``d = 1`` polynomials, which factor as
``D1 = w^2 - c^2``, ``D2_v = D1 (w^2 - m^2)``, ``D2_2 = D1 (c^2 - m^2)``). The zero set of a nonzero
polynomial is Lebesgue-null, and ``W_v = v W_V`` is Gaussian when ``W_V`` is (eq. (4)), so a Gaussian
initialisation is non-degenerate almost surely (Thm 1's first assertion).

>>> import numpy as np
>>> D1, D2 = nondegeneracy_numpy()(np.array([[0.7]]), np.array([[[0.3]]]), np.array([[1.2]]))  # batch 1, d 1
>>> D1.shape, round(float(D1[0]), 4), round(float(D2[0]), 4)       # d = 1: D2 = D1 (w^2 - m^2)
((1,), -0.95, -0.38)
>>> from twostage.theory.chen_luo.model import residual_is_zero
>>> obs = nonzero_obligations(2)
>>> [ob.sense for ob in obs], [residual_is_zero(ob) for ob in obs]      # lhs - 0 does not simplify to 0
(['ne', 'ne', 'ne'], [False, False, False])
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import sympy as sp

from twostage.errors import UnsupportedExpression
from twostage.theory.chen_luo.assumptions import D1 as D1_sym
from twostage.theory.chen_luo.assumptions import D2 as D2_sym
from twostage.theory.chen_luo.assumptions import GAUSSIAN_INIT, NONDEGENERATE, W2_sq, Wv_sq, dW2_sq, dWv_sq
from twostage.theory.chen_luo.effective import closed_rhs, closed_state, sq
from twostage.theory.chen_luo.model import Obligation
from twostage.theory.claims import Claim, Kind, Provenance, register

REF = "chen-luo-2025 Def 4, eq. (10)"


@cache
def polynomials(d: int) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(D1, D2_v, D2_2)`` as expanded polynomials in the initial ``(W_v, W1, W2)`` symbols."""
    Wv, _, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    a, b = sq(Wv), sq(W2)
    D1 = sp.expand(a - b)
    P = sp.expand(sq(dWv) - sq(dW2))
    return D1, sp.expand(P + a * D1), sp.expand(P + b * D1)


def D2_expr(d: int) -> sp.Expr:
    """``D2`` of eq. (10) with the ``min`` (piecewise polynomial)."""
    Wv, _, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    return sq(dWv) - sq(dW2) + sp.Min(sq(Wv), sq(W2)) * (sq(Wv) - sq(W2))


def as_polys(d: int) -> tuple[sp.Poly, ...]:
    """The three polynomials as :class:`sympy.Poly` in the initial weights (none is the zero polynomial)."""
    Wv, W1, W2 = closed_state(d)
    gens = list(Wv) + list(W1) + list(W2)
    return tuple(sp.Poly(p, *gens) for p in polynomials(d))


def nonzero_obligations(d: int) -> list[Obligation]:
    """``D1``, ``D2_v``, ``D2_2`` are not the zero polynomial (``sense='ne'`` against 0)."""
    return [Obligation(f"{name} is a nonzero polynomial", p, 0, sense="ne", ref=REF)
            for name, p in zip(("D1", "D2_v", "D2_2"), polynomials(d))]


def restriction_obligations(d: int) -> list[Obligation]:
    """Restricting to the first coordinate gives the ``d = 1`` polynomials, which factor explicitly."""
    Wv, W1, W2 = closed_state(d)
    w, m, c = sp.symbols("wv_0 w1_00 w2_0")
    keep = {Wv[0]: w, W1[0, 0]: m, W2[0]: c}
    zero = {x: 0 for x in list(Wv) + list(W1) + list(W2) if x not in keep}
    D1, Dv, D2 = (p.subs(zero) for p in polynomials(d))
    f1 = w**2 - c**2
    return [Obligation("D1 restricted = w^2 - c^2", D1, f1, ref=REF),
            Obligation("D2_v restricted = D1 (w^2 - m^2)", Dv, sp.expand(f1 * (w**2 - m**2)), ref=REF),
            Obligation("D2_2 restricted = D1 (c^2 - m^2)", D2, sp.expand(f1 * (c**2 - m**2)), ref=REF)]


# eq. (10) in the four squared norms at t = 0: the definitions of D1, D2 and the two conditions, all in the
# claim's formula (the numpy evaluator and the exact check below read it from there)
DEF4_FORMULA = sp.And(sp.Eq(D1_sym, Wv_sq - W2_sq, evaluate=False),
                      sp.Eq(D2_sym, dWv_sq - dW2_sq + sp.Min(Wv_sq, W2_sq) * D1_sym, evaluate=False),
                      sp.Ne(D1_sym, 0), sp.Ne(D2_sym, 0))
_NORMS = (Wv_sq, W2_sq, dWv_sq, dW2_sq)


def _is_definition(rel: sp.Basic) -> bool:
    return isinstance(rel, sp.Equality) and bool(rel.rhs.free_symbols & set(_NORMS))


def definitions(formula: sp.Basic = DEF4_FORMULA) -> dict[str, sp.Expr]:
    """``{"D1": expr, "D2": expr}`` in the four squared norms, read off the formula (``D1`` substituted into
    ``D2``); the relations that are not definitions are the conditions (:func:`conditions`)."""
    defs = {r.lhs.name: r.rhs for r in formula.args if _is_definition(r)}
    if set(defs) != {"D1", "D2"}:
        raise UnsupportedExpression(f"def4: the formula must define D1 and D2 in the squared norms, got "
                                    f"{sorted(defs)}")
    return {"D1": defs["D1"], "D2": defs["D2"].subs(D1_sym, defs["D1"])}


def conditions(formula: sp.Basic = DEF4_FORMULA) -> list[sp.Basic]:
    """The conditions of the formula (``D1 != 0``, ``D2 != 0`` in eq. (10))."""
    return [r for r in formula.args if not _is_definition(r)]


Evaluator = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def nondegeneracy_numpy(formula: sp.Basic = DEF4_FORMULA) -> Evaluator:
    """Batched numpy ``(D1, D2)`` for any ``d`` as the formula defines them: ``Wv (..., d)``,
    ``W1 (..., d, d)``, ``W2 (..., d)``. The squared norms are computed with einsum; the formula's
    definitions are lambdified.
    """
    defs = definitions(formula)
    fn = sp.lambdify(_NORMS, [defs["D1"], defs["D2"]], modules="numpy")

    def f(Wv: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Wv, W1, W2 = (np.asarray(x, float) for x in (Wv, W1, W2))
        a = np.einsum("...k,...k->...", Wv, Wv)
        b = np.einsum("...k,...k->...", W2, W2)
        dWv = np.einsum("...kl,...l->...k", W1, W2)  # (W1 W2)^T
        dW2 = np.einsum("...kl,...k->...l", W1, Wv)  # W1^T W_v^T
        p = np.einsum("...k,...k->...", dWv, dWv)
        q = np.einsum("...k,...k->...", dW2, dW2)
        D1, D2 = fn(a, b, p, q)
        full = lambda x: np.broadcast_to(np.asarray(x, float), a.shape)  # noqa: E731
        return full(D1), full(D2)

    return f


def exact_norms(Wv, W1, W2) -> tuple[int, int, int, int]:
    """``(||W_v||^2, ||W2||^2, ||dW_v||^2, ||dW2||^2)`` at ``t = 0`` in exact integer (or Fraction)
    arithmetic, the velocities expanded entry by entry from (7): ``dW_v,k = sum_l W1_kl W2_l``,
    ``dW2_l = sum_k W_v,k W1_kl``."""
    d = len(Wv)
    dWv = [sum(W1[k][j] * W2[j] for j in range(d)) for k in range(d)]
    dW2 = [sum(Wv[k] * W1[k][j] for k in range(d)) for j in range(d)]
    sq = lambda v: sum(x * x for x in v)  # noqa: E731
    return sq(Wv), sq(W2), sq(dWv), sq(dW2)


def reference_D(a, b, p, q) -> tuple:
    """``(D1, D2)`` derived independently of eq. (10), from the proof of Thm 1 case (iii) (step 3, App. A item
    5): ``d/dt(||dW_v||^2 - ||dW2||^2) = 2E (||W2(0)||^2 - ||W_v(0)||^2)`` and ``d/dt ||W2||^2 = 2E``
    integrate to ``lim(||dW_v||^2 - ||dW2||^2) = p - q + (b - a)(b_inf - b)``, where ``b_inf = lim ||W2||^2``
    is ``0`` if ``||W2||`` is the norm that vanishes (``a > b``; ``a - b`` is conserved) and ``b - a``
    otherwise. Eq. (10) asks exactly this limit to be nonzero: ``D2 = p - q + min(a, b)(a - b)``.

    >>> reference_D(5, 2, 7, 3)   # a > b: D2 = 7 - 3 + 2 * 3
    (3, 10)
    >>> reference_D(2, 5, 7, 3)   # a < b: D2 = 7 - 3 + 2 * (-3)
    (-3, -2)
    """
    b_inf = 0 if a > b else b - a
    return a - b, p - q + (b - a) * (b_inf - b)


register(Claim(
    id="chen-luo-2025/def4/nondegenerate-as", paper="chen-luo-2025", ref="Def 4, eq. (10); Thm 1",
    provenance=Provenance.PAPER, kind=Kind.ALMOST_SURE,
    statement="Under the Gaussian initialisation (4) the initialisation is almost surely non-degenerate: "
              "$D_1=\\|W_v\\|_2^2-\\|W^{[2]}\\|_2^2\\neq0$ and "
              "$D_2=\\|\\dot W_v\\|_2^2-\\|\\dot W^{[2]}\\|_2^2+"
              "\\min\\{\\|W_v\\|_2^2,\\|W^{[2]}\\|_2^2\\}D_1\\neq0$ at $t=0$ (each is a nonzero polynomial "
              "on each branch of the min, so its zero set is null).",
    formula=DEF4_FORMULA,
    assumptions=(GAUSSIAN_INIT,),
    uses=(NONDEGENERATE, "chen-luo-2025/eq16/edot-identity"),
    symbols=(("Wv_sq", "||W_v(0)||^2"), ("W2_sq", "||W2(0)||^2"), ("dWv_sq", "||dW_v(0)||^2"),
             ("dW2_sq", "||dW2(0)||^2"), ("D1", "||W_v(0)||^2 - ||W2(0)||^2"),
             ("D2", "||dW_v(0)||^2 - ||dW2(0)||^2 + min(||W_v(0)||^2, ||W2(0)||^2) D1, with dW_v(0) = "
                    "(W1 W2)^T, dW2(0) = W1^T W_v^T (all at t = 0, normalised weights)")),
    tolerance="the formula's D1, D2 evaluated exactly on integer draws (entries in [-3, 3], d = 1..4) must "
              "equal the independent expansion from the proof of Thm 1 case (iii) (reference_D; any mismatch "
              "is violated); the formula's conditions counted over seeded Gaussian draws with the exact "
              "binomial test (almost-sure: a single draw with D1 = 0 or D2 = 0 up to rounding is a "
              "counterexample), D1, D2 lambdified from the formula (nondegeneracy_numpy(formula)).",
))
