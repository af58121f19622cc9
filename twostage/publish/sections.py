"""The parts of the report page about one claim: its section, its plot, the cells that format its numbers.

:func:`claim_section` is the ``<article>`` of one claim: its reading (how to read its verdict given its
provenance, :mod:`twostage.publish.reading`), statement and formula as MathML, the verdict's numbers and
provenance, premises, worst case, replay command, focused graph and plot.

>>> fmt_when("2026-12-07T05:48:10"), fmt_when(None)
('2026-12-07 05:48', 'never run')
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from twostage.publish.graph import slug
from twostage.publish.mathml import display_math, rich_text

NOT_MEASURED = "not measured"


def status_badge(status: str) -> str:
    return f'<span class="badge st-{html.escape(status.replace(" ", "-"))}">{html.escape(status)}</span>'


def e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def fmt_margin(m: float | None) -> str:
    return "&ndash;" if m is None else f"{m:.3g}"


def fmt_when(at: str | None) -> str:
    """``2026-12-07T05:48:10`` -> ``2026-12-07 05:48``; ``never run`` when there is no verdict."""
    if not at:
        return "never run"
    return at.replace("T", " ")[:16]


def fmt_sensitivity(s: Any) -> str:
    """A claim's ``sensitivity`` -- the smallest relative change of its formula that its check catches
    (``twostage audit``) -- as the verdict record or the audit gives it: a number, a record
    ``{"sensitivity", "flag"}`` (a flag other than ``ok``, e.g. ``formula-blind``, is shown), a word, or
    absent (:data:`NOT_MEASURED`).

    >>> fmt_sensitivity(0.0213), fmt_sensitivity(None), fmt_sensitivity({"sensitivity": 0.01, "flag": "ok"})
    ('0.021', 'not measured', '0.01')
    >>> fmt_sensitivity({"sensitivity": None, "flag": "formula-blind"})
    'formula-blind'
    """
    if s is None or s == "":
        return NOT_MEASURED
    if isinstance(s, dict):
        value = next((s[k] for k in ("sensitivity", "delta", "smallest_delta", "value")
                      if isinstance(s.get(k), (int, float)) and not isinstance(s.get(k), bool)), None)
        flag = s.get("flag") or s.get("status")
        flag = None if flag in (None, "", "ok") else e(flag)
        if value is None:
            return flag or NOT_MEASURED
        return f"{value:.2g}" + (f" ({flag})" if flag else "")
    if isinstance(s, (int, float)) and not isinstance(s, bool):
        return f"{s:.2g}"
    return e(s)


def breakable_id(claim_id: str) -> str:
    """A claim id that wraps only after a ``/`` (never inside a name)."""
    return "/<wbr>".join(f'<span class="nb">{e(p)}</span>' for p in claim_id.split("/"))


@dataclass
class ClaimView:
    """Everything the page shows about one claim (assembled by the report builder)."""

    id: str
    paper: str
    ref: str
    provenance: str
    kind: str
    statement: str  # prose with inline $...$ (ASCII math already marked)
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
    plot_caption: str = ""
    sensitivity: Any = None
    device: str | None = None
    reading: str = ""  # how to read the verdict given the provenance (publish.reading); "" if never run
    show_reading: bool = False  # also beside the status in the claims table (publish.reading.needs_reading)


def _last_run(c: ClaimView) -> str:
    if not c.at:
        return "never run"
    bits = [f"profile {e(c.profile)}" if c.profile else "", f"seed {e(c.seed)}" if c.seed is not None else "",
            f"device {e(c.device)}" if c.device else "", f"code {e(c.git_sha[:12])}" if c.git_sha else ""]
    bits = [b for b in bits if b]
    return e(fmt_when(c.at)) + (f" ({', '.join(bits)})" if bits else "")


def _premises(c: ClaimView) -> str:
    prem = ", ".join(
        (f'<a href="#{slug(i)}"><code>{e(i)}</code></a> {status_badge(s)}' if s != "assumption"
         else f"<code>{e(i)}</code> (assumption)") for i, s in c.premises)
    return prem or '<span class="muted">none</span>'


def claim_section(c: ClaimView) -> str:
    """The ``<article>`` of one claim."""
    worst = '<span class="muted">no worst case recorded</span>'
    if c.worst:
        dump = e(json.dumps(c.worst, indent=2, default=str))
        worst = ("<details><summary>worst case (the tightest configuration, as recorded)</summary>"
                 f"<pre>{dump}</pre></details>")
    what = "Corrected" if c.provenance == "erratum" else "Note"
    parts = [
        f'<article class="claim" id="{slug(c.id)}" data-status="{e(c.status)}">',
        f"<h4>{breakable_id(c.id)} {status_badge(c.status)}</h4>",
        f'<p class="reading">{e(c.reading)}</p>' if c.reading else "",
        f'<p class="statement">{rich_text(c.statement)}</p>',
        display_math(c.latex) if c.latex else "",
        "<dl>",
        f"<dt>reference</dt><dd>{e(c.ref)}</dd><dt>provenance</dt><dd>{e(c.provenance)}</dd>",
        f"<dt>{what.lower()}</dt><dd>{rich_text(c.note)}</dd>" if c.note else "",
        f"<dt>kind</dt><dd>{e(c.kind)}</dd>",
        f"<dt>decided by</dt><dd>{e(c.tolerance) or '<span class=muted>&ndash;</span>'}</dd>",
        f"<dt>margin</dt><dd>{fmt_margin(c.margin)}</dd>",
        f"<dt>examples</dt><dd>{e(c.examples) or '&ndash;'}</dd>",
        f"<dt>sensitivity</dt><dd>{fmt_sensitivity(c.sensitivity)}</dd>",
        f"<dt>last run</dt><dd>{_last_run(c)}</dd>",
        f"<dt>rests on</dt><dd>{_premises(c)}</dd>",
        (f'<dt>failure</dt><dd class="weak">{e(c.failure_at)}</dd>' if c.failure_at else ""),
        (f"<dt>detail</dt><dd>{e(c.detail)}</dd>" if c.detail and c.detail != c.tolerance else ""),
        "</dl>",
        ('<p class="weak">rests on a claim that is not established (see the graph below)</p>'
         if c.weak else ""),
        worst,
        f'<p>replay: <code class="replay">{e(c.replay)}</code></p>' if c.replay else "",
        f'<div class="graph-wrap">{c.ancestors_svg}</div>' if c.ancestors_svg else "",
        _plot(c),
        "</article>",
    ]
    return "\n".join(x for x in parts if x)


def _plot(c: ClaimView) -> str:
    if c.plot:
        return (f'<figure class="plot"><img class="plot" src="{e(c.plot)}" alt="{e(c.id)} against its bound">'
                f"<figcaption>{rich_text(c.plot_caption)}</figcaption></figure>")
    return f'<p class="muted">{e(c.plot_note)}</p>' if c.plot_note else ""


def plot_caption(info: dict[str, Any]) -> str:
    """Caption of a claim's plot from what :func:`twostage.publish.plots.plot_claim` drew."""
    measured = ", ".join(info.get("measured") or ["measured"])
    text = f"{measured} (solid) "
    if info.get("bound"):
        text += f"against the bound {', '.join(info['bound'])} (dashed)"
        text += f"; the claim requires measured {info['sense']} bound" if info.get("sense") else ""
    runs, curves = info.get("runs", 0), info.get("curves", 0)
    text += f". {curves} curve{'s' if curves != 1 else ''} from {runs} stored run{'s' if runs != 1 else ''}"
    if runs > 1 or curves > 1:
        text += " (one colour per seed)" if runs == 1 else " (one colour per run)"
    if info.get("log"):
        text += "; logarithmic axis" + (" as the run's metadata asks" if info.get("asked") else "")
        if info.get("dropped"):
            text += f" ({info['dropped']} non-positive points, outside the judged domain, not drawn)"
    elif info.get("asked"):
        text += "; linear axis (a log axis was asked for, but no value is positive)"
    return text + "."
