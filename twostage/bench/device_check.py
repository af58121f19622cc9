"""The Python side of ``scripts/device-check.sh`` (issue 14): one prepared run on a GPU machine.

A GPU is lent to this project now and then for about 15 minutes, so everything the check does is prepared
and exercised on CPU (``DRY_RUN=1``, run by the tests) and runs in one go when a GPU is there. The script
calls this module's subcommands (``python -m twostage.bench.device_check ...``):

* ``env OUT [--dry-run]``: device, torch/CUDA versions, host CPU, missing modules -> ``OUT/env.json``;
* ``step OUT NAME TIMEOUT [--deadline EPOCH] -- CMD ...``: run one step in its own process group, its
  output in ``OUT/logs/NAME.log``, and append ``{name, cmd, rc, seconds, timeout_s, timed_out}`` to
  ``OUT/steps.jsonl``. A step still running at its timeout (or at the script's deadline) is killed with its
  whole process group (rc 124), so one slow step cannot take the time of the others;
* ``bench OUT_JSON --device D --size S``: :func:`twostage.bench.hot_paths.run_bench` (the function behind
  ``twostage bench --no-suite``) with the report rewritten after every row, so a step stopped at its
  timeout keeps the rows it measured; prints the same table as ``twostage bench``;
* ``summary OUT``: ``OUT/summary.json`` and ``OUT/summary.md`` (:mod:`twostage.bench.device_summary`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

STEPS = "steps.jsonl"
TIMEOUT_RC = 124  # what coreutils' timeout returns; the summary reads it as "timed out"
# modules the steps import; a GPU image without one of them (python-flint, say) is reported up front
MODULES = ("torch", "numpy", "scipy", "sympy", "mpmath", "flint", "hypothesis", "pandas", "pyarrow", "rich",
           "matplotlib", "pytest")
GRACE_S = 5.0  # between SIGTERM and SIGKILL of a step's process group
MIN_STEP_S = 3.0  # a step with less time than this left before the deadline is skipped, not started


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(dry_run: bool) -> dict:
    """What ran where: torch and CUDA versions, the GPU (name, memory, capability), the host CPU."""
    import torch

    from twostage.runs.store import git_sha

    info = {"dry_run": dry_run, "started": _now(), "python": platform.python_version(),
            "platform": platform.platform(), "torch": torch.__version__, "cuda_runtime": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "cuda_available": torch.cuda.is_available(), "host_cpu": _cpu_model(),
            "host_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "git_sha": git_sha(),
            "missing_modules": [m for m in MODULES if importlib.util.find_spec(m) is None]}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info |= {"device_name": p.name, "device_count": torch.cuda.device_count(),
                 "device_memory_GiB": round(p.total_memory / 2**30, 1),
                 "compute_capability": f"{p.major}.{p.minor}", "multiprocessors": p.multi_processor_count}
    else:
        info |= {"device_name": "cpu (no CUDA device)", "device_count": 0}
    return info


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_step(out: Path, name: str, timeout: float, cmd: list[str], deadline: float | None = None) -> dict:
    """Run ``cmd`` with its output in ``out/logs/<name>.log``; record and return its outcome.

    The step gets ``min(timeout, deadline - now)`` seconds; with less than ``MIN_STEP_S`` left before the
    deadline it is skipped (``rc`` None). ``rc`` is ``TIMEOUT_RC`` when the step was killed at its limit."""
    out = Path(out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    left = math.inf if deadline is None else deadline - time.time()
    limit = min(float(timeout), left)
    rec = {"name": name, "cmd": cmd, "timeout_s": round(limit, 1), "started": _now()}
    if left < MIN_STEP_S:
        rec |= {"rc": None, "seconds": 0.0, "timed_out": False, "skipped": "no time left before the deadline"}
    else:
        log = out / "logs" / f"{name}.log"
        t0 = time.perf_counter()
        with open(log, "wb") as fh:
            try:
                proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:  # recorded like a shell's "command not found", the other steps still run
                fh.write(f"cannot start {cmd[0]!r}: {exc}\n".encode())
                proc = None
            try:
                rc, timed_out = (127, False) if proc is None else (proc.wait(timeout=limit), False)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                rc, timed_out = TIMEOUT_RC, True
            except BaseException:
                _kill_group(proc)
                raise
        rec |= {"rc": rc, "seconds": round(time.perf_counter() - t0, 2), "timed_out": timed_out,
                "log": str(log.relative_to(out))}
    with open(out / STEPS, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    return rec


def _describe(rec: dict) -> str:
    if rec["rc"] is None:
        return f"skipped ({rec['skipped']})"
    what = "timed out" if rec["timed_out"] else f"rc {rec['rc']}"
    return f"{what} after {rec['seconds']:.1f} s (limit {rec['timeout_s']:.0f} s)"


def bench(path: Path, device: str, size: str) -> dict:
    """The hot-path rows of ``twostage bench`` on ``device``, the JSON rewritten after every row."""
    from rich.console import Console

    from twostage.bench.hot_paths import print_report, run_bench
    from twostage.numerics.device import resolve_device
    from twostage.runs.store import atomic_write_json

    report = run_bench(resolve_device(device), size=size,
                       on_row=lambda rep: atomic_write_json(Path(path), rep | {"complete": False}))
    report["complete"] = True
    atomic_write_json(Path(path), report)
    print_report(report, Console(width=180, highlight=False))
    return report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m twostage.bench.device_check",
                                description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("env", help="write OUT/env.json")
    e.add_argument("out", type=Path)
    e.add_argument("--dry-run", action="store_true")
    s = sub.add_parser("step", help="run one step with a timeout and record it in OUT/steps.jsonl",
                       usage="%(prog)s OUT NAME TIMEOUT [--deadline EPOCH] -- CMD [ARG ...]")
    s.add_argument("out", type=Path)
    s.add_argument("name")
    s.add_argument("timeout", type=float)
    s.add_argument("--deadline", type=float, help="epoch seconds by which every step must have ended")
    b = sub.add_parser("bench", help="hot-path rows, JSON rewritten after every row")
    b.add_argument("json", type=Path)
    b.add_argument("--device", default="cpu")
    b.add_argument("--size", default="small")
    m = sub.add_parser("summary", help="write OUT/summary.json and OUT/summary.md")
    m.add_argument("out", type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = []
    if "--" in argv:  # everything after the first -- is the step's command, options included
        k = argv.index("--")
        argv, cmd = argv[:k], argv[k + 1:]
    args = _parser().parse_args(argv)
    if args.cmd == "env":
        from twostage.runs.store import atomic_write_json

        info = environment(args.dry_run)
        atomic_write_json(args.out / "env.json", info)
        missing = info["missing_modules"]
        print(f"[device-check] {info['device_name']}, torch {info['torch']}, CUDA {info['cuda_runtime']}, "
              f"host {info['host_cpu']} ({info['host_cores']} cores)"
              + (f"; MISSING modules: {', '.join(missing)}" if missing else ""))
        return 0
    if args.cmd == "step":
        if not cmd:
            print("device_check step: no command given", file=sys.stderr)
            return 2
        rec = run_step(args.out, args.name, args.timeout, cmd, args.deadline)
        print(f"[device-check] {args.name}: {_describe(rec)}", flush=True)
        if rec["rc"] not in (0, None):  # show the end of the log where it went wrong
            lines = (args.out / rec["log"]).read_text(errors="replace").splitlines()[-8:]
            if lines:
                print("\n".join("    " + ln for ln in lines), flush=True)
        return 0  # a failed step is recorded, not fatal: the other steps still run
    if args.cmd == "bench":
        bench(args.json, args.device, args.size)
        return 0
    from twostage.bench.device_summary import write_summary

    summary = write_summary(args.out)
    print(f"[device-check] summary: {args.out / 'summary.md'} ({len(summary['steps'])} steps, "
          f"{summary['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
