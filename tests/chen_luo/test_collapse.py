"""chen-luo-2025 Stage 2, part 2 (topic ``collapse``): the closed form of (14), its conservation law and Thm 3
(rank collapse, rank <= multiplicity, limits, rates), each with the mutation that must make it fail.

The judges receive the claim, the draw and the data: a mutation is sabotaged data (a noisy or drifting
trajectory, an ``F`` whose top singular pairs are swapped, a proof's wrong fact) or an edited formula (issue
12: cosh and sinh swapped, a conserved combination with a wrong sign, ``u_2 v_2^T``, a flipped relation, a
rate x2) handed to the judge with ``dataclasses.replace``; nothing is monkeypatched.
"""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from twostage.numerics.chen_luo import collapse as O
from twostage.numerics.chen_luo import stage2 as S2
from twostage.theory.chen_luo import collapse as TC
from twostage.theory.claims import load_all
from twostage.verify.check import Context
from twostage.verify.checks.chen_luo import collapse as C2
from twostage.verify.checks.chen_luo.draws import DataDraw, Proof, SpectrumDraw
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

HOLDS, VIOLATED = Status.HOLDS, Status.VIOLATED
P = "chen-luo-2025"
DATA = DataDraw(n=6, s=3, d=3, seed=0)
SPEC = C2.PINNED_SPECTRUM
TIED = SpectrumDraw(sigma=(1.0, 1.0, 0.5, 0.2), seed=3)
CTX = Context(get_profile("ci"))
COLLAPSE_IDS = [f"{P}/stage2/closed-form", f"{P}/stage2/kq-conservation", f"{P}/thm3/rank-collapse",
                f"{P}/stage2/collapse-limits", f"{P}/thm3/rank-le-multiplicity", f"{P}/stage2/collapse-rate",
                f"{P}/stage2/growth-rate-sigma1"]
RANK, LIMITS = f"{P}/thm3/rank-collapse", f"{P}/stage2/collapse-limits"
MULT = f"{P}/thm3/rank-le-multiplicity"


def noisy(tr: C2.Trajectory, level: float = 0.1) -> C2.Trajectory:
    """Sabotage for the mutation tests: a fixed full-rank component of relative size ``level``."""
    g = torch.Generator().manual_seed(123)
    N = torch.randn(tr.WQ.shape[-2:], generator=g, dtype=tr.WQ.dtype).to(tr.WQ.device)
    scale = tr.WQ[:, -1:].flatten(2).norm(dim=-1).unsqueeze(-1).unsqueeze(-1)
    return dataclasses.replace(tr, WQ=tr.WQ + level * scale * N, WK=tr.WK + level * scale * N)


def swap_top_pairs(tr: C2.Trajectory) -> C2.Trajectory:
    """Sabotage for the mutation tests: ``F`` with its first two singular pairs swapped, so that the limits
    predicted from it use ``u_2, v_2`` (the trajectory itself is unchanged)."""
    U, S, V = S2.svd(tr.F)
    perm = torch.arange(tr.F.shape[-1], device=tr.F.device)
    perm[0], perm[1] = 1, 0
    return dataclasses.replace(tr, F=U[..., perm] @ torch.diag_embed(S) @ V[..., perm].transpose(-1, -2))


def claim(cid):
    return load_all().get(cid)


# ------------------------------------------------------------------ symbolic
@pytest.mark.slow
def test_symbolic_collapse_facts():
    assert all(TC.prove_closed_form().values())
    assert all(TC.prove_conservation().values())
    r = TC.prove_rank_le_multiplicity()
    assert r["nonzero_rows"] == {1: 1, 2: 2, 3: 3} and r["limits_rows_of_(A0+B0)/2"]
    assert all(TC.prove_collapse_rate().values())
    assert all(TC.prove_growth_rate().values())


@pytest.mark.slow
def test_symbolic_instances_are_judged_and_wrong_facts_fail():
    """Each judge on its pinned :class:`Proof` draw (facts from the registered ``simulate``): the proven
    facts hold, one wrong fact is violated."""
    from twostage.verify.checks import load_checkers

    checkers = load_checkers()
    for cid, key, wrong in ((f"{P}/stage2/closed-form", "original_ode", False),
                            (f"{P}/stage2/kq-conservation", "linear_law", False),
                            (LIMITS, "limits_rows_of_(A0+B0)/2", False),
                            (MULT, "nonzero_rows", {1: 1, 2: 1, 3: 1}),  # "rank 1 whatever k"
                            (f"{P}/stage2/collapse-rate", "ratio_constant_det_C_over_c1_sq", False),
                            (f"{P}/stage2/growth-rate-sigma1", "limit_is_sigma1", False)):
        chk = checkers[cid]
        proof = next(d for d in chk.pinned(CTX) if isinstance(d, Proof))
        f = chk.simulate(proof, CTX)
        assert chk.judge(claim(cid), proof, f).status is HOLDS, cid
        assert chk.judge(claim(cid), proof, {**f, key: wrong}).status is VIOLATED, cid


