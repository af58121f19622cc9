"""The verdict store: ``results/verdicts.json`` and ``results/verdicts.parquet``, which cannot lose verdicts.

* **One writer path.** :func:`save_verdicts` is the only code that writes either file. ``verdicts.json``
  is the source; ``verdicts.parquet`` is derived from it and carries every record whole (column
  ``record``, the JSON of the entry), so either file alone restores the store. Both are written to
  temporaries and synced first, then renamed (JSON first), so a full disk or a crash leaves the old pair;
  both carry the same ``generation`` number (JSON top level, Parquet schema metadata), so a reader can
  tell they belong together.
* **One writer at a time.** The read-merge-write runs under an exclusive ``flock`` on
  ``results/.verdicts.lock``: two ``twostage verify`` runs started together both keep their verdicts.
  Readers take no lock (the renames are atomic).
* **Corruption is reported, never silent.** A file that cannot be read is named in one warning line on
  stderr and the other format is used to recover; a writer moves the unreadable file aside
  (``verdicts.json.corrupt-<time>``) before committing the recovered store. Only when neither file can be
  read is the store empty (readers with ``strict=True`` -- ``twostage claims``, ``report`` -- then stop
  with exit 2 and leave the file for inspection).
* **Statuses are checked on read.** An entry whose status is not a verdict status (``bogus``) is left in
  the file but not shown: every reader gets the same filtered view and one warning naming the claim.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twostage.errors import CorruptResultsError
from twostage.runs.store import commit_many, git_sha, locked, warn

JSON, PARQUET, LOCK = "verdicts.json", "verdicts.parquet", ".verdicts.lock"
STATUSES = ("holds", "violated", "undecided", "not-applicable", "numerical-failure")


def verdicts_path(root: Path) -> Path:
    return Path(root) / JSON


@dataclass
class _Loaded:
    claims: dict[str, Any]
    generation: int = 0
    bad: dict[Path, str] = field(default_factory=dict)  # unreadable file -> why
    recovered: bool = False  # claims come from verdicts.parquet


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_json(path: Path) -> tuple[dict[str, Any] | None, int, str | None]:
    """(claims, generation, problem); claims ``None`` when the file is missing or unreadable."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None, 0, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, 0, f"cannot be read ({getattr(exc, 'strerror', None) or _first(exc)})"
    try:
        data = json.loads(text)
        claims = data.get("claims", {})
        if not isinstance(claims, dict):
            raise ValueError("'claims' is not an object")
        return claims, int(data.get("generation") or 0), None
    except (ValueError, AttributeError, TypeError) as exc:
        return None, 0, f"is corrupt ({_first(exc)})"


def _record_of(row: dict[str, Any]) -> dict[str, Any]:
    """A store entry from a Parquet row: the ``record`` column, else rebuilt from the columns."""
    if row.get("record"):
        rec = json.loads(row["record"])
        if isinstance(rec, dict):
            return rec
    rec = {k: row.get(k) for k in ("id", "status", "margin", "examples", "tolerance", "seconds", "profile",
                                   "seed", "device", "git_sha", "at")}
    rec["worst"] = json.loads(row["worst"]) if row.get("worst") else None
    return rec


def _read_parquet(path: Path) -> tuple[dict[str, Any] | None, int, str | None]:
    if not path.exists():
        return None, 0, None
    try:
        import pyarrow.parquet as pq

        tbl = pq.read_table(path)
        meta = json.loads((tbl.schema.metadata or {}).get(b"twostage", b"{}"))
        claims = {str(row["id"]): _record_of(row) for row in tbl.to_pylist()}
        return claims, int(meta.get("generation") or 0), None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; any of them means unreadable
        return None, 0, f"cannot be read ({_first(exc)})"


def _load(root: Path) -> _Loaded:
    """Read the store (no warnings: the caller reports ``bad`` and ``recovered`` in one line)."""
    jpath, ppath = Path(root) / JSON, Path(root) / PARQUET
    claims, gen, problem = _read_json(jpath)
    if claims is not None:
        return _Loaded(claims, gen)
    bad = {jpath: problem} if problem else {}
    pclaims, pgen, pproblem = _read_parquet(ppath)
    if pproblem:
        bad[ppath] = pproblem
    if pclaims is not None:
        return _Loaded(pclaims, pgen, bad, recovered=True)
    return _Loaded({}, 0, bad)


