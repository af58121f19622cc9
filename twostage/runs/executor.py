"""Executors for sweeps: ``concurrent.futures``-style, chosen by a small validated spec.

DESIGN.md *Scale*: sweeps run on a local process pool by default (``spawn`` start method, so a
worker never inherits a parent's CUDA context) and on Dask distributed for a cluster
(``--executor dask --address tcp://host:8786``). ``sequential`` runs every task in the calling process
(no pickling, no start-up cost; what ``twostage verify`` uses unless asked otherwise).

Process hygiene: pool workers die with the process that owns the pool (:func:`_die_with`: a parent-death
signal on Linux, a re-parenting check everywhere), ignore SIGINT, and a Ctrl-C (or any exception) in the
owner cancels the pending tasks and terminates the running ones (:func:`abort`) instead of waiting for them.

>>> from twostage.runs.executor import ExecutorSpec, open_executor
>>> spec = ExecutorSpec("sequential")
>>> with open_executor(spec) as ex:
...     ex.submit(pow, 2, 10).result()
1024
>>> ExecutorSpec("threads")
Traceback (most recent call last):
...
twostage.errors.ExecutorError: unknown executor 'threads' (choose sequential, process, dask)
>>> ExecutorSpec("process", workers=0)
Traceback (most recent call last):
...
twostage.errors.ExecutorError: --workers must be a positive integer, got 0
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from twostage.errors import ExecutorError

KINDS = ("sequential", "process", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to open: ``kind``, worker count (default: CPU count) and a Dask scheduler address.

    ``address`` is only meaningful for ``dask``; without one, a ``dask`` spec starts a
    ``LocalCluster`` on the loopback interface with ``workers`` worker processes.
    """

    kind: str = "process"
    workers: int | None = None
    address: str | None = None
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ExecutorError(f"unknown executor {self.kind!r} (choose {', '.join(KINDS)})")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ExecutorError(f"--workers must be a positive integer, got {self.workers}")
        if self.address is not None and self.kind != "dask":
            raise ExecutorError(f"--address is only used with --executor dask (got --executor {self.kind})")
        if self.address is not None and "://" not in self.address and ":" not in self.address:
            raise ExecutorError(f"--address must look like tcp://host:port, got {self.address!r}")

    @property
    def n_workers(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    def single(self) -> ExecutorSpec:
        """The same kind with one worker (used to re-run a suspected crasher in isolation)."""
        if self.kind == "process":
            return ExecutorSpec("process", workers=1)
        return self


class InlineExecutor(Executor):
    """Runs each task at submission in the calling process; returns completed futures."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, like a pool would
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            fut.set_exception(exc)
        return fut


PR_SET_PDEATHSIG = 1  # linux/prctl.h
ORPHAN_POLL_S = 1.0


def _die_with(parent: int) -> None:
    """Worker initialiser: end this worker when ``parent`` (the process that owns the pool) dies.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, the kernel kills the worker with its parent. Everywhere
    (and as a second line on Linux): a daemon thread checks ``os.getppid()`` every ``ORPHAN_POLL_S`` seconds
    and exits the worker once it has been re-parented. SIGINT is ignored: a Ctrl-C reaches the whole
    process group, and the parent alone decides (it cancels pending tasks and stops the workers).
    """
    import signal
    import sys
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="twostage-orphan-watch", daemon=True).start()


_SPAWN = multiprocessing.get_context("spawn")


class _WorkerProcess(_SPAWN.Process):
    """A spawned worker that is born with SIGINT blocked (the mask is inherited through fork and exec): a
    Ctrl-C reaching the process group while the worker is still importing (before :func:`_die_with` runs)
    would otherwise print a ``KeyboardInterrupt`` traceback from the worker. The pool stops its workers
    with SIGTERM/SIGKILL (:func:`abort`), never SIGINT."""

    def start(self) -> None:
        import signal

        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # this thread only, restored below
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _WorkerContext(type(_SPAWN)):
    Process = _WorkerProcess


def _process_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_WorkerContext(),
                               initializer=_die_with, initargs=(os.getpid(),))


def abort(pool: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Stop a process pool now: cancel the tasks not started, terminate the running workers (SIGTERM,
    then SIGKILL after ``grace`` seconds). Results already written by finished tasks stay on disk."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=grace)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=grace)


@contextlib.contextmanager
def _dask_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--executor dask needs dask distributed: pip install 'twostage[dask]'") from None
    cluster = None
    try:
        if spec.address:
            client = Client(spec.address, timeout=f"{spec.connect_timeout}s")
        else:
            cluster = LocalCluster(n_workers=spec.n_workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
            client = Client(cluster, timeout=f"{spec.connect_timeout}s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = spec.address or "a local cluster"
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExecutorError(f"cannot reach the dask scheduler at {where}: {msg}") from None
    try:
        with client.get_executor(pure=False) as ex:
            yield ex
    finally:
        client.close()
        if cluster is not None:
            # a worker still tearing down torch after the nanny's 4 s grace is killed, as it should be:
            # not worth a WARNING under the verdict table (every result of the sweep is written by now)
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)
            try:
                cluster.close()
            finally:
                nanny.setLevel(level)


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec | None = None) -> Iterator[Executor]:
    """Open the executor ``spec`` describes (default: :func:`default_spec`) and close it afterwards."""
    spec = spec or default_spec()
    if spec.kind == "sequential":
        yield InlineExecutor()
    elif spec.kind == "process":
        pool = _process_pool(spec.n_workers)
        try:
            yield pool
        except BaseException:  # Ctrl-C or an error in the caller: do not wait for the running tasks
            abort(pool)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
    else:
        with _dask_executor(spec) as ex:
            yield ex


_DEFAULT: contextvars.ContextVar[ExecutorSpec | None] = contextvars.ContextVar("twostage_executor",
                                                                            default=None)


def default_spec() -> ExecutorSpec:
    """The executor sweeps use when none is passed: the CLI's ``--executor`` choice, else a process pool."""
    return _DEFAULT.get() or ExecutorSpec("process")


@contextlib.contextmanager
def use_executor(spec: ExecutorSpec) -> Iterator[ExecutorSpec]:
    """Make ``spec`` the default for sweeps started inside the block (``twostage run --executor``)."""
    token = _DEFAULT.set(spec)
    try:
        yield spec
    finally:
        _DEFAULT.reset(token)


def spec_from_options(kind: str | None, workers: int | None, address: str | None,
                      default: str = "process") -> ExecutorSpec:
    """Spec from CLI options: ``--address`` implies dask, ``--workers`` alone implies a process pool.

    >>> spec_from_options(None, 3, None).kind, spec_from_options(None, None, "tcp://127.0.0.1:8786").kind
    ('process', 'dask')
    >>> spec_from_options(None, None, None, default="sequential").kind
    'sequential'
    """
    if kind is None:
        kind = "dask" if address else ("process" if workers else default)
    return ExecutorSpec(kind, workers=workers, address=address)
