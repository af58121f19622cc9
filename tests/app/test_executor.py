"""Executors and resumable sweeps: resume, corrupt results, isolated errors/crashes, NaN, Dask cluster."""

import importlib
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from twostage.runs.executor import (
    ExecutorError,
    ExecutorSpec,
    default_spec,
    spec_from_options,
    use_executor,
)
from twostage.runs.store import is_complete, run_dir
from twostage.runs.sweep import sweep

# Sweep functions must be importable by name in spawned / Dask worker processes, so they live in a
# small module written to a temporary directory that is put on sys.path and PYTHONPATH.
TASKS_SRC = '''
import dataclasses, os, time
import numpy as np


@dataclasses.dataclass(frozen=True)
class Cfg:
    a: float
    mode: str = "ok"  # ok | raise | exit | nan | slow


def task(cfg):
    log = os.environ.get("SWEEP_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{cfg.a} {cfg.mode}\\n")
    if cfg.mode == "raise":
        raise ValueError(f"bad config a={cfg.a}")
    if cfg.mode == "exit":
        os._exit(7)  # the worker process dies, as in a segfault or an OOM kill
    if cfg.mode == "slow":
        time.sleep(float(os.environ.get("SWEEP_SLEEP", "0.4")))
    t = np.linspace(0.0, 1.0, 11)
    y = cfg.a * t ** 2
    if cfg.mode == "nan":
        y[4] = np.nan
    return {"t": t, "y": y}
'''

SEQ = ExecutorSpec("sequential")
NO_DASK = "dask distributed not installed (pip install '.[dask]')"


@pytest.fixture
def tasks(tmp_path, monkeypatch):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "twostage_sweep_tasks.py").write_text(TASKS_SRC)
    monkeypatch.syspath_prepend(str(mods))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")]))
    sys.modules.pop("twostage_sweep_tasks", None)
    mod = importlib.import_module("twostage_sweep_tasks")
    yield mod
    sys.modules.pop("twostage_sweep_tasks", None)


def _logged(path):
    return path.read_text().split("\n")[:-1] if path.exists() else []


