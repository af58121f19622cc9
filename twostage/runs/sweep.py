"""Resumable sweeps: one task per configuration, one result directory per config hash.

``sweep(fn, configs, root, experiment)`` runs ``fn(cfg)`` for every configuration whose
``root/experiment/<config-hash>/`` is not complete (:func:`twostage.runs.store.is_complete`:
metadata written last, every file matching its SHA-256), so

* an interrupted sweep resumes and skips finished work;
* a corrupt or partial result directory is detected and redone;
* an exception in one run is reported (``error``, with ``error.json`` in its directory) and loses
  only that run; a worker *process* dying (segfault, out of memory) breaks a process pool, so the
  runs it had started are re-run one at a time in a fresh pool, and the one that kills its worker
  again is reported ``crashed`` while every other run finishes;
* NaN/inf in a trajectory makes the run ``numerical-failure`` with the column, step and time where
  it first appeared (stored in its metadata; a numerical failure is a finished result, not retried).

The worker writes the result itself (trajectories never travel back through the executor).
``fn`` must be picklable for the process and Dask executors (a module-level function). It returns a
:class:`RunOutput` or just a mapping of trajectory columns.

>>> import dataclasses, tempfile
>>> from twostage.runs.executor import ExecutorSpec
>>> from twostage.runs.sweep import sweep
>>> @dataclasses.dataclass(frozen=True)
... class C:
...     a: float
>>> square = lambda c: {"t": [0.0, 1.0], "y": [0.0, c.a ** 2]}
>>> root = tempfile.mkdtemp()
>>> r = sweep(square, [C(1.0), C(2.0)], root, "demo", executor=ExecutorSpec("sequential"))
>>> r.counts()
{'ok': 2}
>>> sweep(square, [C(1.0), C(3.0)], root, "demo", executor=ExecutorSpec("sequential")).counts()
{'ok': 1, 'skipped': 1}
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twostage.runs.executor import ExecutorSpec, default_spec, open_executor
from twostage.runs.store import atomic_write_json, config_hash, is_complete, run_dir, write_run

STARTED, ERROR = "started.json", "error.json"
TIME_COLUMNS = ("t", "time", "tbar", "t_bar", "step", "steps")


@dataclass(frozen=True)
class RunOutput:
    """What a sweep function returns: trajectory columns (or ``None``), metadata, extra files."""

    table: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskOutcome:
    """One configuration's fate in a sweep: ok | skipped | numerical-failure | error | crashed."""

    config_hash: str
    status: str
    directory: str
    seconds: float = 0.0
    detail: str = ""


