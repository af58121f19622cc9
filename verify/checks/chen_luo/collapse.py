"""Checkers for chen-luo-2025 Stage 2, part 2: the closed form of (14), its conservation law and Thm 3
(rank collapse, rank <= multiplicity, explicit limits, collapse rate, growth rate).

``F`` comes from :class:`SpectrumDraw` (prescribed spectrum, ties included: the only way to test the
multiplicity statement) or from :class:`DataDraw` (eq. (15) on random data and outer weights; elements whose
relative gap ``(sigma_1 - sigma_2)/sigma_1`` is below ``MIN_REL_GAP`` are left out as not applicable). Time is
measured in units of the gap, ``tau = (sigma_1 - sigma_{k+1}) t``. Trajectories come from the adaptive solver
where the horizon is moderate, and from the overflow-free scaled closed form (checked against the solver by
the closed-form claim) for long horizons. Every judge reads its claim's formula: the right side evaluated
with the draw's ``U, Sigma, V``, ``W(0)``, ``t``, singular vectors or spectrum (``collapse_formula``), and on
one more pinned draw, the :class:`Proof` instance, the formula instantiated on the exact symbolic instance
beside the proven facts. Mutation tests hand a judge an edited formula or sabotaged data.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo import collapse as O
from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.theory.chen_luo import collapse as TC
from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.collapse_formula import (
    RANK_SYMBOL,
    closed_form_facts,
    conservation_facts,
    conserved_law,
    decided,
    drift,
    growth_facts,
    limit_facts,
    matrix_values,
    multiplicity,
    rank_at_proven,
    rate_facts,
    transposed,
)
from twostage.verify.checks.chen_luo.draws import (
    DataDraw,
    Proof,
    SpectrumDraw,
    data_draws,
    per_scale,
    spectra,
)
from twostage.verify.checks.chen_luo.elements import relations, value_of
from twostage.verify.checks.chen_luo.matrix_expr import evaluate
from twostage.verify.checks.chen_luo.stage2 import proven, symbolic_measurement
from twostage.verify.judge import as_relation, judge_limit, judge_residual, judge_scaling
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
CF_EXPECT = {"rotated_ode": True, "rotated_initial": True, "orthogonal_U_V": True, "original_ode": True,
             "original_initial": True, "block_eigenvalues_pm_sigma": True, "formula_original_ode": True,
             "formula_original_initial": True}
CF_PROOF = Proof("d=3 rotated, 2x2 Cayley")


def solver_run(cfg, device: str = "cpu") -> dict:
    """(14) by the adaptive solver (rtol 1e-12) at ``tau = sigma_1 t`` in ``CF_TAUS``, with its problem."""
    F, Q0, K0, _, _, _ = problem(cfg, device)
    t = _gap_times(torch.linalg.svdvals(F)[:, 0], CF_TAUS)
    nQ, nK = S2.integrate_linear(F, Q0, K0, t)
    return {"F": F, "Q0": Q0, "K0": K0, "t": t, "WQ": nQ, "WK": nK}


def closed_form_error(formula, run: dict) -> Measurement:
    """The formula's right side (``W_Q`` in closed form) evaluated with the run's ``U, Sigma, V, W(0), t`` --
    and, by the ``Q <-> K`` symmetry, ``W_K`` -- against the solver: max relative error, judged at 1e-9."""
    (rel,) = relations(formula)
    vals = {**matrix_values(run["F"], run["Q0"], run["K0"]), "t": run["t"].unsqueeze(-1).unsqueeze(-1)}
    errs = []
    for v, W in ((vals, run["WQ"]), (transposed(vals), run["WK"])):
        c = evaluate(rel.rhs, v)
        errs.append(((c - W).flatten(2).norm(dim=-1) / W.flatten(2).norm(dim=-1)).max())
    err = float(torch.stack(errs).max())
    return as_relation(rel, judge_residual(err, 1e-9, {"max_relative_error": err}))


@checker(f"{P}/stage2/closed-form", draws=lambda ctx: st.one_of(spectra(None, B=4 * ctx.profile.scale),
                                                                 data_draws(B=4 * ctx.profile.scale)),
         simulate=proven(TC.prove_closed_form, lambda cfg, ctx: solver_run(cfg, ctx.device)),
         examples=[PINNED_SPECTRUM, PINNED_DATA, CF_PROOF])
def closed_form(claim, cfg, run: dict) -> Measurement:
    """The claim's closed form (eqs. (54)-(57)) vs the solver (:func:`closed_form_error`); on the
    :class:`Proof` draw the proven facts and the formula instantiated on the exact 2x2 instance (it must
    solve (14))."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    if isinstance(cfg, Proof):
        (rel,) = relations(claim.formula)
        facts = {**run, **closed_form_facts(rel.rhs)}
        return as_relation(rel, symbolic_measurement(facts, CF_EXPECT, cfg.instance))
    return closed_form_error(claim.formula, run)


