"""Tests of the batched adaptive Dormand-Prince integrator (numerics/integrate/)."""

import math

import numpy as np
import pytest
import torch

from twostage.numerics.integrate import IntegrationError, Outcome, solve, time_reparametrised

F64 = torch.float64


def riccati(t, y, idx):
    return y ** 2


def test_exponential_accuracy_and_statuses():
    y0 = torch.tensor([[1.0], [2.0], [-3.0]], dtype=F64)
    sol = solve(lambda t, y, i: -y, y0, 0.0, 2.0, rtol=1e-10, atol=1e-14)
    assert [Outcome(int(s)) for s in sol.status] == [Outcome.DONE] * 3
    assert torch.equal(sol.t_final, torch.full((3,), 2.0, dtype=F64))
    exact = y0[:, 0] * math.exp(-2.0)
    assert torch.allclose(sol.y_final[:, 0], exact, rtol=1e-9, atol=0)
    # padded records: initial state is record 0, every accepted step recorded, NaN padding beyond mask
    assert torch.equal(sol.mask.sum(1), sol.n_accepted + 1)
    assert torch.isnan(sol.t[~sol.mask]).all()
    assert torch.allclose(sol.last("y")[:, 0], sol.y_final[:, 0])


ROT = torch.tensor([[-0.5, 2.0], [-2.0, -0.5]], dtype=F64)


def _fixed_step_error(problem, h):
    """Global error at the end with fixed steps h (huge tolerances: no step is ever rejected)."""
    if problem == "linear":  # y' = A y, exact y(T) = expm(A T) y0 with A = -0.5 I + 2 J
        f, y0, T = (lambda t, y, i: y @ ROT.T), torch.tensor([[1.0, 0.5]], dtype=F64), 2.0
        c, s_ = math.cos(2 * T), math.sin(2 * T)
        exact = math.exp(-0.5 * T) * torch.tensor([c * 1.0 + s_ * 0.5, -s_ * 1.0 + c * 0.5], dtype=F64)
    else:  # non-autonomous y' = -t y^2, y(0) = 1, exact y = 1 / (1 + t^2 / 2)
        f, y0, T = (lambda t, y, i: -t[:, None] * y ** 2), torch.ones(1, 1, dtype=F64), 2.0
        exact = torch.tensor([1.0 / 3.0], dtype=F64)
    sol = solve(f, y0, 0.0, T, rtol=1e6, atol=1e6, h0=h, h_max=h)
    assert int(sol.n_rejected[0]) == 0
    assert int(sol.n_accepted[0]) == round(T / h)
    return float((sol.y_final[0] - exact).abs().max())


@pytest.mark.parametrize("problem", ["linear", "nonautonomous"])
def test_empirical_order_is_five(problem):
    """diffrax-style order test: fitted log-log slope of the global error against the step."""
    hs = 0.5 ** np.arange(3, 7)  # dyadic steps land exactly on T
    errs = np.array([_fixed_step_error(problem, h) for h in hs])
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert 4.7 < slope < 5.3, (slope, errs)


def test_dense_output_order_at_least_four():
    hs = 0.5 ** np.arange(5, 8)
    te = torch.tensor([0.0137, 0.2113, 0.3571], dtype=F64)  # never on a step boundary
    errs = []
    for h in hs:
        sol = solve(riccati, torch.ones(1, 1, dtype=F64), 0.0, 0.4, rtol=1e6, atol=1e6, h0=h, h_max=h,
                    t_eval=te)
        errs.append(float((sol.y_eval[0, :, 0] - 1 / (1 - te)).abs().max()))
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert slope > 3.7, (slope, errs)


def test_adaptive_error_tracks_tolerance():
    """Error control: the global error falls roughly in proportion to the tolerance."""
    tols = np.array([1e-6, 1e-8, 1e-10])
    errs = []
    for tol in tols:
        sol = solve(riccati, torch.ones(1, 1, dtype=F64), 0.0, 0.9, rtol=tol, atol=tol * 1e-3)
        errs.append(abs(float(sol.y_final[0, 0]) - 10.0) / 10.0)
    slope = np.polyfit(np.log(tols), np.log(errs), 1)[0]
    assert 0.6 < slope < 1.4, (slope, errs)
    assert errs[-1] < 1e-8


