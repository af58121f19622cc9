"""gong-2025 stage and spectral checkers (topic ``stages``) on a real run of the default variant, sabotaged
trajectories and edited claims (mutation tests: the judges receive the sabotaged trajectory or a claim whose
formula was edited, nothing is monkeypatched), and the pooling of per-configuration binomial counts."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from twostage.numerics.gong.setting import DEFAULT, GongConfig
from twostage.numerics.gong.stages import first_reach
from twostage.theory.claims import load_all
from twostage.theory.gong import stages as th
from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.checks.gong import stages as gst
from twostage.verify.judge import judge_binomial
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Measurement, Status

P = "gong-2025"
CTX = Context(get_profile("ci"))
JUDGES = {"stage/ordering": gst.ordering, "stage/q-suppression": gst.q_suppression,
          "stage/p-preservation": gst.p_preservation, "stage/q-after-annealing": gst.q_after_annealing,
          "spectral/block-order": gst.block_order}


def claim(cid):
    return load_all().get(f"{P}/{cid}")


def edited(cid, old, new):
    c = claim(cid)
    return dataclasses.replace(c, formula=c.formula.xreplace({old: new}))


@pytest.fixture(scope="module")
def tr():
    return gst.run_and_truncate(DEFAULT, CTX)  # 20 seeds under ci


def test_one_cached_run_is_shared_by_the_claims(tr):
    assert gst.two_stage_run(DEFAULT, CTX) is gst.two_stage_run(DEFAULT, CTX)
    assert tr["test_acc_P"].shape[1] == 20
    checks = load_checkers()
    assert all(checks[f"{P}/{i}"].pool is gst.pooled for i in JUDGES)


@pytest.mark.parametrize("cid", list(JUDGES))
def test_every_seed_shows_the_stage_and_the_pool_holds(tr, cid):
    m = JUDGES[cid](claim(cid), DEFAULT, tr)
    assert m.worst["successes"] == m.worst["n"] == 20, m.worst
    assert gst.pooled([(m, DEFAULT)] * 3).status is Status.HOLDS


def test_two_stages_in_numbers(tr):
    """The done-when numbers, directly: at t1 P >= 0.95 and Q <= 0.65; at the end Q >= 0.9, P >= 0.95."""
    i = int(np.searchsorted(tr["t"], DEFAULT.T1))
    assert (tr["test_acc_P"][i] >= 0.95).all() and (tr["test_acc_Q"][i] <= 0.65).all()
    assert (tr["test_acc_Q"][-1] >= 0.9).all() and (tr["test_acc_P"][-1] >= 0.95).all()
    TP = first_reach(tr["t"], tr["test_acc_P"], 0.95)
    assert np.median(TP) < DEFAULT.T1 < np.median(first_reach(tr["t"], tr["test_acc_Q"], 0.9))


def test_ordering_mutations(tr):
    swapped = {**tr, "test_acc_P": tr["test_acc_Q"], "test_acc_Q": tr["test_acc_P"]}
    assert gst.ordering(claim("stage/ordering"), DEFAULT, swapped).status is Status.VIOLATED
    flipped = dataclasses.replace(claim("stage/ordering"), formula=claim("stage/ordering").formula.xreplace(
        {sp.StrictLessThan(th.T_Pn, th.T_Qn): sp.StrictLessThan(th.T_Qn, th.T_Pn)}))
    assert gst.ordering(flipped, DEFAULT, tr).status is Status.VIOLATED


def test_q_suppression_mutations(tr):
    learned = {**tr, "test_acc_Q": np.maximum(tr["test_acc_Q"], 0.8)}  # Q already learned at t1
    assert gst.q_suppression(claim("stage/q-suppression"), DEFAULT, learned).status is Status.VIOLATED
    # the threshold is read from the formula: a stricter a_Q1 than the chance level fails
    strict = edited("stage/q-suppression", sp.Float(0.65, 15), sp.Float(0.45, 15))
    assert gst.q_suppression(strict, DEFAULT, tr).status is Status.VIOLATED


def test_preservation_mutations(tr):
    forgot = {**tr, "test_acc_P": np.where(tr["t"][:, None] > DEFAULT.T1 + 50, 0.6, tr["test_acc_P"])}
    assert gst.p_preservation(claim("stage/p-preservation"), DEFAULT, forgot).status is Status.VIOLATED
    impossible = edited("stage/p-preservation", sp.Float(0.95, 15), sp.Float(1.01, 15))
    assert gst.p_preservation(impossible, DEFAULT, tr).status is Status.VIOLATED


def test_q_after_annealing_mutations(tr):
    never = {**tr, "test_acc_Q": np.minimum(tr["test_acc_Q"], 0.6)}  # Q never learned
    assert gst.q_after_annealing(claim("stage/q-after-annealing"), DEFAULT, never).status is Status.VIOLATED
    impossible = edited("stage/q-after-annealing", sp.Float(0.9, 15), sp.Float(1.01, 15))
    assert gst.q_after_annealing(impossible, DEFAULT, tr).status is Status.VIOLATED


def test_spectral_mutations(tr):
    spectral = claim("spectral/block-order")
    swapped = {**tr, "sv_P": tr["sv_Q"], "sv_Q": tr["sv_P"]}
    assert gst.block_order(spectral, DEFAULT, swapped).status is Status.VIOLATED
    trunc = {**tr, "dP": tr["dQ"], "dQ": tr["dP"]}
    assert gst.block_order(spectral, DEFAULT, trunc).status is Status.VIOLATED


@pytest.fixture(scope="module")
def pair():
    return gst.schedule_pair(DEFAULT, CTX)


def test_annealing_events_at_step_resolution(pair):
    """Every GD step is recorded; in the default variant P is learned within the first steps under both
    schedules, so the medians tie and the strict ordering of the claim is violated (our reconstruction)."""
    for r in pair.values():
        assert np.array_equal(r["t"], np.arange(len(r["t"]))) and len(r["t"]) == gst.ANNEAL_STEPS + 1
    m = gst.annealing_ablation(claim("stage/annealing-ablation"), DEFAULT, pair)
    assert m.worst["T_P_sched"] == m.worst["T_P_anneal0"] and m.status is Status.VIOLATED


def test_annealing_ordering_mutation(pair):
    c = claim("stage/annealing-ablation")
    a, b = sp.Symbol("T_P_sched"), sp.Symbol("T_P_anneal0")
    # the relation is judged as written: a non-strict one admits the tie
    weak = edited("stage/annealing-ablation", sp.StrictLessThan(a, b), sp.LessThan(a, b))
    assert gst.annealing_ablation(weak, DEFAULT, pair).status is Status.HOLDS
    # sabotaged (delayed by 5 steps) anneal0 run: the ordering holds, the flipped relation is violated
    late = {**pair["anneal0"], "t": pair["anneal0"]["t"] + 5}
    delayed = {"two-stage": pair["two-stage"], "anneal0": late}
    assert gst.annealing_ablation(c, DEFAULT, delayed).status is Status.HOLDS
    flipped = edited("stage/annealing-ablation", sp.StrictLessThan(a, b), sp.StrictGreaterThan(a, b))
    assert gst.annealing_ablation(flipped, DEFAULT, delayed).status is Status.VIOLATED
    never = {**pair["anneal0"], "test_acc_P": pair["anneal0"]["test_acc_P"] * 0}
    assert gst.annealing_ablation(c, DEFAULT, {**pair, "anneal0": never}).status is Status.UNDECIDED


def test_formula_is_the_single_source_of_the_numbers():
    for cid in JUDGES:
        c = th.constants(claim(cid).formula)
        assert c[th.p_seeds] == 0.9 and th.relations(claim(cid).formula)
    assert th.constants(claim("stage/q-suppression").formula)[th.a_Q1] == 0.65


def _counts(k, n):
    return judge_binomial(k, n, gst.P_CLAIMED)


def test_pool_sums_the_counts_and_names_the_worst_configuration():
    a, b = GongConfig(d_p=6), GongConfig(d_p=7)
    recs = [(_counts(64, 64), a), (_counts(50, 64), b)]
    m = gst.pooled(recs)
    assert (m.worst["successes"], m.worst["n"]) == (114, 128) and m.worst["configs"] == 2
    assert m.worst["worst_config"]["d_p"] == 7 and m.worst["worst_config_result"] == recs[1][0].worst
    # one bad configuration among many good ones does not decide the pooled verdict on its own ...
    assert recs[1][0].status is Status.VIOLATED and m.status is not Status.VIOLATED
    # ... but consistently bad ones do
    assert gst.pooled([(_counts(40, 64), a), (_counts(45, 64), b)]).status is Status.VIOLATED


def test_pool_without_counts_combines():
    na = Measurement(Status.NOT_APPLICABLE, None, {"reason": "none"})
    assert gst.pooled([(na, DEFAULT), (na, DEFAULT)]).status is Status.NOT_APPLICABLE
    mixed = [(na, DEFAULT), (_counts(64, 64), DEFAULT)]
    assert gst.pooled(mixed).worst["n"] == 64
