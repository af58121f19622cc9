"""Checkers for the conservation laws of the effective dynamics (7): chen-luo-2025 Prop 2 (9), their
matrix forms, the norm growth ``d/dt ||.||^2 = 2E`` and the step-3 identity of Thm 1 (ERRATUM-CORRECTED, App.
A item 5).

Each judges *the claim's own formula*: its relations are instantiated on concrete symbol matrices (d = 1, 2,
3; 4 under the full profile) by :func:`~twostage.verify.instantiate.instantiate` (the names bound in
``theory/chen_luo/conservation.py`` / ``effective.py``), proven by SymPy and cross-checked numerically by
:mod:`twostage.verify.identity`; an edited constant, term or relation of the printed formula is what gets
proven (and fails). Prop 2's matrix forms are judged on the full system (``W_V``, ``v``, ``W_v = v W_V``).
"""

from __future__ import annotations

from twostage.theory.chen_luo import conservation as tc
from twostage.theory.chen_luo.effective import closed_binding, full_binding
from twostage.verify.identity import IdentityConfig, formula_measure, identity_checker
from twostage.verify.verdict import Measurement

P = "chen-luo-2025"


@identity_checker(f"{P}/prop2/conservation")
def conservation(claim, cfg: IdentityConfig, _) -> Measurement:
    return formula_measure(claim.id, claim.formula, cfg, closed_binding, ref=tc.REF9)


@identity_checker(f"{P}/prop2/norm-growth")
def norm_growth(claim, cfg: IdentityConfig, _) -> Measurement:
    return formula_measure(claim.id, claim.formula, cfg, closed_binding,
                           ref="chen-luo-2025 Prop 2 (proof, 'third equation')")


@identity_checker(f"{P}/prop2/matrix-invariants")
def matrix_invariants(claim, cfg: IdentityConfig, _) -> Measurement:
    return formula_measure(claim.id, claim.formula, cfg, full_binding,
                           ref="chen-luo-2025 §4.1 matrix versions (derived)")


@identity_checker(f"{P}/thm1/velocity-difference")
def velocity_difference(claim, cfg: IdentityConfig, _) -> Measurement:
    """The printed formula, ``d^2 W2/dt^2`` included (the second derivative along (7))."""
    return formula_measure(claim.id, claim.formula, cfg, tc.velocity_binding,
                           ref="chen-luo-2025 Thm 1 proof, case (iii) step 3 (erratum A.5)")
