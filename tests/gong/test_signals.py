"""gong-2025 derived signals (topic ``signals``): the initial expected gradient, the stage-1 time bound and
its ``1/eta1`` scaling hold on the reconstructed setting, and fail when the claim's formula is edited (a
wrong coefficient, estimate or exponent; the judge receives the mutated claim, nothing is monkeypatched)."""

import dataclasses

import numpy as np
import sympy as sp

from twostage.numerics.gong import signals as ns
from twostage.numerics.gong.setting import GongConfig
from twostage.theory.claims import load_all
from twostage.theory.gong import signals as dv
from twostage.verify.check import Context
from twostage.verify.checks.gong import signals as gs
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

INIT, TIME, SCALING = ("gong-2025/derived/init-gradient", "gong-2025/derived/stage1-time",
                       "gong-2025/derived/stage1-time-scaling")


def claim(cid, rhs=None):
    """The registered claim, or the same claim with the right-hand side of its formula replaced."""
    c = load_all().get(cid)
    return c if rhs is None else dataclasses.replace(c, formula=c.formula.func(c.formula.lhs, rhs))


def test_symbolic_identities_of_the_derivation():
    assert gs.symbolic_identities_hold()
    assert sp.simplify(claim(INIT).formula.rhs - dv.init_gradient_p()) == 0


def test_init_gradient_holds_and_mutation():
    cfg = GongConfig(d_p=3, d_q=3, L=6, gamma0=1.0)
    gP, gQ = ns.antithetic_init_gradient(cfg, 3000)
    data = {"gP": gP, "gQ": gQ}
    m = gs.init_gradient(claim(INIT), cfg, data)
    assert m.status is Status.HOLDS and m.worst["n"] == 3000
    # mutation: drop the sigma sqrt(2/pi) part of m1 (coefficient -(1/4) gamma0^2 = -0.25)
    assert gs.init_gradient(claim(INIT, -dv.gamma0**2 / 4), cfg, data).status is Status.VIOLATED
    registered = load_all().get(INIT).formula
    flipped = dataclasses.replace(claim(INIT), formula=sp.Ne(registered.lhs, registered.rhs))
    assert gs.init_gradient(flipped, cfg, data).status is Status.VIOLATED  # "!=" judged as written
    # the Q block must receive no signal: a sabotaged sample with a Q drift is caught
    drift = dict(data, gQ=gQ + 0.1)
    assert gs.init_gradient(claim(INIT), cfg, drift).status is Status.VIOLATED


def test_simulate_uses_the_profile_sample_size():
    cfg = GongConfig(d_p=2, d_q=2, L=2)
    data = gs.init_gradient_sample(cfg, Context(get_profile("ci")))
    assert data["gP"].shape == (4000, 2, 2) and data["gQ"].shape == (4000, 2, 2)


def test_first_hit():
    K = np.array([[1.0, 1.0, 1.0], [0.4, 0.9, 0.8], [0.2, 0.5, 0.9]])
    assert np.array_equal(ns.first_hit(K, 0.5), np.array([1.0, 2.0, np.nan]), equal_nan=True)


def test_stage1_time_bound_and_mutation():
    cfg = GongConfig(d_p=6, d_q=2, L=12, n=48, gamma0=1.0, eta1=0.03)
    data = {"T": ns.stage1_times(cfg, 4, 0.3), "eps": 0.3}
    m = gs.stage1_time(claim(TIME), cfg, data)
    assert m.status is Status.HOLDS
    assert m.worst["t_estimate"] == ns.t_estimate(0.3, cfg.eta1, cfg.gamma0, cfg.sigma)
    assert gs.stage1_time(claim(TIME, 10_000), cfg, data).status is Status.VIOLATED
    # the estimate with m1^2 in place of m1^4 (a slip in the derivation) is far above the measured time
    slip = claim(TIME, dv.stage1_time_estimate() * dv.m1_expr() ** 2)
    assert gs.stage1_time(slip, cfg, data).status is Status.VIOLATED
    # a run that never reaches eps is undecided, not a violation
    never = dict(data, T=np.array([np.nan, *data["T"][1:]]))
    assert gs.stage1_time(claim(TIME), cfg, never).status is Status.UNDECIDED


def test_stage1_scaling_and_wrong_exponent():
    cfg = GongConfig(d_p=6, d_q=2, L=12, n=48, gamma0=1.0, eta1=0.2)
    etas, T = ns.stage1_time_sweep(cfg, 2)
    data = {"eta1": etas, "T": T}
    assert float(claim(SCALING).formula.rhs) == -1.0
    assert gs.stage1_time_scaling(claim(SCALING), cfg, data).status is Status.HOLDS
    assert gs.stage1_time_scaling(claim(SCALING, -2), cfg, data).status is Status.VIOLATED


def test_stopping_once_every_seed_is_learned_keeps_the_first_hits():
    cfg = GongConfig(d_p=6, d_q=2, L=8, n=48, eta1=0.2, steps=120)
    full = ns.p_loss_curve(cfg, 6)
    cut = ns.p_loss_curve(cfg, 6, until=0.3)
    assert len(cut) < len(full) and np.array_equal(cut, full[:len(cut)])  # the same steps, stopped early
    assert np.array_equal(ns.first_hit(cut, 0.3), ns.first_hit(full, 0.3))
    assert (cut[-1] <= 0.3).all() and not (cut[-2] <= 0.3).all()  # it stops at the first step all are in
