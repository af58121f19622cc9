"""scripts/device-check.sh and its Python side (issue 14): steps under timeouts, the summary, the CPU dry run.

The GPU run cannot happen in CI, so everything it does is exercised here: the step runner (timeouts kill the
whole process group; a deadline skips what no longer fits), the summary of partial results (a verify stopped
part-way, a bench report written row by row), and ``DRY_RUN=1 scripts/device-check.sh`` end to end.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from twostage.bench import device_check as dc
from twostage.bench import device_summary as ds
from twostage.layout import ROOT

PY = sys.executable


def test_run_step_records_success_failure_and_a_missing_command(tmp_path):
    ok = dc.run_step(tmp_path, "ok", 60, [PY, "-c", "print('hello')"])
    bad = dc.run_step(tmp_path, "bad", 60, [PY, "-c", "import sys; sys.exit(3)"])
    gone = dc.run_step(tmp_path, "gone", 60, ["/nonexistent/tool"])
    assert (ok["rc"], bad["rc"], gone["rc"]) == (0, 3, 127)
    assert (tmp_path / ok["log"]).read_text().strip() == "hello"
    assert [s["status"] for s in ds.load_steps(tmp_path)] == ["ok", "exit 3", "exit 127"]


def test_timeout_kills_the_whole_process_group(tmp_path):
    """The step's child spawns a grandchild (as ``verify --workers`` does): both are gone at the timeout."""
    pidfile = tmp_path / "grandchild.pid"
    sleeper = [PY, "-c", "import time; time.sleep(600)"]
    script = (f"import subprocess, time; p = subprocess.Popen({sleeper!r}); "
              f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(600)")
    t0 = time.perf_counter()
    rec = dc.run_step(tmp_path, "slow", 4, [PY, "-c", script])
    assert rec["timed_out"] and rec["rc"] == dc.TIMEOUT_RC
    assert time.perf_counter() - t0 < 4 + dc.GRACE_S + 10
    pid = int(pidfile.read_text())
    for _ in range(50):  # the grandchild may take a moment to be reaped by init
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"grandchild {pid} survived the step's timeout")
    assert ds.load_steps(tmp_path)[0]["status"] == "timeout"


def test_deadline_shortens_and_skips_steps(tmp_path):
    rec = dc.run_step(tmp_path, "late", 60, [PY, "-c", "pass"], deadline=time.time() + 1)
    assert rec["rc"] is None and "deadline" in rec["skipped"]
    rec = dc.run_step(tmp_path, "short", 600, [PY, "-c", "pass"], deadline=time.time() + 30)
    assert rec["rc"] == 0 and rec["timeout_s"] <= 30
    assert [s["status"] for s in ds.load_steps(tmp_path)] == ["skipped", "ok"]


def _verdict(tmp_path, key, claim_id, status, profile="full", device="cuda"):
    d = tmp_path / "results" / "verify-tasks" / key
    d.mkdir(parents=True)
    (d / "verdict.json").write_text(json.dumps({"claim_id": claim_id, "status": status, "margin": 0.5,
                                                "seconds": 1.0, "profile": profile, "device": device}))


def test_verify_summary_keeps_the_claims_finished_before_a_timeout(tmp_path):
    _verdict(tmp_path, "a", "chen-luo-2025/thm1/edot-lower", "holds")
    _verdict(tmp_path, "b", "chen-luo-2025/thm1/tstar-upper", "undecided")
    _verdict(tmp_path, "c", "gong-2025/setting/gd-updates", "holds")
    step = {"name": "verify-chen-luo-2025", "seconds": 40.0, "status": "timeout"}
    v = ds.verify_results(tmp_path, "chen-luo-2025", step)
    assert not v["finished"] and v["judged"] == 2 and v["by_status"] == {"holds": 1, "undecided": 1}
    assert (v["profile"], v["device"], v["step_status"]) == ("full", "cuda", "timeout")
    assert v["claims"] is not None and v["claims"] > 2  # the paper's claim count, from the registry
    # a finished command's --json wins over the per-claim store
    payload = {"paper": "gong-2025", "profile": "full", "device": "cuda",
               "claims": [{"id": "gong-2025/x", "status": "violated", "margin": -1.0, "seconds": 2.0}]}
    (tmp_path / "verify-gong-2025.json").write_text(json.dumps(payload))
    g = ds.verify_results(tmp_path, "gong-2025", None)
    assert g["finished"] and g["judged"] == 1 and g["by_status"] == {"violated": 1}


def _bench(path, device, thr, complete=True):
    rows = {n: {"B": 4, "d": 2, "unit": "model-steps/s", "throughput": t, "naive_over_batched": 2.0,
                "time_over_flop_roofline": 3.0, "time_over_roofline": 1.5} for n, t in thr.items()}
    path.write_text(json.dumps({"device": device, "device_name": device.upper(), "size": "full", "torch": "x",
                                "threads": 1, "complete": complete, "hot_paths": rows,
                                "ceilings": {"copy_bandwidth_GBps": 1.0, "matmul_GFLOPs": 2.0}}))