# ------------------------------------------------------------------ numerics
def test_closed_form_matches_numerical_integration_to_1e10():
    F, Q0, K0 = SPEC.build()
    s1 = torch.linalg.svdvals(F)[:, :1]
    t = torch.linspace(0, 5, 11, dtype=F.dtype).view(1, -1) / s1
    cQ, cK = S2.closed_form(F, Q0, K0, t)
    nQ, nK = S2.integrate_linear(F, Q0, K0, t)
    rel = ((cQ - nQ).flatten(2).norm(dim=-1) / nQ.flatten(2).norm(dim=-1)).max()
    assert float(rel) < 1e-10
    sQ, _ = S2.closed_form_scaled(F, Q0, K0, t)
    assert torch.allclose(sQ * torch.exp(s1.unsqueeze(-1).unsqueeze(-1) * t.unsqueeze(-1).unsqueeze(-1)), cQ,
                          rtol=1e-12, atol=0)


def test_observables():
    W = torch.diag(torch.tensor([2.0, 1.0, 1.0, 0.0], dtype=torch.float64))
    assert abs(float(O.stable_rank(W)) - 1.5) < 1e-15
    assert abs(float(O.effective_rank(torch.eye(5, dtype=torch.float64))) - 5) < 1e-12
    assert abs(float(O.effective_rank(torch.diag(torch.tensor([1.0, 0, 0]))))) - 1 < 1e-6


# ------------------------------------------------------------------ checkers hold; mutations fail
def _swap_cosh_sinh(e):
    return e.replace(lambda x: isinstance(x, sp.cosh | sp.sinh),
                     lambda x: (sp.sinh if isinstance(x, sp.cosh) else sp.cosh)(*x.args))


def test_closed_form_and_conservation_hold_and_sabotage_fails():
    c, run = claim(f"{P}/stage2/closed-form"), C2.solver_run(SPEC)
    assert C2.closed_form(c, SPEC, run).status is HOLDS
    f = c.formula
    t = sp.Symbol("t", positive=True)
    for bad in (sp.Eq(f.lhs, _swap_cosh_sinh(f.rhs)), sp.Ne(f.lhs, f.rhs),
                sp.Eq(f.lhs, f.rhs.xreplace({t: 2 * t}))):
        assert C2.closed_form(dataclasses.replace(c, formula=bad), SPEC, run).status is VIOLATED, bad
    c, small = claim(f"{P}/stage2/kq-conservation"), DataDraw(n=3, s=3, d=3, seed=1, B=2)
    run = C2.conserved_flows(small)
    assert C2.kq_conservation(c, small, run).status is HOLDS
    t = run["t"].view(*run["t"].shape, 1, 1)
    drifting = {**run, "flows": {k: (WQ, WK * (1 + 1e-3 * t)) for k, (WQ, WK) in run["flows"].items()}}
    assert C2.kq_conservation(c, small, drifting).status is VIOLATED
    for bad in _conservation_mutants(c.formula).values():
        assert C2.kq_conservation(dataclasses.replace(c, formula=bad), small, run).status is VIOLATED, bad


def _conservation_mutants(f):
    """``d/dt(W_Q^T W_Q - W_K^T W_K) = 0`` edited: the sign of the K term, a factor 2, the K term dropped, a
    nonzero right side, the relation flipped."""
    ddt, (X, zero) = f.lhs.args[0], (f.lhs.args[1], f.rhs)
    q = next(a for a in X.args if "W_Q" in str(a))
    k = X - q  # -W_K^T W_K
    return {"sign": sp.Eq(ddt * (q - k), zero), "x2": sp.Eq(ddt * (q + 2 * k), zero),
            "drop": sp.Eq(ddt * q, zero), "rhs 1": sp.Eq(f.lhs, 1), "flipped": sp.Ne(f.lhs, zero)}


