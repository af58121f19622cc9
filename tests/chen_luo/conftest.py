"""Fixtures shared by the chen-luo-2025 tests."""

import pytest

from twostage.numerics.chen_luo.data import DataConfig, make_data


@pytest.fixture(scope="module")
def small():
    """The size of the paper's Appendix C.1 instance: n = 6, s = 3, d = 3."""
    return make_data(DataConfig(n=6, s=3, d=3, seed=0))