# ------------------------------------------------------------------ conservation
CONS_EXPECT = {"linear_law": True, "gradient_flow_any_loss_of_WQ_WKt": True, "formula_linear_law": True,
               "formula_gradient_flow_any_loss_of_WQ_WKt": True}
CONS_PROOF = Proof("d=3; 2x2")


def conserved_flows(cfg: DataDraw, device: str = "cpu") -> dict:
    """``(W_Q, W_K)`` at O(1) weights (far outside the linear regime) along (14) (solver) and along Q/K
    gradient flow on the full activation-free loss, at ``sigma_1 t`` in [0, 3], with the times ``t``."""
    F, Q0, K0, _, _, _ = problem(cfg, device, delta=0.3)
    T = cfg.tensors(device)
    t = _gap_times(torch.linalg.svdvals(F)[:, 0], np.linspace(0.0, 3.0, 7))
    return {"t": t, "flows": {"linear law (14)": S2.integrate_linear(F, Q0, K0, t, rtol=1e-11),
                              "full loss": SL.train_qk(T["X"], T["y"], T["u"], Q0, K0, t, kind="full")}}


@checker(f"{P}/stage2/kq-conservation", draws=per_scale(data_draws, B=2, n_max=4, d_max=4),
         simulate=proven(TC.prove_conservation, lambda cfg, ctx: conserved_flows(cfg, ctx.device)),
         examples=[DataDraw(n=6, s=3, d=3, seed=0, B=2), CONS_PROOF])
