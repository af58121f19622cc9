"""The ``twostage`` command line (stable contract, see DESIGN.md "CLI"); options: :mod:`twostage.options`.

Exit codes: 0 nothing violated; 1 a claim violated (or failed numerically); 2 bad input (unknown
paper/claim/experiment, invalid option or config, an output that cannot be written -- checked before the
work, or a full disk at the end, after everything that could be kept was kept), always with a one-line
message and no traceback; 3 a bug, or claims whose checker crashed; 130 interrupted (Ctrl-C: finished
results are kept). A closed output pipe (``twostage claims --json | head``) ends quietly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from twostage.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    exit_code,
)
from twostage.options import build_parser, clip_message
from twostage.progress import claim_table, human_console, print_paper_notes, print_readings, stdout_gone

__all__ = ["build_parser", "main"]


def _console(stderr: bool = False):
    return human_console(stderr)


def _write_output(path: str, text: str) -> None:
    """A result file (``-``: standard output)."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from twostage.runs.store import atomic_write_bytes

    atomic_write_bytes(Path(path), text.encode())


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
        _write_output("-", json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    from rich.markup import escape

    t = claim_table(f"claims ({len(rows)})", ["id", "ref", "provenance", "kind", "status"],
                    [r["id"] for r in rows])
    for r in rows:  # refs such as "§5 [ICLR25, Summary-v2]" are text, not Rich markup
        t.add_row(*(escape(r[k]) for k in ("id", "ref", "provenance", "kind", "status")))
    console = _console()
    print_paper_notes(console, reg.claims(args.paper))
    console.print(t)
    print_readings(console, [(r["id"], r["provenance"], r["status"]) for r in rows
                             if r["status"] != "never run"])
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
    from twostage.runs.store import check_output_file
    from twostage.runs.suite import select
    from twostage.theory.latex import render_claims

    if args.out:
        check_output_file(args.out)
    text = render_claims(select(args.paper, args.claim))
    _write_output(args.out or "-", text)
    return EXIT_OK


def cmd_verify(args) -> int:
    from twostage.verify_command import cmd_verify as run

    return run(args)


def cmd_run(args) -> int:
    from twostage.experiments import get_experiment
    from twostage.numerics.device import resolve_device
    from twostage.runs.store import check_writable
    from twostage.verify.profiles import get_profile

    exp = get_experiment(args.experiment)
    unused = [o for o, v in (("--executor", args.executor), ("--workers", args.workers),
                             ("--address", args.address)) if v is not None]
    if unused:
        raise UsageError(f"run does not use {', '.join(unused)}: every experiment runs in this process "
                         "(only verify runs claims as a sweep)")
    profile = get_profile(args.profile)
    device = resolve_device(args.device)
    out = Path(args.out) if args.out else Path(args.results) / args.experiment
    check_writable(out)  # fail before the work, not after it
    summary = exp(profile=profile, device=device, seed=args.seed, out=out)
    _console().print(summary, markup=False)  # summaries print lists and refs: text, not Rich markup
    return EXIT_OK


def cmd_audit(args) -> int:
    """``twostage audit``: each claim's formula mutated, its checker rerun (:mod:`twostage.runs.audit`)."""
    from twostage.numerics.device import resolve_device
    from twostage.runs.audit import AuditSettings, run_audit, table_text
    from twostage.runs.store import check_output_file, check_writable
    from twostage.runs.suite import require_checkers, select
    from twostage.verify.checks import Context, load_checkers
    from twostage.verify.profiles import get_profile

    profile = get_profile(args.profile)
    device = resolve_device(args.device)
    claims = select(args.paper, args.claim)
    require_checkers(claims)
    check_writable(Path(args.results))  # fail before the work, not after it
    if args.json_out:
        check_output_file(args.json_out)
    settings = AuditSettings(profile.name, args.seed, args.quick)
    console = _console(stderr=args.json_out == "-")
    log = console.log if console.is_terminal else None
    ctx = Context(profile=profile, device=str(device), seed=args.seed)
    rows, folder = run_audit(claims, load_checkers(), ctx, settings, Path(args.results), progress=log)
    if args.json_out:  # the numbers first: printing cannot lose them
        payload = {"paper": args.paper, "profile": profile.name, "seed": args.seed, "quick": args.quick,
                   "claims": rows}
        _write_output(args.json_out, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    console.print(table_text(rows), markup=False, end="")
    console.print(f"audit results in {folder}", markup=False)
    return EXIT_OK


def cmd_bench(args) -> int:
    from twostage.bench.hot_paths import print_report, run_bench
    from twostage.numerics.device import resolve_device
    from twostage.runs.store import check_output_file

    if args.json_out:
        check_output_file(args.json_out)
    device = resolve_device(args.device)
    report = run_bench(device, size=args.size)
    if not args.no_suite:
        from twostage.bench.suite import bench_verify_suite

        report["hot_paths"]["verify_suite"] = bench_verify_suite(args.size, str(device), report["ceilings"],
                                                                 workers=args.workers)
        from twostage.bench.audit import bench_audit

        report["hot_paths"]["audit"] = bench_audit(args.size, str(device))
    if args.json_out:  # the numbers first: printing cannot lose them
        _write_output(args.json_out, json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    print_report(report, _console(stderr=args.json_out == "-"))
    return EXIT_OK


def cmd_report(args) -> int:
    from twostage.publish.report import build_report
    from twostage.runs.store import check_writable

    if args.out:
        check_writable(Path(args.out))
    index = build_report(Path(args.results), Path(args.out) if args.out else None)
    _console().print(f"report written to {index}", markup=False)
    return EXIT_OK


def cmd_paper(args) -> int:
    from twostage.publish.paper import (
        INSTALL_HINT,
        CompileError,
        build,
        compile_pdf,
        overfull_boxes,
        toolchain,
    )

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
    overfull = overfull_boxes(pdf.with_suffix(".log"))
    if overfull:  # text running into the margin: the PDF is usable, but say where (the first one)
        print(f"twostage: warning: {len(overfull)} overfull box(es) in {pdf.with_suffix('.log')}, first: "
              f"{overfull[0]}", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"claims": cmd_claims, "latex": cmd_latex, "verify": cmd_verify, "run": cmd_run,
            "audit": cmd_audit, "bench": cmd_bench, "report": cmd_report, "paper": cmd_paper}


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code. As the program (``argv`` None), an interrupted command ends at
    once, without the seconds of interpreter teardown (torch, sympy): Ctrl-C returns within seconds."""
    code = _main(argv)
    if argv is None and code == EXIT_INTERRUPTED:
        _quick_exit(code)
    return code


def _quick_exit(code: int) -> None:
    """Flush the standard streams and end the process now (the work was stopped and saved already)."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    from twostage.runs.store import reset_warnings

    reset_warnings()
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("twostage: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of stdout went away (| head): what it read is all it wanted
        stdout_gone()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        first = clip_message(str(exc) or type(exc).__name__)
        code = exit_code(exc)
        if code == EXIT_BAD_INPUT:
            print(f"twostage: error: {first}", file=sys.stderr)
        else:
            print(f"twostage: internal error: {type(exc).__name__}: {first}", file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
