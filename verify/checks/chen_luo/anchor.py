"""Checkers for the chen-luo-2025 §5.1 empirical claims (anchor-function task; ``theory/chen_luo/anchor.py``).

A draw is one training run (:class:`RunDraw`): the CPU-scale configuration
(``numerics.chen_luo.anchor.cpu_config``) at the context's seed -- one run of 1000 steps at ``ci``, two seeds
of 2000 steps at ``quick``, three at ``full`` -- plus the paper's Table-1 configuration when the device is a
GPU (``full`` only). ``simulate`` trains it once per process (``anchor_history`` is cached, so the five
claims share one run) and detects its stages (``numerics.chen_luo.anchor_stages``). Every judge is pure: it
reads the claim's formula and the logged history, so a test hands it an edited formula or a sabotaged log.

A run that did not learn, or whose loss never left its plateau, gives ``undecided`` with the reason (its
"boundaries" would describe a failure, not a stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from twostage.numerics.chen_luo import anchor as na
from twostage.numerics.chen_luo.anchor_stages import Stages, detect_stages
from twostage.numerics.config import require
from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.elements import symbols_of
from twostage.verify.judge import judge_bound
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
TOL = 1e-9  # logged values are exact float64 reads of the run; the band only absorbs representation error
RUNS_PER_PROFILE = {"ci": 1, "quick": 2, "full": 3}  # CPU-scale runs (seeds ctx.seed, ctx.seed + 1, ...)
STEPS_PER_PROFILE = {"ci": 1000, "quick": 2000, "full": 2000}


@dataclass(frozen=True)
class RunDraw:
    """One anchor-function training run: ``config`` ``"cpu"`` (CPU scale) or ``"paper"`` (Table 1)."""

    config: str = "cpu"
    seed: int = 0
    steps: int = 1000  # of the CPU-scale run (the paper's run has its own 4000)

    def __post_init__(self) -> None:
        require(self.config in ("cpu", "paper"), "chen-luo-2025/exp/anchor",
                f"config must be 'cpu' or 'paper', got {self.config!r}")
        require(self.steps >= 1, "chen-luo-2025/exp/training", f"steps must be >= 1, got {self.steps}")

    def run_config(self) -> na.AnchorRunConfig:
        return na.cpu_config(self.seed, self.steps) if self.config == "cpu" else na.paper_config(self.seed)


@dataclass(frozen=True)
class RunData:
    """The logged history (column -> array, one entry per log) and its detected stages."""

    hist: dict
    stages: Stages
    label: str = ""


def draws(ctx) -> list[RunDraw]:
    n = RUNS_PER_PROFILE.get(ctx.profile.name, 1)
    steps = STEPS_PER_PROFILE.get(ctx.profile.name, 1000)
    out = [RunDraw("cpu", ctx.seed + k, steps) for k in range(n)]
    if ctx.profile.name == "full" and str(ctx.device).startswith("cuda"):
        out.append(RunDraw("paper", ctx.seed))
    return out


def from_history(hist: dict, label: str = "") -> RunData:
    """Wrap a logged history (real or sabotaged) with its detected stages."""
    h = {k: np.asarray(v) for k, v in hist.items()}
    return RunData(h, detect_stages(h), label)


def simulate(draw: RunDraw, ctx) -> RunData:
    return from_history(na.anchor_history(draw.run_config(), ctx.device), f"{draw.config} seed {draw.seed}")


def conjuncts(formula) -> list:
    return list(formula.args) if isinstance(formula, sp.And) else [formula]


def judge_all(formula, values: dict, info: dict) -> Measurement:
    """Every conjunct of ``formula`` at ``values`` (scalars), by :func:`judge_bound`."""
    return combine([judge_bound(r, values, tol=TOL, info=info) for r in conjuncts(formula)])


def gate(data: RunData, need_plateau: bool = True) -> Measurement | None:
    """``undecided`` (with the reason) unless the run learned and -- where the claim is located by the
    stage boundaries (``need_plateau``) -- its loss left a detected plateau."""
    st = data.stages
    if not st.learned or (need_plateau and (st.plateau is None or st.exit is None)):
        why = st.undecided.get("plateau", "no plateau detected")
        return Measurement(Status.UNDECIDED, None, {"run": data.label, "reason": why, **st.as_dict()})
    return None


def layers(hist: dict) -> list[int]:
    return sorted(int(k.split("/l")[1]) for k in hist if k.startswith("A1/l"))


def at_step(hist: dict, column: str, step: int) -> float:
    i = int(np.flatnonzero(np.asarray(hist["step"]) == step)[0])
    return float(hist[column][i])


def _info(data: RunData, **kw) -> dict:
    return {"run": data.label, **data.stages.as_dict(), **kw}


@checker(f"{P}/anchor/three-stages", draws=draws, simulate=simulate)
def three_stages(claim, draw, data: RunData) -> Measurement:
    """Final accuracy and plateau level against the formula's thresholds (§5.1, Fig. 1b). A run that learned
    without any plateau contradicts the claim (violated); one that did not learn, or never left its plateau,
    is undecided."""
    st = data.stages
    if st.learned and st.no_plateau:
        return Measurement(Status.VIOLATED, None, _info(data, reason=st.undecided.get("plateau", "")))
    if (m := gate(data)) is not None:
        return m
    sym = symbols_of(claim)
    return judge_all(claim.formula, {sym["a_T"]: st.final_acc, sym["\\ell_P"]: st.plateau_level}, _info(data))


@checker(f"{P}/anchor/satisfaction-early", draws=draws, simulate=simulate)
def satisfaction_early(claim, draw, data: RunData) -> Measurement:
    """In every block some logged step satisfies the formula (``A_1, A_2`` above, ``t`` below their bounds);
    each block is judged at the log where the smallest slack over the conjuncts is largest (§5.1, Fig. 2a).
    Needs a run that learned, not its boundaries."""
    if (m := gate(data, need_plateau=False)) is not None:
        return m
    sym = symbols_of(claim)
    h = data.hist
    out = []
    for k in layers(h):
        best = None
        for i, s in enumerate(h["step"]):
            vals = {sym["A_1"]: float(h[f"A1/l{k}"][i]), sym["A_2"]: float(h[f"A2/l{k}"][i]),
                    sym["t"]: float(s)}
            m = judge_all(claim.formula, vals, _info(data, layer=k, step=int(s), A1=vals[sym["A_1"]],
                                                     A2=vals[sym["A_2"]]))
            key = (m.status is Status.HOLDS, m.margin if m.margin is not None else -np.inf)
            if best is None or key > best[0]:
                best = (key, m)
        out.append(best[1])
    return combine(out)


@checker(f"{P}/anchor/outer-first", draws=draws, simulate=simulate)
def outer_first(claim, draw, data: RunData) -> Measurement:
    """Ratio of the groups' relative distances from initialisation at the plateau start (§5.1, Fig. 1c)."""
    if (m := gate(data)) is not None:
        return m
    tp = data.stages.plateau[0]
    ro, ra = at_step(data.hist, "rd/outer", tp), at_step(data.hist, "rd/attention", tp)
    ratio = ro / ra if ra > 0 else np.inf
    info = _info(data, rd_outer=ro, rd_attention=ra)
    return judge_all(claim.formula, {symbols_of(claim)["R_1"]: ratio}, info)


