"""The dependency graph of claims and assumptions, its soundness check, and an inline-SVG drawing.

Edges run from a premise (an id in a claim's ``uses`` or ``assumptions``) to the claim resting on
it. :func:`graph_problems` lists what makes the graph unusable for a report: a dangling id, a cycle
(both from :meth:`Registry.check_graph`) and a claim with no checker. :func:`layout` is a small
pure-Python layered layout (longest-path layers as columns, barycentre ordering within a column),
and :func:`render_svg` draws it with each node filled by its computed status (no graphviz needed).

>>> import sympy as sp
>>> from twostage.theory.claims import Assumption, Claim, Kind, Provenance, Registry
>>> from twostage.publish.graph import ancestors, graph_problems
>>> reg = Registry()
>>> _ = reg.add_assumption(Assumption("gong-2025/ass/a", "gong-2025", "Ass. 1", "a > 0", Provenance.PAPER))
>>> mk = lambda i, **kw: Claim(id=f"gong-2025/{i}", paper="gong-2025", ref="Lem 1",
...     provenance=Provenance.PAPER, kind=Kind.BOUND, statement=i, **kw)
>>> _ = reg.add(mk("l1", assumptions=("gong-2025/ass/a",)))
>>> _ = reg.add(mk("t1", uses=("gong-2025/l1",)))
>>> sorted(ancestors(reg, "gong-2025/t1"))
['gong-2025/ass/a', 'gong-2025/l1']
>>> graph_problems(reg, {"gong-2025/l1": None})
['gong-2025/t1: claim has no checker']
>>> _ = reg.add(mk("t2", uses=("gong-2025/nope",)))
>>> graph_problems(reg, {"gong-2025/l1": None, "gong-2025/t1": None, "gong-2025/t2": None})
["gong-2025/t2: uses unknown id 'gong-2025/nope'"]
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twostage.errors import GraphError

STATUS_COLOURS = {
    "holds": "#2e9d4f",
    "violated": "#d62728",
    "undecided": "#e6b800",
    "numerical-failure": "#9b30d9",
    "not-applicable": "#9e9e9e",
    "never run": "#ffffff",
    "assumption": "#cfe2f3",
}
ESTABLISHED = {"holds", "assumption"}


def graph_problems(registry: Any, checkers: dict[str, Any]) -> list[str]:
    """Dangling ``uses``/``assumptions`` ids, cycles, and claims with no checker (empty when sound)."""
    problems = list(registry.check_graph())
    problems += [f"{c.id}: claim has no checker" for c in registry.claims() if c.id not in checkers]
    return problems


def require_sound(registry: Any, checkers: dict[str, Any]) -> None:
    """Raise :class:`GraphError` naming the first problem (and how many more there are)."""
    problems = graph_problems(registry, checkers)
    if problems:
        more = ""
        if len(problems) > 1:
            more = f" (and {len(problems) - 1} more; list them with: twostage claims --check)"
        raise GraphError(f"claim graph: {problems[0]}{more}")


class DepGraph:
    """Premise lookups over a registry (built once; claims and assumptions by id)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.claims = {c.id: c for c in registry.claims()}
        self.assumptions = {a.id: a for a in registry.assumptions()}
        self._anc: dict[str, frozenset[str]] = {}

    def is_claim(self, node: str) -> bool:
        return node in self.claims

    def premises(self, node: str) -> tuple[str, ...]:
        """Direct premises of ``node``: its ``uses`` then its ``assumptions`` (none for an assumption)."""
        c = self.claims.get(node)
        return tuple(dict.fromkeys(c.uses + c.assumptions)) if c else ()

    def ancestors(self, node: str) -> frozenset[str]:
        """Every id ``node`` rests on, transitively (cycle-safe)."""
        if node not in self._anc:
            seen: set[str] = set()
            stack = list(self.premises(node))
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(self.premises(n))
            self._anc[node] = frozenset(seen)
        return self._anc[node]


def ancestors(registry: Any, node: str) -> set[str]:
    """Every id ``node`` rests on, transitively (cycle-safe)."""
    return set(DepGraph(registry).ancestors(node))


@dataclass(frozen=True)
class Box:
    id: str
    x: float
    y: float
    layer: int


def layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]], col_gap: float = 250,
           row_gap: float = 38, sweeps: int = 4) -> dict[str, Box]:
    """Layered layout: column = longest premise chain, order within a column by barycentre.

    ``edges`` are (premise, conclusion) pairs among ``nodes``. Deterministic for a given input.

    >>> from twostage.publish.graph import layout
    >>> b = layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    >>> [b[n].layer for n in "abc"]
    [0, 1, 2]
    """
    nodes = list(dict.fromkeys(nodes))
    node_set = set(nodes)
    edges = [(u, v) for u, v in edges if u in node_set and v in node_set and u != v]
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    layer: dict[str, int] = {}

    def depth(n: str, active: frozenset[str]) -> int:
        if n not in layer:
            ps = [p for p in preds[n] if p not in active]  # a cycle (reported elsewhere) is cut
            layer[n] = 1 + max((depth(p, active | {n}) for p in ps), default=-1)
        return layer[n]

    for n in nodes:
        depth(n, frozenset())
    columns: dict[int, list[str]] = {}
    for n in sorted(nodes):
        columns.setdefault(layer[n], []).append(n)
    order = {n: i for col in columns.values() for i, n in enumerate(col)}
    for s in range(sweeps):  # barycentre ordering: left-to-right on premises, then right-to-left
        keys = sorted(columns) if s % 2 == 0 else sorted(columns, reverse=True)
        for k in keys:
            nbrs = preds if s % 2 == 0 else succs
            col = columns[k]

            def bary(n: str, nbrs: dict[str, list[str]] = nbrs) -> tuple[float, str]:
                ns = nbrs[n]
                return (sum(order[m] for m in ns) / len(ns) if ns else order[n], n)

            col.sort(key=bary)
            for i, n in enumerate(col):
                order[n] = i
    tallest = max((len(c) for c in columns.values()), default=0)
    boxes = {}
    for k, col in columns.items():
        offset = (tallest - len(col)) * row_gap / 2
        for i, n in enumerate(col):
            boxes[n] = Box(n, k * col_gap, offset + i * row_gap, k)
    return boxes