@pytest.mark.slow
def test_symbolic_instances_read_the_formula():
    """On the :class:`Proof` draws the formula itself is instantiated: the registered formula holds, an edited
    one (cosh <-> sinh, a wrong conserved combination, ``u_2 v_2^T``, ``rank > k``, a rate x2) is violated."""
    from twostage.verify.checks import load_checkers

    checkers = load_checkers()
    nc = lambda n: sp.Symbol(n, commutative=False)  # noqa: E731
    k = sp.Symbol("k")
    edits = {f"{P}/stage2/closed-form": [lambda f: sp.Eq(f.lhs, _swap_cosh_sinh(f.rhs))],
             f"{P}/stage2/kq-conservation": [lambda f, m=m: _conservation_mutants(f)[m]
                                             for m in ("sign", "x2", "drop", "rhs 1", "flipped")],
             LIMITS: [lambda f: sp.Eq(f.lhs, nc("u_2") * nc(r"v_2^{\top}")),
                      lambda f: sp.Eq(f.lhs, 2 * f.rhs), lambda f: sp.Ne(f.lhs, f.rhs)],
             MULT: [lambda f: sp.Gt(f.lhs, f.rhs), lambda f: sp.Le(f.lhs, k - 1), lambda f: sp.Ne(f.lhs, k)],
             f"{P}/stage2/collapse-rate": [lambda f, m=m: _rate_mutants(f)[m]
                                           for m in _rate_mutants(f_rate())],
             f"{P}/stage2/growth-rate-sigma1": [lambda f: sp.Eq(f.lhs, 2 * f.rhs),
                                                lambda f: sp.Ne(f.lhs, f.rhs)]}
    for cid, muts in edits.items():
        chk = checkers[cid]
        proof = next(d for d in chk.pinned(CTX) if isinstance(d, Proof))
        facts = chk.simulate(proof, CTX)
        assert chk.judge(claim(cid), proof, facts).status is HOLDS, cid
        for edit in muts:
            bad = with_formula(claim(cid), edit)
            assert chk.judge(bad, proof, facts).status is VIOLATED, (cid, bad.formula)


def f_rate():
    return claim(f"{P}/stage2/collapse-rate").formula


def test_rank_collapse_limits_and_multiplicity():
    for cfg in (SPEC, DATA):
        tr = C2.limit_trajectory(cfg)
        assert C2.rank_collapse(claim(RANK), cfg, tr).status is HOLDS
        assert C2.collapse_limits(claim(LIMITS), cfg, tr).status is HOLDS
    tr = C2.limit_trajectory(SPEC)
    assert C2.rank_collapse(claim(RANK), SPEC, noisy(tr)).status is VIOLATED
    # limits predicted with u_2, v_2: from a sabotaged F, or printed in the formula
    assert C2.collapse_limits(claim(LIMITS), SPEC, swap_top_pairs(tr)).status is VIOLATED
    nc = lambda n: sp.Symbol(n, commutative=False)  # noqa: E731
    for edit in (lambda f: sp.Eq(f.lhs, nc("u_2") * nc(r"v_2^{\top}")), lambda f: sp.Eq(f.lhs, -f.rhs),
                 lambda f: sp.Ne(f.lhs, f.rhs)):
        assert C2.collapse_limits(with_formula(claim(LIMITS), edit), SPEC, tr).status is VIOLATED, edit
    # tied sigma_1 (k = 2): rank <= 2 holds, claiming rank 1 must fail
    tied = C2.limit_trajectory(TIED)
    assert C2.rank_le_multiplicity(claim(MULT), TIED, tied).status is HOLDS
    # the formula's relation at the measured multiplicity k = 2: flipped, strict, k - 1, k/2 and != fail;
    # rank >= k and rank = k hold (generic initial values reach the bound)
    k = sp.Symbol("k")
    for edit in (lambda f: sp.Gt(f.lhs, f.rhs), lambda f: sp.Lt(f.lhs, f.rhs), lambda f: sp.Le(f.lhs, k - 1),
                 lambda f: sp.Le(f.lhs, k / 2), lambda f: sp.Ne(f.lhs, f.rhs)):
        assert C2.rank_le_multiplicity(with_formula(claim(MULT), edit), TIED, tied).status is VIOLATED, edit
    for edit in (lambda f: sp.Ge(f.lhs, f.rhs), lambda f: sp.Eq(f.lhs, f.rhs)):
        assert C2.rank_le_multiplicity(with_formula(claim(MULT), edit), TIED, tied).status is HOLDS, edit
    rank2 = with_formula(claim(RANK), lambda f: sp.Eq(f.lhs, 2))
    assert C2.rank_collapse(rank2, TIED, tied).status is HOLDS
    assert C2.rank_collapse(claim(RANK), TIED, tied).status is VIOLATED  # rank 1 needs a simple sigma_1
    # the formula's rank is what is judged: "rank 2" is false for a simple sigma_1, "rank != 1" too
    tr = C2.limit_trajectory(SPEC)
    assert C2.rank_collapse(rank2, SPEC, tr).status is VIOLATED
    not1 = with_formula(claim(RANK), lambda f: sp.Ne(f.lhs, f.rhs))
    assert C2.rank_collapse(not1, SPEC, tr).status is VIOLATED


