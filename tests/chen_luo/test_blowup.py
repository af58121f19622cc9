"""chen-luo-2025 Thm 1 checkers (topic ``blowup``) hold on the real dynamics and fail on mutations.

Each mutation is one a reviewer could make by mistake: a wrong exponent, a bound tightened beyond the reported
margin, a wrong oracle, or a sabotaged trajectory. The judges receive the claim (with its formula replaced
for a mutation) and the trajectory (sabotaged where the test says so): nothing is monkeypatched.
"""

import dataclasses
import functools
import math

import numpy as np
import pytest
import sympy as sp
import torch

import twostage.verify.checks.chen_luo.blowup as s1
from twostage.numerics.chen_luo import blowup as bl
from twostage.numerics.chen_luo import effective as eff
from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.blowup import escape_time, gaussian_state
from twostage.numerics.chen_luo.init import InitConfig, init_normalised
from twostage.numerics.chen_luo.nondegeneracy import nondegenerate_ok
from twostage.theory.claims import load_all
from twostage.verify.checks.chen_luo import nondegeneracy as nd_check
from twostage.verify.checks.chen_luo.nondegeneracy import DrawBatch, ExactDraw
from twostage.verify.verdict import Status

F64 = torch.float64

CFG = s1.Stage1Draw(d=3, B=4, seed=11)
POS = s1.Stage1Draw(d=3, B=4, seed=11, sign=1)
NEG = s1.Stage1Draw(d=3, B=4, seed=11, sign=-1)


def formula(cid):
    return load_all().get(cid).formula


def claim(cid, rel=None):
    """The registered claim, or the same claim with its formula replaced by ``rel`` (a mutation)."""
    c = load_all().get(cid)
    return c if rel is None else dataclasses.replace(c, formula=rel)


def judge(fn, cid, cfg, rel=None, tr=None):
    """Run the registered judge ``fn`` of ``cid`` on ``cfg``'s trajectory (or the given one)."""
    return fn(claim(cid, rel), cfg, s1.trajectories(cfg) if tr is None else tr)


def syms(cid):
    return {s.name: s for s in formula(cid).free_symbols}


def tighten(rel, factor):
    """Same relational with its bound side moved against the measured side by ``factor``."""
    return rel.func(rel.lhs, rel.rhs * factor)


def test_constructive_sign_draws_meet_the_assumption():
    for cfg, sign in ((POS, 1), (NEG, -1)):
        Wv, W1, W2 = s1.initialisation(cfg)
        E0 = np.einsum("bk,bkl,bl->b", Wv.numpy(), W1.numpy(), W2.numpy())
        assert np.all(sign * E0 > 0)


EDOT, RIC_POS, RIC_NEG = ("chen-luo-2025/thm1/edot-lower", "chen-luo-2025/thm1/riccati-positive",
                          "chen-luo-2025/thm1/riccati-nonpositive")
TSTAR, UPPER = "chen-luo-2025/thm1/tstar-upper", "chen-luo-2025/thm1/upper-general"


def test_edot_lower_holds_and_wrong_exponent_fails():
    assert judge(s1.edot_lower, EDOT, CFG).status is Status.HOLDS
    S = syms(EDOT)
    wrong = sp.Ge(S["Edot"], 3 * sp.Abs(S["E"]) ** sp.Rational(5, 3))
    assert judge(s1.edot_lower, EDOT, CFG, wrong).status is Status.VIOLATED


def _edot_mutants():
    S = syms(EDOT)
    rhs = formula(EDOT).rhs
    return {"constant x2": sp.Ge(S["Edot"], 2 * rhs),
            "constant x1.05": sp.Ge(S["Edot"], sp.Rational(21, 20) * rhs),
            "exponent 5/3": sp.Ge(S["Edot"], 3 * sp.Abs(S["E"]) ** sp.Rational(5, 3)),
            "flipped": sp.Le(S["Edot"], rhs), "strict": sp.Gt(S["Edot"], rhs)}