def kq_conservation(claim, cfg: DataDraw | Proof, run: dict) -> Measurement:
    """The formula's ``d/dt X = R`` (Thm 3: ``X = W_Q^T W_Q - W_K^T W_K``, ``R = 0``): the drift of ``X``
    minus ``int R`` relative to ``||W_Q||^2 + ||W_K||^2`` along each flow below 1e-8; on the :class:`Proof`
    draw the proven facts and the formula's law on symbolic matrices (:func:`TC.conservation_facts`)."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    rel, X, R = conserved_law(claim.formula)
    if isinstance(cfg, Proof):
        return as_relation(rel, symbolic_measurement({**run, **conservation_facts(X, R)}, CONS_EXPECT,
                                                     cfg.instance))
    t = run["t"]
    return as_relation(rel, combine(judge_residual(drift(X, R, WQ, WK, t), 1e-8, {"flow": name})
                                    for name, (WQ, WK) in run["flows"].items()))


# ------------------------------------------------------------------ Thm 3: rank collapse and its limits
LIM_TAUS = np.linspace(0.0, 14.0, 29)  # tau = gap * t


@dataclass(frozen=True)
class Trajectory:
    """The problem of a draw (``F``, ``W_Q(0)``, ``W_K(0)``, multiplicity ``k``, applicable ``mask``) and
    ``e^{-sigma_1 t} (W_Q, W_K)(t)`` (B, T, d, d) by the scaled closed form."""

    F: torch.Tensor
    Q0: torch.Tensor
    K0: torch.Tensor
    WQ: torch.Tensor
    WK: torch.Tensor
    k: int
    mask: torch.Tensor


def scaled_trajectory(cfg, device: str = "cpu", taus: np.ndarray = LIM_TAUS) -> Trajectory:
    F, Q0, K0, gap, k, mask = problem(cfg, device)
    t = _gap_times(gap, taus)
    WQ, WK = S2.closed_form_scaled(F, Q0, K0, t)
    return Trajectory(F, Q0, K0, WQ, WK, k, mask)


@functools.lru_cache(maxsize=64)
def limit_trajectory(cfg, device: str = "cpu") -> Trajectory:
    """:func:`scaled_trajectory` on ``tau`` in ``LIM_TAUS``, shared by the rank and limit claims."""
    return scaled_trajectory(cfg, device)


def _rank_collapse(tr: Trajectory, claimed_rank: int) -> Measurement:
    """``sigma_{r+1}/sigma_1`` of ``W_Q`` and ``W_K`` -> 0 for the claimed rank ``r`` (Thm 3: ``r = k``)."""
    ms = [_limits(O.sv_ratio(W, claimed_rank), tr.mask, 1e-3, {"matrix": name, "claimed_rank": claimed_rank},
                  LIM_TAUS) for name, W in (("W_Q", tr.WQ), ("W_K", tr.WK))]
    if claimed_rank == 1:
        s = O.singular_values(tr.WQ)
        excess = ((s[..., 1:] ** 2).sum(-1) / s[..., 0] ** 2)  # stable rank - 1, without cancellation
        ms.append(_limits(excess, tr.mask, 1e-3, {"matrix": "W_Q", "quantity": "stable rank - 1"}, LIM_TAUS))
    return combine(ms)


@checker(f"{P}/thm3/rank-collapse", draws=per_scale(sources, 1), examples=[PINNED_SPECTRUM, PINNED_DATA],
         simulate=lambda cfg, ctx: limit_trajectory(cfg, ctx.device))
def rank_collapse(claim, cfg, tr: Trajectory) -> Measurement:
    """The rank of the formula (``Eq(rank W_inf, r)``; Thm 3: ``r = 1``, simple ``sigma_1``) in the limit:
    ``sigma_{r+1}/sigma_1 -> 0`` (and the stable rank of ``W_Q`` -> 1 for ``r = 1``); for ``r >= 2`` the
    equality also needs ``sigma_r/sigma_1`` to stay above the tolerance (else the limit has a lower rank)."""
    (rel,) = relations(claim.formula)
    r = int(rel.rhs)
    m = _rank_collapse(tr, r)
    if r >= 2 and isinstance(rel, sp.Equality):
        idx = torch.nonzero(tr.mask).flatten().tolist()
        low = float(O.sv_ratio(tr.WQ, r - 1)[idx, -1].min()) if idx else float("nan")
        if low < 1e-3:
            m = combine([m, Measurement(Status.VIOLATED, low - 1e-3, {"claimed_rank": r,
                         "final_sigma_r_over_sigma_1": low, "reason": "the limit has rank < r"})])
    return as_relation(rel, m)


LIMIT_NAME = "the normalised product W_Q W_K^T/||.||_F"


@checker(f"{P}/stage2/collapse-limits", draws=per_scale(sources, 1),
         simulate=proven(TC.prove_rank_le_multiplicity, lambda cfg, ctx: limit_trajectory(cfg, ctx.device)),
         examples=[PINNED_SPECTRUM, PINNED_DATA, Proof("d=3")])
def collapse_limits(claim, cfg, tr: Trajectory) -> Measurement:
    """``W_Q W_K^T/||.||_F`` tends to the formula's right side (Thm 3: ``u_1 v_1^T``) evaluated with the
    singular vectors of the trajectory's ``F`` (``judge_limit`` on the Frobenius distance); also (extra
    evidence, not printed) ``W_Q/||W_Q|| -> u_1 c_hat``, ``W_K/||W_K|| -> v_1 c_hat``. On the :class:`Proof`
    draw the formula's right side is compared with the exact limit of the rotated instance."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    (rel,) = relations(claim.formula)
    if isinstance(cfg, Proof):
        facts = {**tr, **limit_facts(rel.rhs)}
        return as_relation(rel, symbolic_measurement(facts, {"limits_rows_of_(A0+B0)/2": True,
                                                             "formula_limit_of_normalised_product": True},
                                                     cfg.instance))
    target = evaluate(rel.rhs, matrix_values(tr.F, tr.Q0, tr.K0))
    pred = S2.predicted_limits(tr.F, tr.Q0, tr.K0)
    ms = [_limits(O.distance_to(W, T), tr.mask, 1e-3, {"limit": key}, LIM_TAUS)
          for key, W, T in (("WQ", tr.WQ, pred["WQ"].unsqueeze(1)), ("WK", tr.WK, pred["WK"].unsqueeze(1)))]
    prod = _limits(O.distance_to(tr.WQ @ tr.WK.transpose(-1, -2), target), tr.mask, 1e-3,
                   {"limit": LIMIT_NAME, "target": "the formula's right side"}, LIM_TAUS)
    return combine([*ms, as_relation(rel, prod)])


