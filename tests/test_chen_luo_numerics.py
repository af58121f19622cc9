"""Tests of the chen-luo-2025 stage-1 numerics: data, model and gradients, effective ODE, full flow."""

import math

import numpy as np
import pytest
import torch

from twostage.numerics.chen_luo import blowup as bl
from twostage.numerics.chen_luo import effective as eff
from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.blowup import escape_time
from twostage.numerics.chen_luo.data import DataConfig, Dataset, make_data
from twostage.numerics.chen_luo.fullflow import (
    full_invariants,
    integrate_flow,
)
from twostage.numerics.chen_luo.init import InitConfig, init_normalised, init_params
from twostage.numerics.chen_luo.model import Params, forward, grad, loss, output_last
from twostage.numerics.chen_luo.prop1 import compare_with_effective
from twostage.numerics.config import ConfigError

F64 = torch.float64


@pytest.fixture(scope="module")
def small():
    return make_data(DataConfig(n=6, s=3, d=3, seed=0))


def gaussian_state(B, d, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, d, generator=g, dtype=F64), torch.randn(B, d, d, generator=g, dtype=F64),
            torch.randn(B, d, generator=g, dtype=F64))


# ---------------------------------------------------------------- data / init configs

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


# ---------------------------------------------------------------- model and gradients

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


def test_loss_eps3_coefficient_and_gradient_match_effective_field(small):
    """Prop. 1 with the 1/n prefactor (erratum to (5)):
    L(eps theta_bar) = 1 - eps^3 (||Z||/(n s)) E + O(eps^5), and
    -grad L = eps^2 (||Z||/(n s)) grad_bar E + O(eps^4), where grad_bar E is the field (7)."""
    pb = init_normalised(InitConfig(d=3, eps=0.5, B=4, seed=3))
    Wv, W1, W2 = eff.reduced_state(pb, small.v)
    E = ob.energy(Wv, W1, W2)
    c = small.Znorm / (small.n * small.s)
    errs, gerrs = [], []
    for e in (1e-2, 5e-3):
        L, g = grad(pb.scale(e), small.X, small.y)
        errs.append(((L - 1) / e ** 3 + c * E).abs().max() / (c * E).abs().max())
        dWv, dW1, dW2 = ob.velocities(Wv, W1, W2)
        dWV = small.v[None, :, None] * dWv[:, None, :]
        pred = torch.cat([dWV.flatten(1), dW1.flatten(1), dW2], 1) * c
        got = -torch.cat([g.WV.flatten(1), g.W1.flatten(1), g.W2], 1) / e ** 2
        gerrs.append(float((got - pred).norm() / pred.norm()))
        assert (g.WQ.norm() / e ** 2) < 50 * e ** 2 * pred.norm()  # Q, K enter only at O(eps^5)
    assert float(errs[0]) < 1e-2 and math.log(errs[0] / errs[1]) / math.log(2) == pytest.approx(2, abs=0.2)
    assert gerrs[0] < 1e-2 and math.log(gerrs[0] / gerrs[1]) / math.log(2) == pytest.approx(2, abs=0.2)


# ---------------------------------------------------------------- effective ODE (7)

def test_observable_identities():
    Wv, W1, W2 = gaussian_state(6, 4, 11)
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


def test_effective_ode_conserves_invariants():
    Wv, W1, W2 = gaussian_state(3, 8, 21)
    res = bl.integrate_to_blowup(Wv, W1, W2, E_max=1e10, invariants=True, rtol=1e-11)
    assert bool(res.reached.all())
    for k, v in res.series.items():
        if k.startswith("drift_"):
            assert float(v[res.mask].max()) < 1e-10, k
    # the full form (WV, W1, W2) keeps WV - v^T Wv and WV^T WV - W1 W1^T; it agrees with full_WV
    g = torch.Generator().manual_seed(1)
    v = torch.nn.functional.normalize(torch.randn(8, dtype=F64, generator=g), dim=0)
    WV0 = torch.randn(3, 8, 8, dtype=F64, generator=g)
    Wv0 = torch.einsum("i,bij->bj", v, WV0)
    z0 = torch.cat([WV0.flatten(1), W1.flatten(1), W2], 1)
    from twostage.numerics.integrate import solve
    sol = solve(eff.rhs_full(v), z0, 0.0, 0.5 * float(res.T_lo.min()), rtol=1e-11, atol=1e-13)
    WV = sol.y_final[:, :64].reshape(3, 8, 8)
    red = solve(eff.rhs, eff.pack(Wv0, W1, W2), 0.0, 0.5 * float(res.T_lo.min()), rtol=1e-11, atol=1e-13)
    Wv_t = eff.unpack(red.y_final, 8)[0]
    assert torch.allclose(WV, eff.full_WV(WV0, v, Wv_t, Wv0), rtol=1e-9, atol=1e-10)
    W1t, W2t = sol.y_final[:, 64:128].reshape(3, 8, 8), sol.y_final[:, 128:]
    now = ob.invariants(Wv_t, W1t, W2t, WV=WV, v=v)
    start = ob.invariants(Wv0, W1, W2, WV=WV0, v=v)
    drift = ob.invariant_drift(now, start)
    assert float(drift["gramV"].max()) < 1e-9 and float(drift["perp"].max()) < 1e-9