@pytest.mark.parametrize("name", ["constant x2", "constant x1.05", "exponent 5/3", "flipped", "strict"])
def test_edot_lower_is_proven_and_a_stronger_formula_is_not(name):
    """The AM-GM line is proven symbolically (d = 1, 2, 3); a formula it does not imply is violated."""
    proof = s1.EdotProof()
    assert s1.edot_lower(claim(EDOT), proof, None).status is Status.HOLDS
    bad = dataclasses.replace(claim(EDOT), formula=_edot_mutants()[name])
    assert s1.edot_lower(bad, proof, None).status is Status.VIOLATED, name


def test_edot_lower_dynamical_check_can_fail():
    """Along the dynamics (secants of the recorded E): the constant x2 fails near blow-up, where the bound is
    attained asymptotically; a trajectory whose E decreases somewhere fails too."""
    tr = s1.trajectories(CFG)
    m = judge(s1.edot_lower, EDOT, CFG)
    assert m.status is Status.HOLDS and m.worst["Edot_from"] == "secant of recorded E"
    assert judge(s1.edot_lower, EDOT, CFG, _edot_mutants()["constant x2"]).status is Status.VIOLATED
    assert judge(s1.edot_lower, EDOT, CFG, _edot_mutants()["flipped"]).status is Status.VIOLATED
    bad = {**tr, "E": tr["E"].copy()}
    k = int(np.flatnonzero(tr["mask"][0])[len(np.flatnonzero(tr["mask"][0])) // 2])
    bad["E"][0, k + 1] = bad["E"][0, k] * (1 - 1e-3 * np.sign(bad["E"][0, k]))  # E decreases on one step
    assert s1.edot_lower(claim(EDOT), CFG, bad).status is Status.VIOLATED


def test_riccati_positive_holds_and_tightened_beyond_margin_fails():
    m = judge(s1.riccati_positive, RIC_POS, POS)
    assert m.status is Status.HOLDS and m.margin > 0
    tight = tighten(formula(RIC_POS), 1 + 3 * m.margin)
    assert judge(s1.riccati_positive, RIC_POS, POS, tight).status is Status.VIOLATED


def test_riccati_positive_sabotaged_trajectory_fails():
    bad = {k: v.copy() for k, v in s1.trajectories(POS).items()}
    m = bad["mask"][0]
    t, E = bad["t"][0], bad["E"][0]
    i0 = s1.start_index(E[m], 0.0)
    k = np.flatnonzero(m & (E > 1.0) & (E < 50))[-1]
    E[k] = 0.5 * (E[i0] ** (-1 / 3) - (t[k] - t[i0])) ** -3  # a dip below the Riccati bound
    assert judge(s1.riccati_positive, RIC_POS, POS, tr=bad).status is Status.VIOLATED


def test_riccati_nonpositive_holds_and_tightened_fails():
    assert judge(s1.riccati_nonpositive, RIC_NEG, NEG).status is Status.HOLDS
    tight = tighten(formula(RIC_NEG), sp.Rational(1, 2))
    assert judge(s1.riccati_nonpositive, RIC_NEG, NEG, tight).status is Status.VIOLATED


def test_riccati_nonpositive_rejects_config_outside_assumption():
    from twostage.errors import ConfigError

    with pytest.raises(ConfigError, match="E-t0-nonpositive"):
        judge(s1.riccati_nonpositive, RIC_NEG, POS)


def test_tstar_upper_holds_and_halved_bound_fails():
    assert judge(s1.tstar_upper, TSTAR, CFG).status is Status.HOLDS
    S = syms(TSTAR)
    wrong = sp.Le(S["T_star"], S["t0"] + S["E_t0"] ** sp.Rational(-1, 3) / 2)
    assert judge(s1.tstar_upper, TSTAR, CFG, wrong).status is Status.VIOLATED


def test_upper_general_holds_and_wrong_exponent_fails():
    assert judge(s1.upper_general, UPPER, CFG).status is Status.HOLDS
    S = syms(UPPER)
    wrong = sp.Le(S["E"], (S["T_star"] - S["t"]) ** -2)
    assert judge(s1.upper_general, UPPER, CFG, wrong).status is Status.VIOLATED


def test_blowup_counts_and_a_run_cut_short_is_a_counterexample():
    cid = "chen-luo-2025/thm1/blowup-as"
    tr32 = s1.blowup_count(s1.CountDraw(3, 32, seed=5))
    assert tr32["reached"].sum() == 32
    m = s1.blowup_as(claim(cid), s1.CountDraw(3, 32, 5), tr32)
    assert m.status is Status.HOLDS and (m.worst["successes"], m.worst["n"]) == (32, 32)
    cut = s1.CountDraw(3, 32, seed=5, max_steps=5)  # sabotaged: cannot reach the event
    assert s1.blowup_as(claim(cid), cut, s1.blowup_count(cut)).status is Status.VIOLATED


@pytest.mark.parametrize("edit", ["T_star >= oo", "T_star > oo", "Eq(T_star, oo)", "T_star < 1/10"])
def test_blowup_as_judges_its_formula_as_written(edit):
    """issue 12: the relation ``T_star < oo`` is decided per draw at the measured T* bracket; a flipped
    relation, an equation, or a finite bound below the measured T* is violated (never an internal error)."""
    cid, cfg = "chen-luo-2025/thm1/blowup-as", s1.CountDraw(3, 32, 5)
    tr = s1.blowup_count(cfg)
    assert tr["T_lo"].min() > 0.1  # the finite-bound edit is false on this data
    bad = claim(cid, sp.sympify(edit, locals=syms(cid)))
    records = [(s1.blowup_as(bad, cfg, tr), cfg)] * 2
    assert s1.pool_binomial(records).status is Status.VIOLATED
    assert s1.pool_binomial([(s1.blowup_as(claim(cid), cfg, tr), cfg)]).status is Status.HOLDS


def test_nondegeneracy_counts_and_balanced_draws_are_degenerate():
    c, cfg = claim("chen-luo-2025/def4/nondegenerate-as"), DrawBatch(4, 512, seed=2)
    m = nd_check.nondegenerate_as(c, cfg, nd_check.simulate(cfg))
    assert m.status is Status.HOLDS and m.worst["successes"] == 512
    Wv, W1, _ = (x.numpy() for x in s1.initialisation(s1.Stage1Draw(4, 64, 3)))
    k, n, info = nondegenerate_ok(Wv, W1, Wv.copy(), 4)  # W2 = Wv^T: D1 = 0 exactly
    assert k == 0 and info["min_abs_D1"] == 0.0


def _def4_mutants(f):
    """Eq. (10) edited: "- max{..} D1" (issue 12: used to hold), "+ max", D2 without its D1 term, D1 with a
    factor 2, a condition flipped to D1 = 0."""
    defs = {a.lhs.name: a for a in f.args if isinstance(a, sp.Equality)}
    conds = [a for a in f.args if not isinstance(a, sp.Equality)]
    D1s, D2s = defs["D1"].lhs, defs["D2"].lhs
    a_, b_ = sorted(defs["D1"].rhs.free_symbols, key=str)  # W2_sq, Wv_sq
    p_q = defs["D2"].rhs.subs(D1s, 0)  # ||dW_v||^2 - ||dW2||^2
    mk = lambda d1, d2, cs=conds: sp.And(sp.Eq(D1s, d1, evaluate=False), sp.Eq(D2s, d2, evaluate=False),  # noqa
                                         *cs)
    return {"- max D1": mk(defs["D1"].rhs, p_q - sp.Max(a_, b_) * D1s),
            "+ max D1": mk(defs["D1"].rhs, p_q + sp.Max(a_, b_) * D1s),
            "no D1 term": mk(defs["D1"].rhs, p_q),
            "2 D1": mk(2 * defs["D1"].rhs, defs["D2"].rhs),
            "D1 = 0": mk(defs["D1"].rhs, defs["D2"].rhs, [sp.Eq(D1s, 0), *conds[1:]])}


@pytest.mark.parametrize("name", ["- max D1", "+ max D1", "no D1 term", "2 D1", "D1 = 0"])
def test_def4_is_judged_on_its_polynomials(name):
    """The formula's D1, D2 are evaluated exactly on integer draws against the expansion from the proof of
    Thm 1 (iii); a wrong eq. (10) is violated, and so is a flipped condition on the Gaussian counts."""
    c = claim("chen-luo-2025/def4/nondegenerate-as")
    ex, gauss = ExactDraw(3, 64, seed=1), DrawBatch(3, 256, seed=1)
    assert nd_check.nondegenerate_as(c, ex, nd_check.simulate(ex)).status is Status.HOLDS
    bad = dataclasses.replace(c, formula=_def4_mutants(c.formula)[name])
    m_exact = nd_check.nondegenerate_as(bad, ex, nd_check.simulate(ex))
    m_count = nd_check.nondegenerate_as(bad, gauss, nd_check.simulate(gauss))
    assert Status.VIOLATED in (m_exact.status, m_count.status), name


def test_dm1_oracle_agrees_and_the_riccati_bound_is_not_the_blowup_time():
    cid, cfg = "chen-luo-2025/oracle/dm1-elliptic", s1.Dm1Draw(0.7, 0.3, 1.2)
    integrated = cfg.t0 + float(s1.nb.dm1_blowup_time(cfg.w, cfg.m, cfg.c)[0])  # T*, integrated from t0
    assert s1.dm1_elliptic(claim(cid), cfg, integrated).status is Status.HOLDS
    # sabotage: the "integrated" value replaced by bound (11) T* <= E0^{-1/3} (1.5832 vs 1.400750)
    bound11 = (cfg.w * cfg.m * cfg.c) ** (-1.0 / 3.0)
    assert s1.dm1_elliptic(claim(cid), cfg, cfg.t0 + bound11).status is Status.VIOLATED


@functools.cache
def _dm1_integrated(cfg):
    return cfg.t0 + float(s1.nb.dm1_blowup_time(cfg.w, cfg.m, cfg.c)[0])


def _dm1_mutants(f):
    """Eq. of the d_m = 1 oracle edited: the integrand x2, its exponent -1/2 -> -1/3, alpha x2, the lower
    limit x2, t0 dropped from the left side (caught since the integration starts at t0 = 1), negated."""
    (m, lo, hi), integrand = f.rhs.limits[0], f.rhs.function
    S = {s.name: s for s in f.free_symbols}
    rad = integrand ** -2  # (m^2 + alpha)(m^2 + beta)
    eq = lambda g, a=lo: sp.Eq(f.lhs, sp.Integral(g, (m, a, hi)))  # noqa: E731
    return {"x2": eq(2 * integrand), "exponent -1/3": eq(rad ** sp.Rational(-1, 3)),
            "2 alpha": eq(integrand.subs(S["alpha"], 2 * S["alpha"])), "2 m_t0": eq(integrand, 2 * lo),
            "no t0": sp.Eq(S["T_star"], f.rhs), "!=": sp.Ne(f.lhs, f.rhs)}


@pytest.mark.parametrize("name", ["x2", "exponent -1/3", "2 alpha", "2 m_t0", "no t0", "!="])
def test_dm1_oracle_is_the_formulas_integral(name):
    """issue 12: the right side is the claim's own integral, evaluated by quadrature at the draw; an edited
    integrand, exponent, constant, limit or relation is violated against the integrated T*."""
    cid, cfg = "chen-luo-2025/oracle/dm1-elliptic", s1.Dm1Draw(-0.4, 0.9, -1.1)
    integrated = _dm1_integrated(cfg)
    assert s1.dm1_elliptic(claim(cid), cfg, integrated).status is Status.HOLDS
    bad = claim(cid, _dm1_mutants(formula(cid))[name])
    assert s1.dm1_elliptic(bad, cfg, integrated).status is Status.VIOLATED, name


def _balanced_mutants(f):
    """The balanced oracle's two equations edited: (T*-t)^-3 x2, its exponent -3 -> -2, E0^(-1/3) ->
    E0^(-1/2), the second equation negated."""
    S = syms_of(f)
    E, T, t, E0 = S["E"], S["T_star"], S["t"], S["E0"]
    both = lambda a, b: sp.And(a, b)  # noqa: E731
    e1, e2 = sp.Eq(E, (T - t) ** -3), sp.Eq(T, E0 ** sp.Rational(-1, 3))
    return {"x2": both(sp.Eq(E, 2 * (T - t) ** -3), e2), "exponent -2": both(sp.Eq(E, (T - t) ** -2), e2),
            "exponent -1/2": both(e1, sp.Eq(T, E0 ** sp.Rational(-1, 2))), "!=": both(e1, sp.Ne(T, e2.rhs))}


def syms_of(f):
    return {s.name: s for s in f.free_symbols}


@pytest.mark.parametrize("name", ["x2", "exponent -2", "exponent -1/2", "!="])
def test_balanced_oracle_judges_its_formula(name):
    """issue 12: the formula is proved on the balanced solution and evaluated at the integrated E(t), E(0)
    and the quadrature T*; each edit is violated."""
    from twostage.verify.identity import IdentityConfig

    cid, cfg = "chen-luo-2025/oracle/balanced", IdentityConfig((1,), 3)
    data = s1.balanced_data(cfg, None)
    assert s1.balanced(claim(cid), cfg, data).status is Status.HOLDS
    bad = claim(cid, _balanced_mutants(formula(cid))[name])
    assert s1.balanced(bad, cfg, data).status is Status.VIOLATED, name


@pytest.mark.parametrize("edit", ["2 * Tbar_star / lam", "Tbar_star / lam**2", "!="])
def test_homogeneity_judges_its_formula(edit):
    """issue 12: Tbar*(lam theta0) = Tbar*(theta0)/lam proved on the balanced instance and evaluated at the
    quadrature blow-up times; a constant x2, an exponent +1 or the negated equation is violated."""
    from twostage.verify.identity import IdentityConfig

    cid, cfg = "chen-luo-2025/escape/homogeneity", IdentityConfig((1,), 5)
    f = formula(cid)
    assert s1.homogeneity(claim(cid), cfg, None).status is Status.HOLDS
    wrong = sp.Ne(f.lhs, f.rhs) if edit == "!=" else sp.Eq(f.lhs, sp.sympify(edit, locals=syms_of(f)))
    assert s1.homogeneity(claim(cid, wrong), cfg, None).status is Status.VIOLATED, edit


def test_dm1_config_outside_assumption_is_rejected():
    from twostage.errors import ConfigError

    with pytest.raises(ConfigError, match="dm1-escape"):
        s1.Dm1Draw(0.7, -0.3, 1.2)


# ---------------------------------------------------------------- numerics: integration to blow-up


def test_stage1_blowup_like_appendix_c2():
    """E(0) < 0 instance at d_m = 16: E turns positive, is non-decreasing, blows up; d/dt E^(-1/3) -> -1;
    bound (11) from the first positive time holds; T* is bracketed by [t_end, t_end + E_end^(-1/3)]."""
    for seed in range(100):
        Wv, W1, W2 = gaussian_state(16, 1, seed)
        if float(ob.energy(Wv, W1, W2)) < -1.0:
            break
    res = bl.integrate_to_blowup(Wv, W1, W2, E_max=1e12)
    m = res.mask[0]
    t, E, Edot = res.t[0][m], res.series["E"][0][m], res.series["Edot"][0][m]
    assert E[0] < 0 and E[-1] >= 1e12 * (1 - 1e-9)
    assert (torch.diff(E) >= -1e-12 * E.abs()[1:]).all()  # E non-decreasing
    k0 = int((E > 0).nonzero()[0])
    assert 0 < k0 and float(t[k0]) < float(res.T_lo[0])
    # slope of E^(-1/3): identity (16) form and finite differences over the last records
    slope = -Edot / (3 * E.abs() ** (4 / 3))
    assert abs(float(slope[-1]) + 1) < 1e-3
    fd = torch.diff(E[-6:] ** (-1 / 3)) / torch.diff(t[-6:])
    assert torch.allclose(fd, torch.full_like(fd, -1.0), atol=1e-2)
    # Thm 1 (11) from t0 = t[k0]: E(t) >= (E(t0)^(-1/3) - (t - t0))^(-3)
    tt, EE = t[k0:], E[k0:]
    gap = EE[0] ** (-1 / 3) - (tt - tt[0])
    assert (gap > 0).all() and (EE >= gap ** (-3) * (1 - 1e-8)).all()
    assert float(res.T_hi[0] - res.T_lo[0]) == pytest.approx(1e-4, rel=1e-6)


def test_balanced_scalar_case_is_exact():
    """d_m = 1, Wv = W1 = W2 = x0: E(t) = (T* - t)^(-3) with T* = 1/x0 (DERIVED §4.3)."""
    x0 = torch.tensor([0.5, 2.0], dtype=F64)
    res = bl.integrate_to_blowup(x0[:, None], x0[:, None, None], x0[:, None], E_max=1e12, rtol=1e-12)
    assert torch.allclose(res.T_est, 1 / x0, rtol=1e-10)
    for b in range(2):
        t, E = res.t[b][res.mask[b]], res.series["E"][b][res.mask[b]]
        # E^(-1/3) + t = T* along the whole trajectory (well conditioned form of E = (T* - t)^-3)
        assert float((E ** (-1 / 3) + t - 1 / x0[b]).abs().max()) < 1e-10


def test_dm1_blowup_time_reference_and_homogeneity():
    T = bl.dm1_blowup_time(torch.tensor([0.7, 1.4]), torch.tensor([0.3, 0.6]), torch.tensor([1.2, 2.4]))
    assert round(float(T[0]), 6) == 1.400750  # chen-luo-2025 §4.3 / App. C reference
    assert float(T[1]) == pytest.approx(float(T[0]) / 2, rel=1e-10)  # T*(2 theta) = T*(theta) / 2


def test_dm1_matches_theory_oracle():
    blowup = pytest.importorskip("twostage.theory.chen_luo.blowup")
    # w c > 0 (m grows at once), and w c < 0: m first falls (w changes sign / m crosses 0), E(0) < 0
    cases = [(0.7, 0.3, 1.2), (1.1, 0.5, 0.9), (0.4, 1.3, 0.8), (0.3, 0.8, -1.0), (0.9, 0.2, -0.5)]
    numeric = bl.dm1_blowup_time(*(torch.tensor(col, dtype=F64) for col in zip(*cases)))  # one batch
    for (w, m, c), T in zip(cases, numeric.tolist()):
        # the oracle may return an mpc with a round-off imaginary part near a turning point of m
        exact = complex(blowup.dm1_blowup_time(w, m, c))
        assert abs(exact.imag) < 1e-12 * abs(exact.real)
        assert T == pytest.approx(exact.real, rel=1e-9)


def test_effective_batched_equals_loop():
    Wv, W1, W2 = gaussian_state(5, 3, 8)
    batched = bl.integrate_to_blowup(Wv, W1, W2, E_max=1e8)
    for b in range(3):
        one = bl.integrate_to_blowup(Wv[b:b + 1], W1[b:b + 1], W2[b:b + 1], E_max=1e8)
        assert float(one.T_est[0]) == pytest.approx(float(batched.T_est[b]), rel=1e-12)
        assert int(one.solution.n_accepted[0]) == int(batched.solution.n_accepted[b])


def test_escape_time_approaches_effective_blowup(small):
    pb = init_normalised(InitConfig(d=3, eps=0.01, B=1, seed=1))
    Tstar = bl.blowup_time(*eff.reduced_state(pb, small.v))
    gaps = [float(Tstar - escape_time(pb, small, e)["tbar_esc"]) for e in (4e-3, 1e-3)]
    assert 0 < gaps[1] < gaps[0]
    assert math.log(gaps[0] / gaps[1]) / math.log(4) == pytest.approx(1.0, abs=0.25)  # gap ~ eps
