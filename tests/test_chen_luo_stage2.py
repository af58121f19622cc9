"""chen-luo-2025 Stage 2: symbolic proofs, numerics and checkers, each with the mutation that must make it
fail."""

from __future__ import annotations

import pytest
import sympy as sp
import torch

from twostage.numerics.chen_luo import collapse as O
from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.numerics.config import ConfigError
from twostage.theory.chen_luo import collapse as TC
from twostage.theory.chen_luo import stage2 as T2
from twostage.verify.checks.chen_luo import collapse as C2
from twostage.verify.checks.chen_luo import stage2 as C1
from twostage.verify.checks.chen_luo.draws import DataDraw, SpectrumDraw
from twostage.verify.verdict import Status

HOLDS, VIOLATED = Status.HOLDS, Status.VIOLATED
DATA = DataDraw(n=6, s=3, d=3, seed=0)
SPEC = C2.PINNED_SPECTRUM
TIED = SpectrumDraw(sigma=(1.0, 1.0, 0.5, 0.2), seed=3)
STAGE2_IDS = [
    "chen-luo-2025/stage2/loss-factorisation", "chen-luo-2025/prop3/dynamics-separation",
    "chen-luo-2025/prop3/kq-linear-law", "chen-luo-2025/prop3/kq-full-vs-linear",
    "chen-luo-2025/stage2/F-structure", "chen-luo-2025/stage2/closed-form",
    "chen-luo-2025/stage2/kq-conservation",
    "chen-luo-2025/thm3/rank-collapse",
    "chen-luo-2025/stage2/collapse-limits", "chen-luo-2025/thm3/rank-le-multiplicity",
    "chen-luo-2025/stage2/collapse-rate", "chen-luo-2025/stage2/growth-rate-sigma1",
]


# ------------------------------------------------------------------ symbolic
@pytest.mark.slow
def test_symbolic_stage2_facts_and_the_erratum():
    fact = T2.prove_loss_factorisation(s=3)
    assert C1.symbolic_measurement(fact, C1.FACT_EXPECT, "s=3").status is HOLDS
    assert T2.prove_loss_factorisation(s=2)["order_of_error"] == 6  # sigmoid: no quadratic term
    # with the main-text (13) (no first 1/s) the error is O(delta^2): claiming O(delta^4) for it must fail
    claim_misprint = {"order_of_error": fact["misprint_order_of_error"]}
    assert C1.symbolic_measurement(fact, claim_misprint, "").status is VIOLATED
    assert C1.symbolic_measurement(T2.prove_dynamics_separation(), C1.SEP_EXPECT, "").status is HOLDS
    assert C1.symbolic_measurement(T2.prove_dynamics_separation(), {"outer": 1}, "").status is VIOLATED
    assert C1.symbolic_measurement(T2.prove_linear_law(), C1.LAW_EXPECT, "").status is HOLDS
    assert C1.symbolic_measurement(T2.prove_F_structure(), C1.F_EXPECT, "").status is HOLDS


@pytest.mark.slow
def test_symbolic_collapse_facts():
    assert all(TC.prove_closed_form().values())
    assert all(TC.prove_conservation().values())
    r = TC.prove_rank_le_multiplicity()
    assert r["nonzero_rows"] == {1: 1, 2: 2, 3: 3} and r["limits_rows_of_(A0+B0)/2"]
    assert all(TC.prove_collapse_rate().values())
    assert all(TC.prove_growth_rate().values())


def test_exp_series_and_orders_detect_a_wrong_claim():
    from twostage.theory.chen_luo.stage2_symbolic import DELTA, coefficients, exp_series, leading_order

    x = 3 * DELTA**2 + DELTA**3
    e = exp_series(x, DELTA, 4)
    assert coefficients(e, upto=4) == [1, 0, 3, 1, sp.Rational(9, 2)]
    assert leading_order(coefficients(e - 1, upto=4)) == 2
    assert leading_order(coefficients(e - 1 - 3 * DELTA**2, upto=4)) == 3


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


def test_observables():
    W = torch.diag(torch.tensor([2.0, 1.0, 1.0, 0.0], dtype=torch.float64))
    assert abs(float(O.stable_rank(W)) - 1.5) < 1e-15
    assert abs(float(O.effective_rank(torch.eye(5, dtype=torch.float64))) - 5) < 1e-12
    assert abs(float(O.effective_rank(torch.diag(torch.tensor([1.0, 0, 0]))))) - 1 < 1e-6


