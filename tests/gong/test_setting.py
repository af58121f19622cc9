"""gong-2025 reconstructed setting (topic ``setting``): the SymPy-derived GD updates match autograd, and the
checker of ``setting/gd-updates`` fails on a sabotaged gradient (the judge receives the sabotaged data;
nothing is monkeypatched)."""

import dataclasses

import pytest
import sympy as sp
import torch

from twostage.numerics.gong.setting import GongConfig, autograd_gradients, gradients, init_params, sample
from twostage.theory.claims import load_all
from twostage.theory.gong.setting import score_gradient_is_outer_product
from twostage.verify.check import Context
from twostage.verify.checks.gong import setting as gs
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

CTX = Context(get_profile("ci"))
CLAIM = load_all().get("gong-2025/setting/gd-updates")


def test_sympy_updates_match_autograd_float64():
    cfg = GongConfig(d_p=5, d_q=3, L=7, n=11, sigma0=0.5)
    g = torch.Generator().manual_seed(3)
    p, q, y = sample(cfg, 4, generator=g)
    params = init_params(cfg, 4, generator=g)
    for a, b in zip(gradients(params, p, q, y), autograd_gradients(params, p, q, y)):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    assert score_gradient_is_outer_product()
    m = gs.gd_updates(CLAIM, cfg, gs.update_pair(cfg, CTX))
    assert m.status is Status.HOLDS and m.worst["residual"] < 1e-13


def test_updates_mutation_wrong_sign_is_violated():
    cfg = GongConfig(d_p=3, d_q=3, L=4, n=6, sigma0=1.0)
    data = gs.update_pair(cfg, CTX)
    gP, gQ, gb = data["sympy"]
    bad = dict(data, sympy=(gP, -gQ, gb))  # sabotage: the Q-block update with the wrong sign
    assert gs.gd_updates(CLAIM, cfg, bad).status is Status.VIOLATED
    tiny = dict(data, sympy=(gP, gQ, gb * (1 + 1e-8)))  # a relative error above the 1e-10 tolerance
    assert gs.gd_updates(CLAIM, cfg, tiny).status is Status.VIOLATED


@pytest.mark.parametrize("edit", ["sign", "x2", "L -> 1", "exp(-F y) -> exp(F y)", "!="])
def test_updates_judge_their_formula(edit):
    """issue 12: the claim's c_P (its formula's right side at the measured F, y, y_l, s_P, L), assembled into
    the P-block update, is compared with autograd; each edit of the formula is violated."""
    cfg = GongConfig(d_p=3, d_q=3, L=4, n=6, sigma0=1.0)
    data = gs.update_pair(cfg, CTX)
    f = CLAIM.formula
    S = {x.name: x for x in f.free_symbols}
    F, y = S["F"], S["y"]
    wrong = {"sign": sp.Eq(f.lhs, -f.rhs), "x2": sp.Eq(f.lhs, 2 * f.rhs),
             "L -> 1": sp.Eq(f.lhs, f.rhs.subs(S["L"], 1)),
             "exp(-F y) -> exp(F y)": sp.Eq(f.lhs, f.rhs.subs(sp.exp(-F * y), sp.exp(F * y))),
             "!=": sp.Ne(f.lhs, f.rhs)}[edit]
    assert wrong != f
    assert gs.gd_updates(CLAIM, cfg, data).status is Status.HOLDS
    assert gs.gd_updates(dataclasses.replace(CLAIM, formula=wrong), cfg, data).status is Status.VIOLATED


