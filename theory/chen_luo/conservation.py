"""Conservation laws of the effective dynamics (7): chen-luo-2025 Prop. 2 (9), their matrix forms,
the norm growth ``d/dt ||.||^2 = 2E`` and the step-3 identity of Thm 1 (ERRATUM-CORRECTED, App. A item 5).

Every statement is an :class:`~twostage.theory.chen_luo.model.Obligation` on concrete symbol
matrices (``effective.closed_state(d)`` / ``full_state(d)``): the time derivative along (7) is taken by
the chain rule and must simplify to the stated right side.

>>> from twostage.theory.chen_luo.model import residual_is_zero
>>> all(residual_is_zero(ob) for ob in conservation_obligations(2))
True
>>> all(residual_is_zero(ob) for ob in matrix_invariant_obligations(2))
True
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.chen_luo.assumptions import E, W1_sq, W2_sq, Wv_sq, dW2_sq, dWv_sq, t
from twostage.theory.chen_luo.effective import (
    FORMULA_TOLERANCE,
    W1_M,
    W2_M,
    WV_M,
    InstanceBinding,
    Wv_M,
    closed_binding,
    closed_pairs,
    closed_rhs,
    closed_state,
    dm,
    energy,
    full_pairs,
    full_state,
    sq,
    unit_row,
    v_M,
)
from twostage.theory.chen_luo.model import Obligation, flow_derivative
from twostage.theory.claims import Claim, Kind, Provenance, register

REF9 = "chen-luo-2025 Prop 2, eq. (9)"


def _ob(name: str, F, pairs, rhs, ref: str) -> Obligation:
    """``d F/dt = rhs`` along ``pairs`` (with the finite-difference cross-check attached)."""
    return Obligation(name, flow_derivative(F, pairs), rhs, ref=ref, along=(F, tuple(pairs)))


def conservation_obligations(d: int) -> list[Obligation]:
    """Eq. (9): ``W_{v,k}^2 - sum_k' W1_{kk'}^2`` and ``W2_k^2 - sum_k' W1_{k'k}^2`` are conserved."""
    Wv, W1, W2 = closed_state(d)
    pairs = closed_pairs(d)
    obs = []
    for k in range(d):
        obs.append(_ob(f"d/dt(Wv_{k}^2 - ||row {k} of W1||^2) = 0", Wv[k] ** 2 - sq(W1[k, :]), pairs, 0,
                       REF9))
        obs.append(_ob(f"d/dt(W2_{k}^2 - ||col {k} of W1||^2) = 0", W2[k] ** 2 - sq(W1[:, k]), pairs, 0,
                       REF9))
    return obs


def norm_growth_obligations(d: int) -> list[Obligation]:
    """``d/dt ||W_v||^2 = d/dt ||W1||_F^2 = d/dt ||W2||^2 = 2E`` (third equation of the proof of Prop. 2)."""
    Wv, W1, W2 = closed_state(d)
    pairs, E2 = closed_pairs(d), 2 * energy(d)
    ref = "chen-luo-2025 Prop 2 (proof, 'third equation')"
    return [_ob(f"d/dt ||{name}||^2 = 2E", sq(M), pairs, E2, ref) for name, M in (("Wv", Wv), ("W1", W1),
                                                                                   ("W2", W2))]


def matrix_invariant_obligations(d: int) -> list[Obligation]:
    """DERIVED (Ji-Telgarsky balancedness): four matrix invariants of (7).

    Eq. (9) is the diagonal of the first two; the last one says the part of ``W_V`` orthogonal to ``v``
    is frozen (needs ``|v| = 1``, exact here through the rational parametrisation of ``v``).
    """
    Wv, W1, W2 = closed_state(d)
    WV, _, _ = full_state(d)
    v = unit_row(d)
    ref = "chen-luo-2025 §4.1 matrix versions (derived)"
    z = sp.zeros(d, d)
    return [
        _ob("d/dt(W1 W1^T - Wv^T Wv) = 0", W1 * W1.T - Wv.T * Wv, closed_pairs(d), z, ref),
        _ob("d/dt(W1^T W1 - W2 W2^T) = 0", W1.T * W1 - W2 * W2.T, closed_pairs(d), z, ref),
        _ob("d/dt(W_V^T W_V - W1 W1^T) = 0", WV.T * WV - W1 * W1.T, full_pairs(d), z, ref),
        _ob("d/dt(W_V - v^T (v W_V)) = 0", WV - v.T * (v * WV), full_pairs(d), z, ref),
    ]


def velocity_difference_obligations(d: int) -> list[Obligation]:
    """Thm 1 case (iii), ERRATUM-CORRECTED intermediates (App. A item 5) and the stated difference."""
    Wv, W1, W2 = closed_state(d)
    dWv, _, dW2 = closed_rhs(d)
    pairs = closed_pairs(d)
    E_ = energy(d)
    P = sp.expand((Wv * W1 * W1.T * W1 * W2)[0])  # W_v W1 W1^T W1 W2
    ref = "chen-luo-2025 Thm 1 proof, case (iii) step 3 (erratum A.5)"
    return [
        _ob("d/dt ||dWv||^2 = 2E ||W2||^2 + 2 Wv W1 W1^T W1 W2", sq(dWv), pairs, 2 * E_ * sq(W2) + 2 * P,
            ref),
        _ob("d/dt ||dW2||^2 = 2E ||Wv||^2 + 2 Wv W1 W1^T W1 W2", sq(dW2), pairs, 2 * E_ * sq(Wv) + 2 * P,
            ref),
        _ob("d/dt(||dWv||^2 - ||dW2||^2) = 2E(||W2||^2 - ||Wv||^2)", sq(dWv) - sq(dW2), pairs,
            2 * E_ * (sq(W2) - sq(Wv)), ref),
        _ob("d^2 W2/dt^2 = W1^T W1 W2 + ||Wv||^2 W2", dW2, pairs, W1.T * W1 * W2 + sq(Wv) * W2,
            "chen-luo-2025 Thm 1 proof, case (iii) (erratum A.5: ddot W2)"),
    ]


def velocity_binding(d: int) -> InstanceBinding:
    """The closed system with ``P_3 = W_v W1 W1^T W1 W2`` (the names of thm1/velocity-difference)."""
    Wv, W1, W2 = closed_state(d)
    b = closed_binding(d)
    return InstanceBinding({**b.names, "P_3": sp.expand((Wv * W1 * W1.T * W1 * W2)[0])}, b.pairs, b.dims)


# --------------------------------------------------------------------------------- claims
_k, _kp = sp.symbols("k k'", integer=True)
_Wv, _W1, _W2 = sp.IndexedBase("W_v"), sp.IndexedBase("W^{[1]}"), sp.IndexedBase("W^{[2]}")
_P = sp.Symbol("P_3", real=True)
_Z = sp.ZeroMatrix(dm, dm)


def _ddt(x):
    return sp.Derivative(x, t)


def _eq(a, b):
    return sp.Eq(a, b, evaluate=False)


register(Claim(
    id="chen-luo-2025/prop2/conservation", paper="chen-luo-2025", ref="Prop 2, eq. (9)",
    provenance=Provenance.PAPER, kind=Kind.IDENTITY,
    statement="Along (7), for every $k$: $W_{v,k}^2-\\sum_{k'}(W^{[1]}_{kk'})^2$ and "
              "$(W^{[2]}_k)^2-\\sum_{k'}(W^{[1]}_{k'k})^2$ are constant in time.",
    formula=sp.And(_eq(_ddt(_Wv[_k] ** 2 - sp.Sum(_W1[_k, _kp] ** 2, (_kp, 1, dm))), 0),
                   _eq(_ddt(_W2[_k] ** 2 - sp.Sum(_W1[_kp, _k] ** 2, (_kp, 1, dm))), 0)),
    uses=("chen-luo-2025/eq16/edot-identity",),
    symbols=(("W_v", "W_v = v W_V (row, normalised weights)"), ("W^{[1]}", "first FFN matrix W1"),
             ("W^{[2]}", "second FFN vector W2"), ("k", "width index 1..d_m"), ("k'", "summed width index"),
             ("t", "rescaled time tbar of eq. (6)"), ("d_m", "width")),
    tolerance=FORMULA_TOLERANCE,
))
register(Claim(
    id="chen-luo-2025/prop2/norm-growth", paper="chen-luo-2025", ref="Prop 2 (proof, third equation)",
    provenance=Provenance.PAPER, kind=Kind.IDENTITY,
    statement="$\\frac{d}{dt}\\|W_v\\|_2^2=\\frac{d}{dt}\\|W^{[1]}\\|_F^2="
              "\\frac{d}{dt}\\|W^{[2]}\\|_2^2=2E$; hence $\\|W_v\\|^2-\\|W^{[2]}\\|^2$ is conserved.",
    formula=sp.And(_eq(_ddt(Wv_sq), 2 * E), _eq(_ddt(W1_sq), 2 * E), _eq(_ddt(W2_sq), 2 * E)),
    uses=("chen-luo-2025/eq16/edot-identity",),
    symbols=(("Wv_sq", "||W_v||_2^2"), ("W1_sq", "||W1||_F^2"), ("W2_sq", "||W2||_2^2"),
             ("E", "energy W_v W1 W2, eq. (8)"), ("t", "rescaled time tbar")),
    tolerance=FORMULA_TOLERANCE,
))
register(Claim(
    id="chen-luo-2025/prop2/matrix-invariants", paper="chen-luo-2025", ref="§4.1 matrix versions of (9)",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="Along (7) the matrices $W^{[1]}W^{[1]\\top}-W_v^\\top W_v$, "
              "$W^{[1]\\top}W^{[1]}-W^{[2]}W^{[2]\\top}$, $W_V^\\top W_V-W^{[1]}W^{[1]\\top}$ and "
              "$W_V-v^\\top W_v$ are constant (Ji-Telgarsky balancedness; (9) is the diagonal of the first "
              "two).",
    formula=sp.And(_eq(_ddt(W1_M * W1_M.T - Wv_M.T * Wv_M), _Z), _eq(_ddt(W1_M.T * W1_M - W2_M * W2_M.T), _Z),
                   _eq(_ddt(WV_M.T * WV_M - W1_M * W1_M.T), _Z), _eq(_ddt(WV_M - v_M.T * Wv_M), _Z)),
    uses=("chen-luo-2025/prop2/conservation",),
    symbols=(("W_v", "v W_V (1 x d_m)"), ("W^{[1]}", "W1 (d_m x d_m)"), ("W^{[2]}", "W2 (d_m x 1)"),
             ("W_V", "full value matrix (d_m x d_m)"), ("v", "condensation direction, unit row, eq. (6)"),
             ("t", "rescaled time tbar"), ("d_m", "width")),
    tolerance=FORMULA_TOLERANCE,
))
register(Claim(
    id="chen-luo-2025/thm1/velocity-difference", paper="chen-luo-2025", ref="Thm 1 proof, case (iii), step 3",
    provenance=Provenance.ERRATUM, kind=Kind.IDENTITY,
    statement="$\\frac{d}{dt}\\|\\dot W_v\\|^2=2E\\|W^{[2]}\\|^2+2P_3$, $\\frac{d}{dt}\\|\\dot W^{[2]}\\|^2="
              "2E\\|W_v\\|^2+2P_3$ with $P_3=W_vW^{[1]}W^{[1]\\top}W^{[1]}W^{[2]}$, hence "
              "$\\frac{d}{dt}(\\|\\dot W_v\\|^2-\\|\\dot W^{[2]}\\|^2)=2E(\\|W^{[2]}\\|^2-\\|W_v\\|^2)$;"
              " also $\\ddot W^{[2]}=W^{[1]\\top}W^{[1]}W^{[2]}+\\|W_v\\|^2W^{[2]}$.",
    formula=sp.And(_eq(_ddt(dWv_sq), 2 * E * W2_sq + 2 * _P), _eq(_ddt(dW2_sq), 2 * E * Wv_sq + 2 * _P),
                   _eq(_ddt(dWv_sq - dW2_sq), 2 * E * (W2_sq - Wv_sq)),
                   _eq(sp.Derivative(W2_M, (t, 2)), W1_M.T * W1_M * W2_M + Wv_sq * W2_M)),
    uses=("chen-luo-2025/eq16/edot-identity", "chen-luo-2025/prop2/norm-growth"),
    symbols=(("dWv_sq", "||dW_v/dt||_2^2"), ("dW2_sq", "||dW2/dt||_2^2"), ("Wv_sq", "||W_v||_2^2"),
             ("W2_sq", "||W2||_2^2"), ("E", "energy, eq. (8)"), ("P_3", "W_v W1 W1^T W1 W2"),
             ("W^{[1]}", "W1 (d_m x d_m)"), ("W^{[2]}", "W2 (d_m x 1)"), ("t", "rescaled time tbar"),
             ("d_m", "width")),
    note="App. A item 5: the printed intermediate expressions of step 3 are garbled (and dot W1 is printed "
         "as W_v^T W2 instead of W_v^T W2^T; ddot W2 ends in W1_k' instead of W2_k'); the corrected "
         "intermediates are encoded. The stated difference is right; the paper writes its right side with "
         "||W2(0)||^2 - ||W_v(0)||^2, equal by norm-growth.",
    tolerance=FORMULA_TOLERANCE,
))