def with_formula(c, edit):
    return dataclasses.replace(c, formula=edit(c.formula))


def _rate_mutants(f):
    """The collapse-rate formula edited (issue 12: a rate 2(sigma1-sigma2) for the ratio used to hold)."""
    ratio, dist, srank = (next(a for a in f.args if k in a.lhs.name) for k in ("sigma_2/", "dist", "srank"))
    rebuild = lambda *eqs: sp.And(*eqs, evaluate=False)  # noqa: E731
    return {"ratio rate x2": rebuild(sp.Eq(ratio.lhs, 2 * ratio.rhs), dist, srank),
            "srank rate / 2": rebuild(ratio, dist, sp.Eq(srank.lhs, srank.rhs / 2)),
            "distance rate sigma1": rebuild(ratio, sp.Eq(dist.lhs, next(iter(sorted(
                dist.rhs.free_symbols, key=str)))), srank),
            "ratio relation flipped": rebuild(sp.Ne(ratio.lhs, ratio.rhs), dist, srank)}


def test_rates_hold_and_wrong_rates_fail():
    c, tr = claim(f"{P}/stage2/collapse-rate"), C2.scaled_trajectory(SPEC, taus=C2.RATE_TAUS)
    assert C2.collapse_rate(c, SPEC, tr).status is HOLDS
    for name, bad in _rate_mutants(c.formula).items():
        m = C2.collapse_rate(dataclasses.replace(c, formula=bad), SPEC, tr)
        assert m.status is VIOLATED, name
    dropped = c.formula.xreplace({sp.Symbol("sigma1", positive=True): 0})  # rho = -sigma2: SymPy says false
    assert dropped is sp.false
    assert C2.collapse_rate(dataclasses.replace(c, formula=dropped), SPEC, tr).status is VIOLATED
    c, run = claim(f"{P}/stage2/growth-rate-sigma1"), C2.growth_run(SPEC)
    assert C2.growth_rate(c, SPEC, run).status is HOLDS
    lhs, rhs, s2 = c.formula.lhs, c.formula.rhs, sp.Symbol("sigma2", positive=True)
    for bad in (sp.Eq(lhs, s2), sp.Ne(lhs, rhs)):
        assert C2.growth_rate(dataclasses.replace(c, formula=bad), SPEC, run).status is VIOLATED, bad
    # rate 2 sigma_1: the distance approaches 1 from above (still decreasing), which judge_limit leaves open
    assert C2.growth_rate(dataclasses.replace(c, formula=sp.Eq(lhs, 2 * rhs)), SPEC, run).status in (
        VIOLATED, Status.UNDECIDED)
    s1 = torch.linalg.svdvals(run["F"])[:, 0]  # W_Q(t) e^{0.05 sigma_1 t}: grows at 1.05 sigma_1
    boost = torch.exp(0.05 * s1.view(-1, 1) * run["t"]).unsqueeze(-1).unsqueeze(-1)
    faster = {**run, "WQ": run["WQ"] * boost}
    assert C2.growth_rate(c, SPEC, faster).status is VIOLATED


def test_every_collapse_claim_has_a_checker_written_the_one_way():
    import inspect

    from twostage.verify.checks import load_checkers

    reg, checkers = load_all(), load_checkers()
    for cid in COLLAPSE_IDS:
        assert reg.get(cid).paper == P and reg.get(cid).topic == "collapse"
        chk = checkers[cid]
        assert chk.draws is not None and list(inspect.signature(chk.judge).parameters)[0] == "claim"
    assert not reg.check_graph()


@pytest.mark.slow
@pytest.mark.parametrize("cid", [RANK, MULT, f"{P}/stage2/collapse-rate"])
def test_registered_checkers_hold_under_ci(cid):
    from twostage.runs.suite import run_claim

    v = run_claim(claim(cid), CTX)
    assert v.status is HOLDS, v.worst