def test_parallel_coupling_updates_match_autograd():
    """Two sub-models with their own losses (K1 on f_P, K2 on f_Q): the same SymPy coefficients, each block's
    at its own sub-model's output; on a mixture of P-only / Q-only / both prompts."""
    cfg = GongConfig(d_p=4, d_q=3, L=6, n=10, sigma0=0.5, coupling="parallel", mix=(0.5, 0.25, 0.25), b0=1.0)
    g = torch.Generator().manual_seed(4)
    p, q, y = sample(cfg, 3, generator=g)
    params = init_params(cfg, 3, generator=g)
    for a, b in zip(gradients(params, p, q, y, "parallel"), autograd_gradients(params, p, q, y, "parallel")):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    # the shared-loss gradient is a different one (the check can tell the couplings apart)
    shared, parallel = gradients(params, p, q, y, "shared"), gradients(params, p, q, y, "parallel")
    assert not torch.allclose(shared[1], parallel[1])
    m = gs.gd_updates(CLAIM, cfg, gs.update_pair(cfg, CTX))
    assert m.status is Status.HOLDS


def test_sampler_switches():
    cfg = GongConfig(d_p=3, d_q=4, L=5, n=400, mix=(0.5, 0.3, 0.2), q_scale=0.5)
    p, q, y = sample(cfg, 2, generator=torch.Generator().manual_seed(0))
    p_only = (q.abs().sum((-1, -2)) == 0) & (p.abs().sum((-1, -2)) > 0)
    q_only = (p.abs().sum((-1, -2)) == 0) & (q.abs().sum((-1, -2)) > 0)
    assert abs(float(p_only.double().mean()) - 0.3) < 0.06 and abs(float(q_only.double().mean()) - 0.2) < 0.06
    full = sample(cfg, 2, generator=torch.Generator().manual_seed(0), mixture=False)
    assert (full[0].abs().sum((-1, -2)) > 0).all() and (full[1].abs().sum((-1, -2)) > 0).all()
    anti = GongConfig(d_p=3, d_q=4, L=5, n=8, antithetic=True)
    _, q, y = sample(anti, 1, generator=torch.Generator().manual_seed(1))
    assert torch.equal(q[:, 4:], -q[:, :4]) and torch.equal(y[:, 4:], y[:, :4])


def test_bad_switch_is_a_one_line_user_error():
    from twostage.errors import TwostageError

    for kw in (dict(coupling="both"), dict(mix=(0.5, 0.5, 0.5)), dict(trigger="loss"), dict(q_scale=0.0)):
        try:
            GongConfig(**kw)
        except TwostageError as e:
            assert "\n" not in str(e)
        else:
            raise AssertionError(f"{kw} accepted")


def test_bayes_accuracies_against_monte_carlo():
    """The mpmath Bayes accuracy of the Q part equals the Monte-Carlo accuracy of the rule |<u, q>| > tau on
    the sampler's data (and a wrong threshold is worse); the separable P part has Bayes accuracy 1."""
    import dataclasses

    from twostage.numerics.gong.setting import DEFAULT, u_zeta
    from twostage.theory.gong.setting import bayes_accuracy_p, bayes_accuracy_q, bayes_threshold_q, m_q

    cfg = dataclasses.replace(DEFAULT, L=1)
    acc = bayes_accuracy_q(cfg.zeta, cfg.d_q, cfg.sigma)
    assert acc >= 0.97 and bayes_accuracy_p(cfg.gamma0, cfg.sigma) == 1.0
    m = cfg.zeta * cfg.d_q ** 0.5 / cfg.sigma
    tau = float(bayes_threshold_q().subs(m_q, m))
    _, q, y = sample(cfg, 1, n=40_000, generator=torch.Generator().manual_seed(5))
    a = (q[0, :, -1] @ u_zeta(cfg)) / (cfg.q_scale * cfg.sigma)
    mc = float(((a.abs() > tau) == (y[0, :, -1] < 0)).double().mean())
    assert abs(mc - acc) < 4 * (acc * (1 - acc) / 40_000) ** 0.5 + 1e-3
    worse = float(((a.abs() > 0.7 * tau) == (y[0, :, -1] < 0)).double().mean())
    assert worse < mc - 0.005
    import math
    assert abs(bayes_accuracy_p(1.0, 1.0, "gaussian") - 0.5 * (1 + math.erf(1 / math.sqrt(2)))) < 1e-12