def _rank_bound(rel, tr: Trajectory, k: int) -> Measurement:
    """``rank lim W_Q/||W_Q||`` against the formula's bound at the measured multiplicity ``k`` of
    ``sigma_1(F)``: an upper bound ``rank <= u`` is ``sigma_{u+1}/sigma_1 -> 0`` (``judge_limit``, and the
    stable rank for ``u = 1``), a lower bound ``rank >= l`` needs ``sigma_l/sigma_1`` to stay above the
    tolerance; ``=`` both, ``!=`` the opposite of ``=``."""
    if isinstance(rel, sp.Unequality):
        return as_relation(rel, _rank_bound(sp.Eq(rel.lhs, rel.rhs, evaluate=False), tr, k))
    if RANK_SYMBOL in {s.name for s in rel.rhs.free_symbols}:
        rel = rel.reversed
    b = value_of(rel.rhs, {"k": k})
    d = tr.WQ.shape[-1]
    upper = {"<=": math.floor(b), "<": math.ceil(b) - 1, "==": b}.get(rel.rel_op)
    lower = {">=": math.ceil(b), ">": math.floor(b) + 1, "==": b}.get(rel.rel_op)
    info = {"multiplicity": k, "relation": f"rank {rel.rel_op} {b:g}"}
    if rel.rel_op == "==" and b != int(b):
        return Measurement(Status.VIOLATED, -1.0, {**info, "reason": "a rank is an integer"})
    ms = []
    if upper is not None and upper < d:
        ms.append(_rank_collapse(tr, int(upper)))
    if lower is not None and lower > 1:
        idx = torch.nonzero(tr.mask).flatten().tolist()
        low = float(O.sv_ratio(tr.WQ, int(lower) - 1)[idx, -1].min()) if idx and lower <= d else 0.0
        ms.append(Measurement(Status.HOLDS if low > 1e-3 else Status.VIOLATED, low - 1e-3,
                              {**info, "final_sigma_l_over_sigma_1": low, "l": int(lower)}))
    if not ms:
        return Measurement(Status.HOLDS, 1.0, {**info, "reason": "every rank in 1..d satisfies it"})
    return combine([dataclasses.replace(m, worst={**info, **m.worst}) for m in ms])


MULT_EXPECT = {"nonzero_rows": {1: 1, 2: 2, 3: 3}, "limits_rows_of_(A0+B0)/2": True,
               "formula_at_proven_ranks": True}


@checker(f"{P}/thm3/rank-le-multiplicity", draws=per_scale(spectra, None),
         simulate=proven(TC.prove_rank_le_multiplicity, lambda cfg, ctx: limit_trajectory(cfg, ctx.device)),
         examples=[SpectrumDraw(sigma=(1.0, 1.0, 0.5, 0.2), seed=0), Proof("d=3")])
