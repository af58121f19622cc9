"""gong-2025 derived signal growth and Q stage time (topic ``growth``): the laws hold along the default
variant's trajectories and fail when the claim's formula is edited (a wrong constant, exponent or a flipped
relation) or the trajectory is sabotaged (the judge receives the mutated claim or data; nothing is
monkeypatched)."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from twostage.numerics.gong import growth as ng
from twostage.numerics.gong.setting import DEFAULT
from twostage.numerics.gong.stages import train
from twostage.theory.claims import load_all
from twostage.theory.gong import growth as th
from twostage.verify.checks.gong import growth as gg
from twostage.verify.verdict import Status

P = "gong-2025/derived"
SEEDS = 8


def claim(cid):
    return load_all().get(f"{P}/{cid}")


def edited(cid, new):
    """The claim with its formula replaced by ``new(old formula)``."""
    c = claim(cid)
    return dataclasses.replace(c, formula=new(c.formula))


@pytest.fixture(scope="module")
def runs():
    full = train(DEFAULT, SEEDS, record_every=gg.RECORD, spectra=False)
    return {"early": ng.early_run(DEFAULT, gg.EARLY_SEEDS), "full": full}


def test_folded_mean_is_the_sympy_integral():
    assert sp.simplify(th.folded_mean_integral() - th.nu_minus(th._m)) == 0


def test_exponent_and_time_are_derived_from_the_rates():
    assert claim("q-stage-time-scaling").formula.rhs == -4
    ratio = sp.simplify(th.q_threshold() / th.q_rate() * th.q_s**4)
    assert th.q_s not in ratio.free_symbols  # S_*/R_Q ~ q_scale^-4
    v = {th.q_s: 0.25, th.b0: 1, th.sigma: 1, th.nu_m: th.nu_minus_value(2.12, 8, 1.0)}
    assert abs(float(th.q_rate().subs(v)) - 0.2213) < 1e-4


def test_increments_and_eta_time():
    assert ng.eta_time(np.array([0, 25]), DEFAULT).tolist() == [0.0, DEFAULT.eta1 * 20 + DEFAULT.eta2 * 5]
    with pytest.raises(ValueError):
        ng.eta_time(np.array([0]), dataclasses.replace(DEFAULT, trigger="p-loss"))


def test_p_growth_holds_and_mutations(runs):
    c = claim("p-signal-growth")
    assert gg.p_signal_growth(c, DEFAULT, runs).status is Status.HOLDS
    m1 = th.m1_expr()
    quarter = edited("p-signal-growth", lambda f: f.func(f.lhs, f.rhs / 4))  # constant m1^2 -> m1^2/4
    assert gg.p_signal_growth(quarter, DEFAULT, runs).status is Status.VIOLATED
    expo = edited("p-signal-growth", lambda f: f.func(f.lhs, f.rhs / m1))  # m1^2 -> m1
    assert gg.p_signal_growth(expo, DEFAULT, runs).status is Status.VIOLATED
    x0 = edited("p-signal-growth", lambda f: f.func(f.lhs, f.rhs.subs(th.S_P, 2 * th.S_P)))  # x0 -> 2 x0
    assert gg.p_signal_growth(x0, DEFAULT, runs).status is Status.VIOLATED
    flipped = edited("p-signal-growth", lambda f: sp.GreaterThan(f.lhs, f.rhs))
    assert gg.p_signal_growth(flipped, DEFAULT, runs).status is Status.VIOLATED
    fast = {k: {**r, "S_P": 3 * r["S_P"]} for k, r in runs.items()}  # sabotaged: three times the growth
    assert gg.p_signal_growth(c, DEFAULT, fast).status is Status.VIOLATED


def test_q_growth_holds_and_mutations(runs):
    c = claim("q-signal-growth")
    assert gg.q_signal_growth(c, DEFAULT, runs).status is Status.HOLDS
    half = edited("q-signal-growth", lambda f: f.func(f.lhs, f.rhs / 2))
    assert gg.q_signal_growth(half, DEFAULT, runs).status is Status.VIOLATED
    expo = edited("q-signal-growth", lambda f: f.func(f.lhs, f.rhs * th.q_s))  # q_scale^2 -> q_scale^3
    assert gg.q_signal_growth(expo, DEFAULT, runs).status is Status.VIOLATED
    flipped = edited("q-signal-growth", lambda f: sp.GreaterThan(f.lhs, f.rhs))
    assert gg.q_signal_growth(flipped, DEFAULT, runs).status is Status.VIOLATED
    fast = {k: {**r, "S_Q": 2 * r["S_Q"]} for k, r in runs.items()}
    assert gg.q_signal_growth(c, DEFAULT, fast).status is Status.VIOLATED


def test_q_stage_time_bound_and_mutations(runs):
    tr = runs["full"]
    c = claim("q-stage-time")
    m = gg.q_stage_time(c, DEFAULT, tr)
    assert m.status is Status.HOLDS and 45 < m.worst["t_Q"] < 60
    triple = edited("q-stage-time", lambda f: f.func(f.lhs, 3 * f.rhs))
    assert gg.q_stage_time(triple, DEFAULT, tr).status is Status.VIOLATED
    expo = edited("q-stage-time", lambda f: f.func(f.lhs, f.rhs.subs(th.q_s**4, th.q_s**5)))
    assert gg.q_stage_time(expo, DEFAULT, tr).status is Status.VIOLATED
    flipped = edited("q-stage-time", lambda f: sp.LessThan(f.lhs, f.rhs))
    assert gg.q_stage_time(flipped, DEFAULT, tr).status is Status.VIOLATED
    early = {**tr, "test_acc_Q": np.maximum(tr["test_acc_Q"], (tr["t"] >= 20)[:, None] * 1.0)}  # Q at t1
    assert gg.q_stage_time(c, DEFAULT, early).status is Status.VIOLATED


def test_q_scaling_holds_and_wrong_exponent():
    est = gg._constant_estimate(DEFAULT)
    data = {"q_scale": np.array(gg.Q_SCALES), "T": ng.q_stage_times(DEFAULT, 2, gg.Q_SCALES, est)}
    c = claim("q-stage-time-scaling")
    assert gg.q_stage_time_scaling(c, DEFAULT, data).status is Status.HOLDS
    assert gg.q_stage_time_scaling(edited("q-stage-time-scaling", lambda f: sp.Eq(f.lhs, -3)), DEFAULT,
                                   data).status is Status.VIOLATED
    never = dict(data, T=np.array([np.inf, *data["T"][1:]]))
    assert gg.q_stage_time_scaling(c, DEFAULT, never).status is Status.UNDECIDED


def test_derived_curves_and_signal_figure():
    from twostage.experiments.gong_stages import figures

    cfg = dataclasses.replace(DEFAULT, steps=60)
    tr = train(cfg, 2, record_every=5)
    law = ng.derived_curves(cfg, tr["t"])
    assert law["P_bound"][0] == 0 and np.all(np.diff(law["P_bound"]) > 0)
    m1 = cfg.gamma0 + cfg.sigma * np.sqrt(2 / np.pi)
    first = ng.derived_curves(cfg, np.array([0, 1]))["P_bound"][1]
    assert np.isclose(first, cfg.eta1 * m1**2 / 2)  # first step: twice the initial rate m1^2/4
    assert np.allclose(law["Q_bound"], 0.22129 * ng.eta_time(tr["t"], cfg), rtol=1e-3)
    assert 45 < law["t_Q"] < 60 and 1.5 < law["S_star"] < 1.65
    assert (tr["S_P"][1:] <= law["P_bound"][1:, None]).all()  # the measured signals lie under the law
    out = figures(cfg, tr, {"P": 1.0, "Q": 0.998})
    assert out["signals.png"][:8] == b"\x89PNG\r\n\x1a\n"
