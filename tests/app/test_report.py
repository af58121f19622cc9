"""Reviewer report: built from stored results only, loud failures, Parquet tables, rendered math, figures,
log axes where runs ask for them, and a headless render that fails on raw TeX or content wider than the
page."""

import dataclasses
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from twostage.publish.graph import GraphError, slug
from twostage.publish.report import build_report, failure_location, replay_command
from twostage.runs.store import write_run
from twostage.runs.suite import CorruptResultsError, save_verdicts
from twostage.runs.tables import read_table_meta
from twostage.theory.claims import Assumption, Claim, Kind, Provenance, Registry
from twostage.verify.verdict import Status, Verdict

P, G = "chen-luo-2025", "gong-2025"
E, t = sp.symbols("E t")


@dataclasses.dataclass(frozen=True)
class DemoCfg:
    E0: float
    eps: float


def demo_registry(extra=()):
    reg = Registry()
    reg.add_assumption(Assumption(f"{P}/ass/E0-pos", P, "Ass. 1", "E(0) > 0", Provenance.PAPER))
    mk = lambda name, kind=Kind.BOUND, **kw: reg.add(Claim(
        id=f"{P}/demo/{name}", paper=P, ref=f"Thm {name}", provenance=Provenance.PAPER, kind=kind,
        statement=f"statement of {name} with $E(t)$", formula=sp.Ge(E, (1 - t) ** -3), **kw))
    mk("riccati", assumptions=(f"{P}/ass/E0-pos",), tolerance="relative slack beyond 1e-9")
    mk("blowup", uses=(f"{P}/demo/riccati",))
    mk("identity", kind=Kind.IDENTITY)
    mk("nan", uses=(f"{P}/demo/riccati",))
    mk("never", kind=Kind.SCALING, uses=(f"{P}/demo/blowup",))
    reg.add(Claim(id=f"{G}/demo/recon", paper=G, ref="§8 item 1", provenance=Provenance.RECONSTRUCTED,
                  kind=Kind.ORDERING, statement="P before Q: $T_P<T_Q$ with $\\frac{1}{2}$ of the seeds.",
                  formula=sp.Lt(sp.Symbol("T_P"), sp.Symbol("T_Q"))))
    reg.add(Claim(id=f"{P}/demo/erratum", paper=P, ref="eq. (5)", provenance=Provenance.ERRATUM,
                  kind=Kind.IDENTITY, statement="Loss at zero is $1$.", formula=sp.Eq(sp.Symbol("L0"), 1),
                  note="prefactor $\\frac{1}{2n}$ corrected to $\\frac1n$"))
    for c in extra:
        reg.add(c)
    return reg


def checkers(reg):
    return {c.id: object() for c in reg.claims()}


@pytest.fixture
def results(results_dir):
    save_verdicts(results_dir, [
        Verdict(f"{P}/demo/riccati", Status.HOLDS, 0.31, 6, {"config": {"E0": 1.0}, "index": 3, "time": 0.2}),
        Verdict(f"{P}/demo/blowup", Status.VIOLATED, -0.05, 6, {"config": {"E0": 2.0}, "shrunk": True}),
        Verdict(f"{P}/demo/identity", Status.HOLDS, 1.0, 1, None),
        Verdict(f"{P}/demo/nan", Status.NUMERICAL_FAILURE, None, 1,
                {"index": 17, "time": 0.25, "reason": "non-finite value"}),
        Verdict(f"{P}/demo/removed-long-ago", Status.HOLDS, 0.1, 1, None),
        Verdict(f"{G}/demo/recon", Status.VIOLATED, -0.4, 8, {"seed": 3}),
    ], "ci", seed=7, device="cpu")
    for e0 in (1.0, 2.0):
        tt = np.linspace(0.0, 0.5, 40)
        write_run(results_dir, "demo-riccati", DemoCfg(e0, 0.1),
                  {"t": tt, "E": e0 * (1 + tt) ** 3, "E_lower": e0 * (1 + tt) ** 2},
                  {"seed": 7, "time_unit": "gradient-flow time",
                   "plots": [{"claim": f"{P}/demo/riccati", "x": "t", "measured": "E", "bound": "E_lower",
                              "sense": ">="}]})
    tt = np.linspace(0.0, 1.0, 10)  # shorthand convention: meta["claim"] + columns measured/bound
    write_run(results_dir, "demo-blowup", DemoCfg(1.0, 0.2),
              {"t": tt, "measured": 1 + tt, "bound": 1 + 1.1 * tt}, {"claim": f"{P}/demo/blowup"})
    return results_dir