@checker(f"{P}/anchor/plateau-marks-stage2", draws=draws, simulate=simulate)
def plateau_marks_stage2(claim, draw, data: RunData) -> Measurement:
    """Where the switch to attention-dominated change falls on the plateau (§5.1, Fig. 1b-c)."""
    if (m := gate(data)) is not None:
        return m
    st = data.stages
    if st.switch is None:
        return Measurement(Status.VIOLATED, None, _info(data, reason=st.undecided.get("switch", "no switch")))
    tp, te = st.plateau[0], st.exit
    u = (st.switch - tp) / (te - tp)
    return judge_all(claim.formula, {symbols_of(claim)["u_S"]: u}, _info(data, u_S=u))


@checker(f"{P}/anchor/kq-rank-collapse", draws=draws, simulate=simulate)
def kq_rank_collapse(claim, draw, data: RunData) -> Measurement:
    """``sigma_2/sigma_1(W_Q W_K^T)`` of the output block (the one whose outer weights feed the frozen
    unembedding, as in Def. 3 where Thm 3's ``F`` is built) where the loss leaves the plateau, against the
    formula's bound; undecided when the initial ratio is already within the bound (no collapse to observe).
    The other blocks' ratios are reported in ``worst`` (§5.1, Fig. 1d-e)."""
    if (m := gate(data)) is not None:
        return m
    rho = symbols_of(claim)["\\rho_E"]
    h, te = data.hist, data.stages.exit
    ks = layers(h)
    others = {f"rho_E/l{k}": at_step(h, f"qk_ratio/l{k}", te) for k in ks}
    k = ks[-1]
    r0, re = float(h[f"qk_ratio/l{k}"][0]), at_step(h, f"qk_ratio/l{k}", te)
    info = _info(data, layer=k, rho_0=r0, rho_E=re, **others)
    if judge_all(claim.formula, {rho: r0}, info).status is Status.HOLDS:
        why = "initial ratio already within the bound"
        return Measurement(Status.UNDECIDED, None, {**info, "reason": why})
    return judge_all(claim.formula, {rho: re}, info)
