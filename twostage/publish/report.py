"""``twostage report``: a static HTML report of the stored results (no server, no script).

Reads only stored results -- ``results/verdicts.json`` (statuses are the ones the last
``twostage verify`` computed, never set by hand) and the run store -- and writes ``<out>/index.html``
with a legend (status, margin, examples, sensitivity) and, per paper: the claims table (reference,
provenance, kind, status, margin, examples, sensitivity, last run), the dependency graph of claims and
assumptions coloured by status (inline SVG laid out in Python, scaled to the page, and at full size in
``graph-<paper>.svg``), the experiments' own figures with captions (copied to ``<out>/figures/``,
:mod:`twostage.publish.gallery`), and a section per claim with its statement and formula in rendered
math (MathML, :mod:`twostage.publish.mathml`), what its verdict means for its provenance, premises,
worst case and replay command, the focused graph of its ancestors and, for trajectory-type claims, a
PNG of the stored trajectories against the bound on the axis the run asks for
(:mod:`twostage.publish.plots`). A paper whose body is not available (gong-2025) opens with the line saying
so and what RECONSTRUCTED means, and every verdict carries its reading given the claim's provenance ("our
reconstruction does not reproduce ..." for a failing reconstruction; :mod:`twostage.publish.reading`),
shown in the claim's section and, where it is not a verdict on the paper's own statement and not
``holds``, beside the status in the table. It also refreshes the Parquet tables ``runs.parquet``
and ``trajectories.parquet`` under the results directory (``verdicts.parquet`` is the verdict store's).

An unsound claim graph (a dangling ``uses``/``assumptions`` id, a cycle, a claim without a checker)
is an error: :class:`~twostage.publish.graph.GraphError`, one line, CLI exit code 2. So is a corrupt
``verdicts.json``.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

from twostage.publish.gallery import copy_figures, find_figures
from twostage.publish.graph import DepGraph, node_status, render_svg, require_sound
from twostage.publish.html import ClaimView, PaperView, render_page
from twostage.publish.plots import index_plots, plot_claim
from twostage.publish.reading import needs_reading, paper_note, reading
from twostage.publish.sections import plot_caption
from twostage.runs.store import atomic_write_bytes, git_sha
from twostage.runs.suite import CorruptResultsError, load_verdicts, verdicts_path
from twostage.theory.claims import Kind
from twostage.theory.latex_statements import note_text, statement_text
from twostage.verify.verdict import Status

TRAJECTORY_KINDS = (Kind.BOUND, Kind.LIMIT)


def replay_command(claim_id: str, verdict: dict[str, Any]) -> str:
    """The command that reproduces a stored verdict (same claim, seed, profile, device).

    >>> replay_command("gong-2025/x", {"seed": 3, "profile": "ci", "device": "cpu"})
    'twostage verify --claim gong-2025/x --seed 3 --profile ci'
    >>> replay_command("gong-2025/x", {"seed": 0, "profile": "full", "device": "cuda"})
    'twostage verify --claim gong-2025/x --seed 0 --profile full --device cuda'
    """
    cmd = f"twostage verify --claim {claim_id}"
    if verdict.get("seed") is not None:
        cmd += f" --seed {int(verdict['seed'])}"
    cmd += f" --profile {verdict.get('profile') or 'ci'}"
    if verdict.get("device") not in (None, "cpu"):
        cmd += f" --device {verdict['device']}"
    return cmd


def failure_location(worst: Any) -> str:
    """Where a numerical failure appeared (step/index and time), from the worst-case record.

    >>> failure_location({"index": 17, "time": 0.25, "reason": "non-finite value"})
    'non-finite value at step 17 (time 0.25)'
    """
    if not isinstance(worst, dict):
        return ""
    step = worst.get("step", worst.get("index"))
    if step is None:
        return str(worst.get("reason", ""))
    where = f"{worst.get('reason', 'non-finite value')} at step {step}"
    if worst.get("time") is not None:
        t = worst["time"]
        where += f" (time {t:.6g})" if isinstance(t, float) else f" (time {t})"
    return where


def _valid_verdicts(results: Path) -> dict[str, dict[str, Any]]:
    verdicts = load_verdicts(results, strict=True)
    known = {s.value for s in Status}
    for cid, v in verdicts.items():
        if not isinstance(v, dict) or v.get("status") not in known:
            st = v.get("status") if isinstance(v, dict) else v
            raise CorruptResultsError(f"{verdicts_path(results)}: claim {cid!r} has invalid status {st!r}")
    return verdicts


def audit_sensitivity(results: Path) -> dict[str, dict[str, Any]]:
    """``{claim id: {"sensitivity", "flag"}}`` of the latest formula audit (``<results>/audit/latest.json``,
    written by ``twostage audit``); empty when there is none or it cannot be read (then the report says
    "not measured", as for a claim the audit has not reached)."""
    try:
        claims = json.loads((Path(results) / "audit" / "latest.json").read_text()).get("claims", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(claims, dict):
        return {}
    return {k: {"sensitivity": v.get("sensitivity"), "flag": v.get("flag")} for k, v in claims.items()
            if isinstance(v, dict)}


def _reason(worst: Any) -> str:
    """Why a verdict could not be reached (a checker's exception), if its worst case says so."""
    return str(worst.get("reason", "")) if isinstance(worst, dict) else ""


def _claim_view(c: Any, graph: DepGraph, statuses: dict[str, str], v: dict[str, Any] | None,
                audit: dict[str, Any] | None = None) -> ClaimView:
    from twostage.theory.latex import claim_latex

    status, weak = node_status(graph, c.id, statuses)
    v = v or {}
    margin = v.get("margin")
    margin = float(margin) if isinstance(margin, (int, float)) and math.isfinite(margin) else None
    nodes = [*sorted(graph.ancestors(c.id)), c.id]
    return ClaimView(
        id=c.id, paper=c.paper, ref=c.ref, provenance=c.provenance.value, kind=c.kind.value,
        statement=statement_text(c), latex=claim_latex(c), status=status, weak=weak, margin=margin,
        examples=v.get("examples"), profile=v.get("profile"), seed=v.get("seed"), at=v.get("at"),
        git_sha=v.get("git_sha"), detail=_reason(v.get("worst")), note=note_text(c), tolerance=c.tolerance,
        sensitivity=v.get("sensitivity", audit), device=v.get("device"),
        worst=v.get("worst"), replay=replay_command(c.id, v) if v else "",
        failure_at=failure_location(v.get("worst")) if status == Status.NUMERICAL_FAILURE.value else "",
        premises=[(p, node_status(graph, p, statuses)[0]) for p in graph.premises(c.id)],
        ancestors_svg=render_svg(graph, nodes, statuses, focus=c.id, title=f"premises of {c.id}")
        if len(nodes) > 1 else "",
        reading=reading(c.provenance, v["status"]) if v else "",
        show_reading=bool(v) and needs_reading(c.provenance, v["status"]),
    )


def _attach_plot(view: ClaimView, claim: Any, specs: list, out: Path) -> None:
    """Draw the claim's stored trajectories against its bound (if any run illustrates it)."""
    png, info = None, {}
    if specs:
        rel = f"plots/{view.id.replace('/', '__')}.png"
        png = plot_claim(claim.id, f"{claim.id} ({claim.ref})", specs, out / rel, info=info)
        view.plot = rel if png else None
        view.plot_caption = plot_caption(info) if png else ""
    if png is None:
        view.plot_note = "no stored trajectory illustrates this claim yet"


def _standalone(svg: str) -> str:
    """The page's graph as a file of its own, at natural size, its links pointing into the page."""
    size = re.search(r'data-width="(\d+)" data-height="(\d+)"', svg)
    if size:
        svg = svg.replace('width="100%"', f'width="{size.group(1)}" height="{size.group(2)}"', 1)
    svg = re.sub(r' style="[^"]*"', "", svg, count=1)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + svg.replace('href="#', 'href="index.html#')


def build_report(results: Path, out: Path | None = None, registry: Any = None,
                 checkers: dict[str, Any] | None = None, tables: bool = True) -> Path:
    """Write the report under ``out`` (default ``<results>/report``); return the path of index.html."""
    results = Path(results)
    out = Path(out) if out is not None else results / "report"
    if registry is None:
        from twostage.theory.claims import load_all

        registry = load_all()
    if checkers is None:
        from twostage.verify.checks import load_checkers

        checkers = load_checkers()
    require_sound(registry, checkers)
    verdicts = _valid_verdicts(results)
    atomic_write_bytes(out / ".write-test", b"")  # fail early (one line) on an unwritable output
    (out / ".write-test").unlink()
    if tables and results.is_dir():
        from twostage.runs.tables import write_store_tables

        write_store_tables(results)  # verdicts.parquet is the verdict store's alone (runs/verdict_store.py)
    graph = DepGraph(registry)
    statuses = {cid: v["status"] for cid, v in verdicts.items()}
    plots = index_plots(results)
    audit = audit_sensitivity(results)
    figures = find_figures(results) if results.is_dir() else []
    copied = copy_figures(figures, out)
    papers = []
    from twostage import PAPERS

    for paper in PAPERS:
        claims = sorted(registry.claims(paper), key=lambda c: c.id)
        views = []
        for c in claims:
            view = _claim_view(c, graph, statuses, verdicts.get(c.id), audit.get(c.id))
            if c.kind in TRAJECTORY_KINDS:
                _attach_plot(view, c, plots.get(c.id, []), out)
            views.append(view)
        nodes = [c.id for c in claims]
        nodes += sorted({p for c in claims for p in graph.ancestors(c.id)} - set(nodes))
        nodes += sorted(a.id for a in registry.assumptions(paper) if a.id not in set(nodes))
        svg = render_svg(graph, nodes, statuses, title=f"{paper} claim graph") if nodes else ""
        graph_file = ""
        if svg:
            graph_file = f"graph-{paper}.svg"
            atomic_write_bytes(out / graph_file, _standalone(svg).encode())
        assumptions = [(a.id, a.ref, statement_text(a))
                       for a in sorted(registry.assumptions(paper), key=lambda a: a.id)]
        mine = [(f, copied[f.label]) for f in figures if f.paper == paper]
        papers.append(PaperView(paper, views, svg, assumptions, mine, graph_file, paper_note(paper)))
    registered = {c.id for c in registry.claims()}
    header = {"generated": time.strftime("%Y-%m-%d %H:%M:%S"), "source": str(verdicts_path(results)),
              "n_verdicts": len(verdicts), "git_sha": git_sha()[:12]}
    page = render_page(papers, header, sorted(set(verdicts) - registered))
    index = out / "index.html"
    atomic_write_bytes(index, page.encode())
    return index
