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

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator
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


def umask() -> int:
    """The process umask (read from ``/proc`` where possible; set-and-restore otherwise)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_through(path: Path, data: bytes) -> None:
    """Write to an existing device or FIFO in place (``/dev/stdout``, ``/dev/full``): never replace it."""
    try:
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
    except OSError as exc:
        raise StoreError(f"cannot write to {path}: {exc.strerror or exc}") from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and ``os.replace`` (atomic on POSIX).

    The file gets the mode an ordinary ``open`` would give it (``0o666`` less the umask: ``0o644`` under
    umask 022), not ``mkstemp``'s ``0o600``, so colleagues and web servers can read results. A device or
    FIFO (``/dev/stdout``) is written in place. Any ``OSError`` -- a full disk (``ENOSPC``), a quota, a
    read-only file system -- is a :class:`StoreError` naming the file (one line, exit 2).
    """
    commit_many({Path(path): data})


def commit_many(blobs: dict[Path, bytes]) -> None:
    """Write every file of ``blobs`` to a temporary beside it, then rename them all (in the given order).

    Nothing is renamed before every temporary is written and synced, so a full disk or a crash while
    writing leaves all the old files in place; the renames themselves need no space.
    """
    temps: list[tuple[str, Path]] = []
    mode = 0o666 & ~umask()
    try:
        for path, data in blobs.items():
            path = Path(path)
            if path.is_dir():
                raise StoreError(f"cannot write to {path}: it is a directory")
            if path.exists() and not path.is_file():
                _write_through(path, data)
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            except OSError as exc:
                raise StoreError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None
            temps.append((tmp, path))
            try:
                os.fchmod(fd, mode)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise StoreError(f"cannot write to {path}: {exc.strerror or exc}") from None
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(directory: Path) -> None:
    """Raise :class:`StoreError` (one line) now, before any work, if ``directory`` cannot be written."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise StoreError(f"cannot write to {directory}: it is not a directory")
    probe = directory / f".write-test-{os.getpid()}"
    atomic_write_bytes(probe, b"")
    probe.unlink(missing_ok=True)


def check_output_file(path: str | Path) -> None:
    """Fail now (one line, exit 2) if ``path`` cannot receive a result file: a directory, an unwritable
    place. ``-`` (standard output) and writable devices pass."""
    if str(path) == "-":
        return
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"cannot write to {path}: it is a directory (give a file name)")
    if path.exists() and not path.is_file():
        if not os.access(path, os.W_OK):
            raise StoreError(f"cannot write to {path}: permission denied")
        return
    check_writable(path.resolve().parent)


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (created if needed) for the block; a no-op where
    ``fcntl`` is missing (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock_file = Path(lock_file)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StoreError(f"cannot write to {lock_file.parent}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


_WARNED: set[str] = set()


def warn(message: str) -> None:
    """One line on stderr, ``twostage: warning: ...``, once per command (:func:`reset_warnings`) for the
    same message."""
    import sys

    if message not in _WARNED:
        _WARNED.add(message)
        print(f"twostage: warning: {message}", file=sys.stderr, flush=True)


def reset_warnings() -> None:
    """Forget the warnings given (the CLI calls this at the start of every command)."""
    _WARNED.clear()


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
