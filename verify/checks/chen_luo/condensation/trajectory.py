"""The draws and the shared trajectories of the chen-luo-2025 §4.4 condensation checks (and the §4.3 sharp
limit).

One draw is ``B`` Gaussian normalised initialisations ``(W_V, W1, W2)`` of width ``d`` with a random unit
direction ``v`` (eq. (4); the law of ``W_v = v W_V`` does not depend on ``v``). The *full* effective
system (7) is integrated once per draw to ``E = E_MAX``
(:func:`numerics.chen_luo.condensation.integrate_condensation`, ``W_V`` integrated, not rebuilt), every
observable of Def. 5 is computed on the record, and the result is cached per draw (:func:`trajectories`), so
every check registered with :data:`ALONG` (``limits``, ``bounds``, ``ass1``, ``exact``) shares it: they use
the same Hypothesis strategy with the Hypothesis seed ``ctx.seed``, so they draw the same configurations
under every profile and each trajectory is integrated once per run.

An element whose run never satisfies Assumption 1 is ``not-applicable`` for the claims that assume it (that it
is reached is the separate claim ``ass1/reached-as``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo import condensation as cn
from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.config import require
from twostage.theory.chen_luo.condensation_symbolic import (
    assumption1_fractions_numpy,
    assumption1_values_numpy,
)
from twostage.verify.check import Context
from twostage.verify.verdict import Measurement, Status

P = "chen-luo-2025"
E_MAX = 1e18
INTEGRATOR_RTOL = 1e-11
INTEGRATOR_TOL = 1e-9  # relative error allowed for recorded values (rtol accumulated over the run)
E_WINDOW = 1e6  # limits and "near T*" bounds are judged on the recorded points with E >= E_WINDOW
MAX_DIM = 8


@dataclass(frozen=True)
class CondensationDraw:
    """``B`` Gaussian normalised initialisations of width ``d`` (eq. (4)) and a direction ``v`` (``seed``)."""

    d: int
    B: int
    seed: int

    def __post_init__(self) -> None:
        require(isinstance(self.d, int) and 2 <= self.d <= 64, "chen-luo-2025/ass/gaussian-init",
                f"d must be in [2, 64] (pairs and sigma_2 need d >= 2), got {self.d}")
        require(isinstance(self.B, int) and self.B >= 1, "chen-luo-2025/ass/gaussian-init",
                f"B >= 1, got {self.B}")
        require(isinstance(self.seed, int) and self.seed >= 0, "chen-luo-2025/ass/gaussian-init", "seed >= 0")


def draws(B: int = 4, max_dim: int = MAX_DIM) -> st.SearchStrategy[CondensationDraw]:
    return st.builds(CondensationDraw, d=st.integers(2, max_dim), B=st.just(B),
                     seed=st.integers(0, 2**31 - 1))


PAPER_DRAW = CondensationDraw(16, 4, 0)  # the width of the paper's reference instance (notes App. C.2)


def profile_draws(ctx: Context) -> st.SearchStrategy[CondensationDraw]:
    """The shared draws: ``B = 4``, ``d`` up to ``MAX_DIM`` (``full``: ``B = 16``, ``d`` up to 12)."""
    big = ctx.profile.scale >= 8
    return draws(B=16 if big else 4, max_dim=12 if big else MAX_DIM)


def initialisation(cfg: CondensationDraw, device: str = "cpu"):
    """``(W_V, W1, W2, v)``: N(0, 1) entries (normalised weights) and a uniform unit ``v``."""
    g = torch.Generator().manual_seed(cfg.seed)
    WV = torch.randn(cfg.B, cfg.d, cfg.d, generator=g, dtype=torch.float64)
    W1 = torch.randn(cfg.B, cfg.d, cfg.d, generator=g, dtype=torch.float64)
    W2 = torch.randn(cfg.B, cfg.d, generator=g, dtype=torch.float64)
    v = torch.randn(cfg.d, generator=g, dtype=torch.float64)
    return tuple(x.to(device) for x in (WV, W1, W2, v / v.norm()))


def stays_from(ok: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per element, the first index after which ``ok`` holds at every valid point (-1 if not at the end)."""
    out = np.full(ok.shape[0], -1)
    for b in range(ok.shape[0]):
        k = int(mask[b].sum())
        bad = np.flatnonzero(~ok[b, :k])
        out[b] = 0 if len(bad) == 0 else (bad[-1] + 1 if bad[-1] + 1 < k else -1)
    return out


