"""Thm 1 of chen-luo-2025 (finite-time blow-up, eqs. (11)-(12)), exact oracles and the escape-time law.

Symbolic content (the bounds themselves are measured along trajectories by the numerical checkers):

* the Riccati comparison: ``dx/dt = x^2`` gives ``x = 1/(C - t)``; from ``Edot >= 3 E^{4/3}``
  (ERRATUM-CORRECTED AM-GM line, App. A item 4; ``3|E|^{4/3}`` when ``E < 0``) follows
  ``d/dt E^{-1/3} <= -1`` for ``E > 0`` and ``d/dt (-E)^{-1/3} >= 1`` for ``E < 0``; the extremal
  solutions are the bounds (11)/(12), whose pole gives ``T* <= t0 + E(t0)^{-1/3}``; applied at any time
  it gives ``E(t) <= (T* - t)^{-3}`` (DERIVED);
* the balanced scalar oracle ``E = (T* - t)^{-3}``, ``T* = E0^{-1/3}`` (DERIVED; (11) with equality);
* the ``d_m = 1`` oracle ``T* - t0 = int_{m0}^inf dm / sqrt((m^2+alpha)(m^2+beta))`` (DERIVED), evaluated
  with mpmath by :func:`dm1_blowup_time` for every sign pattern;
* the vector field of (7) is homogeneous of degree 2, so ``Tbar*(lam theta0) = Tbar*(theta0)/lam`` and
  the escape time of the full model is ``t_esc ~ n s Tbar*/(eps ||Z||)`` (DERIVED).

>>> round(float(dm1_blowup_time(0.7, 0.3, 1.2)), 6)
1.40075
>>> round(float(dm1_blowup_time(-0.7, -0.3, 1.2)), 6)        # a symmetry image of the same orbit
1.40075
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from twostage.theory.chen_luo.assumptions import (
    BALANCED,
    BEFORE_BLOWUP,
    DM1_ESCAPE,
    E0,
    E_POSITIVE,
    E_T0_NONPOSITIVE,
    E_T0_POSITIVE,
    EPS_SMALL,
    GAUSSIAN_INIT,
    GRADIENT_FLOW,
    NONDEGENERATE,
    TBAR_BELOW_BLOWUP,
    Z_NONZERO,
    E,
    E_t0,
    Edot,
    T_star,
    Tbar_star,
    Tbar_star_lam,
    alpha,
    beta,
    eps,
    lam,
    m,
    m_t0,
    n,
    s,
    t,
    t0,
    t_esc,
    x0,
)
from twostage.theory.chen_luo.assumptions import Z_norm as Zn
from twostage.theory.chen_luo.effective import SYMBOLIC_TOLERANCE, closed_rhs, closed_state, energy
from twostage.theory.chen_luo.model import Obligation
from twostage.theory.claims import Claim, Kind, Provenance, register

THIRD, FOUR_THIRDS = sp.Rational(1, 3), sp.Rational(4, 3)
REF_T1 = "chen-luo-2025 Thm 1"

# ---- formulas (the objects printed and evaluated) ----------------------------------------------------
EDOT_LOWER = sp.Ge(Edot, 3 * sp.Abs(E) ** FOUR_THIRDS)
RICCATI_POSITIVE = sp.Ge(E, (E_t0 ** -THIRD - (t - t0)) ** -3)
RICCATI_NONPOSITIVE = sp.Ge(E, -(((-E_t0) ** -THIRD + (t - t0)) ** -3))
TSTAR_UPPER = sp.Le(T_star, t0 + E_t0 ** -THIRD)
UPPER_GENERAL = sp.Le(E, (T_star - t) ** -3)
BALANCED_FORMULA = sp.And(sp.Eq(E, (T_star - t) ** -3, evaluate=False),
                          sp.Eq(T_star, E0 ** -THIRD, evaluate=False))
DM1_FORMULA = sp.Eq(T_star - t0, sp.Integral(1 / sp.sqrt((m**2 + alpha) * (m**2 + beta)), (m, m_t0, sp.oo)))
HOMOGENEITY = sp.Eq(Tbar_star_lam, Tbar_star / lam)
# leading term n s Tbar*/(eps ||Z||) times (1 + C eps): a relative O(eps) correction (escape is a fixed size)
C_esc = sp.Symbol("C_esc", real=True)
ESCAPE_LAW = sp.Eq(t_esc, n * s * Tbar_star / (eps * Zn) * (1 + C_esc * eps))


# ---- Riccati comparison -------------------------------------------------------------------------------
def riccati_obligations() -> list[Obligation]:
    """dsolve of ``x' = x^2``; the comparison steps; the extremal solutions are (11), (12); the pole."""
    x = sp.Function("x")
    tt, c0 = sp.Symbol("t"), sp.Symbol("x_0", positive=True)
    general = sp.dsolve(sp.Eq(x(tt).diff(tt), x(tt) ** 2), x(tt)).rhs
    (C1,) = general.free_symbols - {tt}
    (Cval,) = sp.solve(sp.Eq(general.subs(tt, 0), c0), C1)
    particular = general.subs(C1, Cval)
    sig, Ep, u = sp.symbols("sigma E_p u", positive=True)  # slack >= 0, E > 0, u = -E > 0
    tau = sp.Symbol("tau", positive=True)  # E_t0^{-1/3} - (t - t0) > 0 before the pole
    Elow = tau**-3  # (11) written in tau; dE/dt = -dE/dtau
    ref11, ref12 = "chen-luo-2025 Thm 1, eq. (11)", "chen-luo-2025 Thm 1, eq. (12)"
    Ept, tp = sp.symbols("E_t0p t_p", positive=True)
    return [
        Obligation("dsolve x' = x^2: solution satisfies the ODE", sp.diff(general, tt), general**2,
                   ref=REF_T1),
        Obligation("x(0) = x0 gives x = 1/(1/x0 - t)", particular, 1 / (1 / c0 - tt), ref=REF_T1),
        Obligation("E>0: d/dt E^(-1/3) + 1 = -sigma E^(-4/3)/3 when Edot = 3E^(4/3) + sigma",
                   -THIRD * Ep ** (-FOUR_THIRDS) * (3 * Ep**FOUR_THIRDS + sig) + 1,
                   -sig * Ep ** -FOUR_THIRDS / 3,
                   ref=ref11),
        Obligation("E<0: d/dt (-E)^(-1/3) - 1 = sigma (-E)^(-4/3)/3 when Edot = 3|E|^(4/3) + sigma",
                   -THIRD * u ** (-FOUR_THIRDS) * (-(3 * u**FOUR_THIRDS + sig)) - 1,
                   sig * u ** -FOUR_THIRDS / 3,
                   ref=ref12),
        Obligation("(11) is extremal: Edot = 3 E^(4/3) on E = tau^-3", -sp.diff(Elow, tau),
                   3 * Elow**FOUR_THIRDS, ref=ref11),
        Obligation("(11) at t = t0 equals E(t0)", (E_t0 ** -THIRD) ** -3, E_t0, ref=ref11),
        Obligation("(12) is extremal: Edot = 3|E|^(4/3) on E = -tau^-3", sp.diff(-tau**-3, tau),
                   3 * sp.Abs(-tau**-3) ** FOUR_THIRDS, ref=ref12),
        Obligation("pole of (11): T* <= t0 + E(t0)^(-1/3)",
                   sp.solve(sp.Eq(Ept ** -THIRD - (tp - t0), 0), tp)[0], t0 + Ept ** -THIRD, ref=REF_T1),
        Obligation("(T* <= t + E^(-1/3)) <=> (E <= (T*-t)^-3): boundary",
                   sp.solve(sp.Eq(tp, Ep ** -THIRD), Ep)[0],
                   tp**-3, ref="derived from chen-luo-2025 Thm 1"),
    ]


