"""HTML for the reviewer report: one static page, inline CSS and SVG, MathML for the math, PNG figures
beside it, no script and nothing fetched at view time.

:func:`render_page` turns the views assembled by :mod:`twostage.publish.report` into the page. Every
value is escaped; math is rendered by :mod:`twostage.publish.mathml`; claim sections
(:mod:`twostage.publish.sections`) have stable anchors (:func:`twostage.publish.graph.slug`) so the graph
nodes and the tables link to them. A legend at the top says what status, margin, examples and
sensitivity mean.

>>> from twostage.publish.html import status_badge
>>> status_badge("holds")
'<span class="badge st-holds">holds</span>'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twostage.publish.gallery import Figure
from twostage.publish.graph import STATUS_COLOURS, slug
from twostage.publish.mathml import rich_text
from twostage.publish.sections import (
    ClaimView,
    breakable_id,
    claim_section,
    e,
    fmt_margin,
    fmt_sensitivity,
    fmt_when,
    status_badge,
)

__all__ = ["ClaimView", "PaperView", "render_page", "status_badge"]

STATUS_ORDER = ("holds", "violated", "undecided", "numerical-failure", "not-applicable", "never run")
PAPER_TITLE = {
    "chen-luo-2025": "Chen & Luo (2025), From Condensation to Rank Collapse: A Two-Stage Analysis of "
                     "Transformer Training Dynamics (NeurIPS 2025)",
    "gong-2025": "Gong, Li, Liu & Teng (2025), Disentangling Feature Structure: A Mathematically Provable "
                 "Two-Stage Training Dynamics in Transformers (arXiv 2502.20681)",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 1.5rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem;font-size:1.25rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem;max-width:100%}
th,td{border:1px solid #d5d5d5;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.table-wrap{overflow-x:auto;max-width:100%}
.nb{white-space:nowrap}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.8rem;font-weight:600;
border:1px solid #888;white-space:nowrap}
.graph-wrap{border:1px solid #e3e3e3;padding:.3rem;background:#fcfcfc;overflow-x:auto}
.graph-wrap svg{display:block}
article.claim{border-top:1px solid #e5e5e5;padding:.6rem 0 1rem}
article.claim h4{margin:.2rem 0 .3rem;font-family:monospace;font-size:1rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;max-height:22rem}
.replay{background:#eef4ff;border:1px solid #bcd0f5;padding:.3rem .5rem;display:inline-block;
overflow-wrap:anywhere}
.weak{color:#b00020;font-weight:600} .muted{color:#666}
.paper-note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .7rem}
.reading{background:#f7f7f2;border-left:4px solid #c9c29a;padding:.3rem .6rem;margin:.4rem 0;
font-style:italic;color:#444}
td .reading{font-size:.78rem;margin-top:.15rem;padding:0;border:0;background:none}
.paper-title{color:#444;margin-top:-.3rem}
.small{font-size:.78rem}
.zoom{font-size:.85rem;color:#444;margin:.2rem 0}
.zoom-toggle:checked ~ .graph-wrap{max-height:85vh}
.zoom-toggle:checked ~ .graph-wrap svg.graph{width:var(--w)!important;max-width:none!important}
.display{overflow-x:auto;margin:.5rem 0;padding:.1rem 0}
math{font-size:1.12em}
math[display=block]{margin:.2rem 0}
dl{display:grid;grid-template-columns:9rem minmax(0,1fr);gap:.1rem .8rem}
dt{font-weight:600;color:#444} dd{margin:0;overflow-wrap:anywhere}
figure{margin:.8rem 0} figure img{width:100%;height:auto;border:1px solid #ddd;display:block}
.figs{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-start}
.figs figure{flex:0 1 auto;max-width:100%}
figcaption{font-size:.88rem;color:#333;margin-top:.3rem}
figcaption .prov{color:#666;font-size:.8rem;display:block}
.legend span{margin-right:.8rem;font-size:.82rem}
.howto{background:#f7f9fc;border:1px solid #dde5f0;padding:.6rem 1rem;margin:1rem 0}
.howto dl{grid-template-columns:8rem minmax(0,1fr);font-size:.9rem}
"""


def _status_css() -> str:
    rules = []
    for st, colour in STATUS_COLOURS.items():
        fg = "#fff" if st in ("holds", "violated", "numerical-failure") else "#111"
        rules.append(f".st-{st.replace(' ', '-')}{{background:{colour};color:{fg}}}")
    return "\n".join(rules)


