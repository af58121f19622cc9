"""chen-luo-2025 model numerics: configurations, data, the one-layer model and its gradients, the full
gradient flow, observables (Def. 3, eqs. (1)-(4))."""

import math

import numpy as np
import pytest
import torch

from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.blowup import gaussian_state
from twostage.numerics.chen_luo.data import DataConfig, Dataset, make_data
from twostage.numerics.chen_luo.fullflow import full_invariants, integrate_flow
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import Params, forward, grad, loss, output_last
from twostage.numerics.config import ConfigError

F64 = torch.float64


def test_configs_validate_assumptions():
    X = torch.ones(2, 2, 3, dtype=F64)
    with pytest.raises(ConfigError, match="chen-luo-2025/ass/Z-nonzero"):
        Dataset.from_tensors(X, torch.tensor([1.0, -1.0], dtype=F64))  # Z = X_1 - X_2 = 0
    with pytest.raises(ConfigError, match="labels"):
        Dataset.from_tensors(X, torch.tensor([1.0, 0.5], dtype=F64))
    with pytest.raises(ConfigError, match="eps-small"):
        InitConfig(d=3, eps=0.0)
    with pytest.raises(ConfigError, match="d must be"):
        InitConfig(d=0, eps=0.1)
    with pytest.raises(ConfigError):
        DataConfig(n=0, s=1, d=1)


def test_data_quantities(small):
    Z = sum(small.y[i] * small.X[i].sum(0) for i in range(small.n))
    assert torch.allclose(small.Z, Z) and abs(small.Znorm - float(Z.norm())) < 1e-14
    assert torch.allclose(small.v, Z / Z.norm())
    assert small.tbar(10.0, 0.01) == pytest.approx(0.01 * small.Znorm * 10.0 / 18)
    # same seed, same data; float32 on request
    assert torch.equal(make_data(DataConfig(6, 3, 3, 0)).X, small.X)
    assert make_data(DataConfig(6, 3, 3, 0), dtype=torch.float32).X.dtype == torch.float32
    p = init_params(InitConfig(d=3, eps=0.01, B=2000, seed=0))
    assert abs(float(p.W1.std()) - 0.01) < 5e-4  # entries N(0, eps^2), eq. (4)


def _numpy_loss(X, y, WQ, WK, WV, W1, W2):
    """Independent single-element implementation of Def. 3 (1)-(3) with row tokens."""
    n, s, d = X.shape
    out = []
    for i in range(n):
        S = X[i] @ WQ @ WK.T @ X[i].T / math.sqrt(d)
        A = np.exp(S - S.max(1, keepdims=True))
        A /= A.sum(1, keepdims=True)
        f = np.tanh(A @ X[i] @ WV @ W1) @ W2
        out.append(np.exp(-y[i] * f[-1]))
    return float(np.mean(out))


def test_model_matches_independent_implementation(small):
    p = init_params(InitConfig(d=3, eps=0.7, B=3, seed=2))
    L = loss(p, small.X, small.y)
    for b in range(3):
        ref = _numpy_loss(small.X.numpy(), small.y.numpy(), *(t[b].numpy() for t in p))
        assert abs(float(L[b]) - ref) < 1e-13
    assert torch.allclose(forward(p, small.X)[..., -1], output_last(p, small.X), rtol=1e-13, atol=1e-15)


def test_autograd_gradient_matches_complex_step_and_finite_differences(small):
    """Every partial derivative by the complex-step method (one perturbed entry per batch element)."""
    p = init_params(InitConfig(d=3, eps=0.6, B=1, seed=5))
    _, g = grad(p, small.X, small.y)
    z = p.flat()[0]
    P, h = z.numel(), 1e-30
    zc = z.to(torch.complex128).repeat(P, 1) + 1j * h * torch.eye(P, dtype=torch.complex128)
    Lc = loss(Params.unflat(zc, 3), small.X.to(torch.complex128), small.y.to(torch.complex128))
    cs = Lc.imag / h
    assert torch.allclose(g.flat()[0], cs, rtol=1e-12, atol=1e-15)
    # central finite differences (cross-check with an O(h^2) method)
    hf = 1e-6
    zp = z.repeat(P, 1) + hf * torch.eye(P, dtype=F64)
    zm = z.repeat(P, 1) - hf * torch.eye(P, dtype=F64)
    Lf = lambda zz: loss(Params.unflat(zz, 3), small.X, small.y)
    fd = (Lf(zp) - Lf(zm)) / (2 * hf)
    assert torch.allclose(g.flat()[0], fd, rtol=1e-6, atol=1e-9)


def test_batched_gradient_equals_per_element_loop(small):
    p = init_params(InitConfig(d=3, eps=0.3, B=5, seed=7))
    L, g = grad(p, small.X, small.y)
    for b in range(5):
        Lb, gb = grad(p.index(slice(b, b + 1)), small.X, small.y)
        assert torch.allclose(Lb[0], L[b], rtol=1e-14)
        for u, w in zip(gb, g):
            assert torch.allclose(u[0], w[b], rtol=1e-12, atol=1e-18)


def test_observable_identities():
    Wv, W1, W2 = gaussian_state(4, 6, 11)
    dWv, dW1, dW2 = ob.velocities(Wv, W1, W2)
    E = ob.energy(Wv, W1, W2)
    # (16): Edot equals the chain rule grad E . field, and E = <dWv, Wv> = <dW2, W2>
    chain = (dWv * dWv).sum(1) + (dW1 * dW1).sum((1, 2)) + (dW2 * dW2).sum(1)
    assert torch.allclose(ob.energy_rate(Wv, W1, W2), chain, rtol=1e-13)
    assert torch.allclose((dWv * Wv).sum(1), E) and torch.allclose((dW2 * W2).sum(1), E)
    D1, D2 = ob.degeneracy(Wv, W1, W2)
    a, c = Wv.pow(2).sum(1), W2.pow(2).sum(1)
    assert torch.allclose(D2, dWv.pow(2).sum(1) - dW2.pow(2).sum(1) + torch.minimum(a, c) * (a - c))
    assert torch.allclose(D1, a - c)
    # a rank-one aligned state satisfies Assumption 1 everywhere
    u = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=F64)[None]
    a1, a2 = ob.assumption1_fractions(u, u[:, :, None] * u[:, None, :], u)
    assert float(a1) == 1.0 and float(a2) == 1.0
    WV = torch.randn(6, 4, 4, dtype=F64)
    v = torch.nn.functional.normalize(torch.randn(4, dtype=F64), dim=0)
    cos = ob.column_cosines(WV, v)
    assert torch.allclose(cos[0, 2], (v @ WV[0, :, 2]) / WV[0, :, 2].norm())


def test_full_flow_conservation_and_batching(small):
    p0 = init_params(InitConfig(d=3, eps=0.3, B=3, seed=4))
    sol = integrate_flow(p0, small, 5.0, rtol=1e-10)
    pT = Params.unflat(sol.y_final, 3)
    for k, m0 in full_invariants(p0).items():
        assert float((full_invariants(pT)[k] - m0).abs().max()) < 1e-8 * float(m0.abs().max()), k
    L = sol.records["loss"]
    assert (torch.diff(L[:, :int(sol.mask.sum(1).min())], dim=1) <= 1e-15).all()  # loss decreases
    one = integrate_flow(p0.index(slice(1, 2)), small, 5.0, rtol=1e-10)
    assert torch.allclose(one.y_final[0], sol.y_final[1], rtol=1e-12, atol=1e-15)


