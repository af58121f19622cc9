"""Parquet tables of the results: verdicts, runs, long-form trajectories (readable with pandas alone).

* ``results/verdicts.parquet`` -- one row per claim's last verdict (beside ``verdicts.json``, written with it
  by :mod:`twostage.runs.verdict_store`; column ``record`` holds the whole JSON entry);
* ``results/runs.parquet``     -- one row per run directory of the store (complete or not), with its
  configuration flattened into ``cfg.<field>`` columns;
* ``results/trajectories.parquet`` -- every stored trajectory in long form
  (``experiment, config_hash, series, step, time, observable, value``; ``series`` is the seed column
  of a trajectory batched over seeds).

Nested values (worst cases, whole configurations) are JSON strings, so ``pandas.read_parquet`` is all
a reader needs. Each file carries ``schema_version``, the table name, the git SHA and the creation
time in the Parquet schema metadata under the key ``twostage`` (:func:`read_table_meta`).

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> from twostage.runs.tables import verdicts_frame, write_table, read_table_meta
>>> df = verdicts_frame({"chen-luo-2025/demo": {"status": "holds", "margin": 0.25, "examples": 6,
...                      "worst": {"seed": 1}, "profile": "ci"}})
>>> p = write_table(df, Path(tempfile.mkdtemp()) / "verdicts.parquet", "verdicts")
>>> pd.read_parquet(p).loc[0, ["id", "status", "worst"]].tolist()
['chen-luo-2025/demo', 'holds', '{"seed": 1}']
>>> read_table_meta(p)["schema_version"], read_table_meta(p)["table"]
(1, 'verdicts')
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from twostage.runs.store import atomic_write_bytes, git_sha, is_complete, read_json_dict

TABLE_SCHEMA_VERSION = 1
TIME_COLUMNS = ("t", "time", "tbar", "t_bar", "step", "steps")
SERIES_COLUMNS = ("seed", "init", "sample", "replica")
_RESERVED = {"report"}  # directories under results/ that are not experiments


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, sort_keys=True, default=str)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def verdicts_frame(verdicts: dict[str, dict[str, Any]], registry: Any = None) -> pd.DataFrame:
    """One row per claim id, joined with the registry (paper, ref, provenance, kind) when given."""
    rows = []
    for cid, v in sorted(verdicts.items()):
        c = None
        if registry is not None:
            try:
                c = registry.get(cid)
            except LookupError:
                c = None
        rows.append({
            "id": cid,
            "paper": c.paper if c else cid.split("/")[0],
            "ref": c.ref if c else None,
            "provenance": c.provenance.value if c else None,
            "kind": c.kind.value if c else None,
            "status": v.get("status"),
            "margin": _num(v.get("margin")),
            "examples": int(v.get("examples") or 0),
            "worst": _json(v.get("worst")),
            "tolerance": v.get("tolerance", v.get("detail")) or "",
            "seconds": _num(v.get("seconds")),
            "profile": v.get("profile"),
            "seed": None if v.get("seed") is None else int(v["seed"]),
            "device": v.get("device"),
            "git_sha": v.get("git_sha"),
            "at": v.get("at"),
            "registered": c is not None if registry is not None else None,
            "record": _json(v),
        })
    cols = ["id", "paper", "ref", "provenance", "kind", "status", "margin", "examples", "worst", "tolerance",
            "seconds", "profile", "seed", "device", "git_sha", "at", "registered", "record"]
    df = pd.DataFrame(rows, columns=cols)
    df["seed"] = df["seed"].astype("Int64")
    return df


def _flatten(prefix: str, obj: Any, out: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "__type__":
                out[f"{prefix}type"] = v
            else:
                _flatten(f"{prefix}{k}.", v, out)
    elif isinstance(obj, (list, tuple)):
        out[prefix[:-1]] = _json(obj)
    else:
        if isinstance(obj, str):  # store._canonical writes floats as repr strings
            try:
                obj = float(obj) if any(ch in obj for ch in ".eEn") else obj
            except ValueError:
                pass
        out[prefix[:-1]] = obj


def run_dirs(root: Path) -> list[Path]:
    """Run directories ``root/<experiment>/<hash>/`` (those holding a config or metadata file)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for exp in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in _RESERVED):
        for d in sorted(p for p in exp.iterdir() if p.is_dir()):
            if (d / "config.json").is_file() or (d / "metadata.json").is_file():
                out.append(d)
    return out