def test_sweep_writes_one_dir_per_config_and_resumes(tasks, tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("SWEEP_LOG", str(log))
    cfgs = [tasks.Cfg(a) for a in (1.0, 2.0, 3.0)]
    r = sweep(tasks.task, cfgs + [tasks.Cfg(1.0)], tmp_path / "res", "demo", executor=SEQ)
    assert r.counts() == {"ok": 3} and len(_logged(log)) == 3  # duplicate config deduplicated
    for c in cfgs:
        d = run_dir(tmp_path / "res", "demo", c)
        assert is_complete(d)
        assert pd.read_parquet(d / "trajectory.parquet")["y"].iloc[-1] == pytest.approx(c.a)
    r2 = sweep(tasks.task, cfgs, tmp_path / "res", "demo", executor=SEQ)
    assert r2.counts() == {"skipped": 3} and len(_logged(log)) == 3  # nothing recomputed


@pytest.mark.parametrize("damage", ["truncate", "delete-metadata", "garbage-metadata", "flip-byte"])
def test_corrupt_or_partial_result_is_detected_and_rerun(tasks, tmp_path, damage):
    cfgs = [tasks.Cfg(1.0), tasks.Cfg(2.0)]
    sweep(tasks.task, cfgs, tmp_path, "demo", executor=SEQ)
    d = run_dir(tmp_path, "demo", cfgs[0])
    traj = d / "trajectory.parquet"
    if damage == "truncate":
        traj.write_bytes(traj.read_bytes()[: traj.stat().st_size // 2])
    elif damage == "delete-metadata":
        (d / "metadata.json").unlink()
    elif damage == "garbage-metadata":
        (d / "metadata.json").write_text("{not json")
    else:
        data = bytearray(traj.read_bytes())
        data[len(data) // 2] ^= 0xFF
        traj.write_bytes(bytes(data))
    assert not is_complete(d)
    r = sweep(tasks.task, cfgs, tmp_path, "demo", executor=SEQ)
    assert [o.status for o in r.outcomes] == ["ok", "skipped"]
    assert is_complete(d) and pd.read_parquet(traj)["y"].iloc[-1] == 1.0


def test_exception_in_one_run_loses_only_that_run(tasks, tmp_path):
    cfgs = [tasks.Cfg(1.0), tasks.Cfg(2.0, "raise"), tasks.Cfg(3.0)]
    r = sweep(tasks.task, cfgs, tmp_path, "demo", executor=SEQ)
    assert [o.status for o in r.outcomes] == ["ok", "error", "ok"]
    bad = r.outcomes[1]
    assert bad.detail == "ValueError: bad config a=2.0" and r.failed == [bad]
    err = json.loads((tmp_path / "demo" / bad.config_hash / "error.json").read_text())
    assert "Traceback" in err["traceback"] and not is_complete(tmp_path / "demo" / bad.config_hash)
    r2 = sweep(tasks.task, cfgs, tmp_path, "demo", executor=SEQ)  # the failed run is retried, not skipped
    assert [o.status for o in r2.outcomes] == ["skipped", "error", "skipped"]


def test_nan_in_a_run_is_numerical_failure_with_step(tasks, tmp_path):
    r = sweep(tasks.task, [tasks.Cfg(1.0, "nan")], tmp_path, "demo", executor=SEQ)
    (o,) = r.outcomes
    assert o.status == "numerical-failure" and o.detail == "non-finite y at step 4"
    meta = json.loads((tmp_path / "demo" / o.config_hash / "metadata.json").read_text())
    assert meta["status"] == "numerical-failure"
    assert meta["nonfinite"] == {"column": "y", "step": 4, "time": pytest.approx(0.4)}
    # a numerical failure is a finished (reproducible) result: a resumed sweep does not redo it
    again = sweep(tasks.task, [tasks.Cfg(1.0, "nan")], tmp_path, "demo", executor=SEQ)
    assert again.counts() == {"skipped": 1}


def test_worker_death_in_process_pool_loses_only_that_run(tasks, tmp_path):
    cfgs = [tasks.Cfg(float(a)) for a in range(4)] + [tasks.Cfg(9.0, "exit")]
    r = sweep(tasks.task, cfgs, tmp_path, "demo", executor=ExecutorSpec("process", workers=2))
    status = {o.config_hash: o.status for o in r.outcomes}
    dead = run_dir(tmp_path, "demo", cfgs[-1]).name
    assert status.pop(dead) == "crashed"
    assert set(status.values()) == {"ok"} and len(status) == 4
    assert all(is_complete(run_dir(tmp_path, "demo", c)) for c in cfgs[:4])


def test_killed_sweep_resumes_and_skips_finished_work(tasks, tmp_path):
    log = tmp_path / "log"
    res = tmp_path / "res"
    script = ("import twostage_sweep_tasks as m\n"
              "from twostage.runs.sweep import sweep\n"
              "from twostage.runs.executor import ExecutorSpec\n"
              f"sweep(m.task, [m.Cfg(float(a), 'slow') for a in range(6)], {str(res)!r}, 'demo',"
              " executor=ExecutorSpec('sequential'))\n")
    env = {**os.environ, "SWEEP_LOG": str(log), "SWEEP_SLEEP": "0.4"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    cfgs = [tasks.Cfg(float(a), "slow") for a in range(6)]
    deadline = time.time() + 60
    while sum(is_complete(run_dir(res, "demo", c)) for c in cfgs) < 2 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {c for c in cfgs if is_complete(run_dir(res, "demo", c))}
    assert 2 <= len(done_before) < 6, "the sweep should have been killed half-way"
    log.unlink()
    os.environ["SWEEP_SLEEP"] = "0"
    try:
        r = sweep(tasks.task, cfgs, res, "demo", executor=SEQ)
    finally:
        del os.environ["SWEEP_SLEEP"]
    assert r.counts() == {"ok": 6 - len(done_before), "skipped": len(done_before)}
    assert all(is_complete(run_dir(res, "demo", c)) for c in cfgs)


def test_dask_local_cluster_on_loopback(tasks, tmp_path):
    distributed = pytest.importorskip("distributed", reason=NO_DASK)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        spec = ExecutorSpec("dask", address=cluster.scheduler_address)
        cfgs = [tasks.Cfg(1.0), tasks.Cfg(2.0), tasks.Cfg(3.0, "raise"), tasks.Cfg(4.0, "nan")]
        r = sweep(tasks.task, cfgs, tmp_path, "demo", executor=spec)
        assert [o.status for o in r.outcomes] == ["ok", "ok", "error", "numerical-failure"]
        assert r.outcomes[2].detail == "ValueError: bad config a=3.0"
        r2 = sweep(tasks.task, cfgs, tmp_path, "demo", executor=spec)
        assert [o.status for o in r2.outcomes] == ["skipped", "skipped", "error", "skipped"]


def test_unreachable_dask_scheduler_is_one_line_error(tasks, tmp_path):
    pytest.importorskip("distributed", reason=NO_DASK)
    spec = ExecutorSpec("dask", address="tcp://127.0.0.1:9", connect_timeout=2)
    with pytest.raises(ExecutorError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9") as e:
        sweep(tasks.task, [tasks.Cfg(1.0)], tmp_path, "demo", executor=spec)
    assert "\n" not in str(e.value)
    assert not is_complete(run_dir(tmp_path, "demo", tasks.Cfg(1.0)))


@pytest.mark.parametrize("kwargs, needle", [
    (dict(kind="threads"), "unknown executor 'threads'"),
    (dict(kind="process", workers=0), "--workers must be a positive integer"),
    (dict(kind="process", workers=-3), "--workers must be a positive integer"),
    (dict(kind="process", address="tcp://127.0.0.1:8786"), "--address is only used with --executor dask"),
    (dict(kind="dask", address="nonsense"), "--address must look like tcp://host:port"),
])
def test_bad_executor_specs(kwargs, needle):
    with pytest.raises(ExecutorError, match=needle):
        ExecutorSpec(**kwargs)


def test_default_spec_follows_cli_choice():
    assert default_spec().kind == "process"
    with use_executor(spec_from_options(None, None, None, default="sequential")):
        assert default_spec().kind == "sequential"
    assert spec_from_options(None, 4, None).workers == 4
    assert spec_from_options(None, None, "tcp://127.0.0.1:8786").kind == "dask"
