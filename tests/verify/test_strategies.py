"""Every checker's Hypothesis strategy draws through Hypothesis only (issue 12, item 6).

A strategy that used the global ``random`` module (or changed its state) would make shrinking and replay
unreliable, and Hypothesis warns about it (``HypothesisDeprecationWarning``). ``verify/prop.py`` silences that
one message, because in a Dask worker other threads change the global state during draws; this test is what
makes the silencing safe: it draws from every strategy, single-threaded, with the warning as an error.
"""

from __future__ import annotations

import random
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning

from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.profiles import get_profile

CTX = Context(get_profile("ci"))
STRATEGIES = sorted(cid for cid, chk in load_checkers().items()
                    if isinstance(chk.space(CTX), st.SearchStrategy))


def _draw(space: st.SearchStrategy, n: int = 5) -> None:
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(space)
    def draw(_):
        pass

    with warnings.catch_warnings():
        warnings.simplefilter("error", HypothesisDeprecationWarning)
        draw()


def test_some_checkers_draw_through_hypothesis():
    assert len(STRATEGIES) >= 20


@pytest.mark.parametrize("claim_id", STRATEGIES)
def test_strategy_leaves_global_random_alone(claim_id):
    _draw(load_checkers()[claim_id].space(CTX))


def test_a_strategy_using_random_is_caught():
    bad = st.integers(0, 3).map(lambda k: k + random.random())
    with pytest.raises(HypothesisDeprecationWarning, match="random"):
        _draw(bad)
