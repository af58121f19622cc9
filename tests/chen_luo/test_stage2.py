"""chen-luo-2025 Stage 2, part 1 (topic ``stage2``): symbolic proofs, numerics and checkers, each with the
mutation that must make it fail.

The judges receive the claim, the draw and the data: a mutation is sabotaged data (the losses of the
misprinted (13), a proof's facts with a wrong order, a wrong ``F``) or an edited formula
(``dataclasses.replace(claim, formula=...)``: an order +1, a constant x2, a transposed factor, ``=``
flipped to ``!=``; issue 12, item 1); nothing is monkeypatched.
"""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.numerics.config import ConfigError
from twostage.theory.chen_luo import stage2 as T2
from twostage.theory.claims import load_all
from twostage.verify.check import Context
from twostage.verify.checks.chen_luo import stage2 as C1
from twostage.verify.checks.chen_luo.draws import DataDraw, SpectrumDraw
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

HOLDS, VIOLATED = Status.HOLDS, Status.VIOLATED
P = "chen-luo-2025"
DATA = DataDraw(n=6, s=3, d=3, seed=0)
TIED = SpectrumDraw(sigma=(1.0, 1.0, 0.5, 0.2), seed=3)
CTX = Context(get_profile("ci"))
STAGE2_IDS = [f"{P}/stage2/loss-factorisation", f"{P}/prop3/dynamics-separation", f"{P}/prop3/kq-linear-law",
              f"{P}/prop3/kq-full-vs-linear", f"{P}/stage2/F-structure"]


def claim(cid):
    return load_all().get(cid)


def facts(cid, proof):
    """What the registered check's ``simulate`` returns for the claim's symbolic instance (the proof)."""
    from twostage.verify.checks import load_checkers

    return load_checkers()[cid].simulate(proof, CTX)


# ------------------------------------------------------------------ symbolic
@pytest.mark.slow
def test_symbolic_stage2_facts_and_the_erratum():
    fact = T2.prove_loss_factorisation(s=3)
    assert C1.symbolic_measurement(fact, {**C1.FACT_EXPECT, "order_of_error": 4}, "s=3").status is HOLDS
    assert T2.prove_loss_factorisation(s=2)["order_of_error"] == 6  # sigmoid: no quadratic term
    # with the main-text (13) (no first 1/s) the error is O(delta^2): claiming O(delta^4) for it must fail
    claim_misprint = {"order_of_error": fact["misprint_order_of_error"]}
    assert C1.symbolic_measurement(fact, claim_misprint, "").status is VIOLATED
    sep = {**C1.SEP_FACTS, "outer": 2, "query": 1, "key": 1}
    assert C1.symbolic_measurement(T2.prove_dynamics_separation(), sep, "").status is HOLDS
    assert C1.symbolic_measurement(T2.prove_dynamics_separation(), {"outer": 1}, "").status is VIOLATED
    assert C1.symbolic_measurement(T2.prove_linear_law(), C1.LAW_EXPECT, "").status is HOLDS
    assert C1.symbolic_measurement(T2.prove_F_structure(), C1.F_EXPECT, "").status is HOLDS


@pytest.mark.slow
def test_symbolic_instances_are_judged_and_wrong_facts_fail():
    """The judges on their :class:`Proof` draws: the proven facts hold; a proof of the misprinted loss (error
    order 2), a wrong order or a failed identity is violated."""
    cid = f"{P}/stage2/loss-factorisation"
    f = facts(cid, C1.FACT_PROOF)
    assert C1.loss_factorisation(claim(cid), C1.FACT_PROOF, f).status is HOLDS
    misprint = {**f, "s=3": {**f["s=3"], "order_of_error": f["s=3"]["misprint_order_of_error"]}}
    assert C1.loss_factorisation(claim(cid), C1.FACT_PROOF, misprint).status is VIOLATED
    sigmoid_quadratic = {**f, "s=2": {**f["s=2"], "order_of_error": 4}}
    assert C1.loss_factorisation(claim(cid), C1.FACT_PROOF, sigmoid_quadratic).status is VIOLATED
    for cid, judge, proof, key, wrong in (
            (f"{P}/prop3/dynamics-separation", C1.dynamics_separation, C1.SEP_PROOF, "outer", 1),
            (f"{P}/prop3/kq-linear-law", C1.kq_linear_law, C1.LAW_PROOF, "query_remainder_order", 2),
            (f"{P}/stage2/F-structure", C1.F_structure, C1.F_PROOF, "appendix_(50)_equals_(15)", False)):
        f = facts(cid, proof)
        assert judge(claim(cid), proof, f).status is HOLDS, cid
        assert judge(claim(cid), proof, {**f, key: wrong}).status is VIOLATED, cid


