"""gong-2025 stage/spectral checkers on a real small run, and sabotaged trajectories (mutation tests)."""

import numpy as np
import pytest

from twostage.numerics.gong.setting import GongConfig
from twostage.verify.checks.gong import stages as gst
from twostage.verify.verdict import Status

CFG = GongConfig(d_p=8, d_q=8, L=8, n=48, eps1=0.15, steps=150)


@pytest.fixture(scope="module")
def tr():
    return gst.run(CFG, 64, 0)


def test_suppression_and_preservation_hold(tr):
    assert gst.evaluate_suppression(tr).status is Status.HOLDS
    assert gst.evaluate_preservation(tr).status is Status.HOLDS


def test_suppression_mutation(tr):
    bad = dict(tr)
    bad["dW_Q"] = tr["dW_P"] * 2.0  # sabotage: Q moves twice as much as P
    assert gst.evaluate_suppression(bad).status is Status.VIOLATED


def test_preservation_mutation(tr):
    bad = dict(tr)
    # P forgotten after t1
    bad["K_P"] = tr["K_P"] + 0.5 * (tr["t"][:, None] > np.nan_to_num(tr["t1"])[None, :])
    assert gst.evaluate_preservation(bad).status is Status.VIOLATED


def test_ordering_swap_is_violated(tr):
    swapped = dict(tr)
    swapped["K_P"], swapped["K_Q"] = tr["K_Q"], tr["K_P"]  # swap the P/Q event times
    assert gst.evaluate_ordering(swapped).status is Status.VIOLATED


def test_spectral_verdict_and_mutation(tr):
    dP, dQ = gst.truncation_damage(CFG, tr, 0)
    # documented failure of the reconstruction
    assert gst.evaluate_spectral(tr, dP, dQ).status is Status.VIOLATED
    fixed = dict(tr)
    fixed["sv_Q"] = tr["sv_P"] + 1.0
    assert gst.evaluate_spectral(fixed, np.ones_like(dP), np.zeros_like(dQ)).status is Status.HOLDS


def test_annealing_ordering_mutation(tr):
    assert gst.evaluate_annealing(tr, tr).status is not Status.HOLDS  # identical runs: no ordering
