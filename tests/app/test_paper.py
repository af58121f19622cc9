"""`twostage paper`: generated macros/tables/figures/provenance, staleness by content hash, the PDF.

Built from self-made demo claims and a temporary results store, so the tests do not depend on which
claims are registered; one test also builds and compiles the real registry's companion.
"""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from twostage.cli import main
from twostage.publish import paper
from twostage.publish.tex import MacroNameError, macro_key, macro_keys
from twostage.runs.store import write_run
from twostage.theory.claims import Claim, Kind, Provenance
from twostage.verify.check import Check

ROOT = Path(__file__).resolve().parents[2]
CL, GO = "chen-luo-2025", "gong-2025"
E, E0, t = sp.symbols("E E0 t")
HAS_TEX = paper.toolchain() is not None
NO_TEX = "latexmk/pdflatex not installed (CI installs them: see .ci/run); `twostage paper --pdf` says how"

DEMO = [
    Claim(f"{CL}/demo/riccati-lower", CL, "Thm 1, eq. (11)", Provenance.PAPER, Kind.BOUND,
          "If $E(0)>0$: E(t) >= (E(0)^{-1/3} - t)^{-3}.", sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3),
          symbols=(("E", ""), ("E0", ""), ("t", "")), tolerance="ball arithmetic, rel. error 1e-9"),
    Claim(f"{CL}/demo/loss-prefactor", CL, "eq. (5)", Provenance.ERRATUM, Kind.IDENTITY,
          "The loss at zero is 1.", sp.Eq(sp.Symbol("L0"), 1), note="prefactor 1/(2n) corrected to 1/n"),
    Claim(f"{GO}/demo/ordering", GO, "§5 [Rev-3]", Provenance.RECONSTRUCTED, Kind.ORDERING,
          "P is learned before Q (50% of runs & more).", sp.Lt(sp.Symbol("T_P"), sp.Symbol("T_Q"))),
]
IDS = [c.id for c in DEMO]


def _checker(ctx):  # stands in for the registered checker function in provenance.json
    raise AssertionError("not called")


CHECKERS = {IDS[0]: Check(IDS[0], _checker, None)}


def _verdicts(results: Path, entries: dict) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "verdicts.json").write_text(json.dumps({"schema": 1, "claims": entries}))


def _holds(margin=0.0123):
    return {"status": "holds", "margin": margin, "examples": 7, "profile": "ci", "seed": 0, "device": "cpu",
            "git_sha": "abc123", "at": "2025-01-01T00:00:00",
            "worst": {"config": {"type": "Cfg", "d": 3}, "measured": 8.5, "bound": 8.0}}


def _run(results: Path, claim_id: str, eps: float = 0.1) -> Path:
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        eps: float

    ts = np.linspace(0.0, 0.5, 40)
    bound = (1.0 - ts) ** -3
    return write_run(results, "demo-exp", Cfg(eps), {"t": ts, "measured": bound * 1.01, "bound": bound},
                     {"claim": claim_id, "sense": ">=", "time_unit": "rescaled time"})


@pytest.fixture
def paper_dir(tmp_path):
    d = tmp_path / "paper"
    d.mkdir()
    shutil.copy(ROOT / "paper" / "companion.tex", d / "companion.tex")
    return d


def _build(paper_dir, results):
    return paper.build(paper_dir, results, claims=DEMO, checkers=CHECKERS)


# ----------------------------------------------------------------------------- macro names


def test_macro_keys_are_letters_only_and_deterministic():
    assert macro_key("chen-luo-2025/thm1/riccati-lower") == "CLThmOneRiccatiLower"
    assert macro_key("gong-2025/stage/t2-bound") == "GOStageTTwoBound"
    with pytest.raises(MacroNameError, match="both map"):
        macro_keys(["gong-2025/a/b-c", "gong-2025/a/bC"])


@given(st.lists(st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True), min_size=1, max_size=3))
def test_macro_key_of_any_id_is_letters_only(parts):
    key = macro_key(f"{CL}/" + "/".join(parts))
    assert key.isalpha() and key == macro_key(f"{CL}/" + "/".join(parts))


# ----------------------------------------------------------------------------- generation