def _section(page, claim_id):
    start = page.index(f'<article class="claim" id="{slug(claim_id)}"')
    return page[start:page.index("</article>", start)]


def test_report_shows_every_claim_with_computed_status(results, tmp_path):
    reg = demo_registry()
    index = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg))
    page = index.read_text()
    rows = re.findall(r'<tr data-status="([^"]+)"><td><a href="#(c-[^"]+)">', page)
    assert dict((a, s) for s, a in rows) == {
        slug(f"{P}/demo/blowup"): "violated", slug(f"{P}/demo/identity"): "holds",
        slug(f"{P}/demo/nan"): "numerical-failure", slug(f"{P}/demo/never"): "never run",
        slug(f"{P}/demo/riccati"): "holds", slug(f"{P}/demo/erratum"): "never run",
        slug(f"{G}/demo/recon"): "violated"}
    ric = _section(page, f"{P}/demo/riccati")
    assert "Thm riccati" in ric and "paper" in ric and "relative slack beyond 1e-9" in ric
    assert "twostage verify --claim chen-luo-2025/demo/riccati --seed 7 --profile ci" in ric
    assert "&quot;E0&quot;: 1.0" in ric  # worst case
    assert '<img class="plot" src="plots/chen-luo-2025__demo__riccati.png"' in ric
    nan = _section(page, f"{P}/demo/nan")
    assert "non-finite value at step 17 (time 0.25)" in nan
    never = _section(page, f"{P}/demo/never")
    assert "no worst case recorded" in never and "replay" not in never
    assert "demo/removed-long-ago" in page  # a stale verdict is listed, not silently shown as a claim


def test_graph_marks_claims_resting_on_a_failed_premise(results, tmp_path):
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    never = _section(page, f"{P}/demo/never")
    assert "rests on a claim that is not established" in never  # blowup (violated) is its premise
    assert 'data-id="chen-luo-2025/demo/riccati" data-status="holds"' in never  # focused ancestor view
    assert 'data-id="chen-luo-2025/ass/E0-pos" data-status="assumption"' in never
    assert "rests on a claim" not in _section(page, f"{P}/demo/riccati")


def test_plots_are_pngs_for_trajectory_claims(results, tmp_path):
    reg = demo_registry()
    out = tmp_path / "out"
    build_report(results, out, registry=reg, checkers=checkers(reg))
    pngs = sorted(p.name for p in (out / "plots").iterdir())
    assert pngs == ["chen-luo-2025__demo__blowup.png", "chen-luo-2025__demo__riccati.png"]
    for p in (out / "plots").iterdir():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    img = matplotlib.image.imread(out / "plots" / "chen-luo-2025__demo__riccati.png")
    assert 330 < img.shape[0] < 440 and 600 < img.shape[1] < 760  # 6.4 x 3.6 in, cropped to content
    assert np.unique(img.reshape(-1, img.shape[2]), axis=0).shape[0] > 20