def _label(node: str, width_chars: int = 30) -> str:
    short = node.split("/", 1)[1] if "/" in node else node
    return short if len(short) <= width_chars else short[: width_chars - 1] + "\u2026"


def slug(node: str) -> str:
    """HTML anchor for a claim id (``/`` and dots become ``-``)."""
    return "c-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in node)


def render_svg(graph: DepGraph, nodes: Iterable[str], statuses: dict[str, str], focus: str | None = None,
               title: str = "") -> str:
    """Inline SVG of ``nodes`` and the premise edges among them.

    Fill = status (``statuses``; assumptions are drawn as ``assumption``); a dashed red outline marks
    a claim resting (transitively) on a claim not established; ``focus`` gets a thick black outline.
    Claim nodes link to their anchors (:func:`slug`) in the report page. The drawing scales down to the
    width of its container (``width="100%"`` with a ``viewBox``; never above its natural size, given in
    ``data-width``/``data-height``), so a wide graph fits the page instead of hiding behind a scrollbar.
    """
    nodes = list(dict.fromkeys(nodes))
    present = set(nodes)
    edges = [(p, n) for n in nodes for p in graph.premises(n) if p in present]
    boxes = layout(nodes, edges)
    w_box, h_box, pad = 200.0, 26.0, 12.0
    width = max((b.x for b in boxes.values()), default=0) + w_box + 2 * pad
    height = max((b.y for b in boxes.values()), default=0) + h_box + 2 * pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'class="graph" width="100%" viewBox="0 0 {width:.0f} {height:.0f}" '
           'preserveAspectRatio="xMinYMin meet" '
           f'style="--w:{width:.0f}px;max-width:{width:.0f}px;height:auto" '
           f'data-width="{width:.0f}" data-height="{height:.0f}" '
           f'role="img" aria-label="{html.escape(title or "claim graph")}">',
           '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>']
    for u, v in edges:
        a, b = boxes[u], boxes[v]
        x1, y1 = a.x + pad + w_box, a.y + pad + h_box / 2
        x2, y2 = b.x + pad, b.y + pad + h_box / 2
        mx = (x1 + x2) / 2
        out.append(f'<path d="M {x1:.1f} {y1:.1f} C {mx:.1f} {y1:.1f}, {mx:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}" '
                   'fill="none" stroke="#888" stroke-width="1.2" marker-end="url(#arr)"/>')
    for n in nodes:
        out.append(_node_svg(graph, n, boxes[n], statuses, focus, w_box, h_box, pad))
    out.append("</svg>")
    return "\n".join(out)


def node_status(graph: DepGraph, node: str, statuses: dict[str, str]) -> tuple[str, bool]:
    """(status, weak): a claim's own computed status, and whether it rests on a claim not established."""
    if not graph.is_claim(node):
        return "assumption", False
    weak = any(statuses.get(a, "never run") not in ESTABLISHED
               for a in graph.ancestors(node) if graph.is_claim(a))
    return statuses.get(node, "never run"), weak


def _node_svg(graph: DepGraph, n: str, b: Box, statuses: dict[str, str], focus: str | None,
              w_box: float, h_box: float, pad: float) -> str:
    st, weak = node_status(graph, n, statuses)
    stroke, sw, dash = "#444", 1.0, ""
    if weak:
        stroke, sw, dash = "#d62728", 2.0, ' stroke-dasharray="5 3"'
    if n == focus:
        stroke, sw = "#000", 3.0
    fg = "#fff" if st in ("holds", "violated", "numerical-failure") else "#111"
    rx = 4 if graph.is_claim(n) else 13
    tip = f"{n}: {st}" + (" (rests on a claim not established)" if weak else "")
    shape = (f'<rect x="{b.x + pad:.1f}" y="{b.y + pad:.1f}" width="{w_box:.0f}" height="{h_box:.0f}" '
             f'rx="{rx}" '
             f'fill="{STATUS_COLOURS.get(st, "#fff")}" stroke="{stroke}" stroke-width="{sw}"{dash}/>'
             f'<text x="{b.x + pad + 8:.1f}" y="{b.y + pad + 17:.1f}" font-family="monospace" '
             f'font-size="11" fill="{fg}">{html.escape(_label(n))}</text>')
    node = f'<g class="node" data-id="{html.escape(n)}" data-status="{st}"><title>{html.escape(tip)}</title>'
    if graph.is_claim(n):
        href = "#" + slug(n)
        return node + f'<a href="{href}" xlink:href="{href}">{shape}</a></g>'
    return node + shape + "</g>"