def test_build_writes_one_macro_per_bound_and_number_with_provenance(paper_dir, tmp_path):
    results = tmp_path / "results"
    _verdicts(results, {IDS[0]: _holds()})
    report = _build(paper_dir, results)
    gen = paper_dir / "generated"
    macros = (gen / "macros.tex").read_text()
    names = re.findall(r"\\newcommand\{\\([^}]*)\}", macros)
    assert names and all(n.isalpha() for n in names)
    bound = r"E \geq \frac{1}{\left(E(0)^{-1/3} - t\right)^{3}}"
    assert rf"\newcommand{{\twBoundCLDemoRiccatiLower}}{{{bound}}}" in macros
    assert r"\newcommand{\twStatusCLDemoRiccatiLower}{\twst{holds}}" in macros
    assert r"\newcommand{\twMarginCLDemoRiccatiLower}{\ensuremath{0.0123}}" in macros
    assert r"\newcommand{\twMeasuredCLDemoRiccatiLower}{\ensuremath{8.5}}" in macros
    assert r"\newcommand{\twStatusGODemoOrdering}{\twst{never run}}" in macros  # no verdict: nothing made up
    assert r"\newcommand{\twMarginGODemoOrdering}{--}" in macros
    prov = json.loads((gen / "provenance.json").read_text())
    assert set(prov["macros"]) == set(names) and report.macros == len(names)
    for name, entry in prov["macros"].items():
        assert {"claim", "function", "config_hash", "run", "git_sha"} <= set(entry), name
        assert entry["claim"] in IDS
    status = prov["macros"]["twStatusCLDemoRiccatiLower"]
    assert status["function"].endswith("test_paper._checker") and status["git_sha"] == "abc123"
    assert status["config_hash"] and "profile ci" in status["run"]
    assert prov["macros"]["twBoundCLDemoRiccatiLower"]["function"] == "twostage.theory.latex.claim_latex"
    assert prov["macros"]["twStatusGODemoOrdering"]["run"] is None
    table = (gen / f"table-{GO}.tex").read_text()
    assert r"\twStatusGODemoOrdering" in table and r"\begin{longtable}" in table
    claims = (gen / f"claims-{CL}.tex").read_text()
    assert r"\twBoundCLDemoRiccatiLower" in claims
    assert "Corrected: prefactor 1/(2n) corrected to 1/n" in claims
    assert "50\\% of runs \\& more" in (gen / f"claims-{GO}.tex").read_text()
    assert "No stored trajectories" in (gen / "body.tex").read_text() and report.figures == 0


def test_figure_from_a_stored_run_and_its_provenance(paper_dir, tmp_path):
    results = tmp_path / "results"
    run = _run(results, IDS[0])
    report = _build(paper_dir, results)
    fig = paper_dir / "generated" / "fig-CLDemoRiccatiLower.png"
    assert report.figures == 1 and fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "fig-CLDemoRiccatiLower.png" in (paper_dir / "generated" / "figures.tex").read_text()
    entry = json.loads((paper_dir / "generated" / "provenance.json").read_text())["figures"][fig.name]
    meta = json.loads((run / "metadata.json").read_text())
    assert entry["claim"] == IDS[0] and entry["config_hash"] == [run.name]
    assert entry["run"] == [str(run)] and entry["git_sha"] == meta["git_sha"]
    figures = (paper_dir / "generated" / "figures.tex").read_text()
    assert "measured (solid) against the bound bound (dashed); the claim requires measured" in figures