def test_report_writes_parquet_tables_readable_by_pandas(results, tmp_path):
    reg = demo_registry()
    build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg))
    runs = pd.read_parquet(results / "runs.parquet")
    assert sorted(runs["experiment"]) == ["demo-blowup", "demo-riccati", "demo-riccati"]
    assert runs["complete"].all() and sorted(runs["cfg.E0"]) == [1.0, 1.0, 2.0]
    traj = pd.read_parquet(results / "trajectories.parquet")
    assert list(traj.columns) == ["experiment", "config_hash", "series", "step", "time", "observable",
                                  "value"]
    assert len(traj) == 2 * 40 * 2 + 10 * 2 and traj["series"].isna().all()
    assert sorted(traj.groupby("config_hash")["step"].max()) == [9, 39, 39]
    verdicts = pd.read_parquet(results / "verdicts.parquet")  # the verdict store's, untouched by the report
    row = verdicts.set_index("id").loc[f"{P}/demo/blowup"]
    assert row["status"] == "violated" and row["seed"] == 7  # ref: from the registry the store knows
    assert json.loads(row["worst"]) == {"config": {"E0": 2.0}, "shrunk": True}
    for name in ("runs", "trajectories", "verdicts"):
        meta = read_table_meta(results / f"{name}.parquet")
        assert meta["schema_version"] == 1 and meta["table"] == name and meta["git_sha"]


def test_trajectories_batched_over_seeds_keep_their_series(results_dir):
    from twostage.runs.tables import trajectories_frame

    tt = np.repeat([0.0, 0.5, 1.0], 2)  # long over seeds, as numerics writes batched runs
    write_run(results_dir, "batched", DemoCfg(1.0, 0.3),
              {"t": tt, "seed": np.tile([0, 1], 3), "K": np.arange(6.0)}, {"seed": 0})
    traj = trajectories_frame(results_dir).sort_values(["series", "step"])
    assert traj["series"].tolist() == [0, 0, 0, 1, 1, 1] and traj["step"].tolist() == [0, 1, 2, 0, 1, 2]
    assert traj["value"].tolist() == [0.0, 2.0, 4.0, 1.0, 3.0, 5.0] and set(traj["observable"]) == {"K"}
    from twostage.publish.plots import PlotSpec, plot_claim

    run = next((results_dir / "batched").iterdir())
    spec = PlotSpec("gong-2025/x", run, "t", ("K",), None)
    png = plot_claim("gong-2025/x", "K per seed", [spec], results_dir / "k.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert plot_claim("gong-2025/x", "nothing", [PlotSpec("gong-2025/x", run, "t", ("absent",), None)],
                      results_dir / "none.png") is None


def test_incomplete_run_is_listed_but_not_plotted(results, tmp_path):
    d = next((results / "demo-blowup").iterdir())
    (d / "metadata.json").unlink()
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    assert "no stored trajectory illustrates this claim yet" in _section(page, f"{P}/demo/blowup")
    runs = pd.read_parquet(results / "runs.parquet")
    assert runs.set_index("experiment").loc["demo-blowup", "complete"] == False  # noqa: E712


@pytest.mark.parametrize("extra, needle", [
    ([Claim(id=f"{P}/demo/dangling", paper=P, ref="x", provenance=Provenance.PAPER, kind=Kind.BOUND,
            statement="x", uses=(f"{P}/demo/missing",))], "uses unknown id 'chen-luo-2025/demo/missing'"),
    ([Claim(id=f"{P}/demo/c1", paper=P, ref="x", provenance=Provenance.PAPER, kind=Kind.BOUND, statement="x",
            uses=(f"{P}/demo/c2",)),
      Claim(id=f"{P}/demo/c2", paper=P, ref="x", provenance=Provenance.PAPER, kind=Kind.BOUND, statement="x",
            uses=(f"{P}/demo/c1",))], "cycle"),
])
def test_unsound_graph_fails_loudly_and_writes_nothing(results, tmp_path, extra, needle):
    reg = demo_registry(extra)
    with pytest.raises(GraphError, match=needle):
        build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg))
    assert not (tmp_path / "out").exists()


def test_claim_without_checker_fails_loudly(results, tmp_path):
    reg = demo_registry()
    ch = checkers(reg)
    del ch[f"{P}/demo/identity"]
    with pytest.raises(GraphError, match="chen-luo-2025/demo/identity: claim has no checker"):
        build_report(results, tmp_path / "out", registry=reg, checkers=ch)