def test_exp_series_and_orders_detect_a_wrong_claim():
    from twostage.theory.chen_luo.stage2_symbolic import DELTA, coefficients, exp_series, leading_order

    x = 3 * DELTA**2 + DELTA**3
    e = exp_series(x, DELTA, 4)
    assert coefficients(e, upto=4) == [1, 0, 3, 1, sp.Rational(9, 2)]
    assert leading_order(coefficients(e - 1, upto=4)) == 2
    assert leading_order(coefficients(e - 1 - 3 * DELTA**2, upto=4)) == 3


# ------------------------------------------------------------------ numerics
def test_F_of_eq15_is_minus_dL_dM_and_prescribed_spectrum():
    T = DATA.tensors()
    eye = torch.eye(3, dtype=torch.float64).expand(DATA.B, -1, -1)
    gQ, _ = SL.qk_gradients(SL.loss_full, T["X"], T["y"], T["u"], torch.zeros_like(eye), eye)
    assert torch.allclose(-gQ, T["F"], rtol=1e-12, atol=1e-15)
    F, _, _ = TIED.build()
    assert torch.allclose(torch.linalg.svdvals(F), torch.tensor(TIED.sigma, dtype=F.dtype).expand(TIED.B, -1))
    assert TIED.multiplicity == 2 and abs(TIED.gap - 0.5) < 1e-15


def test_configs_outside_assumptions_are_rejected():
    with pytest.raises(ConfigError, match="non-increasing"):
        SpectrumDraw(sigma=(0.5, 1.0), seed=0)
    with pytest.raises(ConfigError):
        DataDraw(n=0, s=3, d=3, seed=0)


def test_training_QK_on_the_factorised_loss_follows_the_linear_law():
    T = DataDraw(n=4, s=3, d=3, seed=2, B=2).tensors()
    s1 = torch.linalg.svdvals(T["F"])[:, :1]
    t = torch.linspace(0, 2, 3, dtype=torch.float64).view(1, -1) / s1
    errs = []
    for dl in (1e-2, 1e-3):
        Q0, K0 = dl * T["Qbar"], dl * T["Kbar"]
        WQ, _ = SL.train_qk(T["X"], T["y"], T["u"], Q0, K0, t, kind="factorised")
        cQ, _ = S2.closed_form(T["F"], Q0, K0, t)
        errs.append(float(((WQ - cQ)[:, -1].flatten(1).norm(dim=1) / cQ[:, -1].flatten(1).norm(dim=1)).max()))
    assert errs[1] < 3e-2 * errs[0]  # O(delta^2): a factor 100 for a factor 10 in delta


# ------------------------------------------------------------------ checkers hold; mutations fail
DELTA = sp.Symbol("delta", positive=True)


def edited(c, formula):
    return dataclasses.replace(c, formula=formula)


def names(c):
    return {s.name: s for s in c.formula.free_symbols}


def test_factorisation_reads_its_formula_and_mutations_fail():
    """The registered formula holds; its O-order +1, the right side x2, ``!=``, the O-term dropped (an exact
    identity claimed) and the losses of the misprinted (13) are violated."""
    c = claim(f"{P}/stage2/loss-factorisation")
    r = C1.factorisation_errors(DATA)
    assert C1.loss_factorisation(c, DATA, r).status is HOLDS
    f = c.formula
    for wrong in (f.xreplace({DELTA**4: DELTA**5}), sp.Eq(f.lhs, 2 * f.rhs.removeO() + sp.O(DELTA**4)),
                  sp.Ne(f.lhs, f.rhs), sp.Eq(f.lhs, f.rhs.removeO())):
        assert C1.loss_factorisation(edited(c, wrong), DATA, r).status is VIOLATED, wrong
    misprinted = C1.factorisation_errors(DATA, misprint=True)  # losses of the main-text (13)
    assert C1.loss_factorisation(c, DATA, misprinted).status is VIOLATED


