"""Assumptions of chen-luo-2025 (stage 1) and the scalar symbols the claim formulas share.

Each :class:`~twostage.theory.claims.Assumption` carries a SymPy predicate in these symbols where
one exists; structural ones (Gaussian initialisation, gradient flow) have ``predicate=None`` and are
enforced by the configuration constructors of the numerics.

>>> from twostage.theory.claims import REGISTRY
>>> REGISTRY.assumption(E_T0_POSITIVE).holds_at({E_t0: 0.5})
True
>>> REGISTRY.assumption(DM1_ESCAPE).holds_at({m: 0.3, w: -0.7, c: 1.2})
False
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.claims import Assumption, Provenance, register_assumption

PAPER = "chen-luo-2025"

# ---- scalar symbols shared by the claim formulas (names are the keys of latex.NOTATION) ----------
t, t0, tbar = sp.symbols("t t0 tbar", real=True)
E, E0, E_t0, Edot = sp.symbols("E E0 E_t0 Edot", real=True)
T_star, Tbar_star, Tbar_star_lam = sp.symbols("T_star Tbar_star Tbar_star_lam", positive=True)
eps, Z_norm, lam, t_esc = sp.symbols("eps Z_norm lam t_esc", positive=True)
n, s = sp.symbols("n s", positive=True, integer=True)
w, m, c, alpha, beta, m_t0 = sp.symbols("w m c alpha beta m_t0", real=True)
x0 = sp.Symbol("x0", positive=True)
D1, D2 = sp.symbols("D1 D2", real=True)
err, C_err, dQ_rel, C_Q = sp.symbols("err C_err dQ_rel C_Q", nonnegative=True)
Wv_sq, W1_sq, W2_sq, dWv_sq, dW2_sq = sp.symbols("Wv_sq W1_sq W2_sq dWv_sq dW2_sq", nonnegative=True)

# ---- assumption ids --------------------------------------------------------------------------------
Z_NONZERO = f"{PAPER}/ass/Z-nonzero"
EPS_SMALL = f"{PAPER}/ass/eps-small"
GAUSSIAN_INIT = f"{PAPER}/ass/gaussian-init"
GRADIENT_FLOW = f"{PAPER}/ass/gradient-flow"
E_T0_POSITIVE = f"{PAPER}/ass/E-t0-positive"
E_T0_NONPOSITIVE = f"{PAPER}/ass/E-t0-nonpositive"
E_POSITIVE = f"{PAPER}/ass/E-positive"
BEFORE_BLOWUP = f"{PAPER}/ass/before-blowup"
TBAR_BELOW_BLOWUP = f"{PAPER}/ass/tbar-below-blowup"
DM1_ESCAPE = f"{PAPER}/ass/dm1-escape"
BALANCED = f"{PAPER}/ass/balanced-scalar"
NONDEGENERATE = f"{PAPER}/ass/nondegenerate"

_A = [
    Assumption(Z_NONZERO, PAPER, "Prop 1, eq. (6) (tacit)",
               "$Z=\\sum_iy_i\\sum_jX_{i,j}\\neq0$, so that $v=Z/\\|Z\\|_2$ is defined.",
               Provenance.DERIVED, sp.Gt(Z_norm, 0)),
    Assumption(EPS_SMALL, PAPER, "eq. (4)",
               "Small initialisation: $0<\\varepsilon\\ll1$ (the predicate only enforces "
               "$0<\\varepsilon<1$; the claims are asymptotic in $\\varepsilon\\to0$).",
               Provenance.PAPER, sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1))),
    Assumption(GAUSSIAN_INIT, PAPER, "eq. (4)",
               "All entries of $W_Q,W_K,W_V,W^{[1]},W^{[2]}$ are independent $\\mathcal N(0,\\varepsilon^2)$ "
               "(normalised weights: independent $\\mathcal N(0,1)$).", Provenance.PAPER, None),
    Assumption(GRADIENT_FLOW, PAPER, "§3 (training), Prop 1",
               "Full-batch gradient flow $\\dot\\theta=-\\nabla_\\theta\\mathcal L$ (not Adam, not "
               "large-step GD).",
               Provenance.PAPER, None),
    Assumption(E_T0_POSITIVE, PAPER, "Thm 1, eq. (11)", "$E(t_0)>0$ at the starting time $t_0$.",
               Provenance.PAPER, sp.Gt(E_t0, 0)),
    Assumption(E_T0_NONPOSITIVE, PAPER, "Thm 1, eq. (12)", "$E(t_0)\\le0$ at the starting time $t_0$.",
               Provenance.PAPER, sp.Le(E_t0, 0)),
    Assumption(E_POSITIVE, PAPER, "Thm 1 (general consequence)", "$E(t)>0$ at the time considered.",
               Provenance.DERIVED, sp.Gt(E, 0)),
    Assumption(BEFORE_BLOWUP, PAPER, "Thm 1", "$t_0\\le t<T^*$ (inside the maximal existence interval).",
               Provenance.PAPER, sp.And(sp.Le(t0, t), sp.Lt(t, T_star))),
    Assumption(TBAR_BELOW_BLOWUP, PAPER, "Prop 1 (regime of validity)",
               "The rescaled time $\\bar t$ is fixed and bounded away from $\\bar T^*$.",
               Provenance.DERIVED, sp.Lt(tbar, Tbar_star)),
    Assumption(DM1_ESCAPE, PAPER, "§4.3 (d_m = 1 exact solution)",
               "$d_m=1$ with $m>0$ and $wc>0$ from $t_0$ on ($w=W_v$, $m=W^{[1]}$, $c=W^{[2]}$); other "
               "sign patterns are mapped to it by the symmetries $(w,m,c)\\mapsto(-w,-m,c),(w,-m,-c)$.",
               Provenance.DERIVED, sp.And(sp.Gt(m, 0), sp.Gt(w * c, 0))),
    Assumption(BALANCED, PAPER, "§4.3 (balanced scalar case)",
               "$d_m=1$ and $W_v=W^{[1]}=W^{[2]}=x_0>0$ at $t=0$.", Provenance.DERIVED, sp.Gt(x0, 0)),
    Assumption(NONDEGENERATE, PAPER, "Def 4, eq. (10)",
               "Non-degenerate initialisation: $D_1=\\|W_v\\|^2-\\|W^{[2]}\\|^2\\neq0$ and $D_2\\neq0$ "
               "(eq. (10)).",
               Provenance.PAPER, sp.And(sp.Ne(D1, 0), sp.Ne(D2, 0))),
]
for _a in _A:
    register_assumption(_a)