@dataclass
class PaperView:
    paper: str
    claims: list[ClaimView]
    graph_svg: str
    assumptions: list[tuple[str, str, str]]  # (id, ref, statement with inline $...$)
    figures: list[tuple[Figure, str]] = field(default_factory=list)  # (figure, relative path)
    graph_file: str = ""  # the full-size graph, a standalone SVG beside the page
    note: str | None = None  # opening line where the paper's body is not available (publish.reading)


def _summary_table(papers: list[PaperView]) -> str:
    head = "".join(f"<th>{status_badge(s)}</th>" for s in STATUS_ORDER)
    rows = []
    for p in papers:
        counts = {s: 0 for s in STATUS_ORDER}
        for c in p.claims:
            counts[c.status] = counts.get(c.status, 0) + 1
        cells = "".join(f'<td class="num">{counts[s]}</td>' for s in STATUS_ORDER)
        rows.append(f'<tr><td><a href="#paper-{e(p.paper)}">{e(p.paper)}</a></td>'
                    f'<td class="num">{len(p.claims)}</td>{cells}</tr>')
    return (f'<div class="table-wrap"><table class="summary"><thead><tr><th>paper</th><th>claims</th>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _claims_table(p: PaperView) -> str:
    rows = []
    for c in p.claims:
        status = status_badge(c.status) + (' <span class="weak" title="rests on a claim not established">'
                                           '&#9888;</span>' if c.weak else "")
        if c.show_reading:  # a verdict that is not on the paper's own statement (publish.reading)
            status += f'<div class="reading">{e(c.reading)}</div>'
        rows.append(
            f'<tr data-status="{e(c.status)}"><td><a href="#{slug(c.id)}">'
            f"<code>{breakable_id(c.id)}</code></a></td>"
            f"<td>{e(c.ref)}</td><td>{e(c.provenance)}</td><td>{e(c.kind)}</td><td>{status}</td>"
            f'<td class="num">{fmt_margin(c.margin)}</td><td class="num">{e(c.examples) or "&ndash;"}</td>'
            f'<td class="num">{fmt_sensitivity(c.sensitivity)}</td>'
            f'<td class="when">{_when_cell(c.at)}</td></tr>')
    return (f'<div class="table-wrap"><table class="claims" id="claims-{e(p.paper)}"><thead><tr>'
            "<th>claim</th><th>reference</th><th>provenance</th><th>kind</th><th>status</th><th>margin</th><th>examples</th>"
            f'<th>sensitivity</th><th>last run</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _when_cell(at: str | None) -> str:
    """Date and time, each kept whole (the cell may wrap between them)."""
    return " ".join(f'<span class="nb">{e(p)}</span>' for p in fmt_when(at).split(" ", 1))


HOWTO = [
    ("status", "the verdict of the last <code>twostage verify</code> of the claim, never set by hand. "
     + status_badge("holds") + " every checked configuration satisfied the claim by more than the stated "
     "numerical error; " + status_badge("violated") + " some configuration contradicts it (the worst case is "
     "recorded and can be replayed); " + status_badge("undecided") + " the measurement sits within the "
     "numerical error of the bound, or the evidence does not decide; " + status_badge("not-applicable")
     + " no checked configuration met the assumptions; " + status_badge("numerical-failure")
     + " a NaN or infinity appeared; " + status_badge("never run") + " not checked yet."),
    ("margin", "the smallest relative slack over everything checked: positive means the claim held with that "
     "relative room (0.00117 = 0.117 %), negative means it failed by that much. Tightening the bound by more "
     "than the margin would make the verdict <em>violated</em>. Each claim's <em>decided by</em> line says "
     "how its margin is measured."),
    ("examples", "how many configurations (Hypothesis-drawn draws &times; initialisations, or seeds for "
     "almost-sure and w.h.p. claims) entered the verdict."),
    ("sensitivity", "how much the claim's own formula can be perturbed before its checker notices: the "
     "smallest relative change of a constant or exponent that <code>twostage audit</code> saw turn the "
     "verdict to <em>violated</em> (0.01 = a 1 % change is caught; smaller = stronger evidence). "
     "<em>formula-blind</em>: no change of the formula changed the verdict (the check does not read it); "
     "<em>weak evidence</em>: something changed but no mutation was caught; <em>not measured</em>: the "
     "audit has not been run for the claim."),
    ("provenance", "<em>paper</em> (stated in the paper), <em>erratum</em> (a misprint repaired; the note "
     "says what), <em>derived</em> (worked out by us), <em>reconstructed</em> (the paper's version is not "
     "available: our hypothesis, tested on our model), <em>earlier-version</em> (quoted from a "
     "predecessor)."),
    ("graphs", "an arrow runs from a premise to the claim resting on it; nodes are coloured by status, "
     "assumptions are blue pills, a <span class=\"weak\">dashed red outline / &#9888;</span> marks a claim "
     "resting (transitively) on a claim that is not established (not holding, or never run)."),
]


def _howto() -> str:
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in HOWTO)
    return (f'<section class="howto" id="how-to-read"><h3>How to read this report</h3><dl>{items}</dl>'
            "</section>")


def _legend() -> str:
    items = "".join(f"<span>{status_badge(s)}</span>" for s in (*STATUS_ORDER, "assumption"))
    return (f'<p class="legend">{items}<span class="weak">dashed red outline / &#9888;</span> '
            '<span>rests (transitively) on a claim not established (not holding, or never run)</span></p>')


def _figures(p: PaperView) -> str:
    if not p.figures:
        return ('<p class="muted">No experiment has been run for this paper yet: '
                "<code>twostage run EXPERIMENT</code> writes its figures, which then appear here.</p>")
    out = []
    for f, rel in p.figures:
        width = f.display_width()
        size = f' style="width:{width}px"' if width else ""
        out.append(f'<figure class="experiment" id="fig-{e(f.label)}"{size}><img src="{e(rel)}" '
                   f'alt="{e(f.name)} of {e(f.experiment)}" loading="lazy"><figcaption>'
                   f"<strong>{e(f.experiment)} &middot; "
                   f"{e(f.name)}.</strong> {rich_text(f.caption)}"
                   f'<span class="prov">{e(f.provenance())}</span></figcaption></figure>')
    return '<div class="figs">' + "\n".join(out) + "</div>"


def _paper_section(p: PaperView) -> list[str]:
    body = [f'<section class="paper" id="paper-{e(p.paper)}">', f"<h2>{e(p.paper)}</h2>"]
    if p.note:
        body.append(f'<p class="paper-note">{e(p.note)}</p>')
    if p.paper in PAPER_TITLE:
        body.append(f'<p class="paper-title">{e(PAPER_TITLE[p.paper])}</p>')
    body += ["<h3>Claims</h3>",
             _claims_table(p) if p.claims else '<p class="muted">no claims registered</p>',
             "<h3>Dependency graph</h3>", _legend()]
    if p.graph_svg:
        zid = f"zoom-{e(p.paper)}"
        full = f' &middot; <a href="{e(p.graph_file)}">open the graph on its own</a>' if p.graph_file else ""
        body += [f'<div><input type="checkbox" class="zoom-toggle" id="{zid}"> '
                 f'<label class="zoom" for="{zid}">show at actual size (then scroll to pan)</label>'
                 f'<span class="zoom">{full}</span>',
                 f'<div class="graph-wrap">{p.graph_svg}</div></div>']
    body += ["<h3>Experiment figures</h3>", _figures(p)]
    if p.assumptions:
        rows = "".join(f"<tr><td><code>{breakable_id(i)}</code></td><td>{e(r)}</td>"
                       f"<td>{rich_text(s)}</td></tr>" for i, r, s in p.assumptions)
        body.append('<h3>Assumptions</h3><div class="table-wrap"><table class="assumptions"><thead><tr>'
                    f"<th>id</th><th>reference</th><th>statement</th></tr></thead><tbody>{rows}</tbody></table>"
                    "</div>")
    body.append("<h3>Claims in detail</h3>")
    body += [claim_section(c) for c in p.claims]
    body.append("</section>")
    return body


def render_page(papers: list[PaperView], header: dict[str, Any], stale: list[str]) -> str:
    """The whole report page."""
    nav = " &middot; ".join(f'<a href="#paper-{e(p.paper)}">{e(p.paper)}</a>' for p in papers)
    body = [
        "<header>", "<h1>twostage &mdash; verification report</h1>",
        f'<p class="muted">generated {e(header.get("generated"))} from '
        f'<code>{e(header.get("source"))}</code> '
        f'({e(header.get("n_verdicts"))} stored verdicts), code {e(header.get("git_sha"))}. '
        "Statuses are those computed by the last <code>twostage verify</code> run of each claim; "
        "a claim never verified shows <em>never run</em>.</p>",
        _summary_table(papers),
        f'<nav>{nav} &middot; <a href="#how-to-read">how to read this report</a></nav>',
        _howto(), "</header>",
    ]
    for p in papers:
        body += _paper_section(p)
    if stale:
        items = "".join(f"<li><code>{e(s)}</code></li>" for s in stale)
        body.append(f"<section><h2>Stored verdicts of ids no longer registered</h2><ul>{items}</ul>"
                    "</section>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>twostage report</title><style>{CSS}{_status_css()}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
