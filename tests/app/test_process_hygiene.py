"""Nothing hung (issue 13): process-pool and local Dask workers die with their parent, and Ctrl-C of a
process sweep returns within seconds with exit code 130, keeping every finished result.

Before: ``kill -9`` of a ``verify --executor process`` parent left its workers running (they kept starting
tasks, then slept ~10 minutes holding ~450 MB each); Ctrl-C of a process sweep took ~2 minutes to return.
The runs use the demo claims of ``conftest.py``: ``demo/slow`` sleeps ``DEMO_SLEEP`` seconds, so a
worker is busy when the parent is killed or interrupted.
"""

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from twostage.runs.store import is_complete

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``DEMO_TAG=tag``: the CLI and its workers."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"DEMO_TAG={tag}".encode() in env.split(b"\0") and state != "Z":
            out.append(int(d.name))
    return out


def _wait_for(pred, timeout: float, proc=None) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def _finished(tasks: Path) -> int:
    return sum(is_complete(d) for d in tasks.iterdir()) if tasks.is_dir() else 0


def _running_slow(tasks: Path) -> bool:
    """Base and nan are judged and the third task (the slow claim) has started in a worker: its folder holds
    ``started.json`` (written when a task starts) and is not complete."""
    if _finished(tasks) < 2:
        return False
    return any((d / "started.json").is_file() and not is_complete(d) for d in tasks.iterdir())


def _has_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["process", pytest.param("dask", marks=pytest.mark.skipif(
    not _has_dask(), reason="dask distributed is not installed"))])
def test_workers_die_with_a_killed_parent(demo, executor):
    tag = uuid.uuid4().hex
    tasks = demo.results / "verify-tasks"
    proc = demo("verify", "--paper", "chen-luo-2025", "--executor", executor, "--workers", "2", wait=False,
                DEMO_SLEEP=300, DEMO_TAG=tag)
    try:
        assert _wait_for(lambda: _running_slow(tasks), 240, proc), "the slow claim never started"
        workers = [p for p in _tagged(tag) if p != proc.pid]
        assert len(workers) >= 2  # the pool's workers (and its resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        time.sleep(10)
        survivors = _tagged(tag)
        assert survivors == [], f"processes outlived their killed parent: {survivors}"
    finally:
        for pid in _tagged(tag):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_ctrl_c_of_a_process_sweep_returns_fast_with_130_and_keeps_results(demo):
    tag = uuid.uuid4().hex
    tasks = demo.results / "verify-tasks"
    proc = demo("verify", "--paper", "chen-luo-2025", "--executor", "process", "--workers", "2", wait=False,
                capture=True, DEMO_SLEEP=300, DEMO_TAG=tag)
    try:
        assert _wait_for(lambda: _running_slow(tasks), 240, proc)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground process group
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        for pid in _tagged(tag):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    # about 2 s on an idle machine (stop the pool, commit the store, exit without interpreter teardown);
    # the bound leaves room for a loaded CI machine -- before, it took about 2 minutes
    assert elapsed < 10, f"took {elapsed:.1f}s to return after Ctrl-C"
    assert "Traceback" not in err and "interrupted: 2 of 3 claims finished and stored" in err
    stored = json.loads((demo.results / "verdicts.json").read_text())["claims"]
    assert set(stored) == {"chen-luo-2025/demo/base", "chen-luo-2025/demo/nan"}  # the finished ones, kept
    assert _wait_for(lambda: not _tagged(tag), 10), "workers outlived the interrupted sweep"


def _sigint_blocked() -> bool:
    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_workers_are_born_with_sigint_blocked():
    """A Ctrl-C that reaches a worker still importing (before its initialiser ignores SIGINT) printed a
    KeyboardInterrupt traceback from the worker (seen once in CI); workers now start with SIGINT blocked,
    and the parent's own mask is left as it was."""
    from twostage.runs.executor import _process_pool

    pool = _process_pool(1)
    try:
        assert pool.submit(_sigint_blocked).result(timeout=120) is True
    finally:
        pool.shutdown()
    assert not _sigint_blocked()
