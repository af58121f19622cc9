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


def test_measure_grad_and_flow_calls_report_their_structure():
    small = (6, 4, 5, 8)
    g = fusion.measure_grad("cpu", sizes=(8, 1), compile=False, min_time=0.001, problem=small)
    assert list(g["seconds"]) == ["eager"] and len(g["seconds"]["eager"]) == 2
    assert g["agreement"]["eager"] == 0
    fc = fusion.flow_calls("cpu", t1=0.5, problem=small)
    assert fc["calls"] >= 7 and 0 < fc["grad_seconds"] <= fc["seconds"]
    lo, med, hi = fc["accepted_min_median_max"]
    assert 1 <= lo <= med <= hi and fc["iterations"] >= hi
    # every iteration evaluates the gradient at the running elements: 6 stages (first same as last) + 2 at
    # the start (f(y0) and the initial-step probe)
    assert fc["calls"] == 6 * fc["iterations"] + 2


def test_fused_gradient_runs_in_float32_like_grad_exact(problem):
    p, X, y = problem
    p32 = type(p)(*(t.float() for t in p))
    L, g = fusion.grad_fused(p32, X, y)
    Lr, gr = grad_exact(p32, X, y)
    assert L.dtype == torch.float32 and float((L - Lr).abs().max()) < 1e-5