# ------------------------------------------------------------------ checkers hold; mutations fail
def test_factorisation_and_separation_hold_and_mutations_fail():
    assert C1.evaluate_factorisation(DATA).status is HOLDS
    assert C1.evaluate_factorisation(DATA, misprint=True).status is VIOLATED  # main-text (13)
    assert C1.evaluate_factorisation(DATA, expected=3.0).status is VIOLATED
    assert C1.evaluate_separation(DATA).status is HOLDS
    assert C1.evaluate_separation(DATA, orders={"outer": 1.0}).status is VIOLATED
    assert C1.evaluate_separation(DATA, orders={"query": 2.0}).status is VIOLATED


def test_linear_law_and_F_structure_hold_and_mutations_fail():
    assert C1.evaluate_linear_law(DATA).status is HOLDS
    assert C1.evaluate_linear_law(DATA, F_fn=C1.F_first_tokens).status is VIOLATED
    few = DataDraw(n=2, s=3, d=5, seed=0)
    assert C1.evaluate_F_structure(few).status is HOLDS
    assert C1.evaluate_F_structure(few, F_fn=C1.F_first_tokens).status is VIOLATED


def test_full_loss_follows_linear_law_to_order_delta2():
    small = DataDraw(n=6, s=3, d=3, seed=0, B=2)
    assert C1.evaluate_full_vs_linear(small).status is HOLDS
    transposed = lambda F, Q, K, t: S2.closed_form(F.transpose(-1, -2), Q, K, t)  # noqa: E731
    assert C1.evaluate_full_vs_linear(small, predict=transposed).status is VIOLATED


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


def test_closed_form_and_conservation_hold_and_sabotage_fails():
    assert C2.evaluate_closed_form(SPEC).status is HOLDS
    swapped = lambda F, Q, K, t: S2.closed_form(F, Q, K, t)[::-1]  # noqa: E731
    assert C2.evaluate_closed_form(SPEC, formula=swapped).status is VIOLATED
    small = DataDraw(n=3, s=3, d=3, seed=1, B=2)
    assert C2.evaluate_conservation(small).status is HOLDS
    assert C2.evaluate_conservation(small, sabotage=1e-3).status is VIOLATED


def test_rank_collapse_limits_and_multiplicity():
    for cfg in (SPEC, DATA):
        assert C2.evaluate_rank_collapse(cfg).status is HOLDS
        assert C2.evaluate_limits(cfg).status is HOLDS
    assert C2.evaluate_rank_collapse(SPEC, sabotage=C2.noisy).status is VIOLATED
    assert C2.evaluate_limits(SPEC, wrong_vector=True).status is VIOLATED
    # tied sigma_1 (k = 2): rank <= 2 holds, claiming rank 1 must fail
    assert C2.evaluate_rank_collapse(TIED, claimed_rank=2).status is HOLDS
    assert C2.evaluate_rank_collapse(TIED, claimed_rank=1).status is VIOLATED


def test_rates_hold_and_wrong_rates_fail():
    assert C2.evaluate_collapse_rate(SPEC).status is HOLDS
    assert C2.evaluate_collapse_rate(SPEC, slopes={"stable_rank_minus_1": -1.0}).status is VIOLATED
    assert C2.evaluate_collapse_rate(SPEC, slopes={"ratio": -2.0}).status is VIOLATED
    assert C2.evaluate_growth_rate(SPEC).status is HOLDS
    sigma2 = lambda F: torch.linalg.svdvals(F)[:, 1]  # noqa: E731
    assert C2.evaluate_growth_rate(SPEC, claimed=sigma2).status is VIOLATED
    assert C2.evaluate_growth_rate(SPEC, sabotage=0.05).status is VIOLATED


def test_every_stage2_claim_has_a_checker():
    from twostage.theory.claims import load_all
    from twostage.verify.checks import load_checkers

    reg, checkers = load_all(), load_checkers()
    for cid in STAGE2_IDS:
        assert reg.get(cid).paper == "chen-luo-2025"
        assert cid in checkers
    assert not reg.check_graph()


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["chen-luo-2025/thm3/rank-collapse",
                                 "chen-luo-2025/thm3/rank-le-multiplicity",
                                 "chen-luo-2025/stage2/collapse-rate"])
def test_registered_checkers_hold_under_ci(cid):
    from twostage.runs.suite import run_claim
    from twostage.theory.claims import load_all
    from twostage.verify.checks import Context
    from twostage.verify.profiles import get_profile

    v = run_claim(load_all().get(cid), Context(get_profile("ci")))
    assert v.status is HOLDS, v.worst