@pytest.mark.parametrize("content, needle", [
    ("{truncated", "is corrupt"),
    ('{"claims": []}', "is corrupt"),
])
def test_corrupt_verdicts_fail_loudly(results, tmp_path, content, needle):
    """With no ``verdicts.parquet`` to recover from (recovery: tests/app/test_verdict_store.py)."""
    (results / "verdicts.json").write_text(content)
    (results / "verdicts.parquet").unlink(missing_ok=True)
    reg = demo_registry()
    with pytest.raises(CorruptResultsError, match=needle):
        build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg))


def test_invalid_status_is_left_out_with_a_warning(results, tmp_path, capsys):
    """As ``twostage claims`` does (issue 13): the entry is named in one warning and not shown."""
    (results / "verdicts.json").write_text('{"claims": {"chen-luo-2025/demo/riccati": {"status": "fine"}}}')
    reg = demo_registry()
    build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg))
    assert "claim 'chen-luo-2025/demo/riccati' has invalid status 'fine'" in capsys.readouterr().err
    assert '"fine"' not in (tmp_path / "out" / "index.html").read_text()


def test_replay_and_failure_helpers():
    assert replay_command("gong-2025/a", {"seed": 2, "profile": "quick"}) == \
        "twostage verify --claim gong-2025/a --seed 2 --profile quick"
    assert failure_location({"step": 3}) == "non-finite value at step 3"
    assert failure_location(None) == ""


def test_math_is_rendered_as_mathml_not_shown_as_tex(results, tmp_path):
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    ric = _section(page, f"{P}/demo/riccati")
    assert "$E(t)$" not in ric and '<math alttext="E(t)"' in ric  # inline statement math
    assert '<math alttext="E \\geq \\frac{1}{\\left(1 - t\\right)^{3}}" xmlns' in ric  # the formula
    assert 'display="block"' in ric and "<code>E \\geq" not in ric
    err = _section(page, f"{P}/demo/erratum")
    assert "<dt>corrected</dt>" in err and "<mfrac>" in err and "\\frac" not in _visible_text(err)
    assert "\\frac" not in _visible_text(page) and "$" not in _visible_text(page)


def _visible_text(fragment: str) -> str:
    """Text outside tags, MathML and code (what a reader sees as prose)."""
    fragment = re.sub(r"<(math|pre|code|style|title)\b.*?</\1>", " ", fragment, flags=re.S)
    return re.sub(r"<[^>]+>", " ", fragment)


def test_never_run_sensitivity_and_legend(results, tmp_path):
    import json as _json

    data = _json.loads((results / "verdicts.json").read_text())
    data["claims"][f"{P}/demo/blowup"]["sensitivity"] = 0.0213
    (results / "verdicts.json").write_text(_json.dumps(data))
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    never = _section(page, f"{P}/demo/never")
    assert "<dt>last run</dt><dd>never run</dd>" in never
    assert "(profile" not in never and "seed ," not in never
    assert "<dt>sensitivity</dt><dd>not measured</dd>" in never
    assert "<dt>sensitivity</dt><dd>0.021</dd>" in _section(page, f"{P}/demo/blowup")
    rows = dict(re.findall(r'<tr data-status="[^"]+"><td><a href="#(c-[^"]+)">.*?<td class="num">([^<]*)</td>'
                           r'<td class="when">', page))
    assert rows[slug(f"{P}/demo/blowup")] == "0.021" and rows[slug(f"{P}/demo/never")] == "not measured"
    legend = page[page.index('id="how-to-read"'):page.index("</section>", page.index('id="how-to-read"'))]
    assert all(f"<dt>{k}</dt>" in legend for k in ("status", "margin", "examples", "sensitivity"))


