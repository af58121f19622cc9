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


def wants_log(specs: list[PlotSpec]) -> bool | None:
    """The y axis the runs ask for: ``True`` if any spec sets ``logy``, ``False`` if one sets it off, else
    ``None`` (decided from the data)."""
    asked = [s.logy for s in specs if s.logy is not None]
    return True if any(asked) else (False if asked else None)


def plot_claim(claim_id: str, title: str, specs: list[PlotSpec], out: Path,
               info: dict[str, Any] | None = None) -> Path | None:
    """One PNG of the claim's measured curves (solid) and bounds (dashed); ``None`` if nothing to draw.

    The y axis is logarithmic when the runs' metadata asks for it (``"logy": true``) -- values that are
    not positive (a bound defined only where ``E > 0``, say) are left out there -- or, when they do not
    say, when every value is positive and they span more than two decades. A run batched over seeds
    gets one colour per seed. ``info`` (if given) receives ``log``, ``runs``, ``curves`` and ``dropped``
    (points not drawn on the log axis), for the caption.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from matplotlib.lines import Line2D

    asked = wants_log(specs)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    curves: list[tuple[Any, Any, str, str]] = []  # (x, y, colour, style)
    xlabel, runs, measured_names, bound_names = "", 0, [], []
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, spec in enumerate(specs[:MAX_RUNS_PER_PLOT]):
        try:
            df = pd.read_parquet(spec.run / "trajectory.parquet")
        except (OSError, ValueError):
            continue
        t_col = time_column(list(df.columns), {})
        x_col = spec.x if spec.x in df.columns else t_col
        unit = f" [{spec.time_unit}]" if spec.time_unit and x_col == t_col else ""  # only time has the unit
        xlabel = (x_col or "step") + unit
        s_col = series_column(list(df.columns), {})
        groups = list(df.groupby(s_col, sort=True))[:MAX_SERIES] if s_col else [(None, df)]
        runs += 1
        for j, (_, g) in enumerate(groups):  # a trajectory batched over seeds: one curve per seed
            colour = colours[(i + j) % len(colours)] if len(specs) == 1 else colours[i % len(colours)]
            x = g[x_col].to_numpy(float) if x_col else np.arange(len(g), dtype=float)
            for m in spec.measured:
                if m in g.columns:
                    curves.append((x, g[m].to_numpy(float), colour, "-"))
                    measured_names.append(spec.label or m)
            if spec.bound and spec.bound in g.columns:
                curves.append((x, g[spec.bound].to_numpy(float), colour, "--"))
                bound_names.append(spec.bound)
    if not any(style == "-" for *_, style in curves):
        plt.close(fig)
        return None
    values = np.concatenate([y[np.isfinite(y)] for _, y, _, _ in curves])
    positive = values[values > 0]
    log = bool(positive.size) and (asked is True or (asked is None and positive.size == values.size
                                                     and positive.max() / positive.min() > 100))
    dropped = 0
    for x, y, colour, style in curves:
        if log:
            dropped += int(np.sum(np.isfinite(y) & (y <= 0)))
            y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, color=colour, lw=1.2 if style == "-" else 1.0, ls=style)
    if log:
        ax.set_yscale("log")
    sense = next((s.sense for s in specs if s.sense), "")
    shown = ", ".join(dict.fromkeys(measured_names))
    handles = [Line2D([], [], color="k", lw=1.2, label=f"{shown} (measured)")]
    if bound_names:
        what = "bound " + ", ".join(dict.fromkeys(bound_names))
        what += f" (claim: measured {sense} bound)" if sense else ""
        handles.append(Line2D([], [], color="k", ls="--", label=what))
    ax.legend(handles=handles, fontsize=7, loc="best")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(shown + (" (log scale)" if log else ""))
    ax.grid(alpha=0.3, which="both" if log else "major")
    fig.tight_layout()
    atomic_write_bytes(out, png_bytes(fig))
    if info is not None:
        info.update(log=log, asked=asked, xlabel=xlabel, runs=runs,
                    curves=sum(1 for *_, st in curves if st == "-"), dropped=dropped, sense=sense,
                    measured=list(dict.fromkeys(measured_names)), bound=list(dict.fromkeys(bound_names)))
    return out