def test_experiment_figures_with_captions_and_provenance(paper_dir, tmp_path):
    """The PNGs a ``twostage run`` wrote go into the PDF too, with the report's caption (inline math kept)
    and their run in provenance.json; the cached caption of a claim plot survives a rebuild."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        d: int

    png = b"\x89PNG\r\n\x1a\n" + bytes(16)
    results = tmp_path / "results"
    run = write_run(results, "stage1-blowup", Cfg(4), {"t": np.linspace(0, 1, 5)}, {"seed": 2},
                    extra_files={"blowup.png": png})
    _run(results, IDS[0])
    first = _build(paper_dir, results)
    name = f"exp-stage1-blowup-{run.name[:12]}-blowup.png"
    assert (paper_dir / "generated" / name).read_bytes() == png and first.figures == 2
    figures = (paper_dir / "generated" / "figures.tex").read_text()
    assert r"\textbf{stage1-blowup.} chen-luo-2025 Thm 1" in figures and r"$E(\bar t)$" in figures
    assert f"run stage1-blowup/\\protect\\allowbreak{{}}{run.name}, seed 2" in figures
    prov = json.loads((paper_dir / "generated" / "provenance.json").read_text())["figures"][name]
    assert prov["experiment"] == "stage1-blowup" and prov["config_hash"] == run.name
    again = _build(paper_dir, results)
    assert again.regenerated == [] and (paper_dir / "generated" / "figures.tex").read_text() == figures


def test_only_what_changed_is_regenerated(paper_dir, tmp_path):
    results = tmp_path / "results"
    _run(results, IDS[0])
    _verdicts(results, {IDS[0]: _holds()})
    first = _build(paper_dir, results)
    assert first.unchanged == [] and "fig-CLDemoRiccatiLower.png" in first.regenerated
    gen = paper_dir / "generated"
    stamps = {p.name: p.stat().st_mtime_ns for p in gen.iterdir()}
    again = _build(paper_dir, results)
    assert again.regenerated == [] and sorted(again.unchanged) == sorted(first.regenerated)
    assert {p.name: p.stat().st_mtime_ns for p in gen.iterdir()} == stamps  # nothing rewritten
    _verdicts(results, {IDS[0]: _holds(margin=-0.5)})  # same run, other margin: only the macros change
    assert _build(paper_dir, results).regenerated == ["macros.tex"]
    _verdicts(results, {IDS[0]: {**_holds(margin=-0.5), "at": "2025-02-02T00:00:00"}})  # a new run
    third = _build(paper_dir, results)
    assert sorted(third.regenerated) == ["provenance.json"]  # the figure and the macros stay
    assert r"\ensuremath{-0.5}" in (gen / "macros.tex").read_text()
    shutil.rmtree(results / "demo-exp")  # the run disappears: its figure goes, figures.tex follows
    fourth = _build(paper_dir, results)
    assert fourth.removed == ["fig-CLDemoRiccatiLower.png", "fig-CLDemoRiccatiLower.png.txt"]  # and caption
    assert not (gen / "fig-CLDemoRiccatiLower.png").exists()
    assert {"figures.tex", "body.tex", "provenance.json"} <= set(fourth.regenerated)


def test_claims_with_colliding_keys_are_refused(paper_dir, tmp_path):
    twins = [Claim(f"{GO}/x/a-b", GO, "r", Provenance.DERIVED, Kind.BOUND, "s"),
             Claim(f"{GO}/x/aB", GO, "r", Provenance.DERIVED, Kind.BOUND, "s")]
    with pytest.raises(MacroNameError):
        paper.build(paper_dir, tmp_path / "results", claims=twins, checkers={})


def test_count_pages_reads_compressed_object_streams():
    import zlib

    stream = zlib.compress(b"<< /Type /Page >> << /Type /Page >> << /Type /Pages /Count 2 >>")
    pdf = b"%PDF-1.5\n1 0 obj << /Type /ObjStm >> stream\n" + stream + b"\nendstream endobj"
    assert paper.count_pages(pdf) == 2


# ----------------------------------------------------------------------------- CLI and PDF


def test_cli_paper_without_toolchain_says_how_to_install(paper_dir, tmp_path, monkeypatch, capsys):
    build = paper.build
    monkeypatch.setattr(paper, "build", lambda d, r: build(d, r, claims=DEMO, checkers={}))
    monkeypatch.setattr(paper, "toolchain", lambda: None)
    results = str(tmp_path / "results")
    assert main(["--results", results, "paper", "--dir", str(paper_dir)]) == 0
    assert "regenerated" in capsys.readouterr().out
    assert main(["--results", results, "paper", "--dir", str(paper_dir), "--pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apt-get install" in err and "latexmk" in err
    assert main(["paper", "--dir", str(tmp_path / "nowhere")]) == 2


DEMO_PAGES = 3  # the frame's text, one section per paper (table + claims), the figure


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
def test_demo_companion_compiles_to_the_expected_pages(paper_dir, tmp_path):
    results = tmp_path / "results"
    _run(results, IDS[0])
    _verdicts(results, {IDS[0]: _holds()})
    _build(paper_dir, results)
    pdf = paper.compile_pdf(paper_dir)
    assert paper.pdf_pages(pdf) == DEMO_PAGES
    assert paper.count_pages(pdf.read_bytes()) == DEMO_PAGES  # the fallback agrees with pdfinfo


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
def test_cli_paper_warns_on_text_running_into_the_margin(paper_dir, tmp_path, monkeypatch, capsys):
    build = paper.build
    monkeypatch.setattr(paper, "build", lambda d, r: build(d, r, claims=DEMO, checkers={}))
    results = str(tmp_path / "results")
    assert main(["--results", results, "paper", "--dir", str(paper_dir), "--pdf"]) == 0
    assert "overfull" not in capsys.readouterr().err
    tex = paper_dir / "companion.tex"
    tex.write_text(tex.read_text().replace(r"\end{document}", r"\texttt{" + "x" * 200 + "}\n\\end{document}"))
    assert main(["--results", results, "paper", "--dir", str(paper_dir), "--pdf"]) == 0  # the PDF is usable
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning: 1 overfull box(es)" in err[0] and "Overfull \\hbox" in err[0]


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
@pytest.mark.slow
def test_real_companion_compiles(tmp_path, monkeypatch, capsys):
    d = tmp_path / "paper"
    d.mkdir()
    shutil.copy(ROOT / "paper" / "companion.tex", d / "companion.tex")
    assert main(["--results", str(tmp_path / "results"), "paper", "--dir", str(d), "--pdf"]) == 0, \
        capsys.readouterr().err
    pdf = d / "build" / "companion.pdf"
    assert paper.pdf_pages(pdf) >= 3  # frame + at least one paper's table and claims
    assert paper.overfull_boxes(d / "build" / "companion.log") == []  # nothing runs into the margin
    claims = "".join((d / "generated" / f"claims-{p}.tex").read_text() for p in (CL, GO))
    gong = (d / "generated" / f"claims-{GO}.tex").read_text()
    assert r"\[" not in claims and r"\twdisplay{\twBound" in claims
    statements = [ln for ln in gong.splitlines() if not ln.startswith(("%", "\\", r"\emph{How"))]
    assert statements and not [ln for ln in statements if "textasciicircum" in ln]  # gong math is math


LONG = sp.And(*[sp.Eq(sp.Symbol(f"W_{i}") ** 2 + sum(sp.Symbol(f"V_{i}{j}") ** 2 for j in range(14)), 0)
                for i in range(3)])


@pytest.mark.skipif(not HAS_TEX, reason=NO_TEX)
def test_long_displays_are_broken_per_relation_and_scaled_to_the_page(paper_dir, tmp_path):
    """A conjunction of three relations, each wider than the text block: one line each, each scaled to the
    width; printed with a plain ``\\[...\\]`` (the old display) the log reports overfull boxes."""
    claim = Claim(f"{CL}/demo/long", CL, "eq. (99)", Provenance.PAPER, Kind.IDENTITY, "Three sums vanish.",
                  LONG)
    results = tmp_path / "results"
    _verdicts(results, {c.id: _holds(margin=-1.2345e-12) for c in [*DEMO, claim]})  # the widest margin cell
    paper.build(paper_dir, results, claims=[*DEMO, claim], checkers=CHECKERS)
    macros = (paper_dir / "generated" / "macros.tex").read_text()
    assert macros.count(r"\twand") >= 2 + 2  # the default and display definitions, and two joins
    paper.compile_pdf(paper_dir)
    assert paper.overfull_boxes(paper_dir / "build" / "companion.log") == []
    claims = paper_dir / "generated" / f"claims-{CL}.tex"
    claims.write_text(claims.read_text().replace(r"\twdisplay{\twBoundCLDemoLong}",
                                                 r"{\def\twand{,\qquad}\[\twBoundCLDemoLong\]}"))
    paper.compile_pdf(paper_dir)
    assert paper.overfull_boxes(paper_dir / "build" / "companion.log")