def test_stage1_blowup_like_appendix_c2():
    """E(0) < 0 instance at d_m = 16: E turns positive, is non-decreasing, blows up; d/dt E^(-1/3) -> -1;
    bound (11) from the first positive time holds; T* is bracketed by [t_end, t_end + E_end^(-1/3)]."""
    for seed in range(100):
        Wv, W1, W2 = gaussian_state(1, 16, seed)
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
    Wv, W1, W2 = gaussian_state(3, 5, 8)
    batched = bl.integrate_to_blowup(Wv, W1, W2, E_max=1e8)
    for b in range(3):
        one = bl.integrate_to_blowup(Wv[b:b + 1], W1[b:b + 1], W2[b:b + 1], E_max=1e8)
        assert float(one.T_est[0]) == pytest.approx(float(batched.T_est[b]), rel=1e-12)
        assert int(one.solution.n_accepted[0]) == int(batched.solution.n_accepted[b])


# ---------------------------------------------------------------- full gradient flow (Prop. 1)

def test_prop1_agreement_scales_like_eps_squared(small):
    pb = init_normalised(InitConfig(d=3, eps=0.01, B=2, seed=1))
    r = compare_with_effective(small, pb, [1e-2, 3e-3], fractions=(0.2, 0.4))
    slope = torch.log(r["distance"][0] / r["distance"][1]) / math.log(1e-2 / 3e-3)
    assert ((slope > 1.8) & (slope < 2.2)).all(), slope
    assert float(r["distance"].max()) < 1e-3
    qk = torch.log(r["rel_QK"][0] / r["rel_QK"][1]) / math.log(1e-2 / 3e-3)
    assert ((qk > 1.8) & (qk < 2.2)).all(), qk  # P2: W_Q, W_K move by O(eps^2) relative


def test_escape_time_approaches_effective_blowup(small):
    pb = init_normalised(InitConfig(d=3, eps=0.01, B=1, seed=1))
    Tstar = bl.blowup_time(*eff.reduced_state(pb, small.v))
    gaps = [float(Tstar - escape_time(pb, small, e)["tbar_esc"]) for e in (4e-3, 1e-3)]
    assert 0 < gaps[1] < gaps[0]
    assert math.log(gaps[0] / gaps[1]) / math.log(4) == pytest.approx(1.0, abs=0.25)  # gap ~ eps


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


# ---------------------------------------------------------------- symbolic (theory) vs autograd consistency

