"""``twostage audit``: how much each verdict is worth, measured by mutating the claim's formula (issue 12).

For each claim the checker is run once on the claim as registered (the *baseline*) and once per automatic
mutation of its formula (:mod:`twostage.verify.mutate`: constants scaled by ``1 +- delta``, exponents
shifted, relations reversed or negated, additive terms dropped), with the claim replaced
(``dataclasses.replace(claim, formula=...)``; :class:`~twostage.verify.check.Check` takes the claim). A
mutation is *caught* when the verdict on the mutated claim is ``violated`` while the baseline was not. Per
claim:

* ``sensitivity``: the smallest ``delta`` of a caught ``scale``/``shift`` mutation (smaller = sharper check);
  a ladder of deltas is walked from large to small per constant and direction, and stops at the first one not
  caught (a check that misses ``x1.1`` will not see ``x1.01``);
* ``flag``: ``formula-blind`` when no mutation changes the verdict at all (status and margin identical to the
  baseline: the checker does not read the formula), ``weak evidence`` when something changed but nothing was
  caught, ``no formula``, ``baseline <status>`` when the baseline is itself not ``holds``, else ``ok``.

Results: ``<results>/audit/<config-hash>/`` (hash of profile, seed, quick/full ladder) holds one JSON file per
claim (``<claim>.json``, rewritten atomically after every mutation, so an interrupted audit resumes where it
stopped; a claim whose formula or code changed is redone), ``audit.json`` (the summary) and ``audit.txt`` (a
table);
``<results>/audit/latest.json`` keeps the latest summary per claim id, read by ``twostage verify --json`` to
put ``sensitivity`` beside ``margin``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from twostage.runs.store import atomic_write_bytes, atomic_write_json, config_hash, read_json_dict
from twostage.theory.claims import Claim
from twostage.verify.check import Check, Context
from twostage.verify.mutate import LADDER, QUICK_LADDER, Mutation, mutations
from twostage.verify.verdict import Measurement, Status

QUICK_SITES = 3  # --quick: mutate only the first few constants/exponents of each formula


@dataclasses.dataclass(frozen=True)
class AuditSettings:
    """What an audit's results depend on besides the claim (hashed into the results folder)."""

    profile: str
    seed: int
    quick: bool

    @property
    def ladder(self) -> tuple[sp.Rational, ...]:
        return QUICK_LADDER if self.quick else LADDER

    def folder(self, root: Path) -> Path:
        key = {"profile": self.profile, "seed": self.seed, "quick": self.quick,
               "ladder": [str(d) for d in self.ladder], "sites": QUICK_SITES if self.quick else None}
        return Path(root) / "audit" / config_hash(key)


def _same(a: Measurement | dict, b: dict) -> bool:
    sa, ma = (a.status.value, a.margin) if isinstance(a, Measurement) else (a["status"], a["margin"])
    if sa != b["status"]:
        return False
    mb = b["margin"]
    if ma is None or mb is None:
        return ma is None and mb is None
    return math.isclose(ma, mb, rel_tol=1e-12, abs_tol=1e-15)


