"""The AM-GM / Cauchy-Schwarz line of chen-luo-2025 Thm 1 (``Edot >= 3|E|^{4/3}``, ERRATUM-CORRECTED, App. A
item 4) proven as identities on concrete instances, and the test whether a claim's formula follows from it.

>>> from twostage.theory.chen_luo.model import residual_is_zero
>>> all(residual_is_zero(ob) for ob in edot_lower_obligations(2))
True
>>> edot_formula_follows(sp.Ge(Edot, 6 * sp.Abs(E) ** sp.Rational(4, 3)))[0]
False
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.chen_luo.assumptions import E, Edot
from twostage.theory.chen_luo.effective import closed_rhs, closed_state, energy
from twostage.theory.chen_luo.model import Obligation

FOUR_THIRDS = sp.Rational(4, 3)
REF_T1 = "chen-luo-2025 Thm 1"


# ---- the AM-GM / Cauchy-Schwarz line of Thm 1 (algebraic, proven) ----------------------------------------
def edot_lower_obligations(d: int) -> list[Obligation]:
    """The proof of ``Edot >= 3|E|^{4/3}`` (Thm 1, AM-GM line, ERRATUM-CORRECTED App. A item 4) as identities:

    * identity (16): ``Edot = p + q + r`` with ``p = ||dW_v||^2``, ``q = ||dW2||^2``,
      ``r = ||W_v||^2 ||W2||^2`` (the derivative along (7) by the chain rule);
    * AM-GM for three numbers, any ``x, y, z`` (general, not instance-bound):
      ``x^3 + y^3 + z^3 - 3xyz = (x + y + z)((x-y)^2 + (y-z)^2 + (z-x)^2)/2 >= 0`` for ``x, y, z >= 0``,
      applied to ``x = p^{1/3}`` etc.: ``p + q + r >= 3 (p q r)^{1/3}``;
    * Cauchy-Schwarz by Lagrange's identity: ``||a||^2 ||b||^2 - <a, b>^2 = sum_{i<j} (a_i b_j - a_j b_i)^2``
      for ``(a, b) = (dW_v, W_v)`` and ``(dW2, W2)``, with ``<dW_v, W_v> = <dW2, W2> = E``: ``p q r >= E^4``.

    Together: ``Edot >= 3 (p q r)^{1/3} >= 3 |E|^{4/3}`` for every state, every ``d`` the instance has.
    """
    Wv, W1, W2 = closed_state(d)
    dWv, dW1, dW2 = closed_rhs(d)
    E = energy(d)
    sq = lambda M: sum((x**2 for x in M), sp.S.Zero)  # noqa: E731
    ip = lambda A, B: sum((a * b for a, b in zip(A, B)), sp.S.Zero)  # noqa: E731
    lagrange = lambda A, B: sum(((A[i] * B[j] - A[j] * B[i]) ** 2  # noqa: E731
                                 for i in range(d) for j in range(i + 1, d)), sp.S.Zero)
    chain = sum((sp.diff(E, x) * f for M, F in ((Wv, dWv), (W1, dW1), (W2, dW2)) for x, f in zip(M, F)),
                sp.S.Zero)
    x, y, z = sp.symbols("x y z")
    ref = REF_T1 + " (AM-GM line, App. A item 4)"
    return [
        Obligation("(16) Edot = ||dWv||^2 + ||dW2||^2 + ||Wv||^2||W2||^2", chain,
                   sq(dWv) + sq(dW2) + sq(Wv) * sq(W2), ref=ref),
        Obligation("AM-GM: x^3+y^3+z^3-3xyz = (x+y+z)((x-y)^2+(y-z)^2+(z-x)^2)/2",
                   x**3 + y**3 + z**3 - 3 * x * y * z,
                   (x + y + z) * ((x - y) ** 2 + (y - z) ** 2 + (z - x) ** 2) / 2, ref=ref),
        Obligation("Lagrange: ||dWv||^2||Wv||^2 - <dWv,Wv>^2 = sum of squares",
                   sq(dWv) * sq(Wv) - ip(dWv, Wv) ** 2, lagrange(dWv, Wv), ref=ref),
        Obligation("Lagrange: ||dW2||^2||W2||^2 - <dW2,W2>^2 = sum of squares",
                   sq(dW2) * sq(W2) - ip(dW2, W2) ** 2, lagrange(dW2, W2), ref=ref),
        Obligation("<dWv, Wv> = E", ip(dWv, Wv), E, ref=ref),
        Obligation("<dW2, W2> = E", ip(dW2, W2), E, ref=ref),
    ]


PROVEN_LOWER = 3 * sp.Abs(E) ** FOUR_THIRDS  # what the obligations establish: Edot >= 3 |E|^{4/3}


def edot_formula_follows(formula: sp.Basic) -> tuple[bool, str]:
    """Does the proven ``Edot >= 3|E|^{4/3}`` imply the claim's formula ``Edot (rel) f(E)``? It does when the
    relation is ``>=`` and ``f(E) <= 3|E|^{4/3}`` for every real ``E`` (decided by SymPy on ``E >= 0`` and
    ``E <= 0`` separately). A strict ``>`` does not follow (equality holds on the balanced solution)."""
    if not isinstance(formula, sp.GreaterThan) or formula.lhs != Edot:
        return False, f"the proof gives Edot >= 3|E|^(4/3); the formula states {formula}"
    u = sp.Symbol("u", nonnegative=True)
    for sign in (1, -1):
        gap = sp.simplify((PROVEN_LOWER - formula.rhs).subs(E, sign * u))
        if not (gap.is_nonnegative or sp.simplify(gap) == 0):
            return False, f"3|E|^(4/3) - ({formula.rhs}) is not >= 0 for all E (sign {sign}): {gap}"
    return True, "Edot >= 3|E|^(4/3) >= formula's right side"
