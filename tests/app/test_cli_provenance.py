"""Provenance in the terminal and in ``--json`` (issue 11, "Presentation"): refs print whole (Rich markup
does not eat ``[arXiv-v2, Summary-v2]``), gong-2025 output opens with the line saying that the paper's body
is not available and what RECONSTRUCTED means, and every verdict record says how to read it -- a failing
reconstruction reads "our reconstruction does not reproduce ...", not as a finding about the paper; the
HTML report shows the same note and readings.

A small demo registry (one claim per provenance, fixed verdicts) is patched in for each test, as in
``tests/app/test_robustness.py``.
"""

import html
import json

import pytest
import sympy as sp

from twostage.cli import main
from twostage.publish.graph import slug
from twostage.publish.reading import PAPER_NOTES, needs_reading, reading
from twostage.theory.claims import Claim, Kind, Provenance, Registry
from twostage.verify.check import Check
from twostage.verify.verdict import Measurement, Status

REF = "§5 [arXiv-v2, Summary-v2]"
NOTE = "gong-2025: the paper's body is not available"
x = sp.Symbol("x")
DEMO = [("gong-2025", "rec-fails", Provenance.RECONSTRUCTED, Status.VIOLATED),
        ("gong-2025", "rec-holds", Provenance.RECONSTRUCTED, Status.HOLDS),
        ("gong-2025", "old-fails", Provenance.EARLIER_VERSION, Status.VIOLATED),
        ("chen-luo-2025", "thm-holds", Provenance.PAPER, Status.HOLDS)]


@pytest.fixture
def demo(monkeypatch):
    import twostage.runs.suite as vs
    import twostage.theory.claims as tc
    import twostage.verify.checks as vc

    reg, checkers = Registry(), {}
    for paper, name, prov, status in DEMO:
        c = reg.add(Claim(id=f"{paper}/demo/{name}", paper=paper, ref=REF, provenance=prov, kind=Kind.BOUND,
                          statement=name, formula=sp.Ge(x, 0)))
        margin = 1.0 if status is Status.HOLDS else -1.0
        checkers[c.id] = Check(c.id, lambda claim, d, data, st=status, m=margin: Measurement(st, m, {}),
                               [None])
    for mod in (tc, vs):
        monkeypatch.setattr(mod, "load_all", lambda: reg)
    for mod in (vc, vs):
        monkeypatch.setattr(mod, "load_checkers", lambda: checkers)
    return reg


def flat(text: str) -> str:
    return " ".join(text.split())


def test_refs_with_brackets_print_whole(demo, tmp_path, capsys):
    assert main(["--results", str(tmp_path), "claims"]) == 0
    out = capsys.readouterr().out
    assert out.count(REF) == len(DEMO)  # every row, brackets included
    main(["--results", str(tmp_path), "verify", "--claim", "gong-2025/demo/rec-holds"])
    assert REF in capsys.readouterr().out


@pytest.mark.parametrize("command", [["claims"], ["verify"]])
def test_gong_output_opens_with_what_reconstructed_means(demo, tmp_path, capsys, command):
    main(["--results", str(tmp_path), *command, "--paper", "gong-2025"])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == PAPER_NOTES["gong-2025"]  # one line, however long
    assert out.startswith(NOTE) and "RECONSTRUCTED = our best reconstruction" in out
    main(["--results", str(tmp_path), *command, "--paper", "chen-luo-2025"])  # its text is available
    assert NOTE not in flat(capsys.readouterr().out)


