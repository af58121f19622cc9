"""``summary.json`` and ``summary.md`` of one ``scripts/device-check.sh`` run (issue 14).

Reads what the steps left under ``OUT`` -- ``env.json``, ``steps.jsonl``, the agreement tests' JUnit XML,
the two bench reports (device and host CPU, same sizes, same run), the verify verdicts (the ``--json`` file
when the command finished, else the per-claim verdicts the resumable sweep stored before it was stopped)
the fusion bench (``fusion.json``, :mod:`twostage.bench.fusion`)
and the anchor-function run -- and writes one summary: device name, torch/CUDA versions, wall times,
throughputs, device/host ratios and verdicts. Missing pieces are reported as missing, never invented.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

PAPERS = ("chen-luo-2025", "gong-2025")
BENCH = {"device": "bench-device.json", "host": "bench-host.json"}
AGREEMENT = "agreement.xml"
FUSION = "fusion.json"


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def load_steps(out: Path) -> list[dict]:
    """The recorded steps in run order, each with a ``status``: ok | exit N | timeout | skipped."""
    steps = []
    try:
        lines = (Path(out) / "steps.jsonl").read_text().splitlines()
    except OSError:
        return steps
    for line in lines:
        if not line.strip():
            continue
        rec = json.loads(line)
        rec["status"] = ("skipped" if rec.get("rc") is None else "timeout" if rec.get("timed_out")
                         else "ok" if rec["rc"] == 0 else f"exit {rec['rc']}")
        steps.append(rec)
    return steps


def agreement(path: Path) -> dict | None:
    """Counts and per-test outcomes of the CUDA-vs-CPU agreement tests (pytest's JUnit XML)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    tests = []
    for case in root.iter("testcase"):
        outcome, message = "passed", ""
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            el = case.find(tag)
            if el is not None:
                outcome, message = name, ((el.get("message") or "").splitlines() or [""])[0][:200]
                break
        tests.append({"name": case.get("name"), "outcome": outcome, "seconds": float(case.get("time", 0.0)),
                      "message": message})
    counts = {k: sum(t["outcome"] == k for t in tests) for k in ("passed", "failed", "error", "skipped")}
    return counts | {"tests": tests}


def _ratio(a, b):
    return a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None


def bench_rows(out: Path) -> dict | None:
    """Device and host reports side by side: per hot path the throughputs, ``device_over_host`` (throughput
    ratio, measured in the same run) and each side's ratios to its own ceilings."""
    reps = {k: _read_json(Path(out) / f) for k, f in BENCH.items()}
    if not any(reps.values()):
        return None
    sides = {k: None if r is None else {
        "device_name": r["device_name"], "device": r["device"], "size": r["size"], "torch": r["torch"],
        "threads": r["threads"], "complete": r.get("complete", False), "ceilings": r["ceilings"]}
        for k, r in reps.items()}
    from twostage.bench.hot_paths import LABELS

    order = {n: i for i, n in enumerate(LABELS)}  # the bench's row order (the JSON's keys are sorted)
    names = sorted({n for r in reps.values() if r for n in r["hot_paths"]},
                   key=lambda n: (order.get(n, len(order)), n))
    rows = []
    for n in names:
        dv, hs = ((reps[k] or {}).get("hot_paths", {}).get(n) for k in ("device", "host"))
        ref = dv or hs
        row = {"hot_path": n, "size": f"{ref['B']}x{ref['d']}", "unit": ref["unit"]}
        for side, r in (("device", dv), ("host", hs)):
            row[side] = None if r is None else {k: r.get(k) for k in (
                "throughput", "naive_over_batched", "time_over_flop_roofline", "time_over_roofline")}
        row["device_over_host"] = _ratio(dv and dv["throughput"], hs and hs["throughput"])
        rows.append(row)
    return {"sides": sides, "rows": rows}


def _claim_total(paper: str) -> int | None:
    try:
        from twostage.theory.claims import load_all

        return len(load_all().claims(paper))
    except Exception:  # noqa: BLE001 - the summary reports what it can
        return None


def verify_results(out: Path, paper: str, step: dict | None) -> dict:
    """Verdicts of ``verify --paper``: the ``--json`` payload if the command finished, else the claims the
    resumable sweep finished before the step was stopped (``results/verify-tasks/*/verdict.json``)."""
    payload = _read_json(Path(out) / f"verify-{paper}.json")
    if payload is not None:
        verdicts = [{"id": c["id"], "status": c["status"], "margin": c["margin"], "seconds": c["seconds"]}
                    for c in payload["claims"]]
        source, profile, device = "verify --json", payload["profile"], payload["device"]
    else:
        verdicts, profile, device = [], None, None
        for f in sorted((Path(out) / "results" / "verify-tasks").glob("*/verdict.json")):
            v = _read_json(f)
            if v and str(v.get("claim_id", "")).startswith(paper + "/"):
                verdicts.append({"id": v["claim_id"], "status": v["status"], "margin": v.get("margin"),
                                 "seconds": v.get("seconds")})
                profile, device = v.get("profile"), v.get("device")
        source = "per-claim verdicts stored before the step ended"
    by = {}
    for v in verdicts:
        by[v["status"]] = by.get(v["status"], 0) + 1
    return {"finished": payload is not None, "source": source, "profile": profile, "device": device,
            "judged": len(verdicts), "claims": _claim_total(paper), "by_status": by,
            "seconds": None if step is None else step.get("seconds"),
            "step_status": None if step is None else step["status"], "verdicts": verdicts}


def anchor_results(out: Path) -> dict | None:
    """The anchor-function run's summary: steps done of planned, throughput, loss, boundaries, figures."""
    runs = sorted((Path(out) / "results" / "anchor-function").glob("*/summary.json"),
                  key=lambda p: p.stat().st_mtime)
    if not runs:
        return None
    s = _read_json(runs[-1]) or {}
    cfg, cap = s.get("config", {}), s.get("cap") or {}
    tokens = cfg.get("train", {}).get("batch", 0) * cfg.get("model", {}).get("seq_len", 0)
    sps = cap.get("steps_per_second")
    probe = s.get("probe") or {}
    return {"dir": str(runs[-1].parent.relative_to(out)), "profile": cfg.get("profile"),
            "d_model": cfg.get("model", {}).get("d_model"), "steps_done": cap.get("steps_done"),
            "planned_steps": cap.get("planned_steps"), "stopped_by": cap.get("stopped_by"),
            "train_seconds": cap.get("train_seconds"), "steps_per_second": sps,
            "tokens_per_second": None if sps is None else sps * tokens, "final_loss": s.get("final_loss"),
            "final_test_acc": s.get("final_test_acc"), "boundaries": s.get("boundaries"),
            "probe": {k: probe.get(k) for k in ("rate_measured", "rate_predicted", "sigma1",
                                                "alignment_final", "checkpoint_step")} if probe else None,
            "figures": sorted(p.name for p in runs[-1].parent.glob("*.png"))}


def fusion_results(out: Path) -> dict | None:
    """The fusion bench's speed-ups over the eager gradient (per batch size) and flow (per variant)."""
    r = _read_json(Path(out) / FUSION)
    if r is None:
        return None
    g, f = r.get("grad") or {}, r.get("flow") or {}
    base = (g.get("seconds") or {}).get("eager")
    eager_first = lambda d: sorted((d or {}).items(), key=lambda kv: kv[0] != "eager")  # JSON keys are sorted
    grad = {k: [_ratio(b, t) for b, t in zip(base, ts)] for k, ts in eager_first(g.get("seconds"))
            } if base else {}
    return {"device_name": r.get("device_name"), "complete": r.get("complete", False),
            "compile": r.get("compile"), "sizes": g.get("sizes"), "grad_speedup": grad,
            "compile_seconds": g.get("compile_seconds"),
            "flow_speedup": {k: v.get("speedup") for k, v in eager_first(f.get("variants"))}}


def summarize(out: Path) -> dict:
    out = Path(out)
    steps = load_steps(out)
    by_name = {s["name"]: s for s in steps}
    return {"environment": _read_json(out / "env.json") or {}, "steps": steps,
            "total_seconds": sum(s.get("seconds") or 0.0 for s in steps),
            "agreement": agreement(out / AGREEMENT), "bench": bench_rows(out),
            "verify": {p: verify_results(out, p, by_name.get(f"verify-{p}")) for p in PAPERS},
            "anchor": anchor_results(out), "fusion": fusion_results(out)}


def _f(x, digits: int = 3) -> str:
    """Three significant digits; '-' for a missing or non-finite value."""
    if not isinstance(x, int | float) or isinstance(x, bool) or not math.isfinite(x):
        return "-"
    if x == 0 or 1e-2 <= abs(x) < 1e5:
        return f"{x:.{max(0, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0}f}"
    return f"{x:.{digits - 1}e}"


def markdown(s: dict) -> str:
    env = s["environment"]
    md = [f"# Device check{' (DRY RUN on CPU: numbers are meaningless)' if env.get('dry_run') else ''}", "",
          f"- device: **{env.get('device_name', '?')}**"
          + (f" ({env['device_memory_GiB']} GiB, compute capability {env['compute_capability']})"
             if "device_memory_GiB" in env else ""),
          f"- torch {env.get('torch')}, CUDA runtime {env.get('cuda_runtime')}, cuDNN {env.get('cudnn')}, "
          f"Python {env.get('python')}",
          f"- host: {env.get('host_cpu')} ({env.get('host_cores')} cores, {env.get('torch_threads')} torch "
          f"threads); git {env.get('git_sha')}; started {env.get('started')}"]
    if env.get("missing_modules"):
        md.append(f"- **missing modules: {', '.join(env['missing_modules'])}**")
    md += ["", f"## Steps ({_f(s['total_seconds'])} s in all)", "", "| step | status | wall s | limit s |",
           "|---|---|---|---|"]
    md += [f"| {st['name']} | {st['status']} | {_f(st.get('seconds'))} | {_f(st.get('timeout_s'))} |"
           for st in s["steps"]]
    a = s["agreement"]
    md += ["", "## CUDA-vs-CPU agreement tests", ""]
    if a is None:
        md.append("no results (the step did not write its JUnit XML)")
    else:
        md.append(", ".join(f"{v} {k}" for k, v in a.items() if k != "tests"))
        md += [f"- {t['outcome']}: `{t['name']}` {t['message']}"
               for t in a["tests"] if t["outcome"] != "passed"]
    md += ["", "## Bench (float64; throughput ratio device/host measured in the same run)", ""]
    b = s["bench"]
    if b is None:
        md.append("no results")
    else:
        for side, r in b["sides"].items():
            if r is None:
                md.append(f"- {side}: no report")
                continue
            c = r["ceilings"]
            md.append(f"- {side}: {r['device_name']} ({r['size']}, {r['threads']} threads"
                      f"{'' if r['complete'] else ', INCOMPLETE: stopped part-way'}): copy "
                      f"{_f(c['copy_bandwidth_GBps'])} GB/s, matmul {_f(c['matmul_GFLOPs'])} GFLOP/s")
        md += ["", "| hot path | B x d | device | host | device/host | device t/roofline | host t/roofline |",
               "|---|---|---|---|---|---|---|"]
        for r in b["rows"]:
            dv, hs = r["device"] or {}, r["host"] or {}
            md.append(f"| {r['hot_path']} | {r['size']} | {_f(dv.get('throughput'))} | "
                      f"{_f(hs.get('throughput'))} {r['unit']} | {_f(r['device_over_host'])} | "
                      f"{_f(dv.get('time_over_roofline'))} | {_f(hs.get('time_over_roofline'))} |")
    md += ["", "## Fusion (speed-up over the eager full-model gradient, same run)", ""]
    fu = s.get("fusion")
    if fu is None:
        md.append("no results")
    else:
        md.append(f"- {fu['device_name']}, compile {fu['compile']}"
                  f"{'' if fu['complete'] else ', INCOMPLETE: stopped part-way'}; compile s "
                  + ", ".join(f"{k} {_f(v)}" for k, v in (fu["compile_seconds"] or {}).items()))
        md += [f"- gradient {k}: " + ", ".join(f"B={b} {_f(x)}x" for b, x in zip(fu["sizes"], v))
               for k, v in fu["grad_speedup"].items()]
        md.append("- flow: " + (", ".join(f"{k} {_f(v)}x" for k, v in fu["flow_speedup"].items()) or "-"))
    md += ["", "## Verify", ""]
    for paper, v in s["verify"].items():
        total = "?" if v["claims"] is None else v["claims"]
        counts = ", ".join(f"{n} {k}" for k, n in sorted(v["by_status"].items())) or "none"
        md.append(f"- {paper} (profile {v['profile']}, device {v['device']}): {v['judged']}/{total} claims "
                  f"judged in {_f(v['seconds'])} s ({'finished' if v['finished'] else v['step_status']}): "
                  f"{counts}")
    md += ["", "## anchor-function", ""]
    an = s["anchor"]
    if an is None:
        md.append("no run written")
    else:
        md += [f"- {an['dir']}: profile {an['profile']}, d_model {an['d_model']}, {an['steps_done']} of "
               f"{an['planned_steps']} steps ({an['stopped_by'] or 'complete'}) in "
               f"{_f(an['train_seconds'])} s: "
               f"{_f(an['steps_per_second'])} steps/s, {_f(an['tokens_per_second'])} tokens/s",
               f"- loss {_f(an['final_loss'])}, test accuracy {_f(an['final_test_acc'])}, boundaries "
               f"{an['boundaries']}",
               f"- probe: {an['probe']}", f"- figures: {', '.join(an['figures']) or 'none'}"]
    return "\n".join(md) + "\n"


def write_summary(out: Path) -> dict:
    from twostage.runs.store import atomic_write_bytes, atomic_write_json

    s = summarize(out)
    atomic_write_json(Path(out) / "summary.json", s)
    atomic_write_bytes(Path(out) / "summary.md", markdown(s).encode())
    return s