def _recovery_note(root: Path, loaded: _Loaded) -> str:
    jpath, ppath = Path(root) / JSON, Path(root) / PARQUET
    if loaded.recovered:
        return f"recovered {len(loaded.claims)} verdicts from {ppath.name}"
    if jpath in loaded.bad and ppath not in loaded.bad:
        return f"no {ppath.name} to recover from"
    return "no stored verdicts can be shown"


def _valid(claims: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    """Entries with a verdict status; the others are named in one warning and left out."""
    out, bad = {}, []
    for cid, v in claims.items():
        if isinstance(v, dict) and v.get("status") in STATUSES:
            out[cid] = v
        else:
            bad.append((cid, v.get("status") if isinstance(v, dict) else v))
    if bad:
        cid, st = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        warn(f"{source}: claim {str(cid)[:80]!r} has invalid status {str(st)[:40]!r}{more}; not shown "
             "(rerun twostage verify for it)")
    return out


def load_verdicts(root: Path, strict: bool = False) -> dict[str, dict[str, Any]]:
    """Last verdict per claim id (entries with a valid status only).

    A missing store is empty. An unreadable file is reported (one warning) and the other format used;
    when nothing can be recovered from a corrupt ``verdicts.json`` the store is empty, or, if ``strict``,
    :class:`CorruptResultsError` (the file is left where it is).
    """
    loaded = _load(Path(root))
    jpath = verdicts_path(root)
    if strict and not loaded.recovered and jpath in loaded.bad:
        raise CorruptResultsError(f"{jpath} {loaded.bad[jpath]}; move it away and rerun twostage verify")
    if loaded.bad:
        what = " and ".join(f"{p} {why}" for p, why in loaded.bad.items())
        if jpath not in loaded.bad and not jpath.exists():
            what += f" and {jpath} is missing"
        warn(f"{what}; {_recovery_note(root, loaded)}")
    elif loaded.recovered:
        warn(f"{jpath} is missing; {_recovery_note(root, loaded)}")
    return _valid(loaded.claims, jpath)


def _move_aside(path: Path) -> str:
    """Rename an unreadable store file to ``<name>.corrupt-<time>`` (kept for inspection); its new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
    while dest.exists():
        dest, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
    try:
        path.replace(dest)
    except OSError as exc:
        return f"could not be moved aside ({exc.strerror or exc}) and is replaced"
    return f"moved aside to {dest.name}"


def _parquet_bytes(claims: dict[str, Any], generation: int, run: dict[str, Any]) -> bytes:
    from twostage.runs.tables import table_bytes, verdicts_frame
    from twostage.theory.claims import load_all

    return table_bytes(verdicts_frame(claims, load_all()), "verdicts", {**run, "generation": generation})


def save_verdicts(root: Path, verdicts: list, profile: str, seed: int | None = None,
                  device: str | None = None) -> Path:
    """Merge ``verdicts`` into the store and commit ``verdicts.json`` and ``verdicts.parquet`` together.

    Holds the store's lock from reading to renaming. An unreadable file is moved aside (and reported)
    and the store recovered from the other one before the merge, so no stored verdict is lost.
    """
    from twostage.runs.records import verdict_record

    root = Path(root)
    with locked(root / LOCK):
        loaded = _load(root)
        if loaded.bad:
            moved = "; ".join(f"{p} {why}: {_move_aside(p)}" for p, why in loaded.bad.items())
            warn(f"{moved}; {_recovery_note(root, loaded)}")
        elif loaded.recovered:
            warn(f"{root / JSON} is missing; {_recovery_note(root, loaded)}")
        merged = dict(loaded.claims)
        sha, at = git_sha(), time.strftime("%Y-%m-%dT%H:%M:%S")
        for v in verdicts:
            merged[v.claim_id] = verdict_record(v, run={"profile": profile, "seed": seed, "device": device,
                                                        "git_sha": sha, "at": at})
        gen = loaded.generation + 1
        text = json.dumps({"schema": 1, "generation": gen, "claims": merged}, indent=2, sort_keys=True,
                          default=str) + "\n"
        run = {"profile": profile, "seed": seed, "device": device}
        commit_many({root / JSON: text.encode(), root / PARQUET: _parquet_bytes(merged, gen, run)})
    return root / JSON
