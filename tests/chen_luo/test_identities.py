"""chen-luo-2025 stage-1 theory layer: every symbolic proof holds, and sabotaged statements fail.

Mutation tests: the printed 1/(2n) prefactor of eq. (5), a wrong exponent (E^{5/3}) or solution
(x = 1/(C-t)^2), a wrong invariant (W1 W1^T + W_v^T W_v), a wrong identity (16), a wrong time
factor, a wrong homogeneity degree -- each makes the identity checker report ``violated``.
"""

import dataclasses
import math
import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from twostage.theory.chen_luo import blowup, conservation, effective, nondegeneracy, prop1
from twostage.theory.chen_luo.assumptions import E, E_t0, Edot, T_star, t, t0
from twostage.theory.chen_luo.model import (
    EPS,
    Obligation,
    expansion_exprs,
    flow_derivative,
    instance,
    loss_exact,
    residual_is_zero,
)
from twostage.theory.claims import Kind, Provenance, load_all
from twostage.verify import identity as ci
from twostage.verify.checks import Context, load_checkers
from twostage.verify.checks.chen_luo import blowup as cb
from twostage.verify.checks.chen_luo import prop1 as cp
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

IDENTITY_IDS = [
    "chen-luo-2025/prop1/eps3-coefficient", "chen-luo-2025/prop1/qk-order5",
    "chen-luo-2025/prop1/rescaled-gradient", "chen-luo-2025/eq16/edot-identity",
    "chen-luo-2025/prop2/conservation", "chen-luo-2025/prop2/norm-growth",
    "chen-luo-2025/prop2/matrix-invariants", "chen-luo-2025/thm1/velocity-difference",
    "chen-luo-2025/escape/homogeneity", "chen-luo-2025/oracle/balanced",
]
OTHER_IDS = [
    "chen-luo-2025/prop1/agreement-eps2", "chen-luo-2025/prop1/qk-quasistatic",
    "chen-luo-2025/def4/nondegenerate-as", "chen-luo-2025/thm1/edot-lower",
    "chen-luo-2025/thm1/riccati-positive", "chen-luo-2025/thm1/riccati-nonpositive",
    "chen-luo-2025/thm1/tstar-upper", "chen-luo-2025/thm1/upper-general", "chen-luo-2025/thm1/blowup-as",
    "chen-luo-2025/oracle/dm1-elliptic", "chen-luo-2025/escape/inverse-eps",
]


def _holds(obs):
    return [ob.name for ob in obs if residual_is_zero(ob) != (ob.sense == "eq")]


# ------------------------------------------------------------------------------ the proofs hold
@pytest.mark.parametrize("dims", [(2, 2, 2), (1, 3, 2)])
def test_prop1_proofs_hold(dims):
    for build in (prop1.eps3_obligations, prop1.printed_form_obligations, prop1.qk_obligations,
                  prop1.rescaled_gradient_obligations):
        assert _holds(build(*dims)) == [], build.__name__


@pytest.mark.parametrize("d", [1, 2, 3])
def test_stage1_proofs_hold(d):
    for build in (effective.rhs_obligations, effective.edot_obligations,
                  conservation.conservation_obligations, conservation.norm_growth_obligations,
                  conservation.matrix_invariant_obligations, conservation.velocity_difference_obligations,
                  nondegeneracy.nonzero_obligations, nondegeneracy.restriction_obligations,
                  blowup.homogeneity_obligations):
        assert _holds(build(d)) == [], build.__name__


def test_riccati_and_balanced_proofs_hold():
    assert _holds(blowup.riccati_obligations()) == []
    assert _holds(blowup.balanced_obligations()) == []
    # the comparison slack has the sign the Riccati argument needs (sigma >= 0)
    sig, Ep, u = sp.symbols("sigma E_p u", positive=True)
    third, q = sp.Rational(1, 3), sp.Rational(4, 3)
    assert sp.simplify(-third * Ep**-q * (3 * Ep**q + sig) + 1).is_nonpositive  # d/dt E^(-1/3) <= -1
    assert sp.simplify(-third * u**-q * (-(3 * u**q + sig)) - 1).is_nonnegative  # d/dt (-E)^(-1/3) >= 1


def test_hand_rolled_series_equals_sympy_series_at_a_rational_point():
    """The truncated series (polynomial ring) equals ``sympy.series`` of the exact loss in the scalar eps."""
    inst = instance(1, 2, 2)
    rnd = random.Random(3)
    point = {x: sp.Rational(rnd.randint(-9, 9), 7) for x in inst.symbols()}
    exact = loss_exact(inst).xreplace(point)
    ser = sp.series(exact, EPS, 0, 6).removeO()
    for k, c in enumerate(expansion_exprs(inst)):
        assert sp.simplify(ser.coeff(EPS, k) - c.xreplace(point)) == 0, k