def _run(check: Check, ctx: Context, claim: Claim) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        # an edited exponent makes e.g. W**(5/2) of a negative W: NaN, judged as such, not a warning on stderr
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            m = check(ctx, claim)
        out = {"status": m.status.value, "margin": m.margin if m.margin is None or math.isfinite(m.margin)
               else None, "reason": (m.worst or {}).get("reason")}
    except Exception as exc:  # noqa: BLE001 - a mutated formula the checker cannot read is a result, not a crash
        out = {"status": "error", "margin": None, "reason": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {**out, "seconds": round(time.perf_counter() - t0, 3)}


@functools.cache
def _code() -> str:
    """The code version the results were measured with (a claim audited by other code is redone)."""
    from twostage.runs.sweep_verify import code_version

    return code_version()


def _claim_file(folder: Path, claim: Claim) -> Path:
    return folder / (claim.id.replace("/", "__") + ".json")


def audit_claim(claim: Claim, check: Check, ctx: Context, settings: AuditSettings, folder: Path,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Baseline and mutations of one claim (resuming from ``folder``); returns the claim's summary."""
    path = _claim_file(folder, claim)
    formula = sp.srepr(claim.formula) if claim.formula is not None else None
    state = read_json_dict(path) if path.exists() else {}
    code = _code()
    if state.get("formula") != formula or state.get("code") != code:
        state = {"id": claim.id, "formula": formula, "code": code, "baseline": None, "mutations": {}}
    if state["baseline"] is None:
        state["baseline"] = _run(check, ctx, claim)
        atomic_write_json(path, state)
    done: dict[str, dict] = state["mutations"]
    stopped: set = set()
    ms = mutations(claim.formula, settings.ladder, QUICK_SITES if settings.quick else None)
    for m in ms:
        site = (m.kind, m.path, m.sign)
        if m.delta is not None and site in stopped:
            continue
        if m.label not in done:
            mutant = dataclasses.replace(claim, formula=m.formula)
            done[m.label] = {**_describe(m), **_run(check, ctx, mutant)}
            atomic_write_json(path, state)
            if progress:
                progress(f"{claim.id}: {m.label}: {done[m.label]['status']}")
        if m.delta is not None and not _caught(done[m.label], state["baseline"]):
            stopped.add(site)
    return summarise(claim, state)


def _describe(m: Mutation) -> dict[str, Any]:
    return {"kind": m.kind, "delta": m.delta, "sign": m.sign, "expect": m.expect, "formula": str(m.formula)}


def _caught(r: dict, baseline: dict) -> bool:
    return r["status"] == "violated" and baseline["status"] != "violated"


def summarise(claim: Claim, state: dict[str, Any]) -> dict[str, Any]:
    """One claim's audit summary from its state file (see the module docstring for the flags)."""
    base, runs = state["baseline"], state["mutations"]
    expect = {k: r for k, r in runs.items() if r["expect"] == "violated"}
    caught = sorted(k for k, r in expect.items() if _caught(r, base))
    deltas = [r["delta"] for k, r in expect.items() if k in caught and r["delta"] is not None]
    inconsistent = sorted(k for k, r in runs.items() if r["expect"] == "holds" and r["status"] == "violated")
    changed = [k for k, r in runs.items() if not _same(r, base)]
    if claim.formula is None:
        flag = "no formula"
    elif not runs:
        flag = "no mutations"
    elif not changed:
        flag = "formula-blind"
    elif base["status"] != Status.HOLDS.value:
        flag = f"baseline {base['status']}"
    elif not caught:
        flag = "weak evidence"
    else:
        flag = "ok"
    return {"id": claim.id, "status": base["status"], "margin": base["margin"], "flag": flag,
            "sensitivity": min(deltas) if deltas else None, "mutations": len(runs), "caught": caught,
            "missed": sorted(k for k in expect if k not in caught), "changed": len(changed),
            "inconsistent": inconsistent,
            "errors": sorted(k for k, r in runs.items() if r["status"] == "error")}


def run_audit(claims: list[Claim], checks: dict[str, Check], ctx: Context, settings: AuditSettings,
              root: Path, progress: Callable[[str], None] | None = None) -> tuple[list[dict[str, Any]], Path]:
    """Audit ``claims``; write the per-claim files, ``audit.json``/``audit.txt`` and merge ``latest.json``."""
    folder = settings.folder(root)
    ctx = dataclasses.replace(ctx, profile=dataclasses.replace(ctx.profile, shrink=False))  # caught or not
    rows = [audit_claim(c, checks[c.id], ctx, settings, folder, progress) for c in claims]
    meta = {"profile": settings.profile, "seed": settings.seed, "quick": settings.quick,
            "ladder": [float(d) for d in settings.ladder], "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    old = read_json_dict(folder / "audit.json").get("claims", {}) if (folder / "audit.json").exists() else {}
    atomic_write_json(folder / "audit.json", {**meta, "claims": {**old, **{r["id"]: r for r in rows}}})
    atomic_write_bytes(folder / "audit.txt", table_text(rows).encode())
    latest_path = Path(root) / "audit" / "latest.json"
    latest = read_json_dict(latest_path).get("claims", {}) if latest_path.exists() else {}
    latest.update({r["id"]: {**r, **meta, "folder": folder.name} for r in rows})
    atomic_write_json(latest_path, {"schema": 1, "claims": latest})
    return rows, folder


def table_text(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of audit summaries (also what ``audit.txt`` holds)."""
    head = f"{'claim':58} {'status':10} {'margin':>9} {'sens.':>7} {'caught':>8}  flag"
    lines = [head, "-" * len(head)]
    for r in rows:
        margin = "-" if r["margin"] is None else f"{r['margin']:.3g}"
        sens = "-" if r["sensitivity"] is None else f"{r['sensitivity']:g}"
        n_expect = len(r["caught"]) + len(r["missed"])
        caught = f"{len(r['caught'])}/{n_expect}"
        lines.append(f"{r['id']:58} {r['status']:10} {margin:>9} {sens:>7} {caught:>8}  {r['flag']}")
    return "\n".join(lines) + "\n"


def latest_sensitivity(root: Path) -> dict[str, dict[str, Any]]:
    """``{claim id: {"sensitivity", "flag"}}`` from the latest audit (empty when none was run)."""
    path = Path(root) / "audit" / "latest.json"
    try:
        claims = read_json_dict(path).get("claims", {})
    except Exception:  # noqa: BLE001 - a missing or unreadable audit only means no sensitivity is shown
        return {}
    return {k: {"sensitivity": v.get("sensitivity"), "flag": v.get("flag")} for k, v in claims.items()
            if isinstance(v, dict)}
