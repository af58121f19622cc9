"""Bad input everywhere: the CLI answers with one line on stderr, a non-zero exit code, no traceback,
and loses nothing already finished.

Cases needing claims that misbehave (NaN, a crashing checker, an unsound graph, a slow claim to kill)
use the demo claims of ``tests/app/conftest.py`` (fixtures ``demo_inproc`` and ``demo``).
Read-only output is simulated by a path below a regular file (chmod does not stop root).
"""

import json
import signal
import time

import pytest

from twostage.cli import main
from twostage.runs.store import is_complete

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
def test_malformed_input_is_one_line_exit_2(argv, needle, capsys, results_dir, one_line_error):
    rc = main(["--results", str(results_dir)] + argv)
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, needle, cap.out)


def test_unwritable_results_dir_fails_before_any_work(demo_inproc, capsys, tmp_path, one_line_error):
    demo_inproc()  # a sound demo registry: the failure must be the output, not the claims
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for argv in (["--results", str(blocker / "sub"), "verify", "--paper", "chen-luo-2025"],
                 ["--results", str(tmp_path / "r"), "verify", "--paper", "chen-luo-2025", "--json",
                  str(blocker / "v.json")],
                 ["--results", str(tmp_path / "r"), "report", "--out", str(blocker / "report")]):
        rc = main(argv)
        cap = capsys.readouterr()
        one_line_error(rc, cap.err, 2, "cannot write to", cap.out)
        assert "verdicts (profile" not in cap.out  # nothing was run only to be lost
    assert blocker.read_text() == "not a directory" and not (tmp_path / "r" / "verdicts.json").exists()


@pytest.mark.parametrize("command", [["claims"], ["report"]])
def test_corrupt_verdicts_file_is_detected(command, demo_inproc, capsys, results_dir, one_line_error):
    demo_inproc()
    (results_dir / "verdicts.json").write_text('{"claims": {"x": ')
    rc = main(["--results", str(results_dir)] + command)
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "verdicts.json is corrupt", cap.out)
    assert (results_dir / "verdicts.json").read_text() == '{"claims": {"x": '  # left for inspection


# ---------------------------------------------------------------- subprocess, demo claims

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


def test_config_outside_assumptions_names_the_assumption(demo_inproc, results_dir, capsys, one_line_error):
    demo_inproc()
    rc = main(["--results", str(results_dir), "run", "demo-bad-config"])
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "outside assumption chen-luo-2025/demo/ass-pos", cap.out)


CYCLE = "chen-luo-2025/demo/cyc-a -> chen-luo-2025/demo/cyc-b -> chen-luo-2025/demo/cyc-a"


@pytest.mark.parametrize("scenario, needle", [
    ("dangling", "chen-luo-2025/demo/dangling: uses unknown id 'chen-luo-2025/demo/missing'"),
    ("cycle", f"claim graph: cycle: {CYCLE}"),
    ("nochecker", "chen-luo-2025/demo/orphan: claim has no checker"),
])
def test_unsound_claim_graph_is_exit_2(demo_inproc, results_dir, capsys, scenario, needle, one_line_error):
    demo_inproc(scenario)
    for command in (["claims", "--check"], ["report"], ["verify"]):
        rc = main(["--results", str(results_dir)] + command)
        cap = capsys.readouterr()
        if command == ["verify"]:  # verify refuses only a claim it cannot check, before running any
            if scenario == "nochecker":
                one_line_error(rc, cap.err, 2, "'chen-luo-2025/demo/orphan' has no checker", cap.out)
                assert not (results_dir / "verdicts.json").exists()
            continue
        one_line_error(rc, cap.err, 2, needle, cap.out)
    assert not (results_dir / "report" / "index.html").exists()


def test_claims_check_passes_on_sound_demo(demo_inproc, results_dir, capsys):
    demo_inproc()
    assert main(["--results", str(results_dir), "claims", "--check"]) == 0
    assert "claim graph sound: 3 claims, 1 assumptions" in capsys.readouterr().out


@pytest.mark.slow
def test_crashing_checker_loses_only_its_own_verdict(demo, tmp_path, one_line_error):
    log = tmp_path / "log"
    p = demo("verify", "--paper", "chen-luo-2025", "--executor", "process", "--workers", "2",
             scenario="crash", DEMO_LOG=log)
    needle = "chen-luo-2025/demo/crash: error: RuntimeError: demo checker blew up"
    one_line_error(p.returncode, p.stderr, 3, needle, p.stdout)
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