def test_L0_is_one_and_L3_has_prefactor_one_over_n():
    inst = instance(2, 2, 2)
    L = expansion_exprs(inst)
    assert L[0] == 1 and L[1] == 0 and L[2] == 0 and L[4] == 0
    www = sp.Matrix(inst.WV) * sp.Matrix(inst.W1) * sp.Matrix(inst.W2)
    assert sp.expand(L[3] + (inst.Z() * www)[0] / (2 * 2)) == 0  # -(1/(n s)) Z W_V W1 W2, n = s = 2


# ------------------------------------------------------------------------------ checkers: holds
@pytest.mark.parametrize("fn,dims", [(cp.eps3_coefficient, (2, 2, 2)), (cp.qk_order5, (2, 2, 2)),
                                     (cp.rescaled_gradient, (2, 2, 2)), (cb.homogeneity, (2,)),
                                     (cb.balanced, (1,))])
def test_checker_evaluations_hold(fn, dims):
    ids = {cp.eps3_coefficient: EPS3, cb.homogeneity: "chen-luo-2025/escape/homogeneity",
           cb.balanced: "chen-luo-2025/oracle/balanced", cp.qk_order5: "chen-luo-2025/prop1/qk-order5",
           cp.rescaled_gradient: "chen-luo-2025/prop1/rescaled-gradient"}
    claim = load_all().get(ids[fn]) if fn in ids else None
    cfg = ci.IdentityConfig(dims, seed=5)
    m = fn(claim, cfg, cb.balanced_data(cfg, None) if fn is cb.balanced else None)
    assert m.status is Status.HOLDS, m.worst
    assert 0 < m.margin <= 1


def test_registered_identity_checkers_run_and_hold():
    checkers = load_checkers()
    assert set(IDENTITY_IDS) <= set(checkers)
    assert all(checkers[k].draws is not None for k in IDENTITY_IDS)  # registered the one way
    ctx = Context(get_profile("ci"), seed=1)
    for cid in ("chen-luo-2025/prop2/norm-growth", "chen-luo-2025/prop1/eps3-coefficient"):
        m = checkers[cid](ctx)
        assert m.status is Status.HOLDS and m.examples >= 3, (cid, m)


# ------------------------------------------------------------------------------ mutations: violated
EPS3 = "chen-luo-2025/prop1/eps3-coefficient"


def _eps3_mutants() -> dict[str, sp.Basic]:
    """The claim's formula edited: the printed prefactor 1/(2n), a factor 2, a flipped sign, a wrong power of
    s, a wrong constant L0."""
    f = load_all().get(EPS3).formula
    eq0, eq3 = sorted(f.args, key=lambda a: str(a.lhs))
    mk = lambda r0, r3: sp.And(sp.Eq(eq0.lhs, r0, evaluate=False), sp.Eq(eq3.lhs, r3, evaluate=False))
    n_sym = next(x for x in eq3.rhs.free_symbols if x.name == "n")
    s_sym = next(x for x in eq3.rhs.free_symbols if x.name == "s")
    return {"printed 1/(2n)": mk(sp.Rational(1, 2), eq3.rhs / 2), "L3 x 2": mk(eq0.rhs, 2 * eq3.rhs),
            "L3 sign": mk(eq0.rhs, -eq3.rhs), "1/(n s^2)": mk(eq0.rhs, eq3.rhs / s_sym),
            "L0 = 1/n": mk(1 / n_sym, eq3.rhs)}


@pytest.mark.parametrize("name", list(_eps3_mutants()))
def test_eps3_coefficient_reads_its_formula(name):
    """A wrong printed formula is proven false by the checker (issue 12: 1/(2n) used to hold)."""
    claim = load_all().get(EPS3)
    bad = dataclasses.replace(claim, formula=_eps3_mutants()[name])
    m = cp.eps3_coefficient(bad, ci.IdentityConfig((2, 2, 2)))
    assert m.status is Status.VIOLATED, (name, m.worst)
    assert any("formula" in f for f in m.worst["failed"])


