"""Shared test configuration: Hypothesis profiles (``ci`` is loaded under CI=true) and a tmp results dir."""

import os

import pytest

import twostage.verify.profiles  # noqa: F401  (registers the Hypothesis profiles; loads "ci" under CI=true)

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    return d