def test_riccati_blowup_time_direct_and_reparametrised():
    """x' = x^2 blows up at T* = 1/x0; stop at x >= 1e8 (event located on the interpolant)."""
    x0 = torch.tensor([[0.5], [1.0], [4.0]], dtype=F64)
    Tstar = 1 / x0[:, 0]
    sol = solve(riccati, x0, 0.0, rtol=1e-11, atol=1e-12, event=lambda t, y, i: y[:, 0] - 1e8)
    assert (sol.status == Outcome.EVENT).all()
    assert torch.allclose(sol.y_final[:, 0], torch.full((3,), 1e8, dtype=F64), rtol=1e-12)
    # exact solution: t at which x = 1e8 is T* - 1e-8
    assert torch.allclose(sol.t_final, Tstar - 1e-8, rtol=0, atol=1e-9)
    # reparametrised time: t carried as the last state component, no step-size collapse
    rhs = time_reparametrised(lambda th, idx: th ** 2)
    z0 = torch.cat([x0, torch.zeros_like(x0)], 1)
    rs = solve(rhs, z0, 0.0, rtol=1e-11, atol=1e-12, event=lambda tau, z, i: z[:, 0] - 1e10)
    assert (rs.status == Outcome.EVENT).all()
    t_end, x_end = rs.y_final[:, 1], rs.y_final[:, 0]
    assert (t_end < Tstar).all()
    assert torch.allclose(t_end + 1 / x_end, Tstar, rtol=1e-9, atol=0)
    assert (rs.n_accepted < 2000).all()


def test_blowup_without_event_is_reported_not_silent():
    y0 = torch.tensor([[1.0], [-1.0]], dtype=F64)  # element 0 blows up at t = 1; element 1 decays
    with pytest.raises(IntegrationError, match="element 0"):
        solve(riccati, y0, 0.0, 3.0, rtol=1e-3, atol=1e-6)
    sol = solve(riccati, y0, 0.0, 3.0, rtol=1e-3, atol=1e-6, on_failure="mark")
    assert Outcome(int(sol.status[0])) in (Outcome.NONFINITE, Outcome.STEP_UNDERFLOW)
    assert Outcome(int(sol.status[1])) == Outcome.DONE
    assert torch.isfinite(sol.y_final).all() and torch.isfinite(sol.t[sol.mask]).all()
    fails = sol.failures()
    assert [f["element"] for f in fails] == [0]
    assert abs(fails[0]["t"] - 1.0) < 1e-3 and fails[0]["step"] > 0


def test_nonfinite_rhs_names_element_and_time():
    """A right-hand side that returns NaN beyond y = 2: the element stops there with NONFINITE."""

    def f(t, y, idx):
        out = torch.ones_like(y)
        return torch.where(y > 2.0, torch.full_like(y, math.nan), out)

    y0 = torch.tensor([[0.0], [-10.0], [1.0]], dtype=F64)
    sol = solve(f, y0, 0.0, 5.0, rtol=1e-9, atol=1e-12, on_failure="mark")
    assert [Outcome(int(s)).name for s in sol.status] == ["NONFINITE", "DONE", "NONFINITE"]
    assert abs(float(sol.fail_time[0]) - 2.0) < 1e-6 and abs(float(sol.fail_time[2]) - 1.0) < 1e-6
    assert (sol.y_final[[0, 2], 0] <= 2.0).all()
    with pytest.raises(IntegrationError, match="element 0: NONFINITE.*element 2: NONFINITE"):
        sol.raise_on_failure()
    bad_start = torch.tensor([[math.inf]], dtype=F64)
    with pytest.raises(IntegrationError, match="accepted step 0"):
        solve(lambda t, y, i: y, bad_start, 0.0, 1.0)


