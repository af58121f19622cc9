"""The fused full-model gradient of twostage/bench/fusion.py equals the hand-derived one to rounding, and the
agreement gate that guards its timings catches a wrong fast path (issue 14 item 4)."""

import math

import pytest
import torch

from twostage.bench import fusion
from twostage.numerics.chen_luo.backprop import grad_exact
from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import grad_autograd


@pytest.fixture(scope="module")
def problem():
    ds = make_data(DataConfig(6, 4, 5, seed=3))
    return init_params(InitConfig(d=5, eps=0.4, B=7, seed=4)), ds.X, ds.y


def test_fused_gradient_equals_the_hand_derived_one_to_rounding(problem):
    p, X, y = problem
    assert fusion.agreement(fusion.grad_fused, p, X, y) < 1e-13
    L, g = fusion.grad_fused(p, X, y)
    La, ga = grad_autograd(p, X, y)
    assert float((L - La).abs().max()) < 1e-15
    for u, v in zip(g, ga):
        assert u.shape == v.shape and float((u - v).abs().max() / v.abs().max()) < 1e-13


@pytest.mark.parametrize("sabotage", ["scaled", "transposed", "nan"])
def test_agreement_gate_catches_a_wrong_fast_path(problem, sabotage):
    """What measure_grad checks before timing a variant: a gradient off by 1e-9, a transposed block or a NaN
    fails the 1e-12 gate."""
    p, X, y = problem

    def wrong(pp, XX, yy):
        L, g = fusion.grad_fused(pp, XX, yy)
        if sabotage == "scaled":
            return L, g._replace(W1=g.W1 * (1 + 1e-9))
        if sabotage == "transposed":
            return L, g._replace(WK=g.WK.transpose(-1, -2))
        return L.clone().fill_(math.nan), g

    err = fusion.agreement(wrong, p, X, y)
    assert not err < 1e-12


def test_measure_grad_reports_its_structure():
    g = fusion.measure_grad("cpu", sizes=(8, 1), compile=False, min_time=0.001, problem=(6, 4, 5, 8))
    assert list(g["seconds"]) == ["eager"] and len(g["seconds"]["eager"]) == 2
    assert g["agreement"]["eager"] == 0


def test_measure_grad_does_not_time_a_wrong_variant():
    wrong = lambda p, X, y: (lambda L, g: (L, g._replace(W2=2 * g.W2)))(*grad_exact(p, X, y))
    g = fusion.measure_grad("cpu", sizes=(4,), min_time=0.001, problem=(6, 4, 5, 4),
                            variants={"eager": grad_exact, "wrong": wrong})
    assert list(g["seconds"]) == ["eager"] and g["agreement"]["wrong"] > 0.1


def test_flow_variants_bucketing_keeps_each_elements_result():
    """Bucketed by step count, every element takes its own steps: the final states equal the one-batch
    run's to rounding, and the iterations add up over the buckets (at least the one batch's count)."""
    f = fusion.flow_variants("cpu", t1=0.5, problem=(6, 4, 5, 8), buckets=3, repeats=1)
    assert list(f["variants"]) == ["eager", "bucketed_3"]
    eager, buck = f["variants"]["eager"], f["variants"]["bucketed_3"]
    assert eager["agreement"] == 0 and eager["speedup"] == 1 and buck["agreement"] < 1e-12
    lo, med, hi = f["accepted_min_median_max"]
    assert 1 <= lo <= med <= hi and hi <= eager["iterations"] <= buck["iterations"]
    # every iteration evaluates the gradient at the running elements: 6 stages (first same as last) + 2 at
    # the start (f(y0) and the initial-step probe)
    assert f["calls"] == 6 * eager["iterations"] + 2 and f["element_grads"] >= f["calls"]
    assert buck["seconds"] > 0 and buck["speedup"] > 0


def test_flow_variants_gate_a_wrong_gradient():
    """A gradient 1% off changes the flow's final states beyond FLOW_GATE: reported, not timed."""
    def off(p, X, y):
        L, g = grad_exact(p, X, y)
        return L, g._replace(WV=g.WV * 1.01)

    f = fusion.flow_variants("cpu", t1=0.5, problem=(6, 4, 5, 4), variants={"eager": grad_exact, "off": off},
                             buckets=1, repeats=1)
    assert "seconds" not in f["variants"]["off"] and f["variants"]["off"]["agreement"] >= fusion.FLOW_GATE
    assert "seconds" in f["variants"]["bucketed_1"]


def test_hybrid_sends_small_batches_to_the_small_path(problem):
    p, X, y = problem  # B = 7 <= SMALL
    calls = []
    small = lambda pp, XX, yy: calls.append(pp.W2.shape[0]) or grad_exact(pp, XX, yy)
    fusion._hybrid(small)(p, X, y)
    big = type(p)(*(t.repeat(3, *([1] * (t.dim() - 1))) for t in p))  # 21 > SMALL
    fusion._hybrid(small)(big, X, y)
    assert calls == [7]


def test_fused_gradient_runs_in_float32_like_grad_exact(problem):
    p, X, y = problem
    p32 = type(p)(*(t.float() for t in p))
    L, g = fusion.grad_fused(p32, X, y)
    Lr, gr = grad_exact(p32, X, y)
    assert L.dtype == torch.float32 and float((L - Lr).abs().max()) < 1e-5