@functools.lru_cache(maxsize=32)
def trajectories(cfg: CondensationDraw, device: str = "cpu") -> dict[str, np.ndarray]:
    """Integrate (7) once for the draw; numpy series (B, K[, ...]) of every observable the checkers judge."""
    WV0, W10, W20, v = initialisation(cfg, device)
    run = cn.integrate_condensation(WV0, W10, W20, v, E_max=E_MAX, rtol=INTEGRATOR_RTOL, atol=1e-14)
    Wv, W1, W2 = run.reduced()
    dWv, _, dW2 = ob.velocities(Wv, W1, W2)
    r1, r2 = cn.growth_ratios(Wv, W1, W2)
    s_W1, s_WV = torch.linalg.svdvals(W1), torch.linalg.svdvals(run.WV)
    K_t = W1 @ W1.transpose(-1, -2) - Wv[..., :, None] * Wv[..., None, :]
    spec = lambda M: torch.linalg.matrix_norm(M, ord=2)
    cpu = lambda x: x.detach().cpu().numpy()
    Wv0 = cn.reduce_v(WV0, v)
    K0 = cpu(W10 @ W10.transpose(-1, -2) - Wv0[:, :, None] * Wv0[:, None, :])
    out = {
        "t": cpu(run.t), "mask": cpu(run.mask), "T_lo": cpu(run.T_lo), "T_hi": cpu(run.T_hi),
        "reached": cpu(run.reached), "E": cpu(ob.energy(Wv, W1, W2)), "Edot": cpu(ob.energy_rate(Wv, W1, W2)),
        "Wv": cpu(Wv), "Wv_sq": cpu(Wv.pow(2).sum(-1)), "W2_sq": cpu(W2.pow(2).sum(-1)),
        "dW2_norm": cpu(dW2.norm(dim=-1)), "ratio_Wv": cpu(r1), "ratio_W2": cpu(r2),
        "cos_col": cpu(cn.column_cosines(run.WV, v)), "cos_xi": cpu(cn.cos_xi(Wv, W1)),
        "cos_psi": cpu(cn.cos_psi(Wv, W1, W2)), "cos_phi": cpu(cn.cos_phi(Wv, W1, W2)),
        "cos_zeta": cpu(cn.cos_zeta(Wv, W1, W2)), "bracket": cpu(cn.prop8_bracket(Wv, W1, W2)),
        "sigma2_W1": cpu(s_W1[..., 1]), "sigma2_WV": cpu(s_WV[..., 1]),
        "sigma1_W1": cpu(s_W1[..., 0]), "sigma1_WV": cpu(s_WV[..., 0]),
        "drift_K": cpu(spec(K_t - K_t[:, :1])),
        "drift_P": cpu(spec(cn.frozen_part(run.WV, v) - cn.frozen_part(WV0, v)[:, None])),
        "srank_W1": cpu(cn.stable_rank(W1)), "srank_WV": cpu(cn.stable_rank(run.WV)),
        "lam_max_K0": cpu(cn.weyl_bound_W1(Wv0, W10)), "P_norm2": cpu(cn.weyl_bound_WV(WV0, v)),
        "Pk_sq": cpu(cn.frozen_part(WV0, v).pow(2).sum(-2)), "K0": K0,
    }
    a1, a2 = assumption1_fractions_numpy(out["Wv"], cpu(W1), cpu(W2))  # the theory layer's evaluator
    out["frac_ass1"] = np.minimum(a1, a2)
    out["ass1_q"] = assumption1_values_numpy(out["Wv"], cpu(W1), cpu(W2))  # every Ass.-1 quantity (B, K, Q)
    out["ass1_from"] = stays_from(out["frac_ass1"] == 1.0, out["mask"])
    return out


def simulate(cfg: CondensationDraw, ctx: Context) -> dict[str, np.ndarray]:
    """The ``simulate`` step of every check along the trajectories: the cached run of the draw."""
    return trajectories(cfg, ctx.device)


# How every check judged along the shared trajectories is registered: ``@checker(claim_id, **ALONG)``.
ALONG = dict(draws=profile_draws, simulate=simulate, examples=[PAPER_DRAW])


def not_applicable(b: int) -> Measurement:
    return Measurement(Status.NOT_APPLICABLE, None, {"element": b, "reason": "Assumption 1 never holds"})


def valid(tr: dict, b: int) -> np.ndarray:
    return np.flatnonzero(tr["mask"][b])


def window(tr: dict, b: int, ass1: bool) -> np.ndarray | None:
    """Indices judged for element ``b``: ``E >= E_WINDOW`` (and after Ass. 1 holds for good when ``ass1``);
    ``None`` when Assumption 1 never holds (the claim does not apply)."""
    k = valid(tr, b)
    keep = tr["E"][b][k] >= E_WINDOW
    if ass1:
        start = tr["ass1_from"][b]
        if start < 0:
            return None
        keep &= k >= start
    return k[keep]
