"""Results store (atomic, hashed, resumable) and the CLI's exit-code / one-line-error contract."""

import dataclasses
import json

import pandas as pd
import pytest

from twostage.cli import main
from twostage.numerics.config import ConfigError
from twostage.runs.store import config_hash, is_complete, run_dir, write_run


@dataclasses.dataclass(frozen=True)
class Cfg:
    d: int
    eps: float


def test_write_run_is_complete_and_readable_by_pandas(tmp_path):
    d = write_run(tmp_path, "demo", Cfg(2, 0.1), {"t": [0.0, 1.0], "E": [1.0, 2.0]}, {"seed": 3})
    assert d == run_dir(tmp_path, "demo", Cfg(2, 0.1)) and is_complete(d)
    df = pd.read_parquet(d / "trajectory.parquet")
    assert list(df["E"]) == [1.0, 2.0]
    assert json.loads((d / "config.json").read_text())["hash"] == config_hash(Cfg(2, 0.1))


def test_partial_run_is_not_complete(tmp_path):
    d = write_run(tmp_path, "demo", Cfg(2, 0.1), {"t": [0.0]}, {})
    (d / "trajectory.parquet").unlink()
    assert not is_complete(d)
    (d / "metadata.json").write_text("{corrupt")
    assert not is_complete(d)


def test_hash_distinguishes_floats():
    assert config_hash(Cfg(2, 0.1)) != config_hash(Cfg(2, 0.1 + 1e-17 + 1e-16))


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["claims", "--paper", "nope"], "unknown paper"),
        (["verify", "--claim", "chen-luo-2025/no-such-claim"], "unknown claim"),
        (["verify", "--profile", "huge"], "unknown profile"),
        (["verify", "--device", "tpu"], "unknown device"),
        (["run", "no-such-experiment"], "unknown experiment"),
        (["frobnicate"], "invalid choice"),
        (["verify", "--seed", "x"], "must be an integer in [0, 2**32)"),
    ],
)
def test_bad_input_one_line_exit_2(argv, needle, capsys, tmp_path):
    rc = main(["--results", str(tmp_path)] + argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_config_error_names_assumption():
    with pytest.raises(ConfigError, match="chen-luo-2025/ass/x"):
        from twostage.numerics.config import require

        require(False, "chen-luo-2025/ass/x", "bad")
