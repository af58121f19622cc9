"""The hand-derived gradient of chen-luo-2025 (3) (numerics/chen_luo/backprop.py) against autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from twostage.numerics.chen_luo import backprop
from twostage.numerics.chen_luo.backprop import grad_exact
from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import grad_autograd


def _max_rel_err(p, ds):
    L, g = grad_exact(p, ds.X, ds.y)
    La, ga = grad_autograd(p, ds.X, ds.y)
    scale = max(float(t.abs().max()) for t in ga)
    return (max(float((u - v).abs().max()) for u, v in zip(g, ga)) / scale,
            float(((L - La) / La).abs().max()))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 7), s=st.integers(1, 6), d=st.integers(1, 6), B=st.integers(1, 5),
       eps=st.sampled_from([1e-3, 0.1, 0.5, 0.9]), k=st.sampled_from([1.0, 4.0]), seed=st.integers(0, 1000))
def test_exact_gradient_equals_autograd(n, s, d, B, eps, k, seed):
    """Small and O(1) weights (``k`` scales the init beyond the eps < 1 of Ass. 1)."""
    ds = make_data(DataConfig(n, s, d, seed=seed))
    p = init_params(InitConfig(d=d, eps=eps, B=B, seed=seed + 1)).scale(k)
    g_err, l_err = _max_rel_err(p, ds)
    assert g_err < 1e-12 and l_err < 1e-13


@pytest.mark.parametrize("sabotage", ["z_off_by_1e-3", "scores_off_by_1e-3"])
def test_comparison_detects_a_wrong_gradient(monkeypatch, sabotage):
    """Mutation test: the autograd comparison fails when one factor of the derivation is off by 1e-3."""
    ds = make_data(DataConfig(5, 4, 3, seed=3))
    p = init_params(InitConfig(d=3, eps=0.8, B=2, seed=4))
    assert _max_rel_err(p, ds)[0] < 1e-12
    if sabotage == "z_off_by_1e-3":   # second weighted-rows call (z of dWQ, dWK) slightly wrong
        real = backprop._weighted_rows
        calls = []

        def wr(w, X):
            calls.append(1)
            return real(w if len(calls) % 2 else w * 1.001, X)

        monkeypatch.setattr(backprop, "_weighted_rows", wr)
    else:
        monkeypatch.setattr(backprop, "_rows_dot_data",
                            lambda X, v: torch.bmm(X, v.permute(1, 2, 0)) * 0.999)
    assert _max_rel_err(p, ds)[0] > 1e-6


def test_float32_and_grad_dispatch():
    from twostage.numerics.chen_luo.model import Params, grad

    ds = make_data(DataConfig(4, 3, 2, seed=0))
    p = init_params(InitConfig(d=2, eps=0.5, B=3, seed=0))
    p32 = Params(*(t.float() for t in p))
    L, g = grad_exact(p32, ds.X, ds.y)
    assert L.dtype == torch.float32 and all(t.dtype == torch.float32 for t in g)
    # per-element data (B, n, s, d) goes to autograd (copies of the shared data give the same gradient)
    Xb = ds.X.expand(3, *ds.X.shape)
    _, gb = grad(p, Xb, ds.y)
    _, gs = grad(p, ds.X, ds.y)
    assert all(torch.allclose(u, v, rtol=1e-12, atol=1e-15) for u, v in zip(gb, gs))


def test_tanh_via_expm1_matches_torch_tanh():
    u = torch.randn(20_000, dtype=torch.float64) * torch.logspace(-300, 3, 20_000, dtype=torch.float64)
    u = torch.cat([u, torch.tensor([0.0, -0.0, 20.0, -20.0, 1e308, -1e308], dtype=torch.float64)])
    ref = torch.tanh(u)
    err = ((backprop._tanh(u) - ref).abs() / ref.abs().clamp_min(1e-300)).max()
    assert float(err) < 4e-16 * 4


@pytest.mark.parametrize("n,s,d,B", [(16, 8, 8, 4), (3, 5, 2, 2), (1, 1, 1, 1)])
def test_flop_model_equals_the_matmul_flops_torch_dispatches(n, s, d, B):
    """``flops_per_element`` (the bench's arithmetic limit) is exactly what the products cost."""
    from torch.utils.flop_counter import FlopCounterMode

    from twostage.numerics.chen_luo.backprop import flops_per_element

    ds = make_data(DataConfig(n, s, d, seed=0))
    p = init_params(InitConfig(d=d, eps=0.5, B=B, seed=1))
    with FlopCounterMode(display=False) as fc:
        grad_exact(p, ds.X, ds.y)
    assert fc.get_total_flops() == B * flops_per_element(n, s, d)
