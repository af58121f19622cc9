"""Fixtures of the application tests: a demo registry of claims that misbehave on purpose.

Cases needing claims that misbehave (NaN, a crashing checker, an unsound graph, a slow claim to kill)
use a small demo module (``DEMO_SRC``): in-process, its registry is patched in for one test
(``demo_inproc``, monkeypatch); for sweeps across worker processes, it is written to a temporary directory
and run as ``python -m twostage_demo`` (``demo``: the real CLI, its registry replaced in that process and its
workers).
"""

import os
import subprocess
import sys

import pytest

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
    raise SystemExit(main())  # as the program: reads sys.argv
'''



@pytest.fixture
def one_line_error():
    """``check(rc, err, code, needle, out="")``: exit ``code``, one line on stderr containing ``needle``."""

    def check(rc, err, code, needle, out=""):
        assert rc == code, f"exit {rc}, expected {code}; stderr: {err!r}"
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"stderr is not one line: {err!r}"
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
        assert "Traceback" not in err + out

    return check


@pytest.fixture
def demo(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "twostage_demo.py").write_text(DEMO_SRC)
    res = tmp_path / "results"

    def run(*args, scenario="ok", timeout=300, wait=True, capture=False, **env):
        path = os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")])
        full_env = {**os.environ, "PYTHONPATH": path, "DEMO_SCENARIO": scenario, "COLUMNS": "200",
                    "TWOSTAGE_CODE_VERSION": "robustness-test", "OMP_NUM_THREADS": "1",
                    **{k: str(v) for k, v in env.items()}}
        cmd = [sys.executable, "-m", "twostage_demo", "--results", str(res), *args]
        if not wait:  # its own session: a signal to its process group reaches it and its workers only
            pipe = subprocess.PIPE if capture else subprocess.DEVNULL
            return subprocess.Popen(cmd, env=full_env, cwd=tmp_path, stdout=pipe, stderr=pipe, text=True,
                                    start_new_session=True)
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


