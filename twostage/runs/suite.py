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

from twostage.errors import CorruptResultsError, NoCheckerError
from twostage.runs.records import verdict_record
from twostage.runs.store import atomic_write_json, git_sha
from twostage.theory.claims import Claim, load_all
from twostage.verify.checks import Context, load_checkers
from twostage.verify.verdict import Status, Verdict


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
        reason = {"reason": f"{type(exc).__name__}: {exc}"}
        return Verdict(claim.id, Status.NUMERICAL_FAILURE, None, 0, reason, claim.tolerance,
                       time.perf_counter() - t0)
    return Verdict(claim.id, m.status, m.margin, m.examples, m.worst or None, claim.tolerance,
                   time.perf_counter() - t0, m.unit or "configurations")


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


def require_checkers(claims: list[Claim]) -> None:
    """Fail before running anything when a selected claim has no checker (nothing half-done is lost)."""
    checkers = load_checkers()
    missing = [c.id for c in claims if c.id not in checkers]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NoCheckerError(f"claim {missing[0]!r} has no checker{more}")


def load_verdicts(root: Path, strict: bool = False) -> dict[str, dict[str, Any]]:
    """Last verdict per claim id; a missing file is empty, a corrupt one too (an error if ``strict``)."""
    path = verdicts_path(root)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        if strict:
            raise CorruptResultsError(f"cannot read {path}: {exc.strerror}") from None
        return {}
    try:
        claims = json.loads(text).get("claims", {})
        if not isinstance(claims, dict):
            raise ValueError("'claims' is not an object")
        return claims
    except (ValueError, AttributeError) as exc:
        if strict:
            raise CorruptResultsError(f"{path} is corrupt ({str(exc).splitlines()[0]}); "
                                      "move it away and rerun twostage verify") from None
        return {}


def save_verdicts(root: Path, verdicts: list[Verdict], profile: str, seed: int | None = None,
                  device: str | None = None) -> Path:
    """Merge ``verdicts`` into ``verdicts.json`` and rewrite ``verdicts.parquet`` beside it.

    A corrupt ``verdicts.json`` is kept as ``verdicts.json.corrupt`` rather than overwritten.
    """
    try:
        merged = load_verdicts(root, strict=True)
    except CorruptResultsError:
        bad = verdicts_path(root)
        bad.replace(bad.with_name(bad.name + ".corrupt"))
        merged = {}
    sha = git_sha()
    for v in verdicts:
        merged[v.claim_id] = verdict_record(v, run={"profile": profile, "seed": seed, "device": device,
                                                    "git_sha": sha, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    p = verdicts_path(root)
    atomic_write_json(p, {"schema": 1, "claims": merged})
    from twostage.runs.tables import verdicts_frame, write_table

    write_table(verdicts_frame(merged, load_all()), Path(root) / "verdicts.parquet", "verdicts",
                {"profile": profile, "seed": seed, "device": device})
    return p
