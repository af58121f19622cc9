"""``twostage verify --executor process|dask --workers N``: claims as tasks of a resumable sweep.

Each claim is one task whose verdict is stored as a result directory of the experiment
``verify-tasks``, keyed by the hash of (claim id, profile, seed, device, code version). A killed
verify therefore resumes: rerunning the same command skips every claim already judged for this
code version, and a checker that crashes (or kills its worker) loses only its own verdict. The code
version is the git SHA plus a digest of uncommitted changes, so editing a checker invalidates its
stored verdict instead of silently reusing it.

The default ``twostage verify`` (no ``--executor``/``--workers``) stays sequential and in-process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twostage.layout import ROOT, package_dirs
from twostage.runs.executor import ExecutorSpec
from twostage.runs.records import read_record, verdict_record
from twostage.runs.store import config_hash, git_sha
from twostage.runs.sweep import RunOutput, SweepResult, TaskOutcome, sweep
from twostage.theory.claims import Claim
from twostage.verify.checks import Context, load_checkers
from twostage.verify.verdict import Verdict

EXPERIMENT = "verify-tasks"


@dataclass(frozen=True)
class VerifyTask:
    """One claim to judge; its config hash keys the stored verdict."""

    claim_id: str
    profile: str
    seed: int
    device: str
    code: str


def code_version() -> str:
    """``<git sha>``, or ``<git sha>+<digest>`` when the package sources differ from that commit.

    The digest covers ``git diff HEAD`` and the names of untracked files under the package
    directories. ``TWOSTAGE_CODE_VERSION`` overrides it (to resume across edits known to be
    irrelevant, or where there is no git checkout).
    """
    pinned = os.environ.get("TWOSTAGE_CODE_VERSION")
    if pinned:
        return pinned
    sha = git_sha()
    dirs = [str(d) for d in package_dirs().values()]
    if not dirs:  # not a source checkout: the commit is all we know
        return sha
    try:
        diff = subprocess.run(["git", "diff", "HEAD", "--", *dirs], capture_output=True, timeout=20,
                              cwd=ROOT).stdout
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", *dirs],
                                   capture_output=True, timeout=20, cwd=ROOT).stdout
    except (OSError, subprocess.SubprocessError):
        return sha
    if not diff and not untracked:
        return sha
    return sha + "+" + hashlib.sha256(diff + b"\0" + untracked).hexdigest()[:12]


def run_task(task: VerifyTask, modules: tuple[str, ...] = ()) -> RunOutput:
    """Worker side: judge one claim and return its verdict as a result file (``verdict.json``).

    ``modules`` are imported first: the modules defining the selected checkers, so a checker
    registered outside ``verify/checks`` (a plug-in, a test) is found in a fresh worker too.
    """
    import importlib

    for name in modules:
        importlib.import_module(name)
    from twostage.runs.suite import run_claim
    from twostage.theory.claims import load_all
    from twostage.verify.profiles import get_profile

    claim = load_all().get(task.claim_id)
    v = run_claim(claim, Context(profile=get_profile(task.profile), device=task.device, seed=task.seed))
    payload = verdict_record(v, run={"profile": task.profile, "seed": task.seed, "device": task.device,
                                     "code": task.code})
    return RunOutput(table=None, meta={"claim": task.claim_id, "verdict_status": v.status.value,
                                       "seed": task.seed, "profile": task.profile, "device": task.device},
                     files={"verdict.json": json.dumps(payload, indent=2, default=str).encode()})


def _verdict_from(directory: Path) -> Verdict | None:
    try:
        return read_record(json.loads((Path(directory) / "verdict.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify_distributed(claims: list[Claim], ctx: Context, spec: ExecutorSpec, results_root: Path,
                       progress: Callable[[Claim, Verdict | None, TaskOutcome], None] | None = None,
                       force: bool = False) -> tuple[list[Verdict | None], SweepResult]:
    """Judge ``claims`` through ``spec``'s executor; verdicts in claim order (``None`` where it failed).

    ``progress(claim, verdict, outcome)`` is called as each claim finishes (``outcome.status`` is
    ``skipped`` for a verdict reused from the store: *cached*); ``force`` judges every claim again.
    """
    code = code_version()
    tasks = [VerifyTask(c.id, ctx.profile.name, ctx.seed, ctx.device, code) for c in claims]
    by_hash = {config_hash(t): c for t, c in zip(tasks, claims)}
    checkers = load_checkers()
    modules = tuple(sorted({checkers[c.id].judge.__module__ for c in claims if c.id in checkers}
                           - {"__main__", "__mp_main__"}))
    fn = functools.partial(run_task, modules=modules)

    def report(o: TaskOutcome) -> None:
        if progress is not None:
            v = _verdict_from(Path(o.directory)) if o.status in ("ok", "skipped") else None
            progress(by_hash[o.config_hash], v, o)

    result = sweep(fn, tasks, Path(results_root), EXPERIMENT, executor=spec, progress=report, force=force)
    verdicts: list[Verdict | None] = []
    for o in result.outcomes:
        verdicts.append(_verdict_from(Path(o.directory)) if o.status in ("ok", "skipped") else None)
    return verdicts, result
