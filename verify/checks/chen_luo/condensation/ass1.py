"""Checks of Assumption 1 of chen-luo-2025: it is reached before blow-up (almost surely, counted) and, once it
holds, it keeps holding (Prop 4, forward invariance), judged along the shared trajectories of
:mod:`.trajectory`.

The satisfaction fractions ``|A1|/d`` and ``|A2|/d^2`` are evaluated by the theory layer's numpy evaluator
(:func:`twostage.theory.chen_luo.condensation_symbolic.assumption1_fractions_numpy`), whose definition is the
SymPy predicate of the registered assumption ``chen-luo-2025/ass1/condition``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from twostage.numerics.chen_luo.blowup import integrate_to_blowup
from twostage.numerics.config import require
from twostage.theory.chen_luo.condensation_symbolic import assumption1_fractions_numpy
from twostage.verify.check import Context, checker
from twostage.verify.checks.chen_luo.condensation.trajectory import (
    ALONG,
    INTEGRATOR_TOL,
    CondensationDraw,
    not_applicable,
    valid,
)
from twostage.verify.checks.chen_luo.elements import count_decisions, decide, each_element, pool_binomial
from twostage.verify.judge import judge_bound
from twostage.verify.verdict import Measurement

P = "chen-luo-2025"
REACH_E = 1e12  # Ass. 1 is looked for at the state where E reaches REACH_E
REACH_DIMS = (2, 4, 8, 16)


# --------------------------------------------------------------------------------- Prop 4 (invariance)
def forward_invariance_measure(cfg: CondensationDraw, tr: dict, relational) -> Measurement:
    """Prop 4 (its proof): from the first recorded point ``t0`` at which both satisfaction fractions are 1,
    every quantity of Assumption 1 satisfies ``relational`` (``q(t) >= q(t0)``) at every later point."""
    sym = {s.name: s for s in relational.free_symbols}
    q_t, q_0 = sym["q_{A}(t)"], sym["q_{A}(t_0)"]

    def one(b: int) -> Measurement:
        k = valid(tr, b)
        first = np.flatnonzero(tr["frac_ass1"][b][k] == 1.0)
        if len(first) == 0 or first[0] + 1 >= len(k):
            return not_applicable(b)
        k0, later = k[first[0]], k[first[0] + 1:]
        q = tr["ass1_q"][b]
        x, x0 = q[later], np.broadcast_to(q[k0], q[later].shape)
        times = np.broadcast_to(tr["t"][b][later][:, None], x.shape).ravel()
        info = {"element": b, "t0": float(tr["t"][b][k0]), "E_t0": float(tr["E"][b][k0])}
        return judge_bound(relational, {q_t: x.ravel(), q_0: x0.ravel()}, tol=INTEGRATOR_TOL, info=info,
                           times=times)

    return each_element(tr, cfg.B, one)


@checker(f"{P}/prop4/forward-invariance", **ALONG)
def forward_invariance(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 4: once Assumption 1 holds it holds up to ``T*``."""
    return forward_invariance_measure(cfg, tr, claim.formula)


# --------------------------------------------------------------------------------- reached a.s. (counted)
@dataclass(frozen=True)
class ReachDraw:
    """``n`` Gaussian draws of width ``d`` from ``seed``; ``max_steps`` bounds the integration."""

    d: int
    n: int
    seed: int
    max_steps: int = 20_000

    def __post_init__(self) -> None:
        require(self.d >= 1 and self.n >= 1 and self.seed >= 0, "chen-luo-2025/ass/gaussian-init",
                f"d >= 1, n >= 1 and seed >= 0, got d={self.d}, n={self.n}, seed={self.seed}")


def reach_draws(ctx: Context) -> list[ReachDraw]:
    """One batch of ``profile.seeds`` draws per width of ``REACH_DIMS``."""
    return [ReachDraw(d, ctx.profile.seeds, ctx.seed + 7919 * d) for d in REACH_DIMS]


