"""Checker for chen-luo-2025 identity (16) (proof of Thm 1): the expansion of the energy rate ``Edot``
along the effective dynamics (7), with the right-hand sides of (7) derived as gradients of the potential and
compared with the paper's component forms.

The judge reads the claim's own formula: its relations are instantiated on symbolic instances (d = 1, 2, 3; 4
under the full profile) by :func:`~twostage.verify.instantiate.instantiate` (``Edot`` is ``d E/dt`` along the
closed system, see ``effective.closed_names``), proven by SymPy and cross-checked numerically by
:mod:`twostage.verify.identity` (time derivatives by a finite difference along the flow). The gradient /
component-form / closure obligations (stated by the claim, not printed in its formula) are extra evidence.
"""

from __future__ import annotations

from twostage.theory.chen_luo import effective
from twostage.verify.identity import IdentityConfig, formula_measure, identity_checker
from twostage.verify.verdict import Measurement


@identity_checker("chen-luo-2025/eq16/edot-identity", "d")
def edot_identity(claim, cfg: IdentityConfig, _) -> Measurement:
    return formula_measure(claim.id, claim.formula, cfg, effective.closed_binding,
                           extra=effective.rhs_obligations, ref=effective.REF16)