def test_printed_prefactor_also_fails_numerically():
    printed = _eps3_mutants()["printed 1/(2n)"]
    claimed = cp._claimed_expansion(2, 2, 2, printed)
    assert cp.expansion_vs_exact(2, 2, 2, 0, claimed).status is Status.VIOLATED
    good = load_all().get(EPS3).formula
    wrong_L5 = cp._claimed_expansion(2, 2, 2, good)[:5] + [0]  # drop the eps^5 term: remainder O(eps^5)
    m = cp.expansion_vs_exact(2, 2, 2, 0, wrong_L5)
    assert m.status is Status.VIOLATED and abs(m.worst["remainder_order"] - 5) < 0.3


def test_wrong_exponent_and_wrong_solution_are_violated():
    five_thirds = blowup.balanced_obligations(exponent=sp.Rational(5, 3))
    assert ci.judge_obligations(five_thirds).status is Status.VIOLATED
    bad = blowup.balanced_obligations(solution=lambda T, tv: 1 / (T - tv) ** 2)
    m = ci.judge_obligations(bad)
    assert m.status is Status.VIOLATED and any("solves" in f for f in m.worst["failed"])


def _closed_ob(name, F, rhs):
    d = 2
    return Obligation(name, flow_derivative(F, effective.closed_pairs(d)), rhs,
                      along=(F, tuple(effective.closed_pairs(d))))


def test_wrong_invariant_is_violated():
    Wv, W1, W2 = effective.closed_state(2)
    wrong = _closed_ob("d/dt(W1 W1^T + Wv^T Wv) = 0", W1 * W1.T + Wv.T * Wv, sp.zeros(2, 2))
    assert ci.judge_obligations([wrong]).status is Status.VIOLATED
    right = _closed_ob("d/dt(W1 W1^T - Wv^T Wv) = 0", W1 * W1.T - Wv.T * Wv, sp.zeros(2, 2))
    assert ci.judge_obligations([right]).status is Status.HOLDS


def test_wrong_identity16_and_velocity_difference_are_violated():
    d = 2
    Wv, _, W2 = effective.closed_state(d)
    dWv, _, dW2 = effective.closed_rhs(d)
    E_ = effective.energy(d)
    sq = effective.sq
    no_product = _closed_ob("Edot = |dWv|^2 + |dW2|^2", E_, sq(dWv) + sq(dW2))
    flipped = _closed_ob("sign flipped", sq(dWv) - sq(dW2), 2 * E_ * (sq(Wv) - sq(W2)))
    printed_intermediate = _closed_ob("d|dWv|^2 = 2E|Wv|^2 + 2P", sq(dWv),  # |W_v| where |W2| belongs
                                      2 * E_ * sq(Wv) + 2 * (Wv * effective.closed_state(d)[1]
                                                             * effective.closed_state(d)[1].T
                                                             * effective.closed_state(d)[1] * W2)[0])
    for ob in (no_product, flipped, printed_intermediate):
        assert ci.judge_obligations([ob]).status is Status.VIOLATED, ob.name


def test_wrong_time_factor_and_wrong_order_are_violated():
    obs = prop1.rescaled_gradient_obligations(2, 2, 2)
    good = obs[1]
    half = Obligation("factor n s/(2||Z||)", good.lhs / 2, good.rhs)
    assert ci.judge_obligations([half]).status is Status.VIOLATED
    inst = instance(2, 2, 2)
    from twostage.theory.chen_luo.model import expansion_gradient

    early = Obligation("W_Q already at eps^3", expansion_gradient(inst, 3, inst.params()["WQ"]),
                       sp.zeros(4, 1), sense="ne")
    assert ci.judge_obligations([early]).status is Status.VIOLATED


def test_wrong_homogeneity_degree_is_violated():
    from twostage.theory.chen_luo.assumptions import lam

    field = [f for M in effective.closed_rhs(2) for f in M]
    state = [x for M in effective.closed_state(2) for x in M]
    scaled = sp.Matrix([f.xreplace({x: lam * x for x in state}) for f in field])
    assert ci.judge_obligations([Obligation("degree 3", scaled, lam**3 * sp.Matrix(field))]).status \
        is Status.VIOLATED


def test_numeric_disagreement_is_never_holds():
    """A symbolically true obligation whose numeric cross-check disagrees is undecided (forced here)."""
    ob = Obligation("x = x", sp.Symbol("x"), sp.Symbol("x"))
    prepared = ci._Prepared([ob], [], [lambda rng: 1.0])
    assert ci.judge_obligations([ob], prepared=prepared).status is Status.UNDECIDED


