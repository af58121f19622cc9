"""Results store: one directory per config hash, files written atomically.

``results/<experiment>/<config-hash>/`` holds ``config.json``, ``trajectory.parquet`` and
``metadata.json`` (git SHA, package versions, device, seed, wall time). ``metadata.json`` is written
last, so its presence marks a complete run: an interrupted sweep resumes by skipping complete
directories and rerunning the rest.

>>> import dataclasses, tempfile
>>> from twostage.runs.store import config_hash
>>> @dataclasses.dataclass(frozen=True)
... class C:
...     d: int
...     eps: float
>>> config_hash(C(2, 0.1)) == config_hash(C(2, 0.1)) != config_hash(C(3, 0.1))
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from twostage.errors import StoreError

SCHEMA_VERSION = 1


def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__, **{f.name: _canonical(getattr(obj, f.name))
                                                   for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float):
        return repr(obj)  # exact round-trip representation
    return obj


def config_hash(cfg: Any, length: int = 16) -> str:
    """Stable hash of a (frozen dataclass) configuration and the store schema version."""
    payload = json.dumps({"schema": SCHEMA_VERSION, "config": _canonical(cfg)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:length]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and ``os.replace`` (atomic on POSIX)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"cannot write to {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(directory: Path) -> None:
    """Raise :class:`StoreError` (one line) now, before any work, if ``directory`` cannot be written."""
    probe = Path(directory) / f".write-test-{os.getpid()}"
    atomic_write_bytes(probe, b"")
    probe.unlink(missing_ok=True)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def read_json_dict(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` when it is missing, unreadable or not an object (lenient reads
    of metadata written by this package; the verdict store reads strictly, see ``runs/suite.py``)."""
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def environment() -> dict[str, Any]:
    """Provenance of a run: git SHA, Python and package versions (read from metadata, nothing imported)."""
    return {
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "sympy": _version("sympy"),
        "platform": platform.platform(),
    }


def run_dir(root: Path, experiment: str, cfg: Any) -> Path:
    return Path(root) / experiment / config_hash(cfg)


def is_complete(directory: Path) -> bool:
    """A run is complete when its metadata (written last) parses and names every file it lists.

    When the metadata records SHA-256 digests (every run written by :func:`write_run` does), each
    file must also match its digest, so a truncated or corrupted result file is detected and the run
    is redone by a resumed sweep.
    """
    meta = Path(directory) / "metadata.json"
    try:
        m = json.loads(meta.read_text())
        files = list(m.get("files", []))
        digests = dict(m.get("sha256", {}))
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    for f in files:
        path = Path(directory) / f
        if not path.is_file():
            return False
        if f in digests:
            try:
                if hashlib.sha256(path.read_bytes()).hexdigest() != digests[f]:
                    return False
            except OSError:
                return False
    return True


def trajectory_bytes(table: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """A trajectory table as Parquet bytes, with provenance metadata in the schema (key ``twostage``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tbl = pa.table({k: list(v) if not hasattr(v, "tolist") else v.tolist() for k, v in table.items()})
    tbl = tbl.replace_schema_metadata({b"twostage": json.dumps(meta, default=str).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(tbl, sink)
    return sink.getvalue().to_pybytes()


def write_trajectory(directory: Path, table: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write a long/wide trajectory table as Parquet with provenance metadata in the schema."""
    path = Path(directory) / "trajectory.parquet"
    atomic_write_bytes(path, trajectory_bytes(table, meta))
    return path


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode()


def write_run(root: Path, experiment: str, cfg: Any, table: dict[str, Any] | None, meta: dict[str, Any],
              extra_files: dict[str, bytes] | None = None) -> Path:
    """Write one complete run; ``metadata.json`` last. Returns the run directory.

    ``table`` may be ``None`` for a run whose result is not a trajectory (e.g. a stored verdict in
    ``extra_files``). Any previous ``metadata.json`` is removed first, so a rerun interrupted half-way
    is never mistaken for complete; the new one lists every file with its SHA-256 digest.
    """
    d = run_dir(root, experiment, cfg)
    try:
        (d / "metadata.json").unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write to {d}: {exc.strerror}") from None
    blobs: dict[str, bytes] = {"config.json": _json_bytes(
        {"experiment": experiment, "hash": d.name, "config": _canonical(cfg)})}
    if table is not None:
        traj_meta = {"experiment": experiment, "config_hash": d.name, **meta}
        blobs["trajectory.parquet"] = trajectory_bytes(table, traj_meta)
    blobs.update(extra_files or {})
    for name, data in blobs.items():
        atomic_write_bytes(d / name, data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()}
    atomic_write_json(d / "metadata.json", {"schema": SCHEMA_VERSION, **environment(), **meta,
                                            "files": list(blobs), "sha256": digests})
    return d
