"""Run the checkers of a selection of claims and persist the verdicts.

``results/verdicts.json`` keeps the latest verdict per claim id (merged across runs), so
``twostage claims`` can show each claim's last status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twostage.numerics.store import atomic_write_json
from twostage.theory.claims import Claim, load_all
from twostage.verify.checks import Context, load_checkers
from twostage.verify.verdict import Status, Verdict


class NoCheckerError(LookupError):
    def __str__(self) -> str:
        return str(self.args[0])


def select(paper: str | None = None, claim_id: str | None = None) -> list[Claim]:
    """Claims to run: one by id, or all of a paper, or all (ids validated, one-line errors)."""
    reg = load_all()
    if claim_id is not None:
        c = reg.get(claim_id)
        if paper is not None and c.paper != paper:
            raise NoCheckerError(f"claim {claim_id!r} belongs to {c.paper}, not {paper}")
        return [c]
    return reg.claims(paper)


def run_claim(claim: Claim, ctx: Context) -> Verdict:
    checkers = load_checkers()
    fn = checkers.get(claim.id)
    if fn is None:
        raise NoCheckerError(f"claim {claim.id!r} has no checker")
    t0 = time.perf_counter()
    try:
        m = fn(ctx)
    except (ArithmeticError, FloatingPointError) as exc:
        return Verdict(claim.id, Status.NUMERICAL_FAILURE, None, 0, None, f"{type(exc).__name__}: {exc}",
                       time.perf_counter() - t0)
    return Verdict(claim.id, m.status, m.margin, m.examples, m.worst or None, claim.tolerance,
                   time.perf_counter() - t0)


def run_suite(claims: list[Claim], ctx: Context,
              progress: Callable[[Claim, Verdict], None] | None = None) -> list[Verdict]:
    out = []
    for c in claims:
        v = run_claim(c, ctx)
        out.append(v)
        if progress:
            progress(c, v)
    return out


def verdicts_path(root: Path) -> Path:
    return Path(root) / "verdicts.json"


def load_verdicts(root: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(verdicts_path(root).read_text()).get("claims", {})
    except (OSError, ValueError):
        return {}


def save_verdicts(root: Path, verdicts: list[Verdict], profile: str) -> Path:
    merged = load_verdicts(root)
    for v in verdicts:
        merged[v.claim_id] = {**v.to_json(), "profile": profile, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    p = verdicts_path(root)
    atomic_write_json(p, {"schema": 1, "claims": merged})
    return p
