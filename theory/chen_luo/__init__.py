"""Package: see DESIGN.md layout.

Importing the package registers the chen-luo-2025 claims (``load_all()`` relies on it).
"""

from twostage.theory.chen_luo import (  # noqa: F401  (stage 1: assumptions, Prop 1, Prop 2, Def 4, Thm 1)
    assumptions,
    blowup,
    condensation,  # stage 1 after blow-up onset: Ass. 1, Thm 2, Props 4-8, Cor 1, low rank
    conservation,
    effective,
    nondegeneracy,
    prop1,
    stage2,  # stage 2: loss factorisation, Prop 3, F
    stage2_collapse,  # stage 2: closed form, conservation, Thm 3
)
