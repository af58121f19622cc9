"""HTML for the reviewer report: one static page, inline CSS and SVG, PNG plots beside it, no script.

:func:`render_page` turns the views assembled by :mod:`twostage.publish.report` into the page. Every
value is escaped; claim sections have stable anchors (:func:`twostage.publish.graph.slug`) so the
graph nodes and the table link to them.

>>> from twostage.publish.html import status_badge
>>> status_badge("holds")
'<span class="badge st-holds">holds</span>'
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from twostage.publish.graph import STATUS_COLOURS, slug

STATUS_ORDER = ("holds", "violated", "undecided", "numerical-failure", "not-applicable", "never run")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 1.5rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #d5d5d5;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.8rem;font-weight:600;
border:1px solid #888;white-space:nowrap}
.graph-wrap{overflow-x:auto;border:1px solid #e3e3e3;padding:.3rem;background:#fcfcfc}
article.claim{border-top:1px solid #e5e5e5;padding:.6rem 0 1rem}
article.claim h4{margin:.2rem 0 .3rem;font-family:monospace;font-size:1rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;max-height:22rem}
.replay{background:#eef4ff;border:1px solid #bcd0f5;padding:.3rem .5rem;display:inline-block}
.weak{color:#b00020;font-weight:600} .muted{color:#666}
dl{display:grid;grid-template-columns:9rem 1fr;gap:.1rem .8rem}
dt{font-weight:600;color:#444} dd{margin:0} img.plot{max-width:100%;border:1px solid #ddd}
.legend span{margin-right:.8rem;font-size:.82rem}
.paper-note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .7rem}
.reading{font-style:italic;color:#444} td .reading{font-size:.78rem;margin-top:.15rem}
"""


def _status_css() -> str:
    rules = []
    for st, colour in STATUS_COLOURS.items():
        fg = "#fff" if st in ("holds", "violated", "numerical-failure") else "#111"
        rules.append(f".st-{st.replace(' ', '-')}{{background:{colour};color:{fg}}}")
    return "\n".join(rules)


def status_badge(status: str) -> str:
    return f'<span class="badge st-{html.escape(status.replace(" ", "-"))}">{html.escape(status)}</span>'


@dataclass
class ClaimView:
    """Everything the page shows about one claim (assembled by the report builder)."""

    id: str
    paper: str
    ref: str
    provenance: str
    kind: str
    statement: str
    latex: str
    status: str
    weak: bool
    margin: float | None = None
    examples: int | None = None
    profile: str | None = None
    seed: int | None = None
    at: str | None = None
    git_sha: str | None = None
    detail: str = ""
    note: str = ""
    tolerance: str = ""
    worst: Any = None
    replay: str = ""
    failure_at: str = ""
    premises: list[tuple[str, str]] = field(default_factory=list)  # (id, status or "assumption")
    ancestors_svg: str = ""
    plot: str | None = None  # relative path of the PNG
    plot_note: str = ""
    reading: str = ""  # how to read the verdict given the provenance (publish.reading); "" if never run
    show_reading: bool = False  # also beside the status in the claims table (publish.reading.needs_reading)


@dataclass
class PaperView:
    paper: str
    claims: list[ClaimView]
    graph_svg: str
    assumptions: list[tuple[str, str, str]]  # (id, ref, statement)
    note: str | None = None  # opening line where the paper's body is not available (publish.reading)


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _margin(m: float | None) -> str:
    return "&ndash;" if m is None else f"{m:.3g}"


