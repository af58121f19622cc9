"""gong-2025 reconstructed setting: SymPy-derived updates vs autograd, derived claims, and mutation tests."""

import torch

from twostage.numerics.gong.setting import GongConfig, autograd_gradients, gradients, init_params, sample
from twostage.verify.checks.gong import earlier as ge
from twostage.verify.checks.gong import setting as gs
from twostage.verify.verdict import Status


def test_sympy_updates_match_autograd_float64():
    cfg = GongConfig(d_p=5, d_q=3, L=7, n=11, sigma0=0.5)
    g = torch.Generator().manual_seed(3)
    p, q, y = sample(cfg, 4, generator=g)
    params = init_params(cfg, 4, generator=g)
    for a, b in zip(gradients(params, p, q, y), autograd_gradients(params, p, q, y)):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    assert gs.evaluate_updates(cfg).status is Status.HOLDS


def test_updates_mutation_wrong_sign_is_violated():
    def wrong(params, p, q, y):
        gP, gQ, gb = gradients(params, p, q, y)
        return gP, -gQ, gb

    cfg = GongConfig(d_p=3, d_q=3, L=4, n=6, sigma0=1.0)
    assert gs.evaluate_updates(cfg, grad_fn=wrong).status is Status.VIOLATED


def test_init_gradient_holds_and_mutation():
    cfg = GongConfig(d_p=3, d_q=3, L=6, gamma0=1.0)
    assert gs.evaluate_init_gradient(cfg, 3000).status is Status.HOLDS
    # mutation: drop the sigma sqrt(2/pi) part of m1 (coefficient -(1/4) gamma0^2)
    assert gs.evaluate_init_gradient(cfg, 3000, theory_p=-0.25).status is Status.VIOLATED


def test_stage1_time_bound_and_mutation():
    cfg = GongConfig(d_p=6, d_q=2, L=12, n=48, gamma0=1.0, eta1=0.03)
    assert gs.evaluate_stage1_time(cfg, 4, 0.3).status is Status.HOLDS
    assert gs.evaluate_stage1_time(cfg, 4, 0.3, estimate=10_000.0).status is Status.VIOLATED


def test_stage1_scaling_and_wrong_exponent():
    cfg = GongConfig(d_p=6, d_q=2, L=12, n=48, gamma0=1.0, eta1=0.2)
    assert gs.evaluate_scaling(cfg, 2).status is Status.HOLDS
    assert gs.evaluate_scaling(cfg, 2, expected=-2.0).status is Status.VIOLATED


def test_k1_bound_is_reported_violated_with_region():
    assert ge.evaluate_k1((6.0, 3.0, 0.0)).status is Status.VIOLATED
    # where the quoted bound is large (small L) it is not contradicted
    assert ge.evaluate_k1((2.0, 1.0, 0.0)).status is Status.HOLDS
    # mutation of the other direction: a bound that never drops below log 2 + x/2 + 1 would hold everywhere
    assert ge.evaluate_k1((6.0, 3.0, 0.0), bound_fn=lambda d, a, e: 10.0).status is Status.HOLDS