# ---- balanced scalar oracle ------------------------------------------------------------------------------
def balanced_obligations(exponent: sp.Expr = FOUR_THIRDS, solution=None) -> list[Obligation]:
    """DERIVED oracle: ``W_v = W1 = W2 = x`` is invariant, ``x = 1/(T* - t)``, ``E = x^3 = (T*-t)^-3``,
    ``T* = 1/x0 = E0^{-1/3}`` and ``Edot = 3 E^{exponent}`` with ``exponent = 4/3`` (equality in Thm 1).

    ``exponent`` and ``solution`` (a function of ``(T*, t)``) exist for mutation tests.
    """
    tau, xx = sp.Symbol("tau", positive=True), sp.Symbol("x", positive=True)  # tau = T* - t > 0
    Ts, tt = sp.Symbol("T_s", positive=True), sp.Symbol("t")
    x_t = (lambda T, tv: 1 / (T - tv)) if solution is None else solution
    (Wv, W1, W2), (dWv, dW1, dW2) = closed_state(1), closed_rhs(1)
    on = {Wv[0]: xx, W1[0]: xx, W2[0]: xx}
    E_of_tau = energy(1).subs({Wv[0]: 1 / tau, W1[0]: 1 / tau, W2[0]: 1 / tau})
    ref = "chen-luo-2025 §4.3 balanced scalar case (derived)"
    return [
        Obligation("balanced subspace invariant: rhs = (x^2, x^2, x^2)",
                   sp.Matrix([dWv[0].subs(on), dW1[0].subs(on), dW2[0].subs(on)]), sp.Matrix([xx**2] * 3),
                   ref=ref),
        Obligation("x = 1/(T* - t) solves x' = x^2", sp.diff(x_t(Ts, tt), tt), x_t(Ts, tt) ** 2, ref=ref),
        Obligation("x(0) = x0 <=> T* = 1/x0", x_t(1 / x0, 0), x0, ref=ref),
        Obligation("E = x^3 = (T* - t)^-3", E_of_tau, tau**-3, ref=ref),
        Obligation("T* = E0^(-1/3) with E0 = x0^3", 1 / x0, (x0**3) ** -THIRD, ref=ref),
        Obligation(f"Edot = 3 E^{exponent} on the balanced solution", -sp.diff(E_of_tau, tau),
                   3 * E_of_tau**exponent, ref=ref),
    ]


