"""chen-luo-2025 theory: one module per topic (``theory/chen_luo/<topic>.py``), helpers beside them.

Importing the package registers the chen-luo-2025 claims (``load_all()`` relies on it). The order of the
imports is the order in which ``twostage claims``, ``latex`` and ``verify`` list the claims: stage 1
(assumptions, Prop 1, Prop 2, Def 4, Thm 1, condensation), then stage 2, then the §5 experiments.
"""

# isort: off
from twostage.theory.chen_luo import assumptions, blowup, condensation, conservation  # noqa: F401
from twostage.theory.chen_luo import effective, nondegeneracy, prop1  # noqa: F401
from twostage.theory.chen_luo import stage2, collapse, anchor  # noqa: F401
# isort: on