REACH_BEYOND = 10.0  # T* is bracketed from the state at REACH_E by integrating on to E = REACH_BEYOND REACH_E


def reached_count(cfg: ReachDraw, ctx: Context | None = None) -> dict:
    """The measured ``t_ass1`` and ``T*`` (as intervals) of ``n`` Gaussian draws: (7) integrated in one batch
    to ``E = REACH_E`` (time ``t_1``, no recording), where Assumption 1 is evaluated, then on from there to
    ``E = REACH_BEYOND REACH_E`` (time ``t_2 > t_1``). Ass. 1 holding at ``t_1`` gives ``t_ass1 in [0, t_1]``;
    the second leg's bracket gives ``T* in [t_2, t_2 + E(t_2)^{-1/3}]``. A draw not at ``REACH_E`` within
    ``max_steps``, or without Ass. 1 there, has ``t_ass1 = oo`` (not observed; by Prop 4 the fractions stay 1
    once reached): a counterexample, as the claim's tolerance says. Cached (``twostage audit``)."""
    return _reached_count(cfg, "cpu" if ctx is None else ctx.device)


@functools.lru_cache(maxsize=16)
def _reached_count(cfg: ReachDraw, device: str) -> dict:
    d, n = cfg.d, cfg.n
    g = torch.Generator().manual_seed(cfg.seed)
    Wv = torch.randn(n, d, generator=g, dtype=torch.float64)
    W1 = torch.randn(n, d, d, generator=g, dtype=torch.float64)
    W2 = torch.randn(n, d, generator=g, dtype=torch.float64)
    kw = dict(rtol=1e-9, atol=1e-12, max_steps=cfg.max_steps, record_every=10**9, on_failure="mark")
    res = integrate_to_blowup(*(x.to(device) for x in (Wv, W1, W2)), E_max=REACH_E, **kw)
    a1, a2 = assumption1_fractions_numpy(*(x.detach().cpu().numpy() for x in res.state_end))
    reached = res.reached.cpu().numpy()
    t1 = res.t_end.cpu().numpy()
    T_lo, T_hi = np.full(n, np.inf), np.full(n, np.inf)
    if reached.any():
        idx = torch.as_tensor(np.flatnonzero(reached), device=res.t_end.device)
        on = integrate_to_blowup(*(x[idx] for x in res.state_end), E_max=REACH_BEYOND * REACH_E, **kw)
        ok = on.reached.cpu().numpy()
        T_lo[reached] = np.where(ok, t1[reached] + on.T_lo.cpu().numpy(), t1[reached])
        T_hi[reached] = np.where(ok, t1[reached] + on.T_hi.cpu().numpy(), np.inf)
    holds = reached & (a1 == 1.0) & (a2 == 1.0)
    return {"t_ass1_hi": np.where(holds, t1, np.inf), "T_lo": T_lo, "T_hi": T_hi,
            "info": {"d": d, "min_frac_A1": float(a1.min()), "min_frac_A2": float(a2.min()),
                     "not_reached": int((~reached).sum())}}


@checker(f"{P}/ass1/reached-as", draws=reach_draws, simulate=reached_count, pool=pool_binomial)
def reached_as(claim, cfg: ReachDraw, data: dict) -> Measurement:
    """chen-luo-2025 Assumption 1 ("verified experimentally", Fig. 2a): the claim's relation (``t_ass1 <
    T_star``) decided per draw on the measured intervals of :func:`reached_count` (interval arithmetic,
    :func:`~..elements.decide`), counted and pooled over the widths into one exact binomial test of
    probability 1."""
    box = lambda lo, hi: lo if lo == hi else (lo, hi)  # noqa: E731
    vals = [{"t_ass1": box(0.0, t) if np.isfinite(t) else math.inf, "T_star": box(lo, hi)}
            for t, lo, hi in zip(data["t_ass1_hi"], data["T_lo"], data["T_hi"])]
    return count_decisions([decide(claim.formula, v) for v in vals], data["info"])
