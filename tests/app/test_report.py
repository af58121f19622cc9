"""Reviewer report: built from stored results only, loud failures, Parquet tables, headless render."""

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

P = "chen-luo-2025"
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
        slug(f"{P}/demo/riccati"): "holds"}
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
    assert img.shape[:2] == (360, 640) and np.unique(img.reshape(-1, img.shape[2]), axis=0).shape[0] > 20


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
    verdicts = pd.read_parquet(results / "verdicts.parquet")
    row = verdicts.set_index("id").loc[f"{P}/demo/blowup"]
    assert row["status"] == "violated" and row["ref"] == "Thm blowup" and row["seed"] == 7
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
    assert m["rows"] == 5 and m["tableWidth"] > 300
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