def test_sensitivity_from_the_latest_audit(results, tmp_path):
    """``twostage audit`` keeps its latest result per claim in ``results/audit/latest.json``; the report
    shows it (and a flag that is not ``ok``) where the verdict has none, and "not measured" elsewhere."""
    (results / "audit").mkdir()
    (results / "audit" / "latest.json").write_text(json.dumps({"claims": {
        f"{P}/demo/riccati": {"sensitivity": 0.01, "flag": "ok", "mutations": 9},
        f"{P}/demo/identity": {"sensitivity": None, "flag": "formula-blind"}}}))
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    assert "<dt>sensitivity</dt><dd>0.01</dd>" in _section(page, f"{P}/demo/riccati")
    assert "<dt>sensitivity</dt><dd>formula-blind</dd>" in _section(page, f"{P}/demo/identity")
    assert "<dt>sensitivity</dt><dd>not measured</dd>" in _section(page, f"{P}/demo/blowup")
    (results / "audit" / "latest.json").write_text("{not json")  # unreadable: nothing made up
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    assert "<dt>sensitivity</dt><dd>not measured</dd>" in _section(page, f"{P}/demo/riccati")


def test_gong_reads_as_a_reconstruction_never_as_a_finding(results, tmp_path):
    reg = demo_registry()
    page = build_report(results, tmp_path / "out", registry=reg, checkers=checkers(reg)).read_text()
    gong = page[page.index('id="paper-gong-2025"'):]
    first = re.search(r'<p class="paper-note">(.*?)</p>', gong).group(1)
    assert gong.index('class="paper-note"') < gong.index("<h3>Claims</h3>")
    assert "paper&#x27;s body is not available" in first and "RECONSTRUCTED" in first
    assert gong.index('class="paper-note"') < gong.index('class="paper-title"')  # the note first
    recon = _section(page, f"{G}/demo/recon")
    assert '<p class="reading">our reconstruction does not reproduce what the paper reports' in recon
    assert "not about the paper" in recon
    table = gong.split("<h3>Dependency graph</h3>")[0]
    assert '<div class="reading">our reconstruction does not reproduce' in table
    assert 'class="paper-note"' not in page[:page.index('id="paper-gong-2025"')]  # chen-luo has none


def test_experiment_figures_are_shown_with_captions(results, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from twostage.publish.figures import png_bytes
    from twostage.publish.gallery import CAPTIONS

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 2])
    tt = np.linspace(0.0, 1.0, 5)
    run = write_run(results, "stage1-blowup", DemoCfg(1.0, 0.5), {"t": tt, "E": 1 + tt}, {"seed": 4},
                    extra_files={"blowup.png": png_bytes(fig)})
    reg = demo_registry()
    out = tmp_path / "out"
    page = build_report(results, out, registry=reg, checkers=checkers(reg)).read_text()
    chen = page[page.index('id="paper-chen-luo-2025"'):page.index('id="paper-gong-2025"')]
    label = f"stage1-blowup-{run.name[:12]}-blowup.png"
    assert f'<img src="figures/{label}"' in chen and (out / "figures" / label).read_bytes()[:4] == b"\x89PNG"
    assert "<figcaption><strong>stage1-blowup &middot; blowup.png.</strong> chen-luo-2025 Thm 1" in chen
    assert "Riccati lower bound (11)" in CAPTIONS[("stage1-blowup", "blowup.png")]
    cap = chen.split(f'src="figures/{label}"')[1].split("</figure>")[0]
    assert f"run stage1-blowup/{run.name}, seed 4" in cap and "<math" in cap, cap
    assert "No experiment has been run for this paper yet" in page[page.index('id="paper-gong-2025"'):]


@pytest.mark.parametrize("logy, log", [(True, True), (False, False), (None, False)])
def test_plot_axis_is_the_one_the_run_asks_for(results_dir, tmp_path, logy, log):
    """A bound defined only where E > 0 (NaN / non-positive before) drawn against E growing by decades: the
    metadata's ``logy`` decides the axis; non-positive points are left out of a log axis, and said so."""
    from twostage.publish.plots import index_plots, plot_claim
    from twostage.publish.sections import plot_caption

    tt = np.linspace(0.0, 0.9, 60)
    E = (1.0 - tt) ** -3 - 1.5
    spec = {"claim": f"{P}/demo/riccati", "x": "t", "measured": "E", "bound": "E_lower", "sense": ">="}
    if logy is not None:
        spec["logy"] = logy
    traj = {"t": tt, "E": E, "E_lower": np.where(E > 0, E / 2, np.nan)}
    write_run(results_dir, "axis", DemoCfg(1.0, 0.1), traj, {"plots": [spec]})
    info: dict = {}
    specs = index_plots(results_dir)[f"{P}/demo/riccati"]
    png = plot_claim(f"{P}/demo/riccati", "t", specs, tmp_path / "p.png", info=info)
    assert png is not None and info["log"] is log
    text = plot_caption(info)
    assert ("logarithmic axis as the run's metadata asks" in text) is log
    assert ("non-positive points" in text) is log and info["dropped"] == (int((E <= 0).sum()) if log else 0)