def test_failing_reconstruction_reads_as_such_in_table_and_json(demo, tmp_path, capsys):
    out_json = tmp_path / "v.json"
    rc = main(["--results", str(tmp_path / "res"), "verify", "--json", str(out_json)])
    out = flat(capsys.readouterr().out)
    assert rc == 1
    assert ("gong-2025/demo/rec-fails (reconstructed, violated): our reconstruction does not reproduce what "
            "the paper reports") in out
    assert "gong-2025/demo/old-fails (earlier-version, violated): the statement quoted from the ICLR 2025 " \
           "predecessor fails" in out
    assert "demo/rec-holds (" not in out and "demo/thm-holds (" not in out  # holding claims: no note line
    main(["--results", str(tmp_path / "res"), "claims"])  # the stored verdicts read the same way
    listed = flat(capsys.readouterr().out)
    assert ("gong-2025/demo/rec-fails (reconstructed, violated): our reconstruction does not reproduce"
            in listed) and "demo/rec-holds (" not in listed
    payload = json.loads(out_json.read_text())
    assert payload["notes"] == [PAPER_NOTES["gong-2025"]]
    by_id = {r["id"]: r for r in payload["claims"]}
    assert by_id["gong-2025/demo/rec-fails"]["reading"].startswith("our reconstruction does not reproduce")
    assert "not a finding about the paper" in by_id["gong-2025/demo/rec-holds"]["reading"]
    assert by_id["chen-luo-2025/demo/thm-holds"]["reading"] == reading(Provenance.PAPER, Status.HOLDS)
    assert "paper's statement holds" in by_id["chen-luo-2025/demo/thm-holds"]["reading"]


@pytest.mark.parametrize("prov", list(Provenance))
@pytest.mark.parametrize("status", list(Status))
def test_every_verdict_has_a_reading(prov, status):
    text = reading(prov, status)
    assert text and "\n" not in text
    if prov in (Provenance.RECONSTRUCTED, Provenance.EARLIER_VERSION, Provenance.DERIVED):
        assert "paper's statement" not in text  # never reads as the paper's own statement
    if prov is Provenance.RECONSTRUCTED and status is Status.VIOLATED:
        assert text.startswith("our reconstruction does not reproduce")
    shown = prov not in (Provenance.PAPER, Provenance.ERRATUM) and status is not Status.HOLDS
    assert needs_reading(prov, status) is shown and needs_reading(prov.value, status.value) is shown


def test_report_opens_gong_with_the_note_and_reads_each_verdict(demo, tmp_path, capsys):
    from twostage.publish.report import build_report

    res = tmp_path / "res"
    main(["--results", str(res), "verify"])
    capsys.readouterr()
    page = build_report(res, tmp_path / "report", registry=demo,
                        checkers={c.id: object() for c in demo.claims()}, tables=False).read_text()
    gong = page[page.index('<section class="paper" id="paper-gong-2025">'):]
    gong = gong[:gong.index("</section>")]
    heading = '<h2>gong-2025</h2>\n<p class="paper-note">'
    assert heading + html.escape(PAPER_NOTES["gong-2025"]) in gong  # the section opens with the note
    chen = page[page.index('<section class="paper" id="paper-chen-luo-2025">'):]
    assert "paper-note" not in chen[:chen.index("</section>")]
    rec_fails = gong[gong.index(f'<article class="claim" id="{slug("gong-2025/demo/rec-fails")}"'):]
    assert '<p class="reading">our reconstruction does not reproduce what the paper reports' in rec_fails
    row = gong[gong.index(f'<tr data-status="violated"><td><a href="#{slug("gong-2025/demo/rec-fails")}">'):]
    assert row[:row.index("</tr>")].count('<div class="reading">our reconstruction does not reproduce') == 1
    holds_row = gong[gong.index(f'<a href="#{slug("gong-2025/demo/rec-holds")}">'):]
    assert '<div class="reading">' not in holds_row[:holds_row.index("</tr>")]  # holds: only in its section
    assert REF in html.unescape(page)


def test_run_summary_and_report_path_print_as_text(monkeypatch, tmp_path, capsys):
    import twostage.experiments as ex

    summary = "demo: T_type = [3.0, 4.0]; refs §5 [arXiv-v2, Summary-v2] and [bold]not markup[/bold]"
    monkeypatch.setitem(ex.EXPERIMENTS, "demo-brackets", lambda profile, device, seed, out: summary)
    assert main(["--results", str(tmp_path), "run", "demo-brackets"]) == 0
    assert summary in capsys.readouterr().out
