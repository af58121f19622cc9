"""gong-2025 stage and spectral checkers (topic ``stages``) on a real small run, sabotaged trajectories
(mutation tests: the judges receive the sabotaged trajectory, nothing is monkeypatched), and the pooling of
per-configuration binomial counts into one verdict."""

import numpy as np
import pytest

from twostage.numerics.gong.setting import GongConfig
from twostage.numerics.gong.stages import truncation_damage
from twostage.theory.claims import load_all
from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.checks.gong import stages as gst
from twostage.verify.judge import judge_binomial
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Measurement, Status

CFG = GongConfig(d_p=8, d_q=8, L=8, n=48, eps1=0.15, steps=150)
P = "gong-2025"


def claim(cid):
    return load_all().get(f"{P}/{cid}")


CTX = Context(get_profile("ci"))


@pytest.fixture(scope="module")
def tr():
    return gst.two_stage_run(CFG, CTX)  # 64 seeds under ci


def test_one_cached_run_is_shared_by_the_claims(tr):
    assert gst.two_stage_run(CFG, CTX) is tr and tr["K_P"].shape[1] == 64
    checks = load_checkers()
    ids = ("stage/ordering", "stage/q-suppression", "stage/p-preservation")
    assert all(checks[f"{P}/{i}"].simulate is gst.two_stage_run for i in ids)
    assert all(checks[f"{P}/{i}"].pool is gst.pooled for i in (*ids, "spectral/block-order"))


def test_suppression_and_preservation_hold(tr):
    assert gst.q_suppression(claim("stage/q-suppression"), CFG, tr).status is Status.HOLDS
    assert gst.p_preservation(claim("stage/p-preservation"), CFG, tr).status is Status.HOLDS


def test_suppression_mutation(tr):
    bad = dict(tr)
    bad["dW_Q"] = tr["dW_P"] * 2.0  # sabotage: Q moves twice as much as P
    assert gst.q_suppression(claim("stage/q-suppression"), CFG, bad).status is Status.VIOLATED


def test_preservation_mutation(tr):
    bad = dict(tr)
    # P forgotten after t1
    bad["K_P"] = tr["K_P"] + 0.5 * (tr["t"][:, None] > np.nan_to_num(tr["t1"])[None, :])
    assert gst.p_preservation(claim("stage/p-preservation"), CFG, bad).status is Status.VIOLATED


def test_stage1_never_ended_is_not_applicable(tr):
    bad = dict(tr, t1=np.full_like(tr["t1"], np.nan))
    assert gst.q_suppression(claim("stage/q-suppression"), CFG, bad).status is Status.NOT_APPLICABLE
    assert gst.p_preservation(claim("stage/p-preservation"), CFG, bad).status is Status.NOT_APPLICABLE


def test_ordering_swap_is_violated(tr):
    swapped = dict(tr)
    swapped["K_P"], swapped["K_Q"] = tr["K_Q"], tr["K_P"]  # swap the P/Q event times
    assert gst.ordering(claim("stage/ordering"), CFG, swapped).status is Status.VIOLATED


def test_spectral_verdict_and_mutation(tr):
    dP, dQ = truncation_damage(CFG, tr, 0)
    # documented failure of the reconstruction
    spectral = claim("spectral/block-order")
    assert gst.block_order(spectral, CFG, {**tr, "dP": dP, "dQ": dQ}).status is Status.VIOLATED
    fixed = {**tr, "sv_Q": tr["sv_P"] + 1.0, "dP": np.ones_like(dP), "dQ": np.zeros_like(dQ)}
    assert gst.block_order(spectral, CFG, fixed).status is Status.HOLDS


def test_annealing_ordering_mutation(tr):
    same = {"two-stage": tr, "anneal0": tr}  # identical runs: no ordering
    assert gst.annealing_ablation(claim("stage/annealing-ablation"), CFG, same).status is not Status.HOLDS


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
    na = Measurement(Status.NOT_APPLICABLE, None, {"reason": "stage 1 never ended"})
    assert gst.pooled([(na, CFG), (na, CFG)]).status is Status.NOT_APPLICABLE
    mixed = [(na, CFG), (_counts(64, 64), CFG)]
    assert gst.pooled(mixed).worst["n"] == 64
