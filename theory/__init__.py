"""SymPy encodings of both papers (no torch here; numerics may lambdify what theory builds).

The public surface: the claim vocabulary and registry. Importing a paper's package
(:mod:`twostage.theory.chen_luo`, :mod:`twostage.theory.gong`) registers its claims; :func:`load_all`
imports both.
"""

from twostage.theory.claims import (
    PAPER_PACKAGES,
    PAPERS,
    Assumption,
    Claim,
    Kind,
    Provenance,
    Registry,
    load_all,
    register,
    register_assumption,
)

__all__ = ["PAPERS", "PAPER_PACKAGES", "Assumption", "Claim", "Kind", "Provenance", "Registry", "load_all",
           "register", "register_assumption"]
