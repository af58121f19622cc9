"""Bad input everywhere: the CLI answers with one line on stderr, a non-zero exit code, no traceback,
and loses nothing already finished.

Cases needing claims that misbehave (NaN, a crashing checker, an unsound graph, a slow claim to kill)
use a small demo module (``DEMO_SRC``): in-process, its registry is patched in for one test
(monkeypatch); for sweeps across worker processes, it is written to a temporary directory and run as
``python -m twostage_demo`` (the real CLI, its registry replaced in that process and its workers).
Read-only output is simulated by a path below a regular file (chmod does not stop root).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from twostage.cli import main
from twostage.runs.store import is_complete

DEMO_SRC = '''
import os, sys, time
import numpy as np
import sympy as sp
import twostage.theory.claims as _claims
import twostage.verify.checks as _checks
from twostage.numerics.config import require
from twostage.theory.claims import Assumption, Claim, Kind, Provenance, Registry
from twostage.verify.check import Check
from twostage.verify.judge import judge_bound

P = "chen-luo-2025"
E, t = sp.symbols("E t")


def _log(name):
    if os.environ.get("DEMO_LOG"):
        with open(os.environ["DEMO_LOG"], "a") as fh:
            fh.write(name + "\\n")


def judged(name, nan_at=None):
    _log(name)
    tt = np.linspace(0.0, 1.0, 20)
    m = 2.0 + tt
    if nan_at is not None:
        m[nan_at] = np.nan
    return judge_bound(sp.Ge(E, 1 + t), {E: m, t: tt}, tol=1e-9, exact=(t,), times=tt)


def slow(ctx):
    time.sleep(float(os.environ.get("DEMO_SLEEP", "0")))
    return judged("slow")


def crash(ctx):
    _log("crash")
    raise RuntimeError("demo checker blew up")


def bad_config(profile, device, seed, out):
    require(False, f"{P}/demo/ass-pos", "x must be positive, got -1")


def build(scenario):
    """A fresh registry of demo claims and their checkers, for one scenario."""
    reg, checkers = Registry(), {}

    def claim(name, fn=None, **kw):
        c = reg.add(Claim(id=f"{P}/demo/{name}", paper=P, ref=f"Demo {name}", kind=Kind.BOUND,
                          provenance=Provenance.DERIVED, statement=name, formula=sp.Ge(E, t), **kw))
        if fn is not None:  # one fixed "draw": the context itself
            checkers[c.id] = Check(c.id, lambda claim, ctx, _, fn=fn: fn(ctx), lambda ctx: [ctx])

    reg.add_assumption(Assumption(f"{P}/demo/ass-pos", P, "Demo ass.", "x > 0", Provenance.DERIVED))
    claim("base", lambda ctx: judged("base"), assumptions=(f"{P}/demo/ass-pos",))
    claim("nan", lambda ctx: judged("nan", nan_at=5), uses=(f"{P}/demo/base",))
    claim("slow", slow, uses=(f"{P}/demo/base",))
    if scenario == "crash":
        claim("crash", crash, uses=(f"{P}/demo/base",))
    if scenario == "dangling":
        claim("dangling", lambda ctx: judged("dangling"), uses=(f"{P}/demo/missing",))
    if scenario == "cycle":
        claim("cyc-a", lambda ctx: judged("cyc-a"), uses=(f"{P}/demo/cyc-b",))
        claim("cyc-b", lambda ctx: judged("cyc-b"), uses=(f"{P}/demo/cyc-a",))
    if scenario == "nochecker":
        claim("orphan")
    return reg, checkers


if __name__ in ("__main__", "__mp_main__"):
    # this process (and its spawned workers) only: the demo registry replaces the real one, whose
    # modules are not even imported
    _reg, _chk = build(os.environ.get("DEMO_SCENARIO", "ok"))
    _claims.load_all = lambda: _reg
    _checks.load_checkers = lambda: _chk
    from twostage.experiments import experiment
    experiment("demo-bad-config")(bad_config)
if __name__ == "__main__":
    from twostage.cli import main
    raise SystemExit(main(sys.argv[1:]))
'''


def assert_one_line_error(rc, err, code, needle, out=""):
    assert rc == code, f"exit {rc}, expected {code}; stderr: {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"stderr is not one line: {err!r}"
    assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert "Traceback" not in err + out


# ---------------------------------------------------------------- in-process, real registry

@pytest.mark.parametrize("argv, needle", [
    (["verify", "--workers", "0"], "--workers must be a positive integer, got 0"),
    (["verify", "--workers", "two"], "invalid int value: 'two'"),
    (["verify", "--executor", "threads"], "invalid choice: 'threads'"),
    (["verify", "--executor", "process", "--address", "tcp://127.0.0.1:8786"], "only used with --executor"),
    (["verify", "--address", "nonsense"], "--address must look like tcp://host:port"),
    (["verify", "--claim", "gong-2025/definitely/not-a-claim"], "unknown claim"),
    (["verify", "--paper", "gong-2026"], "unknown paper 'gong-2026'"),
    (["latex", "--claim", "chen-luo-2025/nope"], "unknown claim"),
    (["run", "no-such-experiment", "--workers", "2"], "unknown experiment"),
    (["report", "--bogus"], "unrecognized arguments: --bogus"),
    (["claims", "--check", "--paper"], "expected one argument"),
])
def test_malformed_input_is_one_line_exit_2(argv, needle, capsys, results_dir):
    rc = main(["--results", str(results_dir)] + argv)
    cap = capsys.readouterr()
    assert_one_line_error(rc, cap.err, 2, needle, cap.out)


def test_unwritable_results_dir_fails_before_any_work(demo_inproc, capsys, tmp_path):
    demo_inproc()  # a sound demo registry: the failure must be the output, not the claims
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for argv in (["--results", str(blocker / "sub"), "verify", "--paper", "chen-luo-2025"],
                 ["--results", str(tmp_path / "r"), "verify", "--paper", "chen-luo-2025", "--json",
                  str(blocker / "v.json")],
                 ["--results", str(tmp_path / "r"), "report", "--out", str(blocker / "report")]):
        rc = main(argv)
        cap = capsys.readouterr()
        assert_one_line_error(rc, cap.err, 2, "cannot write to", cap.out)
        assert "verdicts (profile" not in cap.out  # nothing was run only to be lost
    assert blocker.read_text() == "not a directory" and not (tmp_path / "r" / "verdicts.json").exists()


@pytest.mark.parametrize("command", [["claims"], ["report"]])
def test_corrupt_verdicts_file_is_detected(command, demo_inproc, capsys, results_dir):
    demo_inproc()
    (results_dir / "verdicts.json").write_text('{"claims": {"x": ')
    rc = main(["--results", str(results_dir)] + command)
    cap = capsys.readouterr()
    assert_one_line_error(rc, cap.err, 2, "verdicts.json is corrupt", cap.out)
    assert (results_dir / "verdicts.json").read_text() == '{"claims": {"x": '  # left for inspection


# ---------------------------------------------------------------- subprocess, demo claims

@pytest.fixture
def demo(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "twostage_demo.py").write_text(DEMO_SRC)
    res = tmp_path / "results"

    def run(*args, scenario="ok", timeout=300, wait=True, **env):
        path = os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")])
        full_env = {**os.environ, "PYTHONPATH": path, "DEMO_SCENARIO": scenario, "COLUMNS": "200",
                    "TWOSTAGE_CODE_VERSION": "robustness-test", "OMP_NUM_THREADS": "1",
                    **{k: str(v) for k, v in env.items()}}
        cmd = [sys.executable, "-m", "twostage_demo", "--results", str(res), *args]
        if not wait:
            return subprocess.Popen(cmd, env=full_env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        return subprocess.run(cmd, env=full_env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=timeout)

    run.results = res
    return run


@pytest.fixture
def demo_inproc(monkeypatch):
    """Install a demo scenario in this process (restored afterwards): ``install(scenario)``."""
    import twostage.runs.suite as vs
    import twostage.theory.claims as tc
    import twostage.verify.checks as vc
    from twostage.experiments import EXPERIMENTS

    monkeypatch.setenv("COLUMNS", "200")  # rich tables wide enough to keep statuses on one line
    ns = {"__name__": "twostage_demo_inproc"}
    exec(compile(DEMO_SRC, "twostage_demo_inproc", "exec"), ns)

    def install(scenario="ok"):
        reg, chk = ns["build"](scenario)
        for mod in (tc, vs):
            monkeypatch.setattr(mod, "load_all", lambda: reg)
        for mod in (vc, vs):
            monkeypatch.setattr(mod, "load_checkers", lambda: chk)
        monkeypatch.setitem(EXPERIMENTS, "demo-bad-config", ns["bad_config"])
        return reg

    return install


def test_nan_in_a_run_is_numerical_failure_with_step(demo_inproc, results_dir, capsys):
    demo_inproc()
    rc = main(["--results", str(results_dir), "verify", "--claim", "chen-luo-2025/demo/nan", "--seed", "4"])
    cap = capsys.readouterr()
    assert rc == 1 and "numerical-failure (non-finite value at step 5" in cap.out and cap.err == ""
    v = json.loads((results_dir / "verdicts.json").read_text())["claims"]["chen-luo-2025/demo/nan"]
    assert v["status"] == "numerical-failure" and v["worst"]["index"] == 5 and v["seed"] == 4
    assert main(["--results", str(results_dir), "report"]) == 0
    page = (results_dir / "report" / "index.html").read_text()
    assert "non-finite value at step 5" in page
    assert "twostage verify --claim chen-luo-2025/demo/nan --seed 4 --profile ci" in page


def test_config_outside_assumptions_names_the_assumption(demo_inproc, results_dir, capsys):
    demo_inproc()
    rc = main(["--results", str(results_dir), "run", "demo-bad-config"])
    cap = capsys.readouterr()
    assert_one_line_error(rc, cap.err, 2, "outside assumption chen-luo-2025/demo/ass-pos", cap.out)


CYCLE = "chen-luo-2025/demo/cyc-a -> chen-luo-2025/demo/cyc-b -> chen-luo-2025/demo/cyc-a"


@pytest.mark.parametrize("scenario, needle", [
    ("dangling", "chen-luo-2025/demo/dangling: uses unknown id 'chen-luo-2025/demo/missing'"),
    ("cycle", f"claim graph: cycle: {CYCLE}"),
    ("nochecker", "chen-luo-2025/demo/orphan: claim has no checker"),
])
def test_unsound_claim_graph_is_exit_2(demo_inproc, results_dir, capsys, scenario, needle):
    demo_inproc(scenario)
    for command in (["claims", "--check"], ["report"], ["verify"]):
        rc = main(["--results", str(results_dir)] + command)
        cap = capsys.readouterr()
        if command == ["verify"]:  # verify refuses only a claim it cannot check, before running any
            if scenario == "nochecker":
                assert_one_line_error(rc, cap.err, 2, "'chen-luo-2025/demo/orphan' has no checker", cap.out)
                assert not (results_dir / "verdicts.json").exists()
            continue
        assert_one_line_error(rc, cap.err, 2, needle, cap.out)
    assert not (results_dir / "report" / "index.html").exists()


def test_claims_check_passes_on_sound_demo(demo_inproc, results_dir, capsys):
    demo_inproc()
    assert main(["--results", str(results_dir), "claims", "--check"]) == 0
    assert "claim graph sound: 3 claims, 1 assumptions" in capsys.readouterr().out


@pytest.mark.slow
def test_crashing_checker_loses_only_its_own_verdict(demo, tmp_path):
    log = tmp_path / "log"
    p = demo("verify", "--paper", "chen-luo-2025", "--executor", "process", "--workers", "2",
             scenario="crash", DEMO_LOG=log)
    needle = "chen-luo-2025/demo/crash: error: RuntimeError: demo checker blew up"
    assert_one_line_error(p.returncode, p.stderr, 3, needle, p.stdout)
    stored = json.loads((demo.results / "verdicts.json").read_text())["claims"]
    assert {k: v["status"] for k, v in stored.items()} == {
        "chen-luo-2025/demo/base": "holds", "chen-luo-2025/demo/nan": "numerical-failure",
        "chen-luo-2025/demo/slow": "holds"}
    log.unlink()
    again = demo("verify", "--paper", "chen-luo-2025", "--workers", "2", scenario="crash", DEMO_LOG=log)
    assert again.returncode == 3 and log.read_text().split() == ["crash"]  # finished claims were not redone


@pytest.mark.slow
def test_killed_verify_resumes_and_redoes_corrupt_results(demo, tmp_path):
    log = tmp_path / "log"
    tasks = demo.results / "verify-tasks"
    proc = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", wait=False, DEMO_SLEEP=120,
                DEMO_LOG=log)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if tasks.is_dir() and sum(is_complete(d) for d in tasks.iterdir()) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sum(is_complete(d) for d in tasks.iterdir()) == 2, "base and nan should be done, slow in flight"
    assert not (demo.results / "verdicts.json").exists()
    log.unlink()
    p = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", DEMO_LOG=log)
    assert p.returncode == 1 and "Traceback" not in p.stderr  # 1: demo/nan is a numerical failure
    assert log.read_text().split() == ["slow"]  # only the claim in flight when killed was rerun
    # a corrupt stored verdict is detected and only that claim is judged again
    base = next(d for d in tasks.iterdir() if '"chen-luo-2025/demo/base"' in (d / "config.json").read_text())
    (base / "verdict.json").write_text('{"status": "holds", "claim_id": "chen-luo-2025/demo/ba')
    log.unlink()
    p = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", DEMO_LOG=log)
    assert p.returncode == 1 and log.read_text().split() == ["base"]
    stored = json.loads((demo.results / "verdicts.json").read_text())["claims"]
    assert stored["chen-luo-2025/demo/base"]["status"] == "holds" and len(stored) == 3