@dataclass
class SweepResult:
    experiment: str
    root: str
    outcomes: list[TaskOutcome]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return dict(sorted(out.items()))

    @property
    def failed(self) -> list[TaskOutcome]:
        """Runs that did not finish (``error``/``crashed``); a rerun of the sweep retries them."""
        return [o for o in self.outcomes if o.status in ("error", "crashed")]

    def summary(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        return f"sweep {self.experiment}: {len(self.outcomes)} configs ({parts}) under {self.root}"


def first_nonfinite(table: Mapping[str, Any]) -> dict[str, Any] | None:
    """Column, row (step) and time of the first NaN/inf in a numeric trajectory table, else ``None``.

    >>> first_nonfinite({"t": [0.0, 0.5, 1.0], "E": [1.0, 2.0, float("inf")]})
    {'column': 'E', 'step': 2, 'time': 1.0}
    >>> first_nonfinite({"t": [0.0], "E": [1.0]}) is None
    True
    """
    import numpy as np

    time_col = next((c for c in TIME_COLUMNS if c in table), None)
    best: dict[str, Any] | None = None
    for name, col in table.items():
        try:
            arr = np.asarray(col, dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        bad = ~np.isfinite(arr)
        if bad.any():
            k = int(np.argmax(bad))
            if best is None or k < best["step"]:
                best = {"column": name, "step": k}
    if best is not None and time_col is not None:
        t = float(np.asarray(table[time_col], dtype=float).ravel()[best["step"]])
        best["time"] = t if math.isfinite(t) else None
    return best


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def execute_one(fn: Callable[[Any], Any], cfg: Any, root: str, experiment: str, token: str,
                force: bool = False) -> TaskOutcome:
    """Run one configuration inside a worker and write its result directory (the sweep's task);
    a complete directory is skipped unless ``force``."""
    d = run_dir(root, experiment, cfg)
    if is_complete(d) and not force:
        return TaskOutcome(d.name, "skipped", str(d))
    atomic_write_json(d / STARTED, {"token": token, "pid": os.getpid(), "host": socket.gethostname(),
                                    "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    t0 = time.perf_counter()
    try:
        out = fn(cfg)
        if not isinstance(out, RunOutput):
            out = RunOutput(table=out)
        meta = dict(out.meta)
        status = "ok"
        bad = first_nonfinite(out.table) if out.table is not None else None
        if bad is not None:
            status = "numerical-failure"
            meta["nonfinite"] = bad
        seconds = time.perf_counter() - t0
        meta.update(status=status, wall_time=seconds)
        write_run(Path(root), experiment, cfg, dict(out.table) if out.table is not None else None, meta,
                  dict(out.files))
    except Exception as exc:  # noqa: BLE001 - one run's failure is reported, the sweep goes on
        seconds = time.perf_counter() - t0
        try:
            atomic_write_json(d / ERROR, {"error": _first_line(exc), "traceback": traceback.format_exc(),
                                          "seconds": seconds})
        except OSError:
            pass
        return TaskOutcome(d.name, "error", str(d), seconds, _first_line(exc))
    for name in (STARTED, ERROR):
        (d / name).unlink(missing_ok=True)
    detail = "" if bad is None else "non-finite {column} at step {step}".format(**bad)
    return TaskOutcome(d.name, status, str(d), seconds, detail)


def _started_in(d: Path, token: str) -> bool:
    try:
        return json.loads((d / STARTED).read_text()).get("token") == token
    except (OSError, ValueError, AttributeError):
        return False


def _finished_outcome(d: Path) -> TaskOutcome:
    """TaskOutcome of a run that completed although its future was lost (the pool broke after it wrote)."""
    try:
        m = json.loads((d / "metadata.json").read_text())
    except (OSError, ValueError):
        m = {}
    return TaskOutcome(d.name, m.get("status", "ok"), str(d), float(m.get("wall_time", 0.0) or 0.0))


def _drive(ex: Executor, fn, todo: list[Any], root: str, experiment: str, token: str,
           report: Callable[[TaskOutcome], None], force: bool = False) -> list[Any]:
    """Submit ``todo``; report outcomes as they come; return the configs lost to a broken pool."""
    futures = {ex.submit(execute_one, fn, cfg, root, experiment, token, force): cfg for cfg in todo}
    lost = []
    for fut in as_completed(futures):
        cfg = futures[fut]
        try:
            report(fut.result())
        except BrokenProcessPool:
            lost.append(cfg)
        except Exception as exc:  # noqa: BLE001 - e.g. dask KilledWorker, unpicklable fn: that run only
            d = run_dir(root, experiment, cfg)
            report(TaskOutcome(d.name, "crashed", str(d), 0.0, _first_line(exc)))
    return lost


def sweep(fn: Callable[[Any], Any], configs: Iterable[Any], root: str | Path, experiment: str,
          executor: ExecutorSpec | Executor | None = None,
          progress: Callable[[TaskOutcome], None] | None = None, force: bool = False) -> SweepResult:
    """Run ``fn`` over ``configs`` (deduplicated by config hash), resuming from ``root/experiment``
    (``force``: recompute complete configurations too).

    ``executor``: an :class:`ExecutorSpec` (default :func:`~twostage.runs.executor.default_spec`,
    a spawn process pool) or an already open ``concurrent.futures.Executor``. ``progress`` is called
    with each :class:`TaskOutcome` as it arrives. Returns every configuration's outcome, in input order.
    """
    root = str(root)
    unique: dict[str, Any] = {}
    for cfg in configs:
        unique.setdefault(config_hash(cfg), cfg)
    results: dict[str, TaskOutcome] = {}

    def report(o: TaskOutcome) -> None:
        results[o.config_hash] = o
        if progress is not None:
            progress(o)

    todo = []
    for h, cfg in unique.items():
        d = run_dir(root, experiment, cfg)
        if is_complete(d) and not force:
            report(TaskOutcome(h, "skipped", str(d)))
        else:
            todo.append(cfg)
    if todo:
        _run_todo(fn, todo, root, experiment, executor, report, force)
    return SweepResult(experiment, root, [results[h] for h in unique])


def _run_todo(fn, todo: list[Any], root: str, experiment: str, executor, report, force: bool = False) -> None:
    if executor is not None and not isinstance(executor, ExecutorSpec):
        token = uuid.uuid4().hex
        for cfg in _drive(executor, fn, todo, root, experiment, token, report, force):
            d = run_dir(root, experiment, cfg)
            report(_finished_outcome(d) if is_complete(d) else
                   TaskOutcome(d.name, "crashed", str(d), 0.0, "worker process died (pool broken)"))
        return
    spec = executor or default_spec()
    if spec.kind == "process" and spec.n_workers > len(todo):  # no idle workers to spawn
        spec = ExecutorSpec("process", workers=len(todo))
    isolate: list[Any] = []
    while todo:
        token = uuid.uuid4().hex
        with open_executor(spec) as ex:
            lost = _drive(ex, fn, todo, root, experiment, token, report, force)
        todo = []
        for cfg in lost:
            d = run_dir(root, experiment, cfg)
            if is_complete(d):
                report(_finished_outcome(d))
            elif _started_in(d, token):
                isolate.append(cfg)  # was running when the pool broke: a suspect
            else:
                todo.append(cfg)  # never started: innocent, back into a fresh pool
        if lost and not isolate and todo:  # nothing was marked started: cannot tell; isolate all
            isolate, todo = todo, []
    while isolate:  # one at a time in a one-worker pool, renewed after each crash: a crash is that run's own
        token = uuid.uuid4().hex
        with open_executor(spec.single()) as ex:
            while isolate:
                cfg = isolate.pop(0)
                if _drive(ex, fn, [cfg], root, experiment, token, report, force):
                    d = run_dir(root, experiment, cfg)
                    died = "worker process died while running it"
                    report(_finished_outcome(d) if is_complete(d) else
                           TaskOutcome(d.name, "crashed", str(d), 0.0, died))
                    break