def test_separation_reads_its_orders_and_mutations_fail():
    c, norms = claim(f"{P}/prop3/dynamics-separation"), C1.separation_norms(DATA)
    assert C1.dynamics_separation(c, DATA, norms).status is HOLDS
    outer, qk = (names(c)[k] for k in (r"\mathrm{ord}_{\mathrm{outer}}", r"\mathrm{ord}_{QK}"))
    for wrong in (sp.And(sp.Eq(outer, 3), sp.Eq(qk, 1)), sp.And(sp.Eq(outer, 2), sp.Eq(qk, 2)),
                  sp.And(sp.Ne(outer, 2), sp.Eq(qk, 1))):
        assert C1.dynamics_separation(edited(c, wrong), DATA, norms).status is VIOLATED, wrong


def law_symbols(c):
    return tuple(names(c)[k] for k in ("F", r"F^{\top}", "W_Q", "W_K", r"\dot{W}_Q", r"\dot{W}_K"))


def test_linear_law_evaluates_its_right_sides_and_mutations_fail():
    """Right sides x2, ``F`` transposed, the factors swapped, ``!=``: violated; a wrong ``F`` in the data
    too."""
    c, g = claim(f"{P}/prop3/kq-linear-law"), C1.law_gradients(DATA)
    assert C1.kq_linear_law(c, DATA, g).status is HOLDS
    F, FT, WQ, WK, dQ, dK = law_symbols(c)
    for wrong in (sp.And(sp.Eq(dQ, 2 * F * WK), sp.Eq(dK, FT * WQ)),
                  sp.And(sp.Eq(dQ, FT * WK), sp.Eq(dK, FT * WQ)),
                  sp.And(sp.Eq(dQ, F * WK), sp.Eq(dK, WQ * FT)),
                  sp.And(sp.Eq(dQ, F * WK), sp.Ne(dK, FT * WQ))):
        assert C1.kq_linear_law(edited(c, wrong), DATA, g).status is VIOLATED, wrong
    unweighted = {**g, "at_weights": {**g["at_weights"], "F": g["at_zero_full"]["F"]}}  # F, not Ftilde
    assert C1.kq_linear_law(c, DATA, unweighted).status is VIOLATED


def test_F_structure_evaluates_eq15_and_mutations_fail():
    """(15) with a factor 2, without ``sqrt(d_m)``, with ``!=``: violated; data whose ``F`` is built from the
    first tokens: violated."""
    c, few = claim(f"{P}/stage2/F-structure"), DataDraw(n=2, s=3, d=5, seed=0)
    q = C1.F_quantities(few)
    assert C1.F_structure(c, few, q).status is HOLDS
    f, dm = c.formula, names(c)["d_m"]
    for wrong in (sp.Eq(f.lhs, 2 * f.rhs), sp.Eq(f.lhs, f.rhs * sp.sqrt(dm)), sp.Ne(f.lhs, f.rhs)):
        assert C1.F_structure(edited(c, wrong), few, q).status is VIOLATED, wrong
    T = few.tensors()
    wrong_F = {**q, "F": S2.F_from_u(T["X"].flip(-2), T["y"], T["u"])}  # eq. (15) on the first tokens
    assert C1.F_structure(c, few, wrong_F).status is VIOLATED


