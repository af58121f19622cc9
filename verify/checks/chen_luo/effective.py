"""Checker for chen-luo-2025 identity (16) (proof of Thm 1): the expansion of the energy rate ``Edot``
along the effective dynamics (7), with the right-hand sides of (7) derived as gradients of the potential and
compared with the paper's component forms.

Proven on symbolic instances (d = 1, 2, 3; 4 under the full profile) by :mod:`twostage.verify.identity`, time
derivatives cross-checked by a finite difference along the flow.
"""

from __future__ import annotations

from twostage.theory.chen_luo import effective
from twostage.verify.identity import IdentityConfig, identity_checker, symbolic
from twostage.verify.verdict import Measurement


@identity_checker("chen-luo-2025/eq16/edot-identity", "d")
def edot_identity(claim, cfg: IdentityConfig, _) -> Measurement:
    return symbolic(cfg, "edot", lambda d: effective.rhs_obligations(d) + effective.edot_obligations(d))