def rank_le_multiplicity(claim, cfg: SpectrumDraw | Proof, tr: Trajectory) -> Measurement:
    """The formula's relation between the rank of the limit and the multiplicity ``k`` of ``sigma_1(F)``
    (Thm 3: ``rank <= k``), judged with ``k`` measured from ``F`` (:func:`_rank_bound`); on the
    :class:`Proof` draw the relation at the proven (generic) ranks of every ``k``."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    (rel,) = relations(claim.formula)
    if isinstance(cfg, Proof):
        facts = {**tr, "formula_at_proven_ranks": rank_at_proven(rel, tr["nonzero_rows"])}
        return symbolic_measurement(facts, MULT_EXPECT, cfg.instance)
    return _rank_bound(rel, tr, multiplicity(tr.F))


# ------------------------------------------------------------------ rates
RATE_TAUS = np.linspace(8.0, 20.0, 13)
RATE_EXPECT = {"deviation_limit_is_row2": True, "deviation_orthogonal_to_limit": True,
               "norm_correction_finite": True, "ratio_constant_det_C_over_c1_sq": True,
               "formula_rates_are_the_proven_ones": True}


RATE_SERIES = {r"\rho_{\sigma_2/\sigma_1}": "ratio", r"\rho_{\mathrm{dist}}": "distance",
               r"\rho_{\mathrm{srank}}": "stable_rank_minus_1"}


@checker(f"{P}/stage2/collapse-rate", draws=per_scale(spectra, 1),
         simulate=proven(TC.prove_collapse_rate,
                         lambda cfg, ctx: scaled_trajectory(cfg, ctx.device, RATE_TAUS)),
         examples=[PINNED_SPECTRUM, Proof("d=3; 2x2")])
def collapse_rate(claim, cfg: SpectrumDraw | Proof, tr: Trajectory) -> Measurement:
    """Each rate of the claim's formula (``rho = f(sigma_1, sigma_2)``, evaluated at the draw's spectrum)
    against the fitted log-slope of its quantity -- ``sigma_2/sigma_1(W_Q)``, the distance to ``u_1 c_hat``,
    the stable rank minus 1 -- per unit ``tau = gap t`` on ``tau`` in [8, 20] (``judge_scaling`` with
    ``x = e^tau``, expected slope ``-rho/gap``)."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    if isinstance(cfg, Proof):
        facts = {**tr, **rate_facts(claim.formula, RATE_SERIES)}
        return symbolic_measurement(facts, RATE_EXPECT, cfg.instance)
    s = O.singular_values(tr.WQ)
    series = {"ratio": s[..., 1] / s[..., 0],
              "stable_rank_minus_1": (s[..., 1:] ** 2).sum(-1) / s[..., 0] ** 2,
              "distance": O.distance_to(tr.WQ, S2.predicted_limits(tr.F, tr.Q0, tr.K0)["WQ"].unsqueeze(1))}
    x = np.exp(RATE_TAUS)
    sig = {"sigma1": cfg.sigma[0], "sigma2": cfg.sigma[1]}
    ms = []
    for rel in relations(claim.formula):
        key, rate = RATE_SERIES[rel.lhs.name], value_of(rel.rhs, sig)
        info = {"quantity": key, "rate": rate, "gap": cfg.gap}
        ms += [as_relation(rel, judge_scaling(x, series[key][b].cpu().numpy(), -rate / cfg.gap, 0.08,
                                              {**info, "element": b})) for b in range(cfg.B)]
    return combine(ms)


GROWTH_TAUS = np.linspace(0.0, 8.0, 81)
GROWTH_EXPECT = {"limit_is_sigma1": True, "deviation_O_exp_-2gap_t": True, "formula_rate_is_the_limit": True}


def growth_run(cfg, device: str = "cpu") -> dict:
    """``W_Q(t)`` (B, T, d, d) of (14) by the solver (rtol 1e-10) at ``tau = gap t`` in ``GROWTH_TAUS``."""
    F, Q0, K0, gap, _, mask = problem(cfg, device)
    t = _gap_times(gap, GROWTH_TAUS)
    WQ, _ = S2.integrate_linear(F, Q0, K0, t, rtol=1e-10)
    return {"F": F, "gap": gap, "mask": mask, "t": t, "WQ": WQ}


@checker(f"{P}/stage2/growth-rate-sigma1", draws=per_scale(spectra, 1),
         simulate=proven(TC.prove_growth_rate, lambda cfg, ctx: growth_run(cfg, ctx.device)),
         examples=[PINNED_SPECTRUM, Proof("2x2")])
def growth_rate(claim, cfg: SpectrumDraw | Proof, run: dict) -> Measurement:
    """``|d/dt log||W_Q|| - rate| / sigma_1 -> 0`` (finite differences), ``rate`` the formula's right side
    evaluated at ``sigma_1, sigma_2`` of each ``F`` (Thm 3 growth: ``sigma_1``)."""
    if (verdict := decided(claim.formula)) is not None:
        return verdict
    (rel,) = relations(claim.formula)
    if isinstance(cfg, Proof):
        return as_relation(rel, symbolic_measurement({**run, **growth_facts(rel.rhs)}, GROWTH_EXPECT,
                                                     cfg.instance))
    F, WQ, gap = run["F"], run["WQ"], run["gap"]
    s1 = torch.linalg.svdvals(F)[:, 0]
    tau = torch.as_tensor(GROWTH_TAUS, dtype=WQ.dtype, device=WQ.device)
    rate = O.log_norm_rate(WQ, tau) * gap.view(-1, 1)  # d/dt = gap d/dtau
    sv = torch.linalg.svdvals(F)
    target = torch.tensor([value_of(rel.rhs, {"sigma1": float(a), "sigma2": float(b)})
                           for a, b in zip(sv[:, 0], sv[:, 1])], dtype=WQ.dtype, device=WQ.device).view(-1, 1)
    return as_relation(rel, _limits((rate - target).abs() / s1.view(-1, 1), run["mask"], 1e-3,
                   {"quantity": "dlog||W_Q||/dt vs the formula's rate"}, GROWTH_TAUS))