# ---- d_m = 1 elliptic-integral oracle -----------------------------------------------------------------
def dm1_blowup_time(w: float, m0: float, c: float, dps: int = 30) -> mpmath.mpf:
    """Exact remaining time to blow-up ``T* - t0`` of (7) with ``d_m = 1`` from ``(w, m, c)`` at ``t0``.

    ``w = W_v``, ``m = W1``, ``c = W2``; ``dw = m c``, ``dm = w c``, ``dc = w m``; ``alpha = w^2 - m^2`` and
    ``beta = c^2 - m^2`` are conserved and ``|dm/dt| = sqrt((m^2+alpha)(m^2+beta))`` (DERIVED, §4.3).
    The symmetry ``(w, m, c) -> (w, -m, -c)`` makes ``m >= 0``. If ``w c > 0``, ``m`` grows to infinity:
    ``T* - t0 = I(m0, inf)``. Otherwise ``m`` first decreases to ``m1 = sqrt(max(-alpha, -beta, 0))``,
    where ``w`` or ``c`` changes sign (or ``m`` itself crosses 0 when ``alpha, beta > 0``, the orbit
    continuing by symmetry), then grows: ``T* - t0 = I(m1, m0) + I(m1, inf)``. Degenerate orbits that
    only approach an equilibrium (a double root at ``m1``; e.g. ``alpha = beta`` with ``w c < 0``, or
    ``w = c = 0``) never blow up: ``inf``. Returns an ``mpmath.mpf`` (``float()`` it for numpy).
    """
    with mpmath.workdps(dps):
        w, m0, c = mpmath.mpf(w), mpmath.mpf(m0), mpmath.mpf(c)
        if m0 < 0:
            m0, c = -m0, -c
        a, b = w * w - m0 * m0, c * c - m0 * m0

        def integral(f, lo, hi):
            if hi == lo:
                return mpmath.mpf(0)
            pts = [lo, hi] if hi != mpmath.inf else [lo, lo + 1, mpmath.inf]
            return mpmath.quad(f, pts)

        if w * c > 0:
            return +integral(lambda x: 1 / mpmath.sqrt((x * x + a) * (x * x + b)), m0, mpmath.inf)
        if (w == 0 and c == 0) or (m0 == 0 and (w == 0 or c == 0)):
            return mpmath.inf  # an equilibrium of (7)
        m1 = mpmath.sqrt(max(-a, -b, mpmath.mpf(0)))
        if (a == b and a <= 0) or (m1 == 0 and min(a, b) == 0):
            return mpmath.inf  # double root at m1: the orbit only approaches an equilibrium
        if m1 > 0:  # x = m1 + u; the vanishing factor x^2 - m1^2 = u (2 m1 + u) is written exactly
            other = max(a, b)
            f = lambda u: 1 / mpmath.sqrt(u * (2 * m1 + u) * ((m1 + u) ** 2 + other))
        else:
            f = lambda u: 1 / mpmath.sqrt((u * u + a) * (u * u + b))
        return +(integral(f, 0, max(m0 - m1, mpmath.mpf(0))) + integral(f, 0, mpmath.inf))


