"""Run the checkers of a selection of claims and persist the verdicts.

``results/verdicts.json`` keeps the latest verdict per claim id (merged across runs), so
``twostage claims`` can show each claim's last status; :mod:`twostage.runs.verdict_store` reads and writes it
(``load_verdicts``, ``save_verdicts``, ``verdicts_path`` are re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from twostage.errors import CorruptResultsError, NoCheckerError, UnknownClaimError
from twostage.options import shorten
from twostage.runs.verdict_store import load_verdicts, save_verdicts, verdicts_path
from twostage.theory.claims import Claim, load_all
from twostage.verify.checks import Context, load_checkers
from twostage.verify.verdict import Status, Verdict

MAX_ID = 120  # no claim id is longer; a longer --claim is echoed shortened


def select(paper: str | None = None, claim_id: str | None = None) -> list[Claim]:
    """Claims to run: one by id, a group by id prefix (``chen-luo-2025/prop2`` selects every
    ``chen-luo-2025/prop2/...`` claim), all of a paper, or all; one-line errors for unknown ids."""
    reg = load_all()
    if claim_id is None:
        return reg.claims(paper)
    if len(claim_id) > MAX_ID:
        raise UnknownClaimError(f"unknown claim {shorten(claim_id, 60)!r} (no claim id is that long)")
    ids = {c.id for c in reg.claims()}
    if claim_id in ids:
        c = reg.get(claim_id)
        if paper is not None and c.paper != paper:
            raise NoCheckerError(f"claim {claim_id!r} belongs to {c.paper}, not {paper}")
        return [c]
    prefix = claim_id.rstrip("/") + "/"
    group = [c for c in reg.claims() if c.id.startswith(prefix)]
    if group:
        mine = [c for c in group if paper is None or c.paper == paper]
        if not mine:
            raise NoCheckerError(f"claims {claim_id!r}... belong to {group[0].paper}, not {paper}")
        return mine
    reg.get(claim_id)  # raises UnknownClaimError (with close ids)
    raise AssertionError("unreachable")  # pragma: no cover


def run_claim(claim: Claim, ctx: Context) -> Verdict:
    checkers = load_checkers()
    fn = checkers.get(claim.id)
    if fn is None:
        raise NoCheckerError(f"claim {claim.id!r} has no checker")
    t0 = time.perf_counter()
    try:
        m = fn(ctx)
    except (ArithmeticError, FloatingPointError) as exc:
        reason = {"reason": f"{type(exc).__name__}: {exc}"}
        return Verdict(claim.id, Status.NUMERICAL_FAILURE, None, 0, reason, claim.tolerance,
                       time.perf_counter() - t0)
    return Verdict(claim.id, m.status, m.margin, m.examples, m.worst or None, claim.tolerance,
                   time.perf_counter() - t0, m.unit or "configurations")


def run_suite(claims: list[Claim], ctx: Context,
              progress: Callable[[Claim, Verdict], None] | None = None,
              start: Callable[[Claim], None] | None = None) -> list[Verdict]:
    """Judge ``claims`` in order in this process; ``start(claim)`` before and ``progress(claim, verdict)``
    after each (a Ctrl-C between them loses only the claim being judged: the caller keeps the others)."""
    out = []
    for c in claims:
        if start:
            start(c)
        v = run_claim(c, ctx)
        out.append(v)
        if progress:
            progress(c, v)
    return out


def require_checkers(claims: list[Claim]) -> None:
    """Fail before running anything when a selected claim has no checker (nothing half-done is lost)."""
    checkers = load_checkers()
    missing = [c.id for c in claims if c.id not in checkers]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NoCheckerError(f"claim {missing[0]!r} has no checker{more}")


__all__ = ["CorruptResultsError", "load_verdicts", "require_checkers", "run_claim", "run_suite",
           "save_verdicts", "select", "verdicts_path"]