def runs_frame(root: Path) -> pd.DataFrame:
    """One row per run directory: experiment, hash, completeness, status, provenance, flattened config."""
    rows = []
    for d in run_dirs(root):
        cfg, meta = read_json_dict(d / "config.json"), read_json_dict(d / "metadata.json")
        complete = is_complete(d)
        row: dict[str, Any] = {
            "experiment": d.parent.name, "config_hash": d.name, "complete": complete,
            "status": meta.get("status", "ok" if complete else "incomplete"),
            "claim": meta.get("claim"), "seed": meta.get("seed"), "device": meta.get("device"),
            "git_sha": meta.get("git_sha"), "wall_time": _num(meta.get("wall_time")),
            "has_trajectory": (d / "trajectory.parquet").is_file(),
            "path": str(d.relative_to(root)), "config": _json(cfg.get("config")),
            "nonfinite": _json(meta.get("nonfinite")),
        }
        flat: dict[str, Any] = {}
        _flatten("cfg.", cfg.get("config") or {}, flat)
        row.update(flat)
        rows.append(row)
    df = pd.DataFrame(rows)
    return _homogenise(df)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _homogenise(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python types (configs of different experiments) become strings."""
    for col in df.columns:
        kinds = {type(v) for v in df[col] if not _missing(v)}
        if len(kinds) > 1 and not kinds <= {int, float}:
            df[col] = [None if _missing(v) else str(v) for v in df[col]]
    return df


def time_column(columns: list[str], meta: dict[str, Any]) -> str | None:
    """The trajectory's time axis: ``meta['time_column']`` if given, else the first of TIME_COLUMNS."""
    if meta.get("time_column") in columns:
        return meta["time_column"]
    return next((c for c in TIME_COLUMNS if c in columns), None)


def trajectory_meta(path: Path) -> dict[str, Any]:
    """Provenance metadata stored in a trajectory Parquet file's schema (key ``twostage``)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(b"twostage")
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def series_column(columns: list[str], meta: dict[str, Any]) -> str | None:
    """The column telling apart the series of a long table (one per seed / initialisation), if any."""
    if meta.get("series_column") in columns:
        return meta["series_column"]
    return next((c for c in SERIES_COLUMNS if c in columns), None)


def trajectories_frame(root: Path, experiments: set[str] | None = None) -> pd.DataFrame:
    """All complete stored trajectories in long form: one row per (run, series, step, observable).

    ``series`` is the seed/initialisation column of a trajectory batched over seeds (null when the
    trajectory is a single series); ``step`` counts rows within a series.
    """
    frames = []
    for d in run_dirs(root):
        if experiments is not None and d.parent.name not in experiments:
            continue
        p = d / "trajectory.parquet"
        if not p.is_file() or not is_complete(d):
            continue
        wide = pd.read_parquet(p)
        meta = trajectory_meta(p)
        tcol = time_column(list(wide.columns), meta)
        scol = series_column(list(wide.columns), meta)
        values = [c for c in wide.columns if c not in (tcol, scol) and pd.api.types.is_numeric_dtype(wide[c])
                  and not pd.api.types.is_bool_dtype(wide[c])]
        if not values:
            continue
        w = wide[values].astype(float)
        series = wide[scol] if scol else pd.Series(0, index=wide.index)
        w.insert(0, "series", wide[scol].astype("Int64") if scol else pd.array([pd.NA] * len(w), "Int64"))
        w.insert(1, "step", series.groupby(series).cumcount().to_numpy())
        w.insert(2, "time", wide[tcol].astype(float).to_numpy() if tcol else float("nan"))
        long = w.melt(id_vars=["series", "step", "time"], var_name="observable", value_name="value")
        long.insert(0, "config_hash", d.name)
        long.insert(0, "experiment", d.parent.name)
        frames.append(long)
    cols = ["experiment", "config_hash", "series", "step", "time", "observable", "value"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def table_bytes(df: pd.DataFrame, table: str, extra: dict[str, Any] | None = None) -> bytes:
    """``df`` as Parquet bytes, schema version and provenance in the schema metadata (key ``twostage``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from twostage import __version__

    meta = {"schema_version": TABLE_SCHEMA_VERSION, "table": table, "twostage": __version__,
            "git_sha": git_sha(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": len(df),
            **(extra or {})}
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    tbl = tbl.replace_schema_metadata({**(tbl.schema.metadata or {}), b"twostage": json.dumps(meta).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(tbl, sink)
    return sink.getvalue().to_pybytes()


def write_table(df: pd.DataFrame, path: Path, table: str, extra: dict[str, Any] | None = None) -> Path:
    """Write ``df`` atomically as Parquet (:func:`table_bytes`)."""
    atomic_write_bytes(Path(path), table_bytes(df, table, extra))
    return Path(path)


def read_table_meta(path: Path) -> dict[str, Any]:
    """The ``twostage`` provenance metadata of a table written by :func:`write_table`."""
    return trajectory_meta(path)


def write_store_tables(root: Path) -> dict[str, Path]:
    """Write ``runs.parquet`` and ``trajectories.parquet`` for the store under ``root``."""
    root = Path(root)
    return {
        "runs": write_table(runs_frame(root), root / "runs.parquet", "runs"),
        "trajectories": write_table(trajectories_frame(root), root / "trajectories.parquet", "trajectories"),
    }
