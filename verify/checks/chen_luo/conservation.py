"""Checkers for the conservation laws of the effective dynamics (7): chen-luo-2025 Prop 2 (9), their
matrix forms, the norm growth ``d/dt ||.||^2 = 2E`` and the step-3 identity of Thm 1 (ERRATUM-CORRECTED, App.
A item 5).

Each is a list of proof obligations on concrete symbol matrices (d = 1, 2, 3; 4 under the full profile),
proven by SymPy and cross-checked numerically by :mod:`twostage.verify.identity`.
"""

from __future__ import annotations

from twostage.theory.chen_luo import conservation as tc
from twostage.verify.identity import IdentityConfig, identity_checker, symbolic
from twostage.verify.verdict import Measurement

P = "chen-luo-2025"


@identity_checker(f"{P}/prop2/conservation")
def conservation(claim, cfg: IdentityConfig, _) -> Measurement:
    return symbolic(cfg, "conservation", tc.conservation_obligations)


@identity_checker(f"{P}/prop2/norm-growth")
def norm_growth(claim, cfg: IdentityConfig, _) -> Measurement:
    return symbolic(cfg, "norm-growth", tc.norm_growth_obligations)


@identity_checker(f"{P}/prop2/matrix-invariants")
def matrix_invariants(claim, cfg: IdentityConfig, _) -> Measurement:
    return symbolic(cfg, "matrix-invariants", tc.matrix_invariant_obligations)


@identity_checker(f"{P}/thm1/velocity-difference")
def velocity_difference(claim, cfg: IdentityConfig, _) -> Measurement:
    return symbolic(cfg, "velocity-difference", tc.velocity_difference_obligations)