# ------------------------------------------------------------------------------ oracles and helpers
def _integrate_dm1(w, m, c, E_max=1e10):
    def f(_, y):
        return [y[1] * y[2], y[0] * y[2], y[0] * y[1]]

    ev = lambda _, y: y[0] * y[1] * y[2] - E_max
    ev.terminal = True
    sol = solve_ivp(f, (0, 50), [w, m, c], events=ev, rtol=1e-12, atol=1e-14, method="DOP853")
    assert sol.status == 1, "no blow-up event"
    return sol.t_events[0][0] + E_max ** (-1 / 3)  # the tail is the balanced one to leading order


def test_dm1_oracle_reference_values():
    assert round(float(blowup.dm1_blowup_time(0.7, 0.3, 1.2)), 6) == 1.400750
    assert round(blowup.balanced_blowup_time(0.7 * 0.3 * 1.2), 4) == 1.5832  # bound (11) for that start
    assert float(blowup.dm1_blowup_time(0.8, 0.8, 0.8)) == pytest.approx(1 / 0.8, rel=1e-25)


@pytest.mark.parametrize("wmc", [(0.7, 0.3, 1.2), (-0.7, 0.3, -1.2), (0.7, -0.3, 1.2), (0.9, 0.4, -0.5),
                                 (-0.3, 0.6, 1.1), (1.0, 0.2, -1.3), (0.0, 0.5, 0.7)])
def test_dm1_oracle_matches_ode_integration_for_every_sign_pattern(wmc):
    T = float(blowup.dm1_blowup_time(*wmc))
    assert _integrate_dm1(*wmc) == pytest.approx(T, rel=1e-6)


def test_dm1_oracle_degenerate_orbits_never_blow_up():
    assert blowup.dm1_blowup_time(0.2, 0.3, -0.2) == mpmath.inf  # alpha = beta < 0, w c < 0: saddle approach
    assert blowup.dm1_blowup_time(0.5, 0.3, -0.5) < mpmath.inf  # alpha = beta > 0: m crosses 0, then escapes
    assert blowup.dm1_blowup_time(0.0, 0.4, 0.0) == mpmath.inf  # equilibrium
    assert blowup.dm1_blowup_time(0.3, 0.3, -0.9) == mpmath.inf  # w^2 = m^2 (alpha = 0), m -> 0 only


def test_effective_numpy_helpers_match_sympy_and_batch():
    rng = np.random.default_rng(0)
    d = 3
    Wv, W1, W2 = rng.standard_normal((4, d)), rng.standard_normal((4, d, d)), rng.standard_normal((4, d))
    dWv, dW1, dW2 = effective.rhs_numpy(d)(Wv, W1, W2)
    assert dWv.shape == (4, d) and dW1.shape == (4, d, d) and dW2.shape == (4, d)
    np.testing.assert_allclose(dWv, np.einsum("bij,bj->bi", W1, W2), rtol=1e-13)
    np.testing.assert_allclose(dW1, np.einsum("bi,bj->bij", Wv, W2), rtol=1e-13)
    np.testing.assert_allclose(dW2, np.einsum("bij,bi->bj", W1, Wv), rtol=1e-13)
    E_ = effective.energy_numpy(d)(Wv, W1, W2)
    np.testing.assert_allclose(E_, np.einsum("bi,bij,bj->b", Wv, W1, W2), rtol=1e-13)
    ed = effective.edot_numpy(d)(Wv, W1, W2)
    np.testing.assert_allclose(ed, (dWv**2).sum(1) + (dW2**2).sum(1) + (Wv**2).sum(1) * (W2**2).sum(1),
                               rtol=1e-12)
    with pytest.raises(ValueError):
        effective.rhs_numpy(d)(Wv[:, :2], W1, W2)


def test_edot_lower_chain_numerically_and_wrong_exponent_fails():
    """AM-GM / Cauchy-Schwarz chain of Thm 1 at random points; 3|E|^{5/3} fails at large scale."""
    rng = np.random.default_rng(1)
    d, B = 3, 2000
    Wv, W1, W2 = rng.standard_normal((B, d)), rng.standard_normal((B, d, d)), rng.standard_normal((B, d))
    E_ = effective.energy_numpy(d)(Wv, W1, W2)
    ed = effective.edot_numpy(d)(Wv, W1, W2)
    dWv, _, dW2 = effective.rhs_numpy(d)(Wv, W1, W2)
    middle = 3 * ((dWv**2).sum(1) * (dW2**2).sum(1) * (Wv**2).sum(1) * (W2**2).sum(1)) ** (1 / 3)
    bound = sp.lambdify((Edot, E), blowup.EDOT_LOWER.rhs, "numpy")(ed, E_)
    assert np.all(ed >= middle * (1 - 1e-12)) and np.all(middle >= bound * (1 - 1e-12))
    wrong = 3 * np.abs(10 * E_) ** (5 / 3)  # scale the weights by 10^(1/3): Edot x 10^(4/3), E x 10
    assert np.any(ed * 10 ** (4 / 3) < wrong)