def test_time_unit_labels_only_a_time_axis(results_dir, tmp_path):
    """A bound drawn against E (Edot >= 3|E|^{4/3}) has E on the x axis, not "E [tbar]"."""
    from twostage.publish.plots import index_plots, plot_claim

    tt = np.linspace(0.0, 0.5, 30)
    E = 1 + tt
    specs = [{"claim": f"{P}/demo/riccati", "x": x, "measured": "Edot", "bound": "Edot_lower", "sense": ">="}
             for x in ("E", "t")]
    write_run(results_dir, "unit", DemoCfg(1.0, 0.2), {"t": tt, "E": E, "Edot": 3 * E, "Edot_lower": E},
              {"plots": specs, "time_unit": "tbar"})
    labels = []
    for spec in index_plots(results_dir)[f"{P}/demo/riccati"]:
        info: dict = {}
        assert plot_claim(f"{P}/demo/riccati", "t", [spec], tmp_path / "p.png", info=info) is not None
        labels.append(info["xlabel"])
    assert labels == ["E", "t [tbar]"]


def test_claim_graph_fits_the_page_and_has_a_full_size_copy(results, tmp_path):
    reg = demo_registry()
    out = tmp_path / "out"
    page = build_report(results, out, registry=reg, checkers=checkers(reg)).read_text()
    svg = re.search(r'<svg [^>]*aria-label="chen-luo-2025 claim graph"', page).group(0)
    w = re.search(r'data-width="(\d+)"', svg).group(1)
    assert 'width="100%"' in svg and f'viewBox="0 0 {w} ' in svg and f"max-width:{w}px" in svg
    assert 'class="zoom-toggle" id="zoom-chen-luo-2025"' in page
    full = (out / "graph-chen-luo-2025.svg").read_text()
    assert f'width="{w}"' in full and 'href="index.html#c-chen-luo-2025-demo-riccati"' in full



CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const table = document.querySelector('table.claims');
  const svgs = [...document.querySelectorAll('svg.graph')];
  const out = {images: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    rows: document.querySelectorAll('table.claims tbody tr').length,
    tableWidth: table ? table.getBoundingClientRect().width : 0,
    svgs: svgs.length, svgsDrawn: svgs.filter(s => s.getBoundingClientRect().height > 20).length};
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(args, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--allow-file-access-from-files",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(results, tmp_path):
    """The page really renders: its claims table is laid out, every <img> decodes, the graphs draw."""
    reg = demo_registry()
    out = tmp_path / "out"
    index = build_report(results, out, registry=reg, checkers=checkers(reg))
    probe = out / "probe.html"  # the report itself has no script; the probe copy adds a measuring one
    probe.write_text(index.read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout)
    assert found, f"no probe output from chromium: {dom.stderr[-500:]}"
    m = json.loads(found.group(1).replace("&quot;", '"'))
    assert m["rows"] == 7 and m["tableWidth"] > 300
    assert m["images"] == 2 and m["loaded"] == 2  # both trajectory plots decoded
    assert m["svgs"] >= 4 and m["svgsDrawn"] == m["svgs"]
    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", "--window-size=1280,1600", index.as_uri()], tmp_path)
    import matplotlib.image

    img = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    assert img.shape[:2] == (1600, 1280)
    green = np.all(np.abs(img - np.array([0x2E, 0x9D, 0x4F])) <= 3, axis=-1).sum()
    red = np.all(np.abs(img - np.array([0xD6, 0x27, 0x28])) <= 3, axis=-1).sum()
    assert green > 500 and red > 500  # status badges and graph nodes are painted in their colours


RENDER_PROBE = r"""<script>
window.addEventListener('load', () => {
  const vw = document.documentElement.clientWidth;
  const skip = 'math,script,style,pre,code,title';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const t = n.textContent;
    if (/\$|\\[A-Za-z]+|\\[{}|]/.test(t)) raw.push(t.trim().slice(0, 120));
  }
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.graph-wrap,pre,.display,.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1)
      wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  const wideMath = [];
  for (const m of document.querySelectorAll('math')) {
    const box = m.parentElement.getBoundingClientRect();
    const r = m.getBoundingClientRect();
    if (r.width > box.width + 1 || r.right > vw + 1)
      wideMath.push((m.getAttribute('alttext') || '').slice(0, 80) + ' ' + Math.round(r.width) + '>'
                    + Math.round(box.width));
  }
  const svg = document.querySelector('svg.graph');
  const out = {vw: vw, scrollWidth: document.documentElement.scrollWidth,
               maths: document.querySelectorAll('math').length,
               raw: raw, wide: wide.slice(0, 20), wideMath: wideMath,
               graph: svg ? [Math.round(svg.getBoundingClientRect().width), +svg.dataset.width] : null};
  const pre = document.createElement('pre'); pre.id = 'render-probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _render_probe(page: str, out, tmp_path, name: str) -> dict:
    probe = out / name
    probe.write_text(page.replace("</body>", RENDER_PROBE + "</body>"))
    dom = _chromium(["--window-size=1280,1600", "--virtual-time-budget=20000", "--dump-dom", probe.as_uri()],
                    tmp_path)
    found = re.search(r'<pre id="render-probe">(.*?)</pre>', dom.stdout)
    assert found, f"no probe output from chromium: {dom.stderr[-500:]}"
    import html as _html

    return json.loads(_html.unescape(found.group(1)))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_real_report_has_no_raw_tex_and_nothing_wider_than_the_page(results_dir, tmp_path):
    """The report of every registered claim, rendered by Chromium at 1280 px: no ``$`` or TeX command in the
    text outside ``<math>``, no element past the right edge, no formula wider than its box, the claim graph
    within the page (and at its natural width when "actual size" is ticked). The screenshot is written to
    ``$TWOSTAGE_REPORT_SHOTS`` when set, to be looked at."""
    import os

    out = tmp_path / "out"
    index = build_report(results_dir, out)  # the real registry and checkers; nothing verified yet
    page = index.read_text()
    m = _render_probe(page, out, tmp_path, "probe.html")
    assert m["maths"] > 200 and m["raw"] == [] and m["wide"] == [] and m["wideMath"] == [], m
    assert m["scrollWidth"] <= m["vw"] and m["graph"][0] <= m["vw"] < m["graph"][1]
    zoomed_page = page.replace('class="zoom-toggle"', 'class="zoom-toggle" checked', 1)
    zoomed = _render_probe(zoomed_page, out, tmp_path, "zoomed.html")
    assert zoomed["graph"][0] == zoomed["graph"][1]  # actual size: the page pans inside the graph box
    broken = page.replace("<h3>Claims</h3>", r"<h3>Claims</h3><p>raw $\frac{1}{2}$</p>"
                          '<div style="width:3000px">wide</div>', 1)
    caught = _render_probe(broken, out, tmp_path, "broken.html")  # the probe can fail
    assert any("frac" in t for t in caught["raw"]) and caught["wide"] and caught["scrollWidth"] > caught["vw"]
    shot = tmp_path / "report.png"
    _chromium([f"--screenshot={shot}", "--window-size=1280,4000", "--hide-scrollbars", index.as_uri()],
              tmp_path)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    if os.environ.get("TWOSTAGE_REPORT_SHOTS"):
        import shutil as _sh

        _sh.copy(shot, os.environ["TWOSTAGE_REPORT_SHOTS"])