def balanced_blowup_time(E_start: float) -> float:
    """``E(t0)^{-1/3}``: the blow-up time of the balanced oracle, and the bound (11) in general."""
    return math.inf if E_start <= 0 else E_start ** (-1.0 / 3.0)


# ---- homogeneity and escape time ---------------------------------------------------------------------
def homogeneity_obligations(d: int) -> list[Obligation]:
    """The field of (7) is homogeneous of degree 2 and ``E`` of degree 3; if ``theta(t)`` solves (7), so
    does ``lam theta(lam t)`` -- hence ``T*(lam theta0) = T*(theta0)/lam`` (DERIVED)."""
    state = [x for M in closed_state(d) for x in M]
    field = [f for M in closed_rhs(d) for f in M]
    scale = {x: lam * x for x in state}
    ref = "chen-luo-2025 §4.3 homogeneity (derived)"
    tt = sp.Symbol("t")
    th = [sp.Function(f"theta_{k}") for k in range(len(state))]
    path = lambda tv: {x: f(tv) for x, f in zip(state, th)}
    phi = [lam * f(lam * tt) for f in th]
    dphi = [sp.diff(p, tt) for p in phi]  # lam^2 Subs(theta_k'(xi), xi, lam t): the chain rule by SymPy
    # use the ODE at time lam t: theta_k'(lam t) = F_k(theta(lam t))
    theta_dot = [F.xreplace(path(lam * tt)) for F in field]
    dphi_ode = [dp.replace(lambda e: isinstance(e, sp.Subs), lambda e, k=k: theta_dot[k])
                for k, dp in enumerate(dphi)]
    F_at_phi = [F.xreplace({x: p for x, p in zip(state, phi)}) for F in field]
    return [
        Obligation("F(lam theta) = lam^2 F(theta)", sp.Matrix([f.xreplace(scale) for f in field]),
                   lam**2 * sp.Matrix(field), ref=ref),
        Obligation("E(lam theta) = lam^3 E(theta)", energy(d).xreplace(scale), lam**3 * energy(d), ref=ref),
        Obligation("phi(t) = lam theta(lam t) solves (7)", sp.Matrix(dphi_ode), sp.Matrix(F_at_phi), ref=ref),
        Obligation("balanced: T*(lam x0) = T*(x0)/lam", 1 / (lam * x0), (1 / x0) / lam, ref=ref),
    ]


# ---- claims ------------------------------------------------------------------------------------------
P = "chen-luo-2025"
_BOUND_TOL = ("E(t) from the effective ODE (7) integrated in float64 (adaptive DP5(4), rtol 1e-11); the "
              "relational is judged in ball arithmetic with every measured value a ball of relative radius "
              "1e-9; within that radius is undecided. Judged domain: E <= 1e3 (the bound is attained "
              "asymptotically at blow-up, its slack decaying like E^{-4/3}), Riccati comparisons from a t0 "
              "with 0 < E(t0) <= 10 and not within 1 % of (T* - t0) of t0, where they are equalities.")