def _autograd_E(Wv, W1, W2, v=None):
    """torch.autograd gradient of E = Wv W1 W2 (or of v WV W1 W2 when ``v`` is given and Wv is WV)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in (Wv, W1, W2)]
    row = leaves[0] if v is None else torch.einsum("i,bij->bj", v, leaves[0])
    E = ob.energy(row, leaves[1], leaves[2])
    return torch.autograd.grad(E.sum(), leaves)


def test_theory_rhs_matches_autograd_and_torch_field():
    """theory/chen_luo/effective.py lambdifies the symbolic gradient of E (8); it must equal autograd of
    E = Wv W1 W2 and the batched torch field (7), and its Edot (16) the torch identity."""
    th = pytest.importorskip("twostage.theory.chen_luo.effective")
    for d, seed in ((1, 0), (3, 1), (4, 2)):
        Wv, W1, W2 = gaussian_state(5, d, seed)
        sym = [torch.as_tensor(a) for a in th.rhs_numpy(d)(Wv.numpy(), W1.numpy(), W2.numpy())]
        auto = _autograd_E(Wv, W1, W2)
        mine = eff.unpack(eff.field(eff.pack(Wv, W1, W2)), d)
        for s_, a_, m_ in zip(sym, auto, mine):
            assert torch.allclose(s_, a_, rtol=1e-13, atol=1e-14)
            assert torch.allclose(m_, a_, rtol=1e-13, atol=1e-14)
        E_sym = th.energy_numpy(d)(Wv.numpy(), W1.numpy(), W2.numpy())
        assert np.allclose(E_sym, ob.energy(Wv, W1, W2).numpy(), rtol=1e-13)
        assert np.allclose(th.edot_numpy(d)(Wv.numpy(), W1.numpy(), W2.numpy()),
                           ob.energy_rate(Wv, W1, W2).numpy(), rtol=1e-12)


def test_theory_full_rhs_matches_autograd_and_rhs_full():
    """Symbolic gradient of v WV W1 W2 (v on the unit sphere, stereographic) vs autograd and rhs_full."""
    import sympy as sp

    th = pytest.importorskip("twostage.theory.chen_luo.effective")
    d = 3
    WVs, W1s, W2s = th.full_state(d)
    u = sorted(th.unit_row(d).free_symbols, key=str)
    args = list(u) + list(WVs) + list(W1s) + list(W2s)
    f = sp.lambdify(args, [list(m) for m in th.full_rhs(d)] + [list(th.unit_row(d))], modules="math")
    g = torch.Generator().manual_seed(9)
    for _ in range(3):
        uu = torch.randn(d - 1, generator=g, dtype=F64).tolist()
        WV, W1, W2 = torch.randn(d, d, generator=g, dtype=F64), torch.randn(d, d, generator=g, dtype=F64), \
            torch.randn(d, generator=g, dtype=F64)
        *grads, v = f(*uu, *WV.flatten().tolist(), *W1.flatten().tolist(), *W2.tolist())
        v = torch.tensor(v, dtype=F64)
        sym = [torch.tensor(x, dtype=F64) for x in grads]
        auto = _autograd_E(WV[None], W1[None], W2[None], v=v)
        z = torch.cat([WV.flatten(), W1.flatten(), W2])[None]
        mine = eff.rhs_full(v)(torch.zeros(1, dtype=F64), z, torch.arange(1))[0]
        auto = torch.cat([a[0].flatten() for a in auto])
        assert torch.allclose(auto, torch.cat(sym), rtol=1e-12, atol=1e-13)
        assert torch.allclose(mine, torch.cat(sym), rtol=1e-12, atol=1e-13)


def test_theory_eps3_loss_gradient_matches_full_model_autograd():
    """grad L_3 (SymPy series of the exact loss, theory/chen_luo/model.py) vs the full torch model:
    grad_theta L(eps theta_bar) / eps^2 -> grad_bar L_3 with an O(eps^2) error, and
    -(n s/||Z||) grad L_3 = autograd of v WV W1 W2 (eqs. (6)-(7))."""
    import sympy as sp

    tm = pytest.importorskip("twostage.theory.chen_luo.model")
    n, s, d = 2, 2, 2
    inst = tm.instance(n, s, d)
    syms = [w for ws in inst.params().values() for w in ws]
    gL3 = sp.lambdify(inst.symbols(), list(tm.expansion_gradient(inst, 3, syms)), modules="math")
    ds = make_data(DataConfig(n, s, d, seed=3))
    pb = init_normalised(InitConfig(d=d, eps=0.5, B=1, seed=4))
    vals = ds.X.flatten().tolist() + ds.y.tolist() + pb.flat()[0].tolist()
    sym = torch.tensor(gL3(*vals), dtype=F64)
    errs = []
    for e in (1e-2, 1e-3):
        _, g = grad(pb.scale(e), ds.X, ds.y)
        errs.append(float((g.flat()[0] / e ** 2 - sym).norm() / sym.norm()))
    assert errs[1] < 1e-4 and math.log10(errs[0] / errs[1]) == pytest.approx(2, abs=0.2), errs
    auto = _autograd_E(pb.WV, pb.W1, pb.W2, v=ds.v)
    rescaled = -(n * s / ds.Znorm) * sym
    qk = 2 * d * d
    assert torch.allclose(rescaled[:qk], torch.zeros(qk, dtype=F64), atol=1e-13)
    assert torch.allclose(rescaled[qk:], torch.cat([a[0].flatten() for a in auto]), rtol=1e-12, atol=1e-13)
