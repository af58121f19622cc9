"""Plots for the report: each trajectory-type claim against its bound, from stored trajectories.

A stored run says which claim it illustrates in its metadata (the ``meta`` passed to
:func:`twostage.runs.store.write_run`, kept in ``metadata.json`` and in the Parquet schema):

* ``"plots": [{"claim": ID, "x": "t", "measured": "E" | ["E1", "E2"], "bound": "E_lower",
  "sense": ">=", "logy": true, "label": "E(t)"}]`` -- explicit columns, any number of claims; or
* the shorthand ``"claim": ID`` with trajectory columns ``measured`` and ``bound`` (the x axis is the
  time column: ``meta["time_column"]`` or the first of ``t, time, tbar, step``).

A trajectory batched over seeds in long form (a ``seed`` column) is drawn one curve per seed (at
most ``MAX_SERIES``).

Only complete runs are plotted (a partial or corrupt directory is ignored). Figures are PNG written
with matplotlib's Agg backend; nothing is plotted for a claim without stored runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twostage.publish.figures import png_bytes
from twostage.runs.store import atomic_write_bytes, is_complete
from twostage.runs.tables import run_dirs, series_column, time_column

MAX_RUNS_PER_PLOT = 12
MAX_SERIES = 8  # curves per run when a trajectory is batched over seeds


@dataclass(frozen=True)
class PlotSpec:
    claim: str
    run: Path
    x: str | None
    measured: tuple[str, ...]
    bound: str | None
    sense: str = ""
    logy: bool | None = None
    label: str = ""
    time_unit: str = ""


def _specs_of(run: Path, meta: dict[str, Any]) -> list[PlotSpec]:
    unit = str(meta.get("time_unit", ""))
    out = []
    for p in meta.get("plots") or []:
        if not isinstance(p, dict) or "claim" not in p or "measured" not in p:
            continue
        measured = p["measured"] if isinstance(p["measured"], list) else [p["measured"]]
        out.append(PlotSpec(str(p["claim"]), run, p.get("x"), tuple(map(str, measured)), p.get("bound"),
                            str(p.get("sense", "")), p.get("logy"), str(p.get("label", "")), unit))
    if not out and isinstance(meta.get("claim"), str):
        out.append(PlotSpec(meta["claim"], run, meta.get("time_column"), ("measured",), "bound",
                            str(meta.get("sense", "")), None, "", unit))
    return out


def index_plots(root: Path) -> dict[str, list[PlotSpec]]:
    """Claim id -> plot specs of the complete stored runs that illustrate it."""
    found: dict[str, list[PlotSpec]] = {}
    for d in run_dirs(Path(root)):
        if not (d / "trajectory.parquet").is_file():
            continue
        try:
            meta = json.loads((d / "metadata.json").read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or not is_complete(d):
            continue
        for spec in _specs_of(d, meta):
            found.setdefault(spec.claim, []).append(spec)
    return found


def plot_claim(claim_id: str, title: str, specs: list[PlotSpec], out: Path) -> Path | None:
    """One PNG of the claim's measured curves (solid) and bounds (dashed); ``None`` if nothing to draw."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    drawn, positive, span = 0, True, []
    xlabel = ""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, spec in enumerate(specs[:MAX_RUNS_PER_PLOT]):
        try:
            df = pd.read_parquet(spec.run / "trajectory.parquet")
        except (OSError, ValueError):
            continue
        x_col = spec.x if spec.x in df.columns else time_column(list(df.columns), {})
        xlabel = (x_col or "step") + (f" [{spec.time_unit}]" if spec.time_unit else "")
        colour = colours[i % len(colours)]
        tag = spec.run.name[:8]
        s_col = series_column(list(df.columns), {})
        groups = list(df.groupby(s_col, sort=True))[:MAX_SERIES] if s_col else [(None, df)]
        for j, (_, g) in enumerate(groups):  # a trajectory batched over seeds: one curve per seed
            x = g[x_col].to_numpy(float) if x_col else np.arange(len(g), dtype=float)
            first = i < 4 and j == 0
            lw = 1.4 if s_col is None else 0.9
            for m in spec.measured:
                if m in g.columns:
                    y = g[m].to_numpy(float)
                    ax.plot(x, y, color=colour, lw=lw, label=f"{spec.label or m} ({tag})" if first else None)
                    drawn += 1
                    positive &= bool(np.all(y[np.isfinite(y)] > 0))
                    span.extend(y[np.isfinite(y)].tolist())
            if spec.bound and spec.bound in g.columns:
                b = g[spec.bound].to_numpy(float)
                ax.plot(x, b, color=colour, lw=lw, ls="--",
                        label=f"bound {spec.sense} ({tag})".replace("  ", " ") if first else None)
                positive &= bool(np.all(b[np.isfinite(b)] > 0))
                span.extend(b[np.isfinite(b)].tolist())
    if not drawn:
        plt.close(fig)
        return None
    logy = specs[0].logy
    if logy is None:
        logy = positive and span and max(span) / max(min(span), 1e-300) > 100
    if logy and positive:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    atomic_write_bytes(out, png_bytes(fig))
    return out
