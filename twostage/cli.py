"""The ``twostage`` command line (stable contract, see DESIGN.md "CLI").

Exit codes: 0 nothing violated; 1 a claim violated (or failed numerically); 2 bad input (unknown
paper/claim/experiment, invalid option or config), always with a one-line message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twostage import PAPERS
from twostage.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VIOLATED,
    UsageError,
    exit_code,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage otherwise)
        raise UsageError(message)


def _paper(value: str) -> str:
    if value not in PAPERS:
        raise argparse.ArgumentTypeError(f"unknown paper {value!r} (known: {', '.join(PAPERS)})")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="twostage", description="Theorem companion for chen-luo-2025 and gong-2025.")
    p.add_argument("--results", default="results", help="results directory (default: ./results)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("claims", help="list claims: id, ref, provenance, kind, last status")
    c.add_argument("--paper", type=_paper)
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("--check", action="store_true",
                   help="check the claim graph (dangling uses/assumptions, cycles, claims without checker)")

    lx = sub.add_parser("latex", help="LaTeX of statements and bounds")
    lx.add_argument("--paper", type=_paper)
    lx.add_argument("--claim")
    lx.add_argument("--out", help="write to this file instead of stdout")

    v = sub.add_parser("verify", help="check claims against the numerics and print verdicts")
    v.add_argument("--paper", type=_paper)
    v.add_argument("--claim")
    v.add_argument("--profile", default="ci")
    v.add_argument("--device", default="cpu")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", dest="json_out", help="write the verdicts as JSON to this file")
    _executor_options(v, "claims as tasks of a resumable sweep (default: sequential, in this process)")

    r = sub.add_parser("run", help="run one experiment: trajectories + figures")
    r.add_argument("experiment")
    r.add_argument("--profile", default="ci")
    r.add_argument("--device", default="cpu")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", help="output directory (default: <results>/<experiment>)")
    _executor_options(r, "executor for the experiment's sweeps (default: process pool)")

    rp = sub.add_parser("report", help="static HTML report from stored results")
    rp.add_argument("--out", help="output directory (default: <results>/report)")

    pp = sub.add_parser("paper", help="regenerate paper/generated/; compile when LaTeX is present")
    pp.add_argument("--pdf", action="store_true", help="also compile paper/companion.tex (needs latexmk)")
    pp.add_argument("--dir", default="paper", help="paper directory holding companion.tex (default: ./paper)")

    a = sub.add_parser("audit", help="mutate each claim's formula, report what its checker catches")
    a.add_argument("--paper", type=_paper)
    a.add_argument("--claim")
    a.add_argument("--quick", action="store_true", help="two deltas and the first few constants per formula")
    a.add_argument("--profile", default="ci")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--json", dest="json_out", help="write the audit summaries as JSON to this file")

    b = sub.add_parser("bench", help="throughput of the hot paths and ratios to naive loops / rooflines")
    b.add_argument("--device", default="cpu")
    b.add_argument("--size", choices=["small", "full"], default="small")
    b.add_argument("--json", dest="json_out")
    b.add_argument("--no-suite", action="store_true", help="skip the verify-suite end-to-end entry")
    b.add_argument("--workers", type=int, help="worker processes of the verify-suite entry (default: CPUs)")
    return p


def _executor_options(p: argparse.ArgumentParser, what: str) -> None:
    from twostage.runs.executor import KINDS

    p.add_argument("--executor", choices=KINDS, help=what)
    p.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    p.add_argument("--address", help="dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask)")


def _console():
    from rich.console import Console

    # rich folds tables to 80 columns when stdout is not a terminal (CI logs, pipes): give it room
    return Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 180)


def cmd_claims(args) -> int:
    from twostage.runs.suite import load_verdicts
    from twostage.theory.claims import load_all

    reg = load_all()
    if args.check:
        return _check_graph(reg)
    last = load_verdicts(Path(args.results), strict=True)
    rows = [
        {"id": c.id, "paper": c.paper, "ref": c.ref, "provenance": c.provenance.value, "kind": c.kind.value,
         "status": last.get(c.id, {}).get("status", "never run")}
        for c in reg.claims(args.paper)
    ]
    if args.json:
        from twostage.layout import claim_files
        from twostage.verify.checks import load_checkers

        checkers = load_checkers()
        for r, c in zip(rows, reg.claims(args.paper)):
            r["topic"], r["files"] = c.topic, claim_files(c, checkers.get(c.id))
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"claims ({len(rows)})")
    for col in ("id", "ref", "provenance", "kind", "status"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["ref"], r["provenance"], r["kind"], r["status"])
    _console().print(t)
    return EXIT_OK


def _check_graph(reg) -> int:
    from twostage.publish.graph import graph_problems, require_sound
    from twostage.verify.checks import load_checkers

    problems = graph_problems(reg, load_checkers())
    for problem in problems:
        print(problem)
    require_sound(reg, load_checkers())  # raises GraphError: one line on stderr, exit 2
    print(f"claim graph sound: {len(reg.claims())} claims, {len(reg.assumptions())} assumptions, "
          "every claim has a checker")
    return EXIT_OK


def cmd_latex(args) -> int:
    from twostage.theory.claims import load_all
    from twostage.theory.latex import render_claims

    reg = load_all()
    claims = [reg.get(args.claim)] if args.claim else reg.claims(args.paper)
    text = render_claims(claims)
    if args.out:
        from twostage.runs.store import atomic_write_bytes

        atomic_write_bytes(Path(args.out), text.encode())
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _status_style(status: str) -> str:
    return {"holds": "green", "violated": "bold red", "undecided": "yellow",
            "numerical-failure": "magenta"}.get(status, "dim")


def cmd_verify(args) -> int:
    from rich.progress import Progress
    from rich.table import Table

    from twostage.numerics.device import resolve_device
    from twostage.runs.executor import spec_from_options
    from twostage.runs.store import check_writable
    from twostage.runs.suite import require_checkers, run_suite, save_verdicts, select
    from twostage.verify.checks import Context
    from twostage.verify.profiles import get_profile

    profile = get_profile(args.profile)
    device = resolve_device(args.device)
    spec = spec_from_options(args.executor, args.workers, args.address, default="sequential")
    claims = select(args.paper, args.claim)
    require_checkers(claims)
    check_writable(Path(args.results))  # fail before the work, not after it
    if args.json_out:
        check_writable(Path(args.json_out).resolve().parent)
    ctx = Context(profile=profile, device=str(device), seed=args.seed)
    console = _console()
    failed = []
    with Progress(console=console, transient=True, disable=not console.is_terminal) as prog:
        task = prog.add_task("verifying", total=len(claims))
        if spec.kind == "sequential":
            verdicts = run_suite(claims, ctx, progress=lambda c, v: prog.advance(task))
        else:
            from twostage.runs.sweep_verify import verify_distributed

            maybe, sweep_result = verify_distributed(claims, ctx, spec, Path(args.results),
                                                     progress=lambda o: prog.advance(task))
            failed = [(c, o) for c, v, o in zip(claims, maybe, sweep_result.outcomes) if v is None]
            claims = [c for c, v in zip(claims, maybe) if v is not None]
            verdicts = [v for v in maybe if v is not None]
    table = Table(title=f"verdicts (profile {profile.name}, device {device})")
    for col in ("claim", "ref", "prov.", "kind", "status", "margin", "examples", "s"):
        table.add_column(col, overflow="fold")
    for c, v in zip(claims, verdicts):
        margin = "-" if v.margin is None else f"{v.margin:.3g}"
        st = v.status.value
        where = ""
        if v.status.value == "numerical-failure":  # say where the NaN/inf appeared
            from twostage.publish.report import failure_location

            where = f" ({failure_location(v.worst) or (v.worst or {}).get('reason', '')})"
        table.add_row(c.id, c.ref, c.provenance.value, c.kind.value, f"[{_status_style(st)}]{st}[/]{where}",
                      margin, str(v.examples), f"{v.seconds:.1f}")
    console.print(table)
    save_verdicts(Path(args.results), verdicts, profile.name, seed=args.seed, device=str(device))
    if args.json_out:
        from twostage.runs.audit import latest_sensitivity
        from twostage.runs.records import verdict_record
        from twostage.runs.store import atomic_write_json

        sens = latest_sensitivity(Path(args.results))
        payload = {"paper": args.paper, "profile": profile.name, "device": str(device), "seed": args.seed,
                   "claims": [{**verdict_record(v, c), **sens.get(c.id, {})}
                              for c, v in zip(claims, verdicts)]}
        atomic_write_json(Path(args.json_out), payload)
    if failed:
        c, o = failed[0]
        total = len(failed) + len(verdicts)
        print(f"twostage: internal error: {len(failed)} of {total} claims did not finish (first: {c.id}: "
              f"{o.status}: {o.detail or 'no detail'}); rerun the same command to retry them",
              file=sys.stderr)
        return EXIT_INTERNAL
    bad = [v for v in verdicts if v.status.value in ("violated", "numerical-failure")]
    return EXIT_VIOLATED if bad else EXIT_OK


def cmd_run(args) -> int:
    from twostage.experiments import get_experiment
    from twostage.numerics.device import resolve_device
    from twostage.verify.profiles import get_profile

    exp = get_experiment(args.experiment)
    profile = get_profile(args.profile)
    device = resolve_device(args.device)
    out = Path(args.out) if args.out else Path(args.results) / args.experiment
    from twostage.runs.executor import spec_from_options, use_executor

    with use_executor(spec_from_options(args.executor, args.workers, args.address)):
        summary = exp(profile=profile, device=device, seed=args.seed, out=out)
    _console().print(summary)
    return EXIT_OK


def cmd_audit(args) -> int:
    from twostage.runs.audit import AuditSettings, run_audit, table_text
    from twostage.runs.store import atomic_write_json, check_writable
    from twostage.runs.suite import require_checkers, select
    from twostage.verify.checks import Context, load_checkers
    from twostage.verify.profiles import get_profile

    profile = get_profile(args.profile)
    claims = select(args.paper, args.claim)
    require_checkers(claims)
    check_writable(Path(args.results))
    if args.json_out:
        check_writable(Path(args.json_out).resolve().parent)
    settings = AuditSettings(profile.name, args.seed, args.quick)
    console = _console()
    log = console.log if console.is_terminal else None
    rows, folder = run_audit(claims, load_checkers(), Context(profile=profile, seed=args.seed), settings,
                             Path(args.results), progress=log)
    sys.stdout.write(table_text(rows))
    print(f"audit results in {folder}")
    if args.json_out:
        atomic_write_json(Path(args.json_out), {"paper": args.paper, "profile": profile.name,
                                                "seed": args.seed, "quick": args.quick, "claims": rows})
    return EXIT_OK


def cmd_bench(args) -> int:
    from twostage.bench.hot_paths import print_report, run_bench
    from twostage.numerics.device import resolve_device
    from twostage.runs.executor import ExecutorSpec

    ExecutorSpec("process", workers=args.workers)  # validate --workers before any timing
    device = resolve_device(args.device)
    report = run_bench(device, size=args.size)
    if not args.no_suite:
        from twostage.bench.suite import bench_verify_suite

        report["hot_paths"]["verify_suite"] = bench_verify_suite(args.size, str(device), report["ceilings"],
                                                                 workers=args.workers)
    print_report(report, _console())
    if args.json_out:
        from twostage.runs.store import atomic_write_json

        atomic_write_json(Path(args.json_out), report)
    return EXIT_OK


def cmd_report(args) -> int:
    from twostage.publish.report import build_report

    index = build_report(Path(args.results), Path(args.out) if args.out else None)
    _console().print(f"report written to {index}")
    return EXIT_OK


def cmd_paper(args) -> int:
    from twostage.publish.paper import INSTALL_HINT, CompileError, build, compile_pdf, toolchain

    paper_dir = Path(args.dir)
    if not (paper_dir / "companion.tex").is_file():
        raise UsageError(f"{paper_dir / 'companion.tex'} not found (run from the repository root, or --dir)")
    report = build(paper_dir, Path(args.results))
    print(report.summary())
    if not args.pdf:
        return EXIT_OK
    if toolchain() is None:
        print(f"twostage: error: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        pdf = compile_pdf(paper_dir)
    except CompileError as exc:
        print(f"twostage: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"compiled {pdf}")
    return EXIT_OK


COMMANDS = {"claims": cmd_claims, "latex": cmd_latex, "verify": cmd_verify, "run": cmd_run,
            "audit": cmd_audit, "bench": cmd_bench, "report": cmd_report, "paper": cmd_paper}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("twostage: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        code = exit_code(exc)
        if code == EXIT_BAD_INPUT:
            print(f"twostage: error: {first}", file=sys.stderr)
        else:
            print(f"twostage: internal error: {type(exc).__name__}: {first}", file=sys.stderr)
        return code

if __name__ == "__main__":
    raise SystemExit(main())
