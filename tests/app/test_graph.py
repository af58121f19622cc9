"""Claim graph: soundness checks (dangling ids, cycles, missing checkers), layout, SVG rendering."""

import xml.etree.ElementTree as ET

import pytest
import sympy as sp

from twostage.publish.graph import (
    STATUS_COLOURS,
    DepGraph,
    GraphError,
    graph_problems,
    layout,
    node_status,
    render_svg,
    require_sound,
    slug,
)
from twostage.theory.claims import Assumption, Claim, Kind, Provenance, Registry, load_all
from twostage.verify.checks import load_checkers

P = "gong-2025"
SVG = "{http://www.w3.org/2000/svg}"


def _claim(name, **kw):
    return Claim(id=f"{P}/{name}", paper=P, ref=f"Lem {name}", provenance=Provenance.RECONSTRUCTED,
                 kind=Kind.BOUND, statement=name, formula=sp.Symbol("x") >= 0, **kw)


def demo_registry():
    reg = Registry()
    reg.add_assumption(Assumption(f"{P}/ass/init", P, "Ass. 1", "small init", Provenance.PAPER))
    reg.add(_claim("l1", assumptions=(f"{P}/ass/init",)))
    reg.add(_claim("l2", uses=(f"{P}/l1",)))
    reg.add(_claim("l3", assumptions=(f"{P}/ass/init",)))
    reg.add(_claim("thm", uses=(f"{P}/l2", f"{P}/l3")))
    return reg


def checkers_for(reg):
    return {c.id: object() for c in reg.claims()}


def test_sound_graph_has_no_problems():
    reg = demo_registry()
    assert graph_problems(reg, checkers_for(reg)) == []
    require_sound(reg, checkers_for(reg))


@pytest.mark.parametrize("extra, needle", [
    (dict(uses=(f"{P}/nope",)), "uses unknown id 'gong-2025/nope'"),
    (dict(assumptions=(f"{P}/ass/nope",)), "uses unknown id 'gong-2025/ass/nope'"),
])
def test_dangling_premise_is_an_error(extra, needle):
    reg = demo_registry()
    reg.add(_claim("bad", **extra))
    with pytest.raises(GraphError, match=needle) as e:
        require_sound(reg, checkers_for(reg))
    assert "\n" not in str(e.value)


def test_cycle_is_an_error():
    reg = demo_registry()
    reg.add(_claim("a", uses=(f"{P}/b",)))
    reg.add(_claim("b", uses=(f"{P}/a",)))
    problems = graph_problems(reg, checkers_for(reg))
    assert any(p.startswith("cycle: ") and f"{P}/a" in p and f"{P}/b" in p for p in problems)
    with pytest.raises(GraphError, match="cycle"):
        require_sound(reg, checkers_for(reg))


def test_claim_without_checker_is_an_error_and_count_is_reported():
    reg = demo_registry()
    checkers = checkers_for(reg)
    del checkers[f"{P}/l1"], checkers[f"{P}/thm"]
    with pytest.raises(GraphError) as e:
        require_sound(reg, checkers)
    msg = str(e.value)
    assert "has no checker" in msg and "(and 1 more; list them with: twostage claims --check)" in msg


def test_the_real_claim_graph_is_sound():
    """Every registered claim of both papers has a checker, and uses/assumptions resolve without cycles."""
    assert graph_problems(load_all(), load_checkers()) == []


def test_ancestors_and_weak_status():
    g = DepGraph(demo_registry())
    assert g.ancestors(f"{P}/thm") == {f"{P}/l1", f"{P}/l2", f"{P}/l3", f"{P}/ass/init"}
    statuses = {f"{P}/l1": "holds", f"{P}/l2": "holds", f"{P}/l3": "undecided", f"{P}/thm": "holds"}
    assert node_status(g, f"{P}/thm", statuses) == ("holds", True)  # rests on an undecided lemma
    assert node_status(g, f"{P}/l2", statuses) == ("holds", False)
    assert node_status(g, f"{P}/ass/init", statuses) == ("assumption", False)
    assert node_status(g, f"{P}/l3", {}) == ("never run", False)


def test_layout_puts_premises_left_of_conclusions_without_overlap():
    reg = demo_registry()
    g = DepGraph(reg)
    nodes = [c.id for c in reg.claims()] + [a.id for a in reg.assumptions()]
    edges = [(p, n) for n in nodes for p in g.premises(n)]
    boxes = layout(nodes, edges)
    for u, v in edges:
        assert boxes[u].layer < boxes[v].layer and boxes[u].x < boxes[v].x
    positions = [(b.x, b.y) for b in boxes.values()]
    assert len(set(positions)) == len(positions)
    assert boxes[f"{P}/thm"].layer == 3 and boxes[f"{P}/ass/init"].layer == 0


def test_layout_survives_a_cycle():
    boxes = layout(["a", "b"], [("a", "b"), ("b", "a")])
    assert {b.layer for b in boxes.values()} == {0, 1}


def test_svg_is_wellformed_and_coloured_by_status():
    reg = demo_registry()
    g = DepGraph(reg)
    statuses = {f"{P}/l1": "holds", f"{P}/l2": "violated", f"{P}/l3": "numerical-failure"}
    nodes = [c.id for c in reg.claims()] + [a.id for a in reg.assumptions()]
    svg = render_svg(g, nodes, statuses, focus=f"{P}/thm")
    root = ET.fromstring(svg)
    groups = {el.get("data-id"): el for el in root.iter(f"{SVG}g") if el.get("class") == "node"}
    assert set(groups) == set(nodes)
    fill = {n: el.find(f".//{SVG}rect").get("fill") for n, el in groups.items()}
    assert fill[f"{P}/l1"] == STATUS_COLOURS["holds"] and fill[f"{P}/l2"] == STATUS_COLOURS["violated"]
    assert fill[f"{P}/l3"] == STATUS_COLOURS["numerical-failure"]
    assert fill[f"{P}/thm"] == STATUS_COLOURS["never run"]
    assert fill[f"{P}/ass/init"] == STATUS_COLOURS["assumption"]
    thm = groups[f"{P}/thm"].find(f".//{SVG}rect")
    assert thm.get("stroke-width") == "3.0"  # the focused node
    assert groups[f"{P}/thm"].get("data-status") == "never run"
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert "#" + slug(f"{P}/thm") in links and len(links) == 4  # claims link to their sections
    assert len([p for p in root.iter(f"{SVG}path") if p.get("marker-end")]) == 5  # one arrow per premise


def test_slug_is_a_valid_anchor():
    assert slug("chen-luo-2025/thm1/blowup.upper") == "c-chen-luo-2025-thm1-blowup-upper"