@pytest.mark.slow
def test_symbolic_instances_read_the_formula():
    """On the proof draws an edited formula is violated: order 5 instead of 4, the factorised sum x2, orders
    (3, 1), ``2 F W_K``, ``F W_Q`` for ``dW_K``, (15) x2."""
    cid = f"{P}/stage2/loss-factorisation"
    c, f = claim(cid), facts(cid, C1.FACT_PROOF)
    x2 = sp.Eq(c.formula.lhs, 2 * c.formula.rhs.removeO() + sp.O(DELTA**4))  # caught by the series alone
    assert C1.factorisation_symbolic(c.formula, f["series"]).status is HOLDS
    assert C1.factorisation_symbolic(x2, f["series"]).status is VIOLATED
    for wrong in (c.formula.xreplace({DELTA**4: DELTA**5}), x2):
        assert C1.loss_factorisation(edited(c, wrong), C1.FACT_PROOF, f).status is VIOLATED
    cid = f"{P}/prop3/dynamics-separation"
    c = claim(cid)
    outer, qk = (names(c)[k] for k in (r"\mathrm{ord}_{\mathrm{outer}}", r"\mathrm{ord}_{QK}"))
    assert C1.dynamics_separation(edited(c, sp.And(sp.Eq(outer, 3), sp.Eq(qk, 1))), C1.SEP_PROOF,
                                  facts(cid, C1.SEP_PROOF)).status is VIOLATED
    cid = f"{P}/prop3/kq-linear-law"
    c = claim(cid)
    F, FT, WQ, WK, dQ, dK = law_symbols(c)
    f = facts(cid, C1.LAW_PROOF)
    assert C1.kq_linear_law(edited(c, sp.And(sp.Eq(dQ, 2 * F * WK), sp.Eq(dK, FT * WQ))), C1.LAW_PROOF,
                            f).status is VIOLATED
    assert C1.kq_linear_law(edited(c, sp.And(sp.Eq(dQ, F * WK), sp.Eq(dK, F * WQ))), C1.LAW_PROOF,
                            f).status is VIOLATED
    cid = f"{P}/stage2/F-structure"
    c = claim(cid)
    assert C1.F_structure(edited(c, sp.Eq(c.formula.lhs, 2 * c.formula.rhs)), C1.F_PROOF,
                          facts(cid, C1.F_PROOF)).status is VIOLATED


def test_full_loss_follows_linear_law_to_order_delta2():
    """Holds; the order 3 instead of 2, ``!=``, and a transposed closed form (sabotaged prediction) fail."""
    c, small = claim(f"{P}/prop3/kq-full-vs-linear"), DataDraw(n=6, s=3, d=3, seed=0, B=2)
    fl = C1.full_loss_flow(small)
    assert C1.kq_full_vs_linear(c, small, fl).status is HOLDS
    for wrong in (sp.Eq(c.formula.lhs, sp.O(DELTA**3)), sp.Ne(c.formula.lhs, c.formula.rhs)):
        assert C1.kq_full_vs_linear(edited(c, wrong), small, fl).status is VIOLATED, wrong
    transposed = lambda F, Q, K, t: S2.closed_form(F.transpose(-1, -2), Q, K, t)  # noqa: E731
    assert C1.kq_full_vs_linear(c, small, fl, predict=transposed).status is VIOLATED


def test_every_stage2_claim_has_a_checker_written_the_one_way():
    import inspect

    from twostage.verify.checks import load_checkers

    reg, checkers = load_all(), load_checkers()
    for cid in STAGE2_IDS:
        assert reg.get(cid).paper == P and reg.get(cid).topic == "stage2"
        chk = checkers[cid]
        assert chk.draws is not None and list(inspect.signature(chk.judge).parameters)[0] == "claim"
    assert not reg.check_graph()


def test_an_unusual_formula_is_unsupported_not_an_internal_error():
    """A relation other than = / != (``<=``), an unknown symbol or an O-term left in a right side raise
    :class:`UnsupportedExpression`, which the check reports as ``undecided`` with the reason."""
    from twostage.errors import UnsupportedExpression
    from twostage.verify.checks.chen_luo.formula_eval import evaluate

    c, r = claim(f"{P}/stage2/loss-factorisation"), C1.factorisation_errors(DATA)
    unknown = sp.Eq(c.formula.lhs, sp.Symbol("zeta") + sp.O(DELTA**4))
    for wrong in (sp.Le(c.formula.lhs, c.formula.rhs), unknown):
        with pytest.raises(UnsupportedExpression):
            C1.loss_factorisation(edited(c, wrong), DATA, r)
    with pytest.raises(UnsupportedExpression):
        evaluate(sp.Symbol("x") + sp.O(DELTA**2), {"x": 1.0})