def test_bound_formulas_evaluate_on_the_oracles_and_tightening_fails():
    E0 = 0.7 * 0.3 * 1.2
    Tstar = float(blowup.dm1_blowup_time(0.7, 0.3, 1.2))
    assert bool(blowup.TSTAR_UPPER.subs({T_star: Tstar, t0: 0, E_t0: E0}))
    assert not bool(blowup.TSTAR_UPPER.subs({T_star: Tstar, t0: 0, E_t0: E0 / 0.8**3}))  # bound x 0.8
    # balanced oracle: (11) holds with equality, (upper-general) too
    x0, tt = 0.9, 0.5
    E_bal = (1 / x0 - tt) ** -3
    lower = float(blowup.RICCATI_POSITIVE.rhs.subs({E_t0: x0**3, t: tt, t0: 0}))
    upper = float(blowup.UPPER_GENERAL.rhs.subs({T_star: 1 / x0, t: tt}))
    assert lower == pytest.approx(E_bal, rel=1e-12) and upper == pytest.approx(E_bal, rel=1e-12)
    assert float(blowup.RICCATI_NONPOSITIVE.rhs.subs({E_t0: -1.0, t: 1.0, t0: 0})) == pytest.approx(-1 / 8)


def test_nondegeneracy_polynomials_and_numpy_evaluator():
    for d in (1, 2, 3):
        assert not any(p.is_zero for p in nondegeneracy.as_polys(d))
    d = 2
    Wv_s, W1_s, W2_s = effective.closed_state(d)
    D1, Dv, D2 = nondegeneracy.polynomials(d)
    rng = np.random.default_rng(2)
    Wv, W1, W2 = rng.standard_normal((50, d)), rng.standard_normal((50, d, d)), rng.standard_normal((50, d))
    n1, n2 = nondegeneracy.nondegeneracy_numpy()(Wv, W1, W2)
    syms = list(Wv_s) + list(W1_s) + list(W2_s)
    f = sp.lambdify(syms, [D1, Dv, D2], "numpy")
    s1, sv, s2 = f(*Wv.T, *W1.reshape(50, -1).T, *W2.T)
    np.testing.assert_allclose(n1, s1, rtol=1e-12)
    low = (Wv**2).sum(1) <= (W2**2).sum(1)
    np.testing.assert_allclose(n2, np.where(low, sv, s2), rtol=1e-12, atol=1e-12)
    assert np.all(n1 != 0) and np.all(n2 != 0)  # Gaussian draws are non-degenerate
    assert nondegeneracy.nondegeneracy_numpy()(np.ones((1, 2)), np.eye(2)[None], np.ones((1, 2)))[0][0] == 0


# ------------------------------------------------------------------------------ claims metadata
def _names(formula):
    out = set()
    for s_ in formula.free_symbols:
        if isinstance(s_, sp.Indexed):
            continue
        out.add(getattr(s_, "name", str(s_)))
    return out


def test_claims_registered_with_documented_symbols():
    reg = load_all()
    assert reg.check_graph() == []
    for cid in IDENTITY_IDS + OTHER_IDS:
        c = reg.get(cid)
        assert c.statement and c.tolerance and c.formula is not None, cid
        documented = {k for k, _ in c.symbols}
        assert _names(c.formula) <= documented, (cid, _names(c.formula) - documented)
        if c.provenance is Provenance.ERRATUM:
            assert c.note
        if c.kind in (Kind.BOUND, Kind.SCALING):
            assert isinstance(c.formula, sp.core.relational.Relational), cid
            sp.lambdify(sorted(c.formula.free_symbols, key=str), [c.formula.lhs, c.formula.rhs], "numpy")
    kinds = {cid: reg.get(cid).kind for cid in IDENTITY_IDS + OTHER_IDS}
    assert all(kinds[c] is Kind.IDENTITY for c in IDENTITY_IDS)
    assert kinds["chen-luo-2025/escape/inverse-eps"] is Kind.SCALING
    assert reg.get("chen-luo-2025/escape/inverse-eps").get("exponent") == -1
    assert reg.get("chen-luo-2025/prop1/eps3-coefficient").provenance is Provenance.ERRATUM
    assert math.isclose(reg.get("chen-luo-2025/prop1/agreement-eps2").get("exponent"), 2)