_E_SYMS = (("E", "energy E(t) = W_v W1 W2 (eq. (8)) along (7), normalised weights, time tbar"),
           ("t", "rescaled time tbar (eq. (6)), t0 <= t < T*"))

register(Claim(
    id=f"{P}/thm1/edot-lower", paper=P, ref="Thm 1 proof (AM-GM line), eq. (16)",
    provenance=Provenance.ERRATUM, kind=Kind.BOUND,
    statement="Along (7), $\\dot E\\ge"
              "3(\\|\\dot W_v\\|^2\\|\\dot W^{[2]}\\|^2\\|W_v\\|^2\\|W^{[2]}\\|^2)^{1/3}"
              "\\ge3|E|^{4/3}$ (AM-GM, then Cauchy-Schwarz with $E=\\langle\\dot W_v,W_v\\rangle="
              "\\langle\\dot W^{[2]},W^{[2]}\\rangle$); in particular $E$ never decreases.",
    formula=EDOT_LOWER, assumptions=(BEFORE_BLOWUP,),
    uses=("chen-luo-2025/eq16/edot-identity",),
    symbols=(("Edot", "dE/dtbar along (7) (identity (16))"), *_E_SYMS[:1]),
    note="App. A item 4: the printed AM-GM line has the wrong exponent (must be 1/3) and lacks the factor 3 "
         "in the middle expression; for E < 0 the right side is 3|E|^{4/3}.",
    tolerance="Proven: identity (16), AM-GM (x^3+y^3+z^3-3xyz as a sum of squares) and Cauchy-Schwarz "
              "(Lagrange's identity) on symbolic instances d = 1, 2, 3 (blowup_symbolic), and SymPy "
              "decides that the formula's right side is <= 3|E|^{4/3} with relation >= (else violated). "
              "Dynamical: on every recorded step of (7) (DP5(4), rtol 1e-11, up to E = 1e12) where E keeps "
              "its sign, the secant of E against the formula at the endpoint of smaller |E|, in ball "
              "arithmetic (relative 1e-9 per value, secant error 2e-9 max|E|/dt).",
))
register(Claim(
    id=f"{P}/thm1/riccati-positive", paper=P, ref="Thm 1, eq. (11)/(17)",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="If $E(t_0)>0$ then $E(t)\\ge(E(t_0)^{-1/3}-(t-t_0))^{-3}$ for $t_0\\le t<T^*$ (the paper "
              "states "
              "it with $t_0=0$; any $t_0$ with $E(t_0)>0$ may serve, by autonomy).",
    formula=RICCATI_POSITIVE, assumptions=(E_T0_POSITIVE, BEFORE_BLOWUP),
    uses=(f"{P}/thm1/edot-lower",),
    symbols=(*_E_SYMS, ("E_t0", "E at the starting time t0"), ("t0", "starting time (tbar units)")),
    tolerance=_BOUND_TOL,
))
register(Claim(
    id=f"{P}/thm1/riccati-nonpositive", paper=P, ref="Thm 1, eq. (12)/(18)",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="If $E(t_0)\\le0$ then $E(t)\\ge-((-E(t_0))^{-1/3}+(t-t_0))^{-3}$ for $t\\ge t_0$ (paper: "
              "$t_0=0$). For $E(t_0)=0$ the bound reads $E\\ge0$ (limit).",
    formula=RICCATI_NONPOSITIVE, assumptions=(E_T0_NONPOSITIVE, BEFORE_BLOWUP),
    uses=(f"{P}/thm1/edot-lower",),
    symbols=(*_E_SYMS, ("E_t0", "E at the starting time t0 (<= 0)"), ("t0", "starting time (tbar units)")),
    tolerance=_BOUND_TOL,
))
register(Claim(
    id=f"{P}/thm1/tstar-upper", paper=P, ref="Thm 1 (boxed consequence of (11))",
    provenance=Provenance.PAPER, kind=Kind.BOUND,
    statement="If $E(t_0)>0$ the blow-up time satisfies $T^*\\le t_0+E(t_0)^{-1/3}$.",
    formula=TSTAR_UPPER, assumptions=(E_T0_POSITIVE,), uses=(f"{P}/thm1/riccati-positive",),
    symbols=(("T_star", "blow-up time of (7) (tbar units): time at which E passes a large threshold, "
                        "extrapolated"), ("E_t0", "E(t0) > 0"), ("t0", "starting time")),
    tolerance="T* bracketed by an energy-threshold event of the integrator (E = 1e12): T* in "
              "[t_event, t_event + E_event^{-1/3}]; the upper end is judged (conservative), in ball "
              "arithmetic with relative radius 1e-9, from t0 with 0 < E(t0) <= 10.",
))
register(Claim(
    id=f"{P}/thm1/upper-general", paper=P, ref="Thm 1 applied at every time (general consequence)",
    provenance=Provenance.DERIVED, kind=Kind.BOUND,
    statement="Whenever $E(t)>0$: $T^*-t\\le E(t)^{-1/3}$, i.e. $E(t)\\le(T^*-t)^{-3}$.",
    formula=UPPER_GENERAL, assumptions=(E_POSITIVE, BEFORE_BLOWUP), uses=(f"{P}/thm1/tstar-upper",),
    symbols=(*_E_SYMS, ("T_star", "blow-up time of (7) (tbar units)")),
    tolerance=_BOUND_TOL + " With T* known only as [T_lo, T_hi], the bound uses T_hi (the smallest bound "
              "the bracket allows) on points with E <= 1e2 and T_hi - T_lo < 1e-3 (T_lo - t).",
))
register(Claim(
    id=f"{P}/thm1/blowup-as", paper=P, ref="Thm 1",
    provenance=Provenance.PAPER, kind=Kind.ALMOST_SURE,
    statement="Under the Gaussian initialisation (4), (7) blows up in finite time almost surely: "
              "$T^*<\\infty$ with $E(t)\\to+\\infty$, also when $E(0)<0$ (then $E$ turns positive first).",
    formula=sp.StrictLessThan(T_star, sp.oo, evaluate=False), assumptions=(GAUSSIAN_INIT,),
    uses=(NONDEGENERATE, f"{P}/def4/nondegenerate-as", f"{P}/thm1/riccati-positive",
          f"{P}/thm1/riccati-nonpositive", f"{P}/thm1/velocity-difference"),
    symbols=(("T_star", "blow-up time of (7) from a drawn initialisation (tbar units)"),),
    tolerance="counted over seeded Gaussian initialisations (exact binomial, a.s.): the formula is decided "
              "per draw in interval arithmetic at the measured T* bracket [T_lo, T_hi] (E = 1e12 event); a "
              "draw whose energy does not reach the threshold within the step bound has T* = oo, a "
              "counterexample.",
))
register(Claim(
    id=f"{P}/oracle/balanced", paper=P, ref="§4.3 balanced scalar case",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="For $d_m=1$, $W_v=W^{[1]}=W^{[2]}=x_0>0$: the balanced line is invariant, $x=1/(T^*-t)$, "
              "$E=(T^*-t)^{-3}$ and $T^*=E(0)^{-1/3}$; (11) holds with equality and $\\dot E=3E^{4/3}$.",
    formula=BALANCED_FORMULA, assumptions=(BALANCED,), uses=(f"{P}/thm1/riccati-positive",),
    symbols=(*_E_SYMS, ("T_star", "blow-up time 1/x0"), ("E0", "E(0) = x0^3")),
    tolerance=SYMBOLIC_TOLERANCE + " The formula is also proved on the balanced solution (E = x^3, "
              "E0 = x0^3, T* its pole) and evaluated at E(t) of (7) integrated from x0 (rtol 1e-12, "
              "E <= 1e3), E0 = E(0) and the quadrature T*: relative residual < 1e-9.",
))
register(Claim(
    id=f"{P}/oracle/dm1-elliptic", paper=P, ref="§4.3 general d_m = 1",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="For $d_m=1$ ($w=W_v$, $m=W^{[1]}$, $c=W^{[2]}$) with $m>0$, $wc>0$ from $t_0$ on, "
              "$T^*-t_0=\\int_{m(t_0)}^\\infty dm/\\sqrt{(m^2+\\alpha)(m^2+\\beta)}$ with the conserved "
              "$\\alpha=w^2-m^2$, $\\beta=c^2-m^2$; e.g. $(w,m,c)=(0.7,0.3,1.2)$ gives $T^*=1.400750$ "
              "(bound (11): 1.5832). Other sign patterns: blowup.dm1_blowup_time.",
    formula=DM1_FORMULA, assumptions=(DM1_ESCAPE,), uses=(f"{P}/prop2/conservation",),
    symbols=(("T_star", "blow-up time (tbar units)"), ("t0", "starting time"),
             ("m", "W1 (integration variable)"),
             ("m_t0", "m(t0)"), ("alpha", "w^2 - m^2 (conserved)"), ("beta", "c^2 - m^2 (conserved)")),
    tolerance="the formula's integral by mpmath quadrature (30 digits) at the draw's alpha, beta, m(t0) "
              "against T* - t0 of the ODE integrated from t0 = 1: relative residual < 1e-6.",
))
register(Claim(
    id=f"{P}/escape/homogeneity", paper=P, ref="§4.3 homogeneity",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="The vector field of (7) is homogeneous of degree 2 and $E$ of degree 3; "
              "$\\lambda\\theta(\\lambda t)$ solves (7) when $\\theta(t)$ does, so "
              "$\\bar T^*(\\lambda\\bar\\theta_0)=\\bar T^*(\\bar\\theta_0)/\\lambda$.",
    formula=HOMOGENEITY, uses=("chen-luo-2025/eq16/edot-identity",),
    symbols=(("Tbar_star_lam", "blow-up time of (7) from lam*theta0"),
             ("Tbar_star", "blow-up time from theta0"),
             ("lam", "scale factor > 0")),
    tolerance=SYMBOLIC_TOLERANCE + " The formula is proved on the balanced instance (T* the poles from "
              "x0 and lam x0) and evaluated at quadrature blow-up times of a d_m = 1 theta0 and lam theta0: "
              "relative residual < 1e-12.",
))
register(Claim(
    id=f"{P}/escape/inverse-eps", paper=P, ref="§4.3 escape time (with Prop 1, eq. (6))",
    provenance=Provenance.DERIVED, kind=Kind.SCALING,
    statement="At a fixed normalised initialisation $\\bar\\theta_0$, the escape time of the full model "
              "scales as $t_{\\rm esc}(\\varepsilon)\\approx\\frac{ns}{\\varepsilon\\|Z\\|_2}"
              "\\bar T^*(\\bar\\theta_0)$: "
              "$\\varepsilon t_{\\rm esc}\\to ns\\bar T^*/\\|Z\\|$ (the prefactor is checked as a "
              "limit: $t_{\\rm esc}/(\\text{leading term})\\to1$, with a relative $O(\\varepsilon)$ "
              "correction when escape is a fixed weight size), log-log slope $-1$ in $\\varepsilon$.",
    formula=ESCAPE_LAW, assumptions=(EPS_SMALL, Z_NONZERO, GRADIENT_FLOW, TBAR_BELOW_BLOWUP),
    uses=(f"{P}/escape/homogeneity", f"{P}/prop1/rescaled-gradient"),
    symbols=(("t_esc", "escape time of the full model in gradient-flow time t"), ("eps", "init scale"),
             ("n", "samples"), ("s", "sequence length"), ("Z_norm", "||sum_i y_i sum_j X_ij||_2"),
             ("Tbar_star", "blow-up time of (7) from the normalised initialisation"),
             ("C_esc", "constant independent of eps: the relative correction when escape is a fixed size")),
    tolerance="the ratio r(eps) = t_esc / (leading term of the formula: C_esc = 0, with Tbar* of the "
              "integrated effective ODE) tends to 1: |r - 1| decreases with eps, is < 0.05 at the smallest "
              "eps, and its fitted log-log order is within 0.3 of the power of eps in the formula's relative "
              "correction (C_esc eps: 1); and the log-log slope of t_esc is within 0.1 of the leading power "
              "(-1); eps = 1e-3, 3e-4, 1e-4 (judge_scaling).",
    extra=(("exponent", -1), ("variable", "eps")),
))