def test_event_location_dense_output_and_per_element_t1():
    y0 = torch.ones(2, 1, dtype=F64)
    te = torch.linspace(0, 2, 9, dtype=F64)
    sol = solve(lambda t, y, i: -y, y0, 0.0, torch.tensor([2.0, 1.0], dtype=F64), rtol=1e-10, atol=1e-13,
                t_eval=te, event=lambda t, y, i: 0.3 - y[:, 0])
    assert Outcome(int(sol.status[0])) == Outcome.EVENT and Outcome(int(sol.status[1])) == Outcome.DONE
    assert abs(float(sol.t_final[0]) - math.log(1 / 0.3)) < 1e-9
    assert float(sol.t_final[1]) == 1.0
    ok = sol.eval_mask
    assert ok[0].tolist() == (te <= math.log(1 / 0.3)).tolist()
    assert ok[1].tolist() == (te <= 1.0).tolist()
    err = (sol.y_eval[..., 0] - torch.exp(-te))[ok]
    assert err.abs().max() < 1e-9


def test_max_steps_and_record_every():
    sol = solve(lambda t, y, i: -y, torch.ones(1, 1, dtype=F64), 0.0, 100.0, rtol=1e-12, atol=1e-15,
                max_steps=7, record_every=3)
    assert Outcome(int(sol.status[0])) == Outcome.MAX_STEPS and int(sol.n_accepted[0]) == 7
    # records: initial, steps 3 and 6, and the final step 7
    assert int(sol.mask.sum()) == 4
    with pytest.raises(IntegrationError, match="MAX_STEPS"):
        sol.raise_on_failure(include_max_steps=True)


def test_batched_equals_per_element_loop():
    """Per-element step control: solving a batch gives each element's stand-alone solution."""
    g = torch.Generator().manual_seed(0)
    A = torch.randn(4, 3, 3, generator=g, dtype=F64)
    y0 = torch.randn(4, 3, generator=g, dtype=F64)

    def f(t, y, idx):
        return torch.tanh(torch.einsum("bij,bj->bi", A[idx], y)) + torch.cos(t)[:, None]

    batched = solve(f, y0, 0.0, 3.0, rtol=1e-9, atol=1e-12)
    for b in range(4):
        single = solve(lambda t, y, i, b=b: f(t, y, torch.full_like(i, b)), y0[b:b + 1], 0.0, 3.0,
                       rtol=1e-9, atol=1e-12)
        assert int(single.n_accepted[0]) == int(batched.n_accepted[b])
        assert torch.allclose(single.y_final[0], batched.y_final[b], rtol=1e-13, atol=1e-14)


def test_bad_arguments():
    with pytest.raises(ValueError, match="on_failure"):
        solve(riccati, torch.ones(1, 1, dtype=F64), 0.0, 1.0, on_failure="ignore")
    with pytest.raises(ValueError, match="shape"):
        solve(riccati, torch.ones(3, dtype=F64), 0.0, 1.0)
    with pytest.raises(ValueError, match="t_eval"):
        solve(riccati, torch.ones(1, 1, dtype=F64), 0.0, 0.5, t_eval=torch.tensor([0.3, 0.1], dtype=F64))


def test_rhs_writing_into_the_stage_buffer_gives_the_same_solution():
    """A ``writes_out`` right-hand side is handed the stage buffer (no temporaries) and changes nothing."""
    import math

    from twostage.numerics.chen_luo import effective as eff
    from twostage.numerics.integrate import solve, time_reparametrised

    g = torch.Generator().manual_seed(3)
    d, B = 3, 5
    y0 = torch.cat([torch.randn(B, d * d + 2 * d, generator=g, dtype=torch.float64),
                    torch.zeros(B, 1, dtype=torch.float64)], 1)
    seen = []

    def into(th, idx, out=None):
        seen.append(out is not None and out.data_ptr() != th.data_ptr())
        return eff.field(th, out)

    plain = time_reparametrised(lambda th, idx: eff.field(th))
    fast = time_reparametrised(into, f_writes_out=True)
    assert fast.writes_out and torch.allclose(fast(None, y0, None), plain(None, y0, None), rtol=1e-15)
    kw = {"rtol": 1e-10, "atol": 1e-12, "on_failure": "mark"}
    a = solve(plain, y0, 0.0, 3.0, **kw)
    b = solve(fast, y0, 0.0, 3.0, **kw)
    assert seen and all(seen)
    assert torch.allclose(a.y_final, b.y_final, rtol=1e-12) and torch.equal(a.n_accepted, b.n_accepted)
    assert math.isfinite(float(b.y_final.abs().max()))
