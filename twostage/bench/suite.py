"""The ``verify`` suite end to end as a ``twostage bench`` hot path (issue 6, "Performance").

Three passes over the same claims, each in fresh spawned processes (the checkers memoise trajectories
per process, so an in-process rerun would time the caches, not the work):

* *naive*: a process pool of one worker judges the claims one after another;
* *batched*: the default process pool (``workers`` processes, one claim per task);
* *counted*: one process runs the claims under :class:`torch.utils.flop_counter.FlopCounterMode` and
  reports the matmul-type FLOPs torch dispatched (untimed: the mode slows every op down).

Reported like the other hot paths: throughput in claims per second, ``naive_over_batched`` = naive time
over batched time, and ``time_over_flop_roofline`` = batched time over ``FLOPs / (matmul rate x
max(1, workers / threads))`` (the rate was measured with torch's ``threads``). Elementwise FLOPs, SymPy
proofs and ball arithmetic are not counted, so that ratio overstates the distance to the arithmetic
limit: it says how far the suite is from being matmul-bound. No byte model is claimed (``None``). The
verdicts of the two timed passes must agree (``verdicts_agree``).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

# "small": three cheap claims (a smoke run); "full": every claim of both papers at the ci profile
SUITES: dict[str, tuple[str, ...] | None] = {
    "small": ("gong-2025/setting/gd-updates", "gong-2025/derived/init-gradient",
              "gong-2025/spectral/block-order"),
    "full": None,
}
PROFILE = "ci"


def claims_of(ids: tuple[str, ...] | None) -> list:
    """The claims of ``ids`` (validated by the registry), every claim of both papers for ``None``."""
    from twostage.runs.suite import select

    return select() if ids is None else [c for i in ids for c in select(claim_id=i)]


def suite_claims(size: str) -> list:
    """The claims the bench judges at ``size``."""
    return claims_of(SUITES[size])


def _count(claim_ids: tuple[str, ...], profile: str, device: str, seed: int) -> tuple[int, float]:
    """Worker side: run the claims under ``FlopCounterMode``; (matmul FLOPs, seconds)."""
    from torch.utils.flop_counter import FlopCounterMode

    from twostage.runs.suite import run_suite
    from twostage.theory.claims import load_all
    from twostage.verify.checks import Context
    from twostage.verify.profiles import get_profile

    reg = load_all()
    ctx = Context(profile=get_profile(profile), device=device, seed=seed)
    t0 = time.perf_counter()
    with FlopCounterMode(display=False) as fc:
        run_suite([reg.get(i) for i in claim_ids], ctx)
    return int(fc.get_total_flops()), time.perf_counter() - t0


def _count_in_fresh_process(claim_ids: tuple[str, ...], device: str, seed: int) -> tuple[int, float]:
    """:func:`_count` in a spawned process (no memoised trajectories from the timed passes)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(_count, claim_ids, PROFILE, device, seed).result()


def _timed_pass(claims, ctx, workers: int):
    from twostage.runs.executor import ExecutorSpec
    from twostage.runs.sweep_verify import verify_distributed

    with tempfile.TemporaryDirectory(prefix="twostage-bench-") as root:
        t0 = time.perf_counter()
        verdicts, _ = verify_distributed(claims, ctx, ExecutorSpec("process", workers=workers), Path(root))
        seconds = time.perf_counter() - t0
    return seconds, verdicts


def bench_verify_suite(size: str, device: str, ceil: dict, workers: int | None = None, seed: int = 0) -> dict:
    """Time the suite at ``size`` with one worker and with ``workers`` (default: CPU count) processes."""
    from twostage.verify.checks import Context
    from twostage.verify.profiles import get_profile

    workers = workers or max(1, os.cpu_count() or 1)
    claims = suite_claims(size)
    ctx = Context(profile=get_profile(PROFILE), device=str(device), seed=seed)
    t_naive, v_naive = _timed_pass(claims, ctx, 1)
    t_b, v_b = _timed_pass(claims, ctx, workers)
    flops, t_count = _count_in_fresh_process(tuple(c.id for c in claims), str(device), seed)
    status = lambda vs: [None if v is None else v.status.value for v in vs]
    slowest = sorted((v for v in v_b if v is not None), key=lambda v: -v.seconds)[:3]
    # the ceiling was measured with torch's thread count; ``workers`` processes get that many cores each
    t_flop = flops / (ceil["matmul_GFLOPs"] * 1e9 * max(1.0, workers / torch.get_num_threads()))
    over_flop = t_b / t_flop if flops else None
    return {"B": len(claims), "d": workers, "size_label": f"{len(claims)} claims, {workers} workers",
            "profile": PROFILE, "seconds": t_b, "seconds_naive": t_naive, "seconds_counted": t_count,
            "throughput": len(claims) / t_b, "unit": "claims/s", "naive_over_batched": t_naive / t_b,
            "flops": flops, "bytes": None, "time_over_byte_roofline": None,
            "time_over_flop_roofline": over_flop, "time_over_roofline": over_flop,
            "verdicts_agree": status(v_naive) == status(v_b), "failed": status(v_b).count(None),
            "slowest": [{"claim": v.claim_id, "seconds": v.seconds} for v in slowest]}
