"""``twostage audit`` as a ``twostage bench`` entry (issue 12, item 2: "the full audit is a command and a
bench entry").

One pass of the audit (:func:`twostage.runs.audit.run_audit`) over the claims of the size, in a temporary
results folder (nothing cached from an earlier audit), at the ``ci`` profile: ``small`` audits three cheap
claims with the quick ladder (a smoke run, seconds), ``full`` every claim of both papers with the full ladder
(the whole audit: hours on 2 CPU cores). Reported like the other rows: throughput in judged mutations per
second; there is no batched/naive pair and no byte or FLOP model (``None``). Beside the timing, the entry
says what the audit found: how many mutations were judged and caught, and how many claims were flagged.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

SUITES: dict[str, tuple[str, ...] | None] = {
    "small": ("chen-luo-2025/def4/nondegenerate-as", "gong-2025/derived/init-gradient",
              "chen-luo-2025/prop2/norm-growth"),
    "full": None,
}


def bench_audit(size: str, device: str, seed: int = 0) -> dict:
    """Time one audit pass over the claims of ``size`` (see the module docstring)."""
    from twostage.bench.suite import claims_of
    from twostage.runs.audit import AuditSettings, run_audit
    from twostage.verify.check import Context
    from twostage.verify.checks import load_checkers
    from twostage.verify.profiles import get_profile

    claims = claims_of(SUITES[size])
    ctx = Context(profile=get_profile("ci"), device=str(device), seed=seed)
    settings = AuditSettings("ci", seed, quick=size != "full")
    with tempfile.TemporaryDirectory(prefix="twostage-bench-audit-") as root:
        t0 = time.perf_counter()
        rows, _ = run_audit(claims, load_checkers(), ctx, settings, Path(root))
        seconds = time.perf_counter() - t0
    judged = sum(r["mutations"] for r in rows) + len(rows)  # every mutation and one baseline per claim
    flags: dict[str, int] = {}
    for r in rows:
        flags[r["flag"]] = flags.get(r["flag"], 0) + 1
    return {"B": len(claims), "d": 1, "size_label": f"{len(claims)} claims, {judged} checks",
            "profile": "ci", "quick": settings.quick, "seconds": seconds, "throughput": judged / seconds,
            "unit": "checks/s", "naive_over_batched": None, "flops": None, "bytes": None,
            "time_over_byte_roofline": None, "time_over_flop_roofline": None, "time_over_roofline": None,
            "mutations": judged - len(rows), "caught": sum(len(r["caught"]) for r in rows), "flags": flags}
