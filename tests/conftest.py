"""Shared test configuration: Hypothesis profiles (``ci`` is loaded under CI=true) and a tmp results dir."""

import os

import pytest

import twostage.verify.profiles  # noqa: F401  (registers the Hypothesis profiles; loads "ci" under CI=true)

os.environ.setdefault("MPLBACKEND", "Agg")

# The numerics tests run many tiny batched kernels; with OpenMP threads on a loaded 2-core box (pytest -n 2)
# they oversubscribe and run ~10x slower (measured: the chen-luo numerics tests 87 s vs 10 s). One
# intra-op thread per test process.
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    return d
