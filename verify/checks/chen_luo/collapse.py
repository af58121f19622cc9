"""Checkers for chen-luo-2025 Stage 2, part 2: the closed form of (14), its conservation law and Thm 3 (rank
collapse, rank <= multiplicity, explicit limits, collapse rate, growth rate).

``F`` comes from :class:`SpectrumDraw` (prescribed spectrum, ties included: the only way to test the
multiplicity statement) or from :class:`DataDraw` (eq. (15) on random data and outer weights; elements whose
relative gap ``(sigma_1 - sigma_2)/sigma_1`` is below ``MIN_REL_GAP`` are left out as not applicable). Time is
measured in units of the gap, ``tau = (sigma_1 - sigma_{k+1}) t``. Trajectories come from the adaptive solver
(independent of the SVD) where the horizon is moderate, and from the overflow-free scaled closed form (itself
checked against the solver by the closed-form claim) for long horizons. Every ``evaluate_*`` takes the knob
its mutation test turns.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo import collapse as O
from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.theory.chen_luo import collapse as TC
from twostage.verify.checks import Context, checker
from twostage.verify.checks.chen_luo.draws import DataDraw, SpectrumDraw, data_draws, spectra
from twostage.verify.checks.chen_luo.stage2 import symbolic_measurement
from twostage.verify.judge import judge_limit, judge_residual, judge_scaling
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
MIN_REL_GAP = 0.05
PINNED_SPECTRUM = SpectrumDraw(sigma=(1.0, 0.824, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0), seed=0)  # d = 8 (App. C.3)
PINNED_DATA = DataDraw(n=6, s=3, d=3, seed=0)


def problem(cfg, device: str = "cpu", delta: float = 1e-3):
    """``F, W_Q(0), W_K(0)``, the gap ``sigma_1 - sigma_{k+1}`` (B,), the multiplicity ``k`` and the
    applicable mask."""
    if isinstance(cfg, SpectrumDraw):
        F, Q0, K0 = cfg.build(device)
        gap = torch.full((cfg.B,), cfg.gap, dtype=F.dtype, device=F.device)
        return F, Q0, K0, gap, cfg.multiplicity, torch.ones(cfg.B, dtype=torch.bool, device=F.device)
    T = cfg.tensors(device)
    s = torch.linalg.svdvals(T["F"])
    gap = s[:, 0] - s[:, 1]
    return T["F"], delta * T["Qbar"], delta * T["Kbar"], gap, 1, gap > MIN_REL_GAP * s[:, 0]


def sources(multiplicity: int | None = 1, B: int = 4):
    if multiplicity == 1:
        return st.one_of(spectra(multiplicity, B=B), data_draws(B=B))
    return spectra(multiplicity, B=B)


def _gap_times(gap: torch.Tensor, taus: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(taus, dtype=gap.dtype, device=gap.device).view(1, -1) / gap.view(-1, 1)


def _limits(values: torch.Tensor, mask: torch.Tensor, tol: float, info: dict,
            taus: np.ndarray) -> Measurement:
    """``judge_limit`` per applicable element on ``values`` (B, T)."""
    idx = torch.nonzero(mask).flatten().tolist()
    if not idx:
        return Measurement(Status.NOT_APPLICABLE, None, {**info, "reason": "no element with a gap"})
    v = values.detach().cpu().numpy()
    return combine(judge_limit(v[b], tol, {**info, "element": b}, times=taus) for b in idx)


# ------------------------------------------------------------------ closed form
CF_TAUS = np.linspace(0.0, 4.0, 9)  # here tau = sigma_1 t: the solution grows by ~e^4


def evaluate_closed_form(cfg, formula=S2.closed_form, device: str = "cpu") -> Measurement:
    """Closed form vs the adaptive solver (rtol 1e-12): max relative error over time, judged at 1e-9."""
    F, Q0, K0, _, _, _ = problem(cfg, device)
    t = _gap_times(torch.linalg.svdvals(F)[:, 0], CF_TAUS)
    cQ, cK = formula(F, Q0, K0, t)
    nQ, nK = S2.integrate_linear(F, Q0, K0, t)
    c, n = torch.cat([cQ, cK], -1), torch.cat([nQ, nK], -1)
    err = float(((c - n).flatten(2).norm(dim=-1) / n.flatten(2).norm(dim=-1)).max())
    return judge_residual(err, 1e-9, {"max_relative_error": err})


CF_EXPECT = {"rotated_ode": True, "rotated_initial": True, "orthogonal_U_V": True, "original_ode": True,
             "original_initial": True, "block_eigenvalues_pm_sigma": True}


@checker(f"{P}/stage2/closed-form")
def check_closed_form(ctx: Context) -> Measurement:
    sym = symbolic_measurement(TC.prove_closed_form(), CF_EXPECT, "d=3 rotated, 2x2 Cayley")
    num = run_property(st.one_of(spectra(None, B=4 * ctx.profile.scale), data_draws(B=4 * ctx.profile.scale)),
                       lambda c: evaluate_closed_form(c, device=ctx.device), ctx.profile,
                       examples=[PINNED_SPECTRUM, PINNED_DATA], seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ conservation
def _drift(WQ: torch.Tensor, WK: torch.Tensor) -> float:
    C = WQ.transpose(-1, -2) @ WQ - WK.transpose(-1, -2) @ WK
    scale = (WQ.flatten(2).norm(dim=-1) ** 2 + WK.flatten(2).norm(dim=-1) ** 2)
    return float(((C - C[:, :1]).flatten(2).norm(dim=-1) / scale).max())


def evaluate_conservation(cfg: DataDraw, sabotage: float = 0.0, device: str = "cpu") -> Measurement:
    """Drift of ``W_Q^T W_Q - W_K^T W_K`` relative to ``||W_Q||^2 + ||W_K||^2`` along (14) (solver) and along
    Q/K gradient flow on the full activation-free loss; ``sabotage`` perturbs ``W_K(t)`` by ``(1 + sabotage *
    t)``."""
    F, Q0, K0, _, _, _ = problem(cfg, device, delta=0.3)  # O(1) weights: far outside the linear regime
    T = cfg.tensors(device)
    t = _gap_times(torch.linalg.svdvals(F)[:, 0], np.linspace(0.0, 3.0, 7))
    out = []
    for name, (WQ, WK) in (("linear law (14)", S2.integrate_linear(F, Q0, K0, t, rtol=1e-11)),
                           ("full loss", SL.train_qk(T["X"], T["y"], T["u"], Q0, K0, t, kind="full"))):
        WK = WK * (1 + sabotage * t.view(*t.shape, 1, 1))
        out.append(judge_residual(_drift(WQ, WK), 1e-8, {"flow": name}))
    return combine(out)


@checker(f"{P}/stage2/kq-conservation")
def check_conservation(ctx: Context) -> Measurement:
    expect = {"linear_law": True, "gradient_flow_any_loss_of_WQ_WKt": True}
    sym = symbolic_measurement(TC.prove_conservation(), expect, "d=3; 2x2")
    num = run_property(data_draws(n_max=4, d_max=4, B=2 * ctx.profile.scale),
                       lambda c: evaluate_conservation(c, device=ctx.device), ctx.profile,
                       examples=[DataDraw(n=6, s=3, d=3, seed=0, B=2)], seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ Thm 3: rank collapse and its limits
LIM_TAUS = np.linspace(0.0, 14.0, 29)  # tau = gap * t


def scaled_trajectory(cfg, device: str = "cpu", taus: np.ndarray = LIM_TAUS):
    F, Q0, K0, gap, k, mask = problem(cfg, device)
    t = _gap_times(gap, taus)
    WQ, WK = S2.closed_form_scaled(F, Q0, K0, t)
    return F, Q0, K0, WQ, WK, k, mask


def noisy(WQ: torch.Tensor, WK: torch.Tensor, level: float = 0.1):
    """Sabotage for the mutation tests: a fixed full-rank component of relative size ``level``."""
    g = torch.Generator().manual_seed(123)
    N = torch.randn(WQ.shape[-2:], generator=g, dtype=WQ.dtype).to(WQ.device)
    scale = WQ[:, -1:].flatten(2).norm(dim=-1).unsqueeze(-1).unsqueeze(-1)
    return WQ + level * scale * N, WK + level * scale * N


def evaluate_rank_collapse(cfg, claimed_rank: int = 1, sabotage=None, device: str = "cpu") -> Measurement:
    """``sigma_{r+1}/sigma_1`` of ``W_Q`` and ``W_K`` -> 0 for the claimed rank ``r`` (Thm 3: ``r = k``)."""
    _, _, _, WQ, WK, _, mask = scaled_trajectory(cfg, device)
    if sabotage is not None:
        WQ, WK = sabotage(WQ, WK)
    ms = [_limits(O.sv_ratio(W, claimed_rank), mask, 1e-3, {"matrix": name, "claimed_rank": claimed_rank},
                  LIM_TAUS) for name, W in (("W_Q", WQ), ("W_K", WK))]
    if claimed_rank == 1:
        s = O.singular_values(WQ)
        excess = ((s[..., 1:] ** 2).sum(-1) / s[..., 0] ** 2)  # stable rank - 1, without cancellation
        ms.append(_limits(excess, mask, 1e-3, {"matrix": "W_Q", "quantity": "stable rank - 1"}, LIM_TAUS))
    return combine(ms)


@checker(f"{P}/thm3/rank-collapse")
def check_rank_collapse(ctx: Context) -> Measurement:
    return run_property(sources(1, B=4 * ctx.profile.scale),
                        lambda c: evaluate_rank_collapse(c, device=ctx.device), ctx.profile,
                        examples=[PINNED_SPECTRUM, PINNED_DATA], seed=ctx.seed)


def evaluate_limits(cfg, wrong_vector: bool = False, device: str = "cpu") -> Measurement:
    """Distances of ``W_Q/||W_Q||``, ``W_K/||W_K||``, ``W_Q W_K^T/||.||`` to ``u_1 c_hat``, ``v_1 c_hat``,
    ``u_1 v_1^T`` -> 0. ``wrong_vector`` predicts with ``u_2, v_2`` instead (mutation)."""
    F, Q0, K0, WQ, WK, _, mask = scaled_trajectory(cfg, device)
    Fp = F
    if wrong_vector:  # swap the first two singular pairs of F in the prediction only
        U, S, V = S2.svd(F)
        perm = torch.arange(F.shape[-1], device=F.device)
        perm[0], perm[1] = 1, 0
        Fp = U[..., perm] @ torch.diag_embed(S) @ V[..., perm].transpose(-1, -2)
    pred = S2.predicted_limits(Fp, Q0, K0)
    ms = [_limits(O.distance_to(W, pred[key].unsqueeze(1)), mask, 1e-3, {"limit": key}, LIM_TAUS)
          for key, W in (("WQ", WQ), ("WK", WK), ("WQWK", WQ @ WK.transpose(-1, -2)))]
    return combine(ms)


@checker(f"{P}/stage2/collapse-limits")
def check_collapse_limits(ctx: Context) -> Measurement:
    sym = symbolic_measurement(TC.prove_rank_le_multiplicity(), {"limits_rows_of_(A0+B0)/2": True}, "d=3")
    num = run_property(sources(1, B=4 * ctx.profile.scale), lambda c: evaluate_limits(c, device=ctx.device),
                       ctx.profile, examples=[PINNED_SPECTRUM, PINNED_DATA], seed=ctx.seed)
    return combine([sym, num])


@checker(f"{P}/thm3/rank-le-multiplicity")
def check_rank_le_multiplicity(ctx: Context) -> Measurement:
    sym = symbolic_measurement(TC.prove_rank_le_multiplicity(),
                               {"nonzero_rows": {1: 1, 2: 2, 3: 3}, "limits_rows_of_(A0+B0)/2": True}, "d=3")
    num = run_property(spectra(None, B=4 * ctx.profile.scale),
                       lambda c: evaluate_rank_collapse(c, claimed_rank=c.multiplicity, device=ctx.device),
                       ctx.profile, examples=[SpectrumDraw(sigma=(1.0, 1.0, 0.5, 0.2), seed=0)],
                       seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ rates
RATE_TAUS = np.linspace(8.0, 20.0, 13)
RATE_EXPECT = {"deviation_limit_is_row2": True, "deviation_orthogonal_to_limit": True,
               "norm_correction_finite": True, "ratio_constant_det_C_over_c1_sq": True}


def evaluate_collapse_rate(cfg: SpectrumDraw, slopes: dict | None = None, device: str = "cpu") -> Measurement:
    """Log-slopes (per unit ``tau = gap t``) of ``sigma_2/sigma_1(W_Q)`` (-1), the distance to ``u_1 c_hat``
    (-1)
    and the stable rank minus 1 (-2), fitted on ``tau`` in [8, 20] by ``judge_scaling`` with ``x = e^tau``."""
    slopes = slopes or {"ratio": -1.0, "distance": -1.0, "stable_rank_minus_1": -2.0}
    F, Q0, K0, WQ, _, _, _ = scaled_trajectory(cfg, device, RATE_TAUS)
    s = O.singular_values(WQ)
    series = {"ratio": s[..., 1] / s[..., 0],
              "stable_rank_minus_1": (s[..., 1:] ** 2).sum(-1) / s[..., 0] ** 2,
              "distance": O.distance_to(WQ, S2.predicted_limits(F, Q0, K0)["WQ"].unsqueeze(1))}
    x = np.exp(RATE_TAUS)
    return combine(judge_scaling(x, series[k][b].cpu().numpy(), v, 0.08, {"quantity": k, "element": b})
                   for k, v in slopes.items() for b in range(cfg.B))


@checker(f"{P}/stage2/collapse-rate")
def check_collapse_rate(ctx: Context) -> Measurement:
    sym = symbolic_measurement(TC.prove_collapse_rate(), RATE_EXPECT, "d=3; 2x2")
    num = run_property(spectra(1, B=4 * ctx.profile.scale),
                       lambda c: evaluate_collapse_rate(c, device=ctx.device),
                       ctx.profile, examples=[PINNED_SPECTRUM], seed=ctx.seed)
    return combine([sym, num])


GROWTH_TAUS = np.linspace(0.0, 8.0, 81)


def evaluate_growth_rate(cfg, claimed=None, sabotage: float = 0.0, device: str = "cpu") -> Measurement:
    """``|d/dt log||W_Q|| - sigma_1| / sigma_1 -> 0`` on solver trajectories of (14) (finite differences).

    ``claimed(F) -> (B,)`` is the rate under test (default ``sigma_1``); ``sabotage`` multiplies ``W_Q(t)`` by
    ``e^{sabotage sigma_1 t}``."""
    F, Q0, K0, gap, _, mask = problem(cfg, device)
    t = _gap_times(gap, GROWTH_TAUS)
    WQ, _ = S2.integrate_linear(F, Q0, K0, t, rtol=1e-10)
    s1 = torch.linalg.svdvals(F)[:, 0]
    WQ = WQ * torch.exp(sabotage * s1.view(-1, 1) * t).unsqueeze(-1).unsqueeze(-1)
    tau = torch.as_tensor(GROWTH_TAUS, dtype=WQ.dtype, device=WQ.device)
    rate = O.log_norm_rate(WQ, tau) * gap.view(-1, 1)  # d/dt = gap d/dtau
    target = (s1 if claimed is None else claimed(F)).view(-1, 1)
    return _limits((rate - target).abs() / s1.view(-1, 1), mask, 1e-3,
                   {"quantity": "dlog||W_Q||/dt vs sigma_1"}, GROWTH_TAUS)


@checker(f"{P}/stage2/growth-rate-sigma1")
def check_growth_rate(ctx: Context) -> Measurement:
    expect = {"limit_is_sigma1": True, "deviation_O_exp_-2gap_t": True}
    sym = symbolic_measurement(TC.prove_growth_rate(), expect, "2x2")
    num = run_property(spectra(1, B=4 * ctx.profile.scale),
                       lambda c: evaluate_growth_rate(c, device=ctx.device),
                       ctx.profile, examples=[PINNED_SPECTRUM], seed=ctx.seed)
    return combine([sym, num])
