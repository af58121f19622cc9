"""Checks of Assumption 1 of chen-luo-2025: it is reached before blow-up (almost surely, counted) and, once it
holds, it keeps holding (Prop 4, forward invariance), judged along the shared trajectories of
:mod:`.trajectory`.

The satisfaction fractions ``|A1|/d`` and ``|A2|/d^2`` are evaluated by the theory layer's numpy evaluator
(:func:`twostage.theory.chen_luo.condensation_symbolic.assumption1_fractions_numpy`), whose definition is the
SymPy predicate of the registered assumption ``chen-luo-2025/ass1/condition``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from twostage.numerics.chen_luo.blowup import integrate_to_blowup
from twostage.numerics.config import require
from twostage.theory.chen_luo.condensation_symbolic import assumption1_fractions_numpy
from twostage.verify.check import Context, checker
from twostage.verify.checks.chen_luo.blowup import pool_binomial
from twostage.verify.checks.chen_luo.condensation.trajectory import (
    ALONG,
    INTEGRATOR_TOL,
    CondensationDraw,
    not_applicable,
    valid,
)
from twostage.verify.checks.chen_luo.elements import each_element
from twostage.verify.judge import judge_binomial, judge_bound
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


def reached_count(cfg: ReachDraw, ctx: Context | None = None) -> tuple[int, int, dict]:
    """How many of the ``n`` Gaussian draws satisfy Assumption 1 when ``E`` first reaches ``REACH_E`` (one
    batched integration of the reduced system (7), no recording)."""
    device = "cpu" if ctx is None else ctx.device
    d, n = cfg.d, cfg.n
    g = torch.Generator().manual_seed(cfg.seed)
    Wv = torch.randn(n, d, generator=g, dtype=torch.float64)
    W1 = torch.randn(n, d, d, generator=g, dtype=torch.float64)
    W2 = torch.randn(n, d, generator=g, dtype=torch.float64)
    res = integrate_to_blowup(*(x.to(device) for x in (Wv, W1, W2)), E_max=REACH_E, rtol=1e-9, atol=1e-12,
                              max_steps=cfg.max_steps, record_every=10**9, on_failure="mark")
    a1, a2 = assumption1_fractions_numpy(*(x.detach().cpu().numpy() for x in res.state_end))
    ok = res.reached.cpu().numpy() & (a1 == 1.0) & (a2 == 1.0)
    return int(ok.sum()), n, {"d": d, "min_frac_A1": float(a1.min()), "min_frac_A2": float(a2.min()),
                              "not_reached": int((~res.reached).sum())}


@checker(f"{P}/ass1/reached-as", draws=reach_draws, simulate=reached_count, pool=pool_binomial)
def reached_as(claim, cfg: ReachDraw, count: tuple[int, int, dict]) -> Measurement:
    """chen-luo-2025 Assumption 1 ("verified experimentally", Fig. 2a): every Gaussian draw satisfies it by
    the time ``E`` reaches ``REACH_E`` (exact binomial test of probability 1, pooled over the widths)."""
    k, n, info = count
    return judge_binomial(k, n, 1.0, info=info)