def test_bench_rows_pair_device_and_host_and_flag_a_partial_report(tmp_path):
    _bench(tmp_path / "bench-device.json", "cuda", {"gong_training": 50.0, "effective_rhs": 100.0})
    _bench(tmp_path / "bench-host.json", "cpu", {"effective_rhs": 10.0}, complete=False)
    b = ds.bench_rows(tmp_path)
    assert [r["hot_path"] for r in b["rows"]] == ["effective_rhs", "gong_training"]  # the bench's order
    assert b["rows"][0]["device_over_host"] == pytest.approx(10.0)
    assert b["rows"][1]["host"] is None and b["rows"][1]["device_over_host"] is None
    md = ds.markdown(ds.summarize(tmp_path))
    assert "INCOMPLETE" in md and "| effective_rhs | 4x2 | 100 | 10.0 model-steps/s | 10.0 |" in md


def test_fusion_summary_gives_speedups_over_eager_and_flags_a_partial_report(tmp_path):
    rep = {"device_name": "GPU", "complete": False, "compile": True, "flow": None,
           "grad": {"sizes": [256, 1], "compile_seconds": {"eager": 0.1, "compiled_fused": 30.0},
                    "seconds": {"eager": [2e-3, 1e-3], "compiled_fused": [1e-3, 4e-3]}}}
    (tmp_path / "fusion.json").write_text(json.dumps(rep))
    fu = ds.fusion_results(tmp_path)
    assert fu["grad_speedup"] == {"eager": [1.0, 1.0], "compiled_fused": [2.0, 0.25]}
    assert fu["flow_speedup"] == {}
    md = ds.markdown(ds.summarize(tmp_path))
    assert "- gradient compiled_fused: B=256 2.00x, B=1 0.250x" in md and "INCOMPLETE" in md


def test_agreement_junit_counts(tmp_path):
    (tmp_path / "agreement.xml").write_text(
        '<testsuites><testsuite><testcase name="a" time="1.0"/>'
        '<testcase name="b" time="0.5"><failure message="boom&#10;more">trace</failure></testcase>'
        '<testcase name="c" time="0"><skipped message="CUDA not available"/></testcase>'
        '</testsuite></testsuites>')
    a = ds.agreement(tmp_path / "agreement.xml")
    assert (a["passed"], a["failed"], a["skipped"], a["error"]) == (1, 1, 1, 0)
    assert a["tests"][1]["message"] == "boom"
    md = ds.markdown(ds.summarize(tmp_path))
    assert "- failed: `b` boom" in md and "- skipped: `c` CUDA not available" in md


def test_summary_of_an_empty_directory_says_what_is_missing(tmp_path):
    s = ds.write_summary(tmp_path)
    assert s["steps"] == [] and s["agreement"] is None and s["bench"] is None and s["anchor"] is None
    md = (tmp_path / "summary.md").read_text()
    assert "no results" in md and "no run written" in md
    assert json.loads((tmp_path / "summary.json").read_text())["verify"]["gong-2025"]["judged"] == 0


def test_script_refuses_to_run_without_cuda_unless_dry_run(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is present: the script would run for real")
    res = subprocess.run(["bash", str(ROOT / "scripts" / "device-check.sh"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": PY})
    assert res.returncode == 2 and "DRY_RUN=1" in res.stderr


@pytest.mark.slow
def test_dry_run_end_to_end(tmp_path):
    """``DRY_RUN=1 scripts/device-check.sh OUT``: every step at tiny sizes on the CPU, the same summaries."""
    out = tmp_path / "dc"
    env = {**os.environ, "DRY_RUN": "1", "PYTHON": PY, "OMP_NUM_THREADS": "1", "T_VERIFY_CHEN": "12",
           "T_VERIFY_GONG": "12"}
    t0 = time.perf_counter()
    res = subprocess.run(["bash", str(ROOT / "scripts" / "device-check.sh"), str(out)], capture_output=True,
                         text=True, timeout=900, env=env)
    wall = time.perf_counter() - t0
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    names = [st["name"] for st in s["steps"]]
    assert names == ["agreement", "bench-device", "anchor", "verify-chen-luo-2025", "verify-gong-2025",
                     "bench-host", "fusion"]
    st = {x["name"]: x["status"] for x in s["steps"]}
    assert all(st[n] == "ok" for n in ("agreement", "bench-device", "anchor", "bench-host", "fusion")), st
    assert st["verify-chen-luo-2025"] in ("ok", "exit 1", "timeout")  # finished (any verdicts) or cut short
    assert s["environment"]["dry_run"] and s["environment"]["device_name"].startswith("cpu")
    a = s["agreement"]
    assert a["failed"] == a["error"] == a["skipped"] == 0 and a["passed"] >= 10
    assert s["bench"]["sides"]["device"]["complete"] and s["bench"]["sides"]["host"]["complete"]
    assert len(s["bench"]["rows"]) == 5 and all(r["device_over_host"] > 0 for r in s["bench"]["rows"])
    an = s["anchor"]
    assert an["steps_done"] == 5 and an["stopped_by"] == "step cap" and "training.png" in an["figures"]
    for paper in ("chen-luo-2025", "gong-2025"):
        assert s["verify"][paper]["claims"] > 0 and s["verify"][paper]["step_status"] is not None
    fu = s["fusion"]
    assert fu["complete"] and fu["compile"] is False and list(fu["grad_speedup"]) == ["eager"]
    assert sorted(fu["flow_speedup"]) == ["bucketed_4", "eager"] and fu["flow_speedup"]["eager"] == 1
    md = (out / "summary.md").read_text()
    assert md.startswith("# Device check (DRY RUN") and "## anchor-function" in md and "bucketed_4" in md
    print(f"dry run: {wall:.0f} s wall")