def _summary_table(papers: list[PaperView]) -> str:
    head = "".join(f"<th>{status_badge(s)}</th>" for s in STATUS_ORDER)
    rows = []
    for p in papers:
        counts = {s: 0 for s in STATUS_ORDER}
        for c in p.claims:
            counts[c.status] = counts.get(c.status, 0) + 1
        cells = "".join(f'<td class="num">{counts[s]}</td>' for s in STATUS_ORDER)
        rows.append(f'<tr><td><a href="#paper-{_e(p.paper)}">{_e(p.paper)}</a></td>'
                    f'<td class="num">{len(p.claims)}</td>{cells}</tr>')
    return (f'<table class="summary"><thead><tr><th>paper</th><th>claims</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _claims_table(p: PaperView) -> str:
    rows = []
    for c in p.claims:
        status = status_badge(c.status) + (' <span class="weak" title="rests on a claim not established">'
                                           '&#9888;</span>' if c.weak else "")
        if c.show_reading:
            status += f'<div class="reading">{_e(c.reading)}</div>'
        rows.append(
            f'<tr data-status="{_e(c.status)}"><td><a href="#{slug(c.id)}"><code>{_e(c.id)}</code></a></td>'
            f"<td>{_e(c.ref)}</td><td>{_e(c.provenance)}</td><td>{_e(c.kind)}</td><td>{status}</td>"
            f'<td class="num">{_margin(c.margin)}</td><td class="num">{_e(c.examples)}</td>'
            f"<td>{_e(c.profile)}</td><td>{_e(c.at)}</td></tr>")
    return (f'<table class="claims" id="claims-{_e(p.paper)}"><thead><tr><th>claim</th><th>reference</th>'
            "<th>provenance</th><th>kind</th><th>status</th><th>margin</th><th>examples</th><th>profile</th>"
            f'<th>last run</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _legend() -> str:
    items = "".join(f"<span>{status_badge(s)}</span>" for s in (*STATUS_ORDER, "assumption"))
    return (f'<p class="legend">{items}<span class="weak">dashed red outline / &#9888;</span> '
            '<span>rests (transitively) on a claim not established (not holding, or never run)</span></p>')


def _claim_section(c: ClaimView) -> str:
    prem = ", ".join(
        (f'<a href="#{slug(i)}"><code>{_e(i)}</code></a> {status_badge(s)}' if s != "assumption"
         else f"<code>{_e(i)}</code> (assumption)") for i, s in c.premises)
    prem = prem or '<span class="muted">none</span>'
    worst = '<span class="muted">no worst case recorded</span>'
    if c.worst:
        dump = _e(json.dumps(c.worst, indent=2, default=str))
        worst = f"<details open><summary>worst case</summary><pre>{dump}</pre></details>"
    parts = [
        f'<article class="claim" id="{slug(c.id)}" data-status="{_e(c.status)}">',
        f"<h4>{_e(c.id)} {status_badge(c.status)}</h4>",
        f'<p class="reading">{_e(c.reading)}</p>' if c.reading else "",
        f"<p>{_e(c.statement)}</p>",
        f"<p><code>{_e(c.latex)}</code></p>" if c.latex else "",
        "<dl>",
        f"<dt>reference</dt><dd>{_e(c.ref)}</dd><dt>provenance</dt><dd>{_e(c.provenance)}"
        + (f" &mdash; {_e(c.note)}" if c.note else "") + "</dd>",
        f"<dt>kind</dt><dd>{_e(c.kind)}</dd>",
        f"<dt>decided by</dt><dd>{_e(c.tolerance) or '<span class=muted>&ndash;</span>'}</dd>",
        f"<dt>margin</dt><dd>{_margin(c.margin)}</dd><dt>examples</dt><dd>{_e(c.examples)}</dd>",
        f"<dt>last run</dt><dd>{_e(c.at) or 'never'} (profile {_e(c.profile)}, seed {_e(c.seed)}, "
        f"code {_e((c.git_sha or '')[:12])})</dd>",
        f"<dt>rests on</dt><dd>{prem}</dd>",
        (f'<dt>failure</dt><dd class="weak">{_e(c.failure_at)}</dd>' if c.failure_at else ""),
        (f"<dt>detail</dt><dd>{_e(c.detail)}</dd>" if c.detail and c.detail != c.tolerance else ""),
        "</dl>",
        ('<p class="weak">rests on a claim that is not established (see the graph below)</p>'
         if c.weak else ""),
        worst,
        f'<p>replay: <code class="replay">{_e(c.replay)}</code></p>' if c.replay else "",
        f'<div class="graph-wrap">{c.ancestors_svg}</div>' if c.ancestors_svg else "",
        (f'<p><img class="plot" src="{_e(c.plot)}" alt="{_e(c.id)} against its bound"></p>' if c.plot
         else (f'<p class="muted">{_e(c.plot_note)}</p>' if c.plot_note else "")),
        "</article>",
    ]
    return "\n".join(x for x in parts if x)


def render_page(papers: list[PaperView], header: dict[str, Any], stale: list[str]) -> str:
    """The whole report page."""
    nav = " &middot; ".join(f'<a href="#paper-{_e(p.paper)}">{_e(p.paper)}</a>' for p in papers)
    body = [
        "<header>", "<h1>twostage &mdash; verification report</h1>",
        f'<p class="muted">generated {_e(header.get("generated"))} from '
        f'<code>{_e(header.get("source"))}</code> '
        f'({_e(header.get("n_verdicts"))} stored verdicts), code {_e(header.get("git_sha"))}. '
        "Statuses are those computed by the last <code>twostage verify</code> run of each claim; "
        "a claim never verified shows <em>never run</em>.</p>",
        _summary_table(papers), f"<nav>{nav}</nav>", "</header>",
    ]
    for p in papers:
        body += [f'<section class="paper" id="paper-{_e(p.paper)}">', f"<h2>{_e(p.paper)}</h2>",
                 f'<p class="paper-note">{_e(p.note)}</p>' if p.note else "", "<h3>Claims</h3>",
                 _claims_table(p) if p.claims else '<p class="muted">no claims registered</p>',
                 "<h3>Dependency graph</h3>", _legend(), f'<div class="graph-wrap">{p.graph_svg}</div>']
        if p.assumptions:
            rows = "".join(f"<tr><td><code>{_e(i)}</code></td><td>{_e(r)}</td><td>{_e(s)}</td></tr>"
                           for i, r, s in p.assumptions)
            body.append('<h3>Assumptions</h3><table class="assumptions"><thead><tr><th>id</th>'
                        f"<th>reference</th><th>statement</th></tr></thead><tbody>{rows}</tbody></table>")
        body.append("<h3>Claims in detail</h3>")
        body += [_claim_section(c) for c in p.claims]
        body.append("</section>")
    if stale:
        items = "".join(f"<li><code>{_e(s)}</code></li>" for s in stale)
        body.append(f"<section><h2>Stored verdicts of ids no longer registered</h2><ul>{items}</ul>"
                    "</section>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>twostage report</title><style>{CSS}{_status_css()}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
