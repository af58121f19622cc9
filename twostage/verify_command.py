"""``twostage verify``: judge the selected claims, show progress, write the verdicts; lose nothing.

Order of work, so that nothing computed is thrown away:

1. every input is checked first (options, claims and their checkers, the results directory and the
   ``--json`` target);
2. claims are judged (in this process, or as tasks of a resumable sweep with ``--executor``/``--workers``),
   with :class:`~twostage.progress.Progress` reporting each;
3. the ``--json`` result is written first, then the table is printed, then the verdict store is committed;
   a write that fails (full disk) does not stop the others, and is reported at the end (exit 2);
4. Ctrl-C stores the verdicts finished so far and exits 130 (a process pool is stopped at once; a rerun of
   the same command with ``--executor``/``--workers`` resumes from the stored tasks).
"""

from __future__ import annotations

import sys
from pathlib import Path

from twostage.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATED, StoreError
from twostage.progress import claim_table, human_console, print_paper_notes, print_readings, stdout_gone

STYLE = {"holds": "green", "violated": "bold red", "undecided": "yellow", "numerical-failure": "magenta"}


def _row(c, v, cached: bool) -> list[str]:
    from rich.markup import escape

    margin = "-" if v.margin is None else f"{v.margin:.3g}"
    st = v.status.value
    where = ""
    if st == "numerical-failure":  # say where the NaN/inf appeared
        from twostage.publish.report import failure_location

        where = f" ({failure_location(v.worst) or (v.worst or {}).get('reason', '')})"
    secs = "cached" if cached else f"{v.seconds:.1f}"
    # ids, refs ("§5 [ICLR25, Summary-v2]") and reasons are text, not Rich markup
    return [escape(c.id), escape(c.ref), c.provenance.value, c.kind.value,
            f"[{STYLE.get(st, 'dim')}]{st}[/]{escape(where)}", margin, str(v.examples), secs]


def _judge(args, claims, ctx, spec, prog, finished: dict, failed: list) -> None:
    """Judge ``claims``; every finished verdict lands in ``finished`` (claim id -> (claim, verdict, cached))
    as soon as it is known, so an interrupt keeps it."""
    if spec.kind == "sequential":
        from twostage.runs.suite import run_suite

        def done(c, v):
            finished[c.id] = (c, v, False)
            prog.done(c.id, v.status.value, v.seconds)

        run_suite(claims, ctx, progress=done, start=lambda c: prog.start(c.id))
        return
    from twostage.runs.sweep_verify import verify_distributed

    def arrived(c, v, o):
        cached = o.status == "skipped"
        if v is None:
            failed.append((c, o))
            prog.done(c.id, o.status, o.seconds)
        else:
            finished[c.id] = (c, v, cached)
            prog.done(c.id, v.status.value, v.seconds, cached=cached)

    verify_distributed(claims, ctx, spec, Path(args.results), progress=arrived, force=args.force)


def cmd_verify(args) -> int:
    from twostage.numerics.device import resolve_device
    from twostage.progress import Progress
    from twostage.runs.executor import spec_from_options
    from twostage.runs.store import check_output_file, check_writable
    from twostage.runs.suite import require_checkers, save_verdicts, select
    from twostage.verify.checks import Context
    from twostage.verify.profiles import get_profile

    profile = get_profile(args.profile)
    device = resolve_device(args.device)
    spec = spec_from_options(args.executor, args.workers, args.address, default="sequential")
    claims = select(args.paper, args.claim)
    require_checkers(claims)
    check_writable(Path(args.results))  # fail before the work, not after it
    if args.json_out:
        check_output_file(args.json_out)
    ctx = Context(profile=profile, device=str(device), seed=args.seed)
    console = human_console(stderr=args.json_out == "-")
    finished: dict = {}
    failed: list = []
    run = {"profile": profile.name, "seed": args.seed, "device": str(device)}
    try:
        print_paper_notes(console, claims)  # the output opens with what RECONSTRUCTED means
    except BrokenPipeError:
        stdout_gone()
    try:
        with Progress(console.file, len(claims), live=console.is_terminal, console=console) as prog:
            _judge(args, claims, ctx, spec, prog, finished, failed)
    except KeyboardInterrupt:
        kept = [v for _, v, _ in finished.values()]
        try:
            if kept:
                save_verdicts(Path(args.results), kept, **run)
        finally:
            print(f"twostage: interrupted: {len(kept)} of {len(claims)} claims finished and stored in "
                  f"{args.results}; rerun the same command to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    done = [finished[c.id] for c in claims if c.id in finished]
    errors = _write_all(args, console, done, profile, device, run)
    if failed:
        c, o = failed[0]
        print(f"twostage: internal error: {len(failed)} of {len(claims)} claims did not finish (first: "
              f"{c.id}: {o.status}: {o.detail or 'no detail'}); rerun the same command to retry them",
              file=sys.stderr)
        return EXIT_INTERNAL
    if errors:
        raise errors[0]
    bad = [v for _, v, _ in done if v.status.value in ("violated", "numerical-failure")]
    return EXIT_VIOLATED if bad else EXIT_OK


def _write_all(args, console, done, profile, device, run) -> list[StoreError]:
    """``--json`` first, then the table, then the store; each write failure is kept for the end."""
    import json

    from twostage.runs.records import verdict_record
    from twostage.runs.suite import save_verdicts

    errors: list[StoreError] = []
    if args.json_out:
        from twostage.publish.reading import paper_notes
        from twostage.runs.audit import latest_sensitivity

        sens = latest_sensitivity(Path(args.results))  # beside the margin: what the last audit caught
        payload = {"paper": args.paper, **run, "notes": paper_notes([c for c, _, _ in done]),
                   "claims": [{**verdict_record(v, c), **sens.get(c.id, {})} for c, v, _ in done]}
        text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
        try:
            if args.json_out == "-":
                sys.stdout.write(text)
                sys.stdout.flush()
            else:
                from twostage.runs.store import atomic_write_bytes

                atomic_write_bytes(Path(args.json_out), text.encode())
        except StoreError as exc:
            errors.append(exc)
        except BrokenPipeError:
            pass
    table = claim_table(f"verdicts (profile {profile.name}, device {device})",
                        ["claim", "ref", "prov.", "kind", "status", "margin", "examples", "s"],
                        [c.id for c, _, _ in done])
    for c, v, cached in done:
        table.add_row(*_row(c, v, cached))
    try:
        console.print(table)
        print_readings(console, [(c.id, c.provenance.value, v.status.value) for c, v, _ in done])
    except BrokenPipeError:
        stdout_gone()
    if done:
        try:
            save_verdicts(Path(args.results), [v for _, v, _ in done], **run)
        except StoreError as exc:
            errors.append(exc)
    return errors
