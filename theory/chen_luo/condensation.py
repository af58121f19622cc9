"""chen-luo-2025 §4.4 (condensation, stage 1 after blow-up onset): Assumption 1, Thm 2, Props 4-8, Cor 1,
the sharp blow-up limit of §4.3 and the low-rank bounds of §9 P12, registered as claims.

The symbolic content (Ass. 1 predicates, the ERRATUM-corrected Prop 4 derivatives, Prop 5 (23)-(27), the exact
cosine formulas) lives in :mod:`.condensation_symbolic`; the trajectories and angles of Def. 5 in
``numerics/chen_luo/condensation.py``; the checkers in ``verify/checks/chen_luo_condensation*.py``.

Limit claims are written ``Eq(Limit(q, t, T*), value)``: the checkers evaluate ``q`` (the argument of the
``Limit``) on the recorded trajectory and judge the distance ``|q - value|`` with ``judge_limit`` on the
final part of the trajectory (after Assumption 1 holds and ``E >= 1e6``). The ``Limit`` carries SymPy's
two-sided direction only for printing (``t -> T^*``): the solution exists for ``t < T^*`` only.

Assumption 1 depends on the whole state, not on the scalar symbols of the formulas, so the claims resting on
it list it in ``uses`` (its predicate is the ``d_m = 2`` instance; :func:`assumption1_predicate` gives any d).

>>> from twostage.theory.claims import REGISTRY
>>> REGISTRY.get("chen-luo-2025/thm2/condensation").kind.value
'limit'
>>> len(REGISTRY.assumption(ASS1).predicate.args)   # d = 2: 4 A1 + 2 x 3 distinct Gram entries (symmetric)
10
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.chen_luo.assumptions import GAUSSIAN_INIT, E, Edot, T_star, W2_sq, Wv_sq, t
from twostage.theory.chen_luo.condensation_symbolic import (
    COLUMN_COSINE_FORMULA,
    COS_XI_FORMULA,
    assumption1_predicate,
    cos_col,
    cos_xi,
)
from twostage.theory.chen_luo.effective import InstanceBinding, closed_binding
from twostage.theory.claims import Assumption, Claim, Kind, Provenance, register, register_assumption

P = "chen-luo-2025"
ASS1 = f"{P}/ass1/condition"
ASS1_PREDICATE_D = 2
NEAR_BLOWUP = f"{P}/ass/near-blowup"

# ---- symbols (latex.NOTATION keys) -------------------------------------------------------------------
cos_psi, cos_phi, cos_zeta = sp.symbols("cos_psi cos_phi cos_zeta", real=True)
frac_ass1 = sp.Symbol("frac_ass1", nonnegative=True)
dW2_norm = sp.Symbol("dW2_norm", nonnegative=True)
t_ass1 = sp.Symbol("t_ass1", positive=True)
C = sp.Symbol("C", positive=True)
sigma2_W1, sigma2_WV = sp.symbols("sigma2_W1 sigma2_WV", nonnegative=True)
lam_max_K0, P_norm2 = sp.symbols("lam_max_K0 P_norm2", nonnegative=True)
srank_WV, srank_W1 = sp.symbols("srank_WV srank_W1", positive=True)
THIRD, FOUR_THIRDS = sp.Rational(1, 3), sp.Rational(4, 3)


def lim(q: sp.Expr) -> sp.Limit:
    """``lim_{t -> T*} q`` (unevaluated; printed ``t -> T^*``)."""
    return sp.Limit(q, t, T_star, "+-")


register_assumption(Assumption(
    ASS1, P, "Assumption 1 (§4.4)",
    "Condensation condition at some time $t$: for every $i$, $W^{[2]}_iW_vW^{[1],i}>0$ and "
    "$W_{v,i}W^{[1]}_iW^{[2]}>0$; for every pair $i,j$, $\\langle "
    "W^{[2]}_iW^{[1],i},W^{[2]}_jW^{[1],j}\\rangle>0$ and $\\langle "
    "W_{v,i}W^{[1]}_i,W_{v,j}W^{[1]}_j\\rangle>0$. Predicate: the $d_m=2$ instance "
    "(condensation_symbolic.assumption1_predicate(d) for any $d_m$); satisfaction fractions $|A_1|/d_m$, "
    "$|A_2|/d_m^2$ by assumption1_fractions_numpy.",
    Provenance.PAPER, assumption1_predicate(ASS1_PREDICATE_D)))
register_assumption(Assumption(
    NEAR_BLOWUP, P, "Props 6-8 (times T_1 < T_2 < T_3 < T*)",
    "$t$ lies in the final window before blow-up ($T_3\\le t<T^*$; the checkers take the recorded points "
    "after Assumption 1 holds and, for Prop 8, after the proof's bracket stays $\\le4$).",
    Provenance.PAPER, sp.Lt(t, T_star)))

_i, _j, _k = sp.symbols("i j k", integer=True)
_dm = sp.Symbol("d_m", positive=True, integer=True)
_Wv, _W1, _W2 = sp.IndexedBase("W_v"), sp.IndexedBase("W^{[1]}"), sp.IndexedBase("W^{[2]}")
_dWv, _dW2 = sp.IndexedBase("\\dot W_{v}"), sp.IndexedBase("\\dot W^{[2]}")
# d/dt of the Ass.-1 products W2_i dW2_i and W_vi dW_vi, each printed as one indexed quantity (SymPy prints a
# Derivative of a product without parentheses, which reads back as a product with a derivative); the identity
# itself is proven on concrete symbol matrices (prop4_binding instantiates this formula)
_q2 = sp.IndexedBase("\\tfrac{d}{dt}(W^{[2]}\\dot W^{[2]})")
_qv = sp.IndexedBase("\\tfrac{d}{dt}(W_{v}\\dot W_{v})")
_PROP4_FORMULA = sp.And(
    sp.Eq(_q2[_i], _dW2[_i] ** 2 + sp.Sum(
        _W2[_i] * _W2[_j] * sp.Sum(_W1[_k, _i] * _W1[_k, _j], (_k, 1, _dm)), (_j, 1, _dm))
        + _W2[_i] ** 2 * Wv_sq,
        evaluate=False),
    sp.Eq(_qv[_i], _dWv[_i] ** 2 + sp.Sum(
        _Wv[_i] * _Wv[_j] * sp.Sum(_W1[_i, _k] * _W1[_j, _k], (_k, 1, _dm)), (_j, 1, _dm))
        + _Wv[_i] ** 2 * W2_sq,
        evaluate=False))



def prop4_binding(d: int) -> InstanceBinding:
    """The names of the Prop 4 formula on the closed system of width ``d``: the two printed derivatives
    ``d/dt(W2_i dW2_i)``, ``d/dt(W_vi dW_vi)`` are templates (time derivatives along (7) of the products)."""
    b = closed_binding(d)
    return InstanceBinding({**b.names, _q2.name: sp.Lambda(_i, sp.Derivative(_W2[_i] * _dW2[_i], t)),
                            _qv.name: sp.Lambda(_i, sp.Derivative(_Wv[_i] * _dWv[_i], t))}, b.pairs, b.dims)


_LIM_TOL = ("judge_limit on the distance |q - value| over the recorded points after Assumption 1 holds with "
            "E >= 1e6 (effective ODE (7) integrated to E = 1e18, rtol 1e-11): holds when the final distance "
            "is below 1e-3 and below the first; violated when above 1e-3 and not decreasing over the last "
            "half.")
_TRAJ = (("t", "rescaled time tbar of eq. (6), t < T*"), ("T_star", "blow-up time of (7)"))
_CX = "chen-luo-2025 Def 5 (erratum A.7: xi_ij between W_{v,i}W1_i and W_{v,j}W1_j)"

register(Claim(
    id=f"{P}/ass1/reached-as", paper=P, ref="Assumption 1 (\"verified experimentally\", Fig. 2a; §9 P9)",
    provenance=Provenance.DERIVED, kind=Kind.ALMOST_SURE,
    statement="Under the Gaussian initialisation (4), Assumption 1 holds at some time before blow-up, "
              "almost surely: $t_A<T^*$ with $t_A$ the first time both satisfaction fractions $|A_1|/d_m$ "
              "and $|A_2|/d_m^2$ equal 1 (the paper supports Ass. 1 only experimentally; near the "
              "self-similar profile $W_v\\approx\\rho a$, $W^{[1]}\\approx\\rho a^\\top b$, "
              "$W^{[2]}\\approx\\rho b^\\top$ every Ass.-1 quantity is $\\rho^3a_i^2$, $\\rho^3b_i^2$ or "
              "$\\rho^4a_i^2a_j^2$, $\\rho^4b_i^2b_j^2$).",
    formula=sp.StrictLessThan(t_ass1, T_star), assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/thm1/blowup-as", f"{P}/prop4/forward-invariance"),
    symbols=(("t_ass1", "first time at which Assumption 1 holds (tbar units)"),
             ("T_star", "blow-up time of (7) from a drawn initialisation")),
    tolerance="counted over seeded Gaussian draws (d_m = 2, 4, 8, 16) with the exact binomial test; a draw "
              "whose fractions are not both 1 at E = 1e12 is a counterexample (by Prop 4 they stay 1 once "
              "reached).",
))
register(Claim(
    id=f"{P}/prop4/derivative-identities", paper=P, ref="Prop 4 (proof), App. A.2; corrected in §4.4",
    provenance=Provenance.ERRATUM, kind=Kind.IDENTITY,
    statement="Along (7): $\\frac{d}{dt}(W^{[2]}_i\\dot W^{[2]}_i)=(\\dot W^{[2]}_i)^2+\\sum_j\\langle "
              "W^{[2]}_iW^{[1],i},W^{[2]}_jW^{[1],j}\\rangle+(W^{[2]}_i)^2\\|W_v\\|^2$ and "
              "$\\frac{d}{dt}(W_{v,i}\\dot W_{v,i})=\\dot W_{v,i}^2+\\sum_j\\langle "
              "W_{v,i}W^{[1]}_i,W_{v,j}W^{[1]}_j\\rangle+W_{v,i}^2\\|W^{[2]}\\|^2$; the Gram entries "
              "(DERIVED) satisfy $\\frac{d}{dt}\\langle "
              "W^{[2]}_iW^{[1],i},W^{[2]}_jW^{[1],j}\\rangle=(W^{[2]}_j\\dot W^{[2]}_i+W^{[2]}_i\\dot "
              "W^{[2]}_j)(\\langle W^{[1],i},W^{[1],j}\\rangle+W^{[2]}_iW^{[2]}_j)$ and the row analogue. "
              "Under Ass. 1 every right side is positive.",
    formula=_PROP4_FORMULA,
    uses=(ASS1, f"{P}/eq16/edot-identity"),
    symbols=(("W_v", "W_v = v W_V (row)"), ("W^{[1]}", "W1"), ("W^{[2]}", "W2 (column)"),
             ("\\dot W_{v}", "dW_v/dt = (W1 W2)^T"), ("\\dot W^{[2]}", "dW2/dt = W1^T W_v^T"),
             ("\\tfrac{d}{dt}(W^{[2]}\\dot W^{[2]})", "d/dt of the product W2_i dW2_i along (7)"),
             ("\\tfrac{d}{dt}(W_{v}\\dot W_{v})", "d/dt of the product W_vi dW_vi along (7)"),
             ("i", "width index"), ("j", "summed width index"), ("k", "summed width index"),
             ("Wv_sq", "||W_v||_2^2"), ("W2_sq", "||W2||_2^2"), ("t", "rescaled time tbar"),
             ("d_m", "width")),
    note="App. A item 6: the printed derivative of W2_i W_v W1^i carries dW_{v,i}^2 and entries of W_v where "
         "dW2_i^2 and ||W_v||^2 W2_i^2 belong; the corrected forms (§4.4) are encoded and proven.",
    tolerance="SymPy: the printed formula instantiated on concrete symbol matrices (ci: d = 2, 3), "
              "simplify(lhs - rhs) == 0 for every i, the time derivative by the chain rule along (7), plus "
              "the Gram-entry derivatives; numerical cross-check at random points by a 4th-order finite "
              "difference along the flow, relative residual < 1e-7.",
))
q_A, q_A_t0 = sp.symbols("q_{A}(t) q_{A}(t_0)", real=True)
register(Claim(
    id=f"{P}/prop4/forward-invariance", paper=P, ref="Prop 4",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="If Assumption 1 holds at some $t_0<T^*$ it holds on $(t_0,T^*)$. The proof shows more, and "
              "that is what is judged: every quantity $q_A$ of Assumption 1 (the products "
              "$W^{[2]}_i\\dot W^{[2]}_i$, $W_{v,i}\\dot W_{v,i}$ and the Gram entries) increases, so "
              "$q_A(t)\\ge q_A(t_0)>0$ for $t_0<t<T^*$.",
    formula=sp.GreaterThan(q_A, q_A_t0), assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/prop4/derivative-identities"),
    symbols=(("q_{A}(t)", "each quantity of Assumption 1 (2 d A1 products, 2 d^2 Gram entries) at t > t0"),
             ("q_{A}(t_0)", "the same quantity at t0, the first recorded time with both satisfaction "
                            "fractions = 1 (all > 0 there)")),
    tolerance="judge_bound (ball arithmetic, relative error 1e-9) at every recorded point after t0, for "
              "every quantity; the margin is the smallest relative increase q(t)/q(t0) - 1 (a quantity "
              "falling back, even while staying positive, is violated); (7) integrated to E = 1e18.",
))
register(Claim(
    id=f"{P}/thm2/condensation", paper=P, ref="Thm 2 (Definition 1, columnwise)",
    provenance=Provenance.PAPER, kind=Kind.LIMIT,
    statement="Under Assumption 1 the effective dynamics (7) make $W_V$ condense: every column $W_V^{\\,k}$ "
              "aligns with $\\pm v^\\top$, $|\\cos\\angle(W_V^{\\,k}(t),v^\\top)|\\to1$ as $t\\to T^*$ (the "
              "proof shows $|W_{v,k}|\\to\\infty$ for every $k$).",
    formula=sp.Eq(lim(sp.Abs(cos_col)), 1), assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/thm2/column-cosine-formula", f"{P}/prop8/upper-after-T3"),
    symbols=(("cos_col", "cos(W_V^k(t), v^T) for each column k (judged: the worst column)"), *_TRAJ),
    tolerance=_LIM_TOL,
))
register(Claim(
    id=f"{P}/thm2/column-cosine-formula", paper=P, ref="Thm 2 (concrete reading, §4.4)",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="Along (7), $W_V(t)=v^\\top W_v(t)+(I-v^\\top v)W_V(0)$, hence exactly "
              "$\\cos\\angle(W_V^{\\,k}(t),v^\\top)=W_{v,k}/\\sqrt{W_{v,k}^2+\\|((I-v^\\top "
              "v)W_V(0))^k\\|_2^2}\\to\\operatorname{sign}W_{v,k}$.",
    formula=COLUMN_COSINE_FORMULA, uses=(f"{P}/prop2/matrix-invariants",),
    symbols=(("cos_col", "cos(W_V^k(t), v^T), column k of the value matrix"), ("W_vk", "W_{v,k}(t) = (v "
                                                                                       "W_V(t))_k"),
             ("P_k_sq", "||((I - v^T v) W_V(0))^k||^2, column k of the frozen part")),
    tolerance="SymPy proof for concrete d (ci: d = 2, 3); numerically along integrated trajectories of the "
              "full system (W_V integrated, not rebuilt): max |definition - formula| < 1e-10.",
))
register(Claim(
    id=f"{P}/prop5/cos-xi-formula", paper=P, ref="Prop 5 proof, eqs. (23)-(28) (remark)",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="With the conserved $K=W^{[1]}W^{[1]\\top}-W_v^\\top W_v$: $(u-1)^2q=K_{ij}^2$ and exactly "
              "$\\cos\\xi_{ij}=(|W_{v,i}W_{v,j}|+\\operatorname{sign}(W_{v,i}W_{v,j})K_{ij})/"
              "\\sqrt{(W_{v,i}^2+K_{ii})(W_{v,j}^2+K_{jj})}$ "
              "(also (23)-(24): $\\frac{dp}{dt}=(\\cdots)(1+p/q)$, $\\frac{dq}{dt}=2(\\cdots)$).",
    formula=COS_XI_FORMULA, uses=(f"{P}/prop2/matrix-invariants",),
    symbols=(("cos_xi", "cos xi_ij, " + _CX), ("W_vi", "W_{v,i}(t)"), ("W_vj", "W_{v,j}(t)"),
             ("K_ij", "(W1 W1^T - W_v^T W_v)_{ij}, conserved"), ("K_ii", "K_{ii}"), ("K_jj", "K_{jj}")),
    tolerance="SymPy proof (four sign cases; (23)-(24), the remark and dK/dt = 0 for d = 2, 3); numerically "
              "along trajectories with K taken at t = 0: max |definition - formula| < 1e-9.",
))
register(Claim(
    id=f"{P}/prop5/cos-xi-limit", paper=P, ref="Prop 5 (ii), eq. (21)",
    provenance=Provenance.PAPER, kind=Kind.LIMIT,
    statement="Under Assumption 1, $\\lim_{t\\to T^*}\\cos\\xi_{ij}=1$ for $i,j\\in C_1$ (under Ass. 1 "
              "every index is in $C_1$).",
    formula=sp.Eq(lim(cos_xi), 1), assumptions=(GAUSSIAN_INIT,), uses=(ASS1, f"{P}/prop5/cos-xi-formula"),
    symbols=(("cos_xi", "cos xi_ij for every pair (judged: the worst pair), " + _CX), *_TRAJ),
    tolerance=_LIM_TOL,
))
register(Claim(
    id=f"{P}/prop5/ratio-limits", paper=P, ref="Prop 5 (iii), eq. (22)",
    provenance=Provenance.PAPER, kind=Kind.LIMIT,
    statement="Under Assumption 1, $\\|\\dot W^{[2]}\\|_2/\\|W_v\\|_2^2\\to1$ and "
              "$\\|\\dot W^{[2]}\\|_2/\\|W^{[2]}\\|_2^2\\to1$ as $t\\to T^*$.",
    formula=sp.And(sp.Eq(lim(dW2_norm / Wv_sq), 1), sp.Eq(lim(dW2_norm / W2_sq), 1)),
    assumptions=(GAUSSIAN_INIT,), uses=(ASS1, f"{P}/prop5/cos-xi-limit"),
    symbols=(("dW2_norm", "||dW2/dt||_2"), ("Wv_sq", "||W_v||_2^2"), ("W2_sq", "||W2||_2^2"), *_TRAJ),
    tolerance=_LIM_TOL,
))
n_C1 = sp.Symbol("n_{C_1}", integer=True, nonnegative=True)
a_C1, a_C2 = sp.symbols("a_{C_1} a_{C_2}", real=True)
register(Claim(
    id=f"{P}/prop5/c1-c2-split", paper=P, ref="Prop 5 (i), eq. (20)",
    provenance=Provenance.PAPER, kind=Kind.LIMIT,
    statement="Under Assumption 1, $[d_m]=C_1\\sqcup C_2$ with $C_1\\neq\\emptyset$: $|W_{v,i}|\\to\\infty$ "
              "for $i\\in C_1$, $W_{v,i}$ has a finite limit for $i\\in C_2$. Measured as growth exponents "
              "in $E$: $1/3$ on $C_1$ (DERIVED: the rate of $\\|W_v\\|$, as $E\\sim(T^*-t)^{-3}$ and "
              "$\\|W_v\\|\\sim(T^*-t)^{-1}$), $0$ on $C_2$.",
    formula=sp.And(sp.GreaterThan(n_C1, 1), sp.Eq(a_C1, THIRD), sp.Eq(a_C2, 0)),
    assumptions=(GAUSSIAN_INIT,), uses=(ASS1, "chen-luo-2025/thm1/sharp-limit"),
    symbols=(("n_{C_1}", "number of indices whose exponent is above 1/6 (the class C_1)"),
             ("a_{C_1}", "log-log slope of 1 + |W_{v,i}| against E, every i in C_1"),
             ("a_{C_2}", "the same slope for every i in C_2 (a finite limit has slope 0)"), *_TRAJ),
    tolerance="per index, a least-squares slope of log(1 + |W_{v,i}|) against log E on the recorded points "
              "after Assumption 1 holds with E >= 1e12 (E rather than T* - t: only a bracket of T* is "
              "known); an index belongs to C_1 when its slope is above 1/6; each slope within 0.01 of the "
              "formula's exponent for its class (judge_residual). Measured: C_2 is empty on every Gaussian "
              "draw (all indices diverge), so the finite-limit part is judged only where a draw has one.",
))
register(Claim(
    id=f"{P}/cor1/cos-psi", paper=P, ref="Cor 1, eq. (34)",
    provenance=Provenance.PAPER, kind=Kind.LIMIT,
    statement="Under Assumption 1, $\\lim_{t\\to T^*}\\cos\\psi_i=1$ for $i\\in C_1$, $\\psi_i$ the angle "
              "between $\\dot W^{[2]}$ and $W_{v,i}W^{[1]}_i$.",
    formula=sp.Eq(lim(cos_psi), 1), assumptions=(GAUSSIAN_INIT,), uses=(ASS1, f"{P}/prop5/cos-xi-limit"),
    symbols=(("cos_psi", "cos psi_i for every i (judged: the worst i)"), *_TRAJ),
    tolerance=_LIM_TOL,
))
cos_Theta1, cos_Theta2 = sp.symbols(r"\cos\Theta_1 \cos\Theta_2", real=True)
_UNIFORM_TOL = ("Theta measured: cos Theta = the smallest value on the first half of the recorded points "
                "after Assumption 1 holds (T_1 = the time it first holds for good); judge_bound (ball "
                "arithmetic, relative error 1e-9) of the bound on the second half, up to E = 1e18, and of "
                "cos Theta > 0. A trajectory whose angle degrades towards T* (not uniform) is violated.")
register(Claim(
    id=f"{P}/prop6/cos-phi-positive", paper=P, ref="Prop 6",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="There are $T_1<T^*$ and $\\Theta_1\\in[0,\\pi/2)$ with $\\cos\\varphi_i\\ge\\cos\\Theta_1>0$ "
              "for all $i\\in C_1$ on $(T_1,T^*)$, $\\varphi_i$ the angle between $W^{[2]}$ and "
              "$W_{v,i}W^{[1]}_i$ (a uniform bound: positivity alone follows from Assumption 1).",
    formula=sp.And(sp.GreaterThan(cos_phi, cos_Theta1), sp.StrictGreaterThan(cos_Theta1, 0)),
    assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/cor1/cos-psi"),
    symbols=(("cos_phi", "cos phi_i for every i (judged: all i) at t in (T_mid, T*)"),
             ("\\cos\\Theta_1", "min of cos phi_i over i and t in [T_1, T_mid] (measured)")),
    tolerance=_UNIFORM_TOL,
))
register(Claim(
    id=f"{P}/prop7/cos-zeta-positive", paper=P, ref="Prop 7, eqs. (36)-(37)",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="There are $T_2<T^*$ and $\\Theta_2\\in[0,\\pi/2)$ with $\\cos\\zeta\\ge\\cos\\Theta_2>0$ on "
              "$(T_2,T^*)$, $\\zeta$ the angle between $W^{[2]}$ and $\\dot W^{[2]}$; hence "
              "$E=\\langle W^{[2]},\\dot W^{[2]}\\rangle\\ge\\cos\\Theta_2\\|W^{[2]}\\|\\|\\dot W^{[2]}\\|$ "
              "(a uniform bound: positivity alone follows from $E>0$).",
    formula=sp.And(sp.GreaterThan(cos_zeta, cos_Theta2), sp.StrictGreaterThan(cos_Theta2, 0)),
    assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/prop6/cos-phi-positive"),
    symbols=(("cos_zeta", "cos zeta(t) = <W2, dW2>/(||W2|| ||dW2||) at t in (T_mid, T*)"),
             ("\\cos\\Theta_2", "min of cos zeta over t in [T_2, T_mid] (measured)")),
    tolerance=_UNIFORM_TOL,
))
register(Claim(
    id=f"{P}/prop7/cos-zeta-limit", paper=P, ref="Prop 7 (sharpened; §9 P11)",
    provenance=Provenance.DERIVED, kind=Kind.LIMIT,
    statement="Sharper than Prop 7: $\\cos\\zeta\\to1$ as $t\\to T^*$ (the self-similar profile has "
              "$\\dot W^{[2]}\\parallel W^{[2]}$).",
    formula=sp.Eq(lim(cos_zeta), 1), assumptions=(GAUSSIAN_INIT,),
    uses=(ASS1, f"{P}/prop7/cos-zeta-positive"),
    symbols=(("cos_zeta", "cos zeta(t) = <W2, dW2>/(||W2|| ||dW2||)"), *_TRAJ), tolerance=_LIM_TOL,
))
register(Claim(
    id=f"{P}/prop8/upper-after-T3", paper=P, ref="Prop 8, eqs. (38)-(39), with Thm 1 (11)",
    provenance=Provenance.DERIVED, kind=Kind.BOUND,
    statement="Two-sided blow-up estimate: for $T_3\\le t<T^*$, $C^{-3}(T^*-t)^{-3}\\le "
              "E(t)\\le(T^*-t)^{-3}$ with $C=C_0/3$, $C_0=4(1/\\cos\\Theta_2)^{4/3}$ (lower side: Prop 8 "
              "(39); upper side: Thm 1 (11) applied at $t$).",
    formula=sp.And(sp.LessThan(C**-3 * (T_star - t) ** -3, E), sp.LessThan(E, (T_star - t) ** -3)),
    assumptions=(NEAR_BLOWUP,), uses=(ASS1, f"{P}/prop7/cos-zeta-positive", f"{P}/thm1/upper-general"),
    symbols=(("C", "(4/3) cos(Theta_2)^{-4/3}, cos Theta_2 = min cos zeta on [T_3, T*) (measured)"),
             ("T_star", "blow-up time (lower side judged with the bracket's lower end, upper side with its "
                        "upper end: both conservative)"), ("t", "rescaled time, T_3 <= t < T*"),
             ("E", "energy W_v W1 W2, eq. (8)")),
    tolerance="judge_bound (ball arithmetic, relative error 1e-9) on [T_3, T*), T_3 the first recorded time "
              "after which Ass. 1 holds, cos zeta > 0 and the bracket 1 + ||dW_v||^2/||dW2||^2 + "
              "||W2||^2||W_v||^2/||dW2||^2 stays <= 4; judged only where the T* bracket is below 1e-3 (T_lo "
              "- t); the upper side only for E <= 1e3 (its slack decays like E^{-4/3}, below the error ball "
              "beyond).",
))
E_t, E_s, s_time = sp.Symbol("E_t", positive=True), sp.Symbol("E_s", positive=True), sp.Symbol("s", real=True)
register(Claim(
    id=f"{P}/prop8/energy-upper-38", paper=P, ref="Prop 8, eq. (38)",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="For $T_3\\le s<t<T^*$: $E(t)\\le\\big(E(s)^{-1/3}-C(t-s)\\big)^{-3}$ with $C=C_0/3$, "
              "$C_0=4(1/\\cos\\Theta_2)^{4/3}$ (from $\\dot E\\le C_0E^{4/3}$), where the base is positive.",
    formula=sp.LessThan(E_t, (E_s ** -THIRD - sp.Rational(4, 3) * cos_Theta2 ** -FOUR_THIRDS * (t - s_time))
                        ** -3),
    assumptions=(NEAR_BLOWUP,), uses=(ASS1, f"{P}/prop7/cos-zeta-positive"),
    symbols=(("E_t", "E(t), eq. (8)"), ("E_s", "E(s)"), ("s", "earlier time, T_3 <= s < t"),
             ("t", "later time, t < T*"), ("\\cos\\Theta_2", "min cos zeta on [T_3, T*) (measured)")),
    note="The printed (38) needs its base $E(s)^{-1/3}-C(t-s)$ to be positive: by (39) the base turns "
         "negative before $T^*$, where the cube of its inverse is negative and no bound. The inequality it "
         "comes from, $E(t)^{-1/3}\\ge E(s)^{-1/3}-C(t-s)$, holds trivially there; (38) is judged where the "
         "base is positive.",
    tolerance="judge_bound (ball arithmetic, relative error 1e-9) for s at five recorded points of [T_3, T*) "
              "(the first and the 1/5 .. 4/5 quantiles) and every later recorded t with a positive base and "
              "t below the T* bracket; cos Theta_2 = min cos zeta over [T_3, T*); T_3 = the first recorded "
              "time after which Ass. 1 holds, cos zeta > 0 and the proof's factor (||dW2||/||W2||^2)^{2/3} "
              "(1 + ||dW_v||^2/||dW2||^2 + ||W2||^2||W_v||^2/||dW2||^2) stays <= 4.",
))
register(Claim(
    id=f"{P}/thm1/sharp-limit", paper=P, ref="§4.3 self-similar asymptotics (sharpens Thm 1 / Prop 8)",
    provenance=Provenance.DERIVED, kind=Kind.LIMIT,
    statement="For generic initialisations, $E(t)(T^*-t)^3\\to1$, "
              "$\\frac{d}{dt}E^{-1/3}=-\\frac13E^{-4/3}\\dot E\\to-1$ and $\\dot E/E^{4/3}\\to3$ as $t\\to "
              "T^*$.",
    formula=sp.And(sp.Eq(lim(E * (T_star - t) ** 3), 1), sp.Eq(lim(-Edot * E ** -FOUR_THIRDS / 3), -1),
                   sp.Eq(lim(Edot * E ** -FOUR_THIRDS), 3)),
    assumptions=(GAUSSIAN_INIT,), uses=(f"{P}/thm1/upper-general", f"{P}/thm1/edot-lower"),
    symbols=(("E", "energy, eq. (8)"), ("Edot", "dE/dt (identity (16))"), *_TRAJ),
    tolerance="judge_limit (tol 1e-2 for E (T*-t)^3, judged with both ends of the T* bracket, on E >= 1e6 "
              "where the bracket moves it by < 1e-3; tol 1e-3 for the other two, on E >= 1e6).",
))
register(Claim(
    id=f"{P}/lowrank/weyl-W1", paper=P, ref="§9 P12 (Weyl / interlacing)",
    provenance=Provenance.DERIVED, kind=Kind.BOUND,
    statement="For all $t<T^*$: "
              "$\\sigma_2(W^{[1]}(t))^2\\le\\lambda_{\\max}(W^{[1]}(0)W^{[1]}(0)^\\top-W_v(0)^\\top "
              "W_v(0))$ ($W^{[1]}W^{[1]\\top}=K+W_v^\\top W_v$ is a rank-one update of the conserved $K$). "
              "Sharp: equality whenever $W_v(t)$ is orthogonal to the top eigenvector of $K$ (the slack "
              "touches 0 quadratically at such crossings).",
    formula=sp.LessThan(sigma2_W1**2, lam_max_K0), uses=(f"{P}/prop2/matrix-invariants",),
    symbols=(("sigma2_W1", "second singular value of W1(t)"), ("lam_max_K0", "largest eigenvalue of "
             "W1(0) W1(0)^T - W_v(0)^T W_v(0)")),
    tolerance="judge_bound (ball arithmetic) at every recorded point with E <= 1e12, along the computed "
              "W_v(t) with the exact K(0): sigma_2 carries the measured drift of K (|d sigma_2^2| <= ||K(t) "
              "- K(0)||_2) plus the SVD backward error 4 d eps sigma_1; interlacing holds for every W_v, so "
              "the integrator's error on the rank-one part does not enter. A point inside the error ball of "
              "an equality crossing is undecided.",
))
register(Claim(
    id=f"{P}/lowrank/weyl-WV", paper=P, ref="§9 P12 (Weyl / interlacing)",
    provenance=Provenance.DERIVED, kind=Kind.BOUND,
    statement="For all $t<T^*$: $\\sigma_2(W_V(t))\\le\\|(I-v^\\top v)W_V(0)\\|_2$ ($W_V=v^\\top "
              "W_v+(I-v^\\top v)W_V(0)$ is a rank-one update of the frozen part; $W_V^\\top W_V=P^\\top "
              "P+W_v^\\top W_v$). Sharp: equality whenever $W_v(t)$ is orthogonal to the top right singular "
              "vector of $P=(I-v^\\top v)W_V(0)$.",
    formula=sp.LessThan(sigma2_WV, P_norm2), uses=(f"{P}/thm2/column-cosine-formula",),
    symbols=(("sigma2_WV", "second singular value of W_V(t)"), ("P_norm2", "||(I - v^T v) W_V(0)||_2")),
    tolerance="judge_bound (ball arithmetic) at every recorded point with E <= 1e12, along the computed "
              "W_v(t) with the exact P(0): sigma_2 carries the measured drift ||P(t) - P(0)||_2 of the "
              "(integrated) frozen part plus the SVD backward error 4 d eps sigma_1. A point inside the "
              "error ball of an equality crossing is undecided (measured: relative slack down to 5e-10 at "
              "crossings).",
))
register(Claim(
    id=f"{P}/lowrank/stable-rank", paper=P, ref="§9 P12",
    provenance=Provenance.DERIVED, kind=Kind.LIMIT,
    statement="The stable ranks $\\|W\\|_F^2/\\|W\\|_2^2$ of $W_V$ and $W^{[1]}$ tend to 1 as $t\\to T^*$ "
              "($\\sigma_2$ stays bounded while $\\sigma_1\\to\\infty$).",
    formula=sp.And(sp.Eq(lim(srank_WV), 1), sp.Eq(lim(srank_W1), 1)), assumptions=(GAUSSIAN_INIT,),
    uses=(f"{P}/lowrank/weyl-W1", f"{P}/lowrank/weyl-WV"),
    symbols=(("srank_WV", "||W_V||_F^2/||W_V||_2^2"), ("srank_W1", "||W1||_F^2/||W1||_2^2"), *_TRAJ),
    tolerance="judge_limit on |srank - 1| over the recorded points with E >= 1e6, tol 1e-3.",
))
