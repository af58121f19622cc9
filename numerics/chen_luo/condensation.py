"""Stage-1 condensation numerics of chen-luo-2025 (§4.4: Thm 2, Props 4-8, Cor 1, Def 5), batched.

:func:`integrate_condensation` integrates the *full* effective system (7) -- state ``(W_V, W1, W2)``, with
``W_v = v W_V`` (PAPER Prop 1 (7); components DERIVED §2.3) -- to the energy event ``E >= E_max`` in the
reparametrised time of :func:`twostage.numerics.integrate.time_reparametrised`, recording the state at every
accepted step. ``W_V`` is integrated, not rebuilt from ``W_v``: the frozen orthogonal part
``(I - v^T v) W_V(0)`` and the exact cosine formulas are then measured, not assumed.

The observables take any leading dims ((B,) live, (B, K) recorded) and follow Def. 5 (PAPER; the erratum of
App. A item 7 applied: ``xi_ij`` is the angle between ``W_{v,i} W1_i`` and ``W_{v,j} W1_j``):

* ``cos_xi`` (..., d, d), ``cos_psi`` (angle of ``dW2`` with ``W_{v,i} W1_i``), ``cos_phi`` (of ``W2`` with
  ``W_{v,i} W1_i``), ``cos_zeta`` (of ``W2`` with ``dW2``);
* ``growth_ratios``: ``||dW2||/||W_v||^2`` and ``||dW2||/||W2||^2`` (PAPER Prop 5 (22));
* ``prop8_bracket``: ``1 + ||dW_v||^2/||dW2||^2 + ||W2||^2 ||W_v||^2/||dW2||^2`` (PAPER, proof of Prop 8);
* ``stable_rank``, and the Weyl bounds ``lambda_max(W1(0) W1(0)^T - W_v(0)^T W_v(0))`` and
  ``||(I - v^T v) W_V(0)||_2`` (DERIVED, §9 P12).

>>> import torch
>>> x = torch.tensor([[0.5]], dtype=torch.float64)      # d = 1, balanced: T* = 2, cos = 1 throughout
>>> run = integrate_condensation(x[..., None], x[..., None], x, torch.ones(1, dtype=torch.float64), E_max=1e9)
>>> abs(float(run.T_hi[0]) - 2.0) < 1e-6, float(cos_zeta(*run.reduced())[0, -1])
(True, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.effective import rhs_full
from twostage.numerics.integrate import Outcome, Solution, solve, time_reparametrised


@dataclass
class CondensationRun:
    """Recorded trajectories of (7): ``t`` (B, K) rescaled time, ``WV`` (B, K, d, d), ``W1`` (B, K, d, d),
    ``W2`` (B, K, d), padded beyond ``mask`` with the last valid record (so that batched observables stay
    finite); ``v`` (d,); ``T_lo <= T* <= T_hi`` for the elements that
    ``reached`` the event (``T_hi = t_end + E_end^{-1/3}``, the DERIVED general consequence of Thm 1)."""

    t: torch.Tensor
    WV: torch.Tensor
    W1: torch.Tensor
    W2: torch.Tensor
    v: torch.Tensor
    mask: torch.Tensor
    T_lo: torch.Tensor
    T_hi: torch.Tensor
    reached: torch.Tensor
    solution: Solution

    def reduced(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(W_v = v W_V, W1, W2)`` along the record."""
        return reduce_v(self.WV, self.v), self.W1, self.W2


def reduce_v(WV: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``W_v = v W_V`` (PAPER eq. (8)), ``WV`` (..., d, d) -> (..., d)."""
    return torch.einsum("i,...ik->...k", v.to(WV), WV)


def integrate_condensation(WV, W1, W2, v, *, E_max: float = 1e18, rtol: float = 1e-11, atol: float = 1e-14,
                           max_steps: int = 20_000, on_failure: str = "mark") -> CondensationRun:
    """Integrate (7) from ``WV`` (B, d, d), ``W1`` (B, d, d), ``W2`` (B, d) with direction ``v`` (d,) until
    ``E >= E_max`` for every element (float64 recommended)."""
    B, d = W2.shape
    n = 2 * d * d + d
    z0 = torch.cat([WV.reshape(B, -1), W1.reshape(B, -1), W2, torch.zeros_like(W2[:, :1])], 1)
    f = rhs_full(v)

    def unpack(y):
        b = y.shape[0]
        return y[:, :d * d].reshape(b, d, d), y[:, d * d:2 * d * d].reshape(b, d, d), y[:, 2 * d * d:n]

    def energy(y):
        WV_, W1_, W2_ = unpack(y)
        return ob.energy(reduce_v(WV_, v), W1_, W2_)

    def record(tau, y, idx):
        WV_, W1_, W2_ = unpack(y)
        return {"tbar": y[:, n], "WV": WV_, "W1": W1_, "W2": W2_}

    sol = solve(time_reparametrised(lambda th, idx: f(None, th, idx)), z0, 0.0, math.inf, rtol=rtol,
                atol=atol, event=lambda tau, y, idx: energy(y[:, :n]) - E_max, max_steps=max_steps,
                record=record, on_failure=on_failure)
    last = (sol.mask.sum(1, keepdim=True) - 1).clamp(min=0)
    k = torch.minimum(torch.arange(sol.mask.shape[1], device=last.device)[None, :], last)  # (B, K)
    rec = {name: torch.gather(x, 1, k.reshape(k.shape + (1,) * (x.dim() - 2)).expand_as(x))
           for name, x in sol.records.items()}
    t_end = sol.y_final[:, n]
    E_end = energy(sol.y_final[:, :n])
    reached = sol.status == Outcome.EVENT
    gap = torch.where(E_end > 0, E_end.clamp(min=torch.finfo(E_end.dtype).tiny).pow(-1.0 / 3.0),
                      torch.full_like(E_end, math.inf))
    T_hi = torch.where(reached, t_end + gap, torch.full_like(t_end, math.inf))
    return CondensationRun(t=rec["tbar"], WV=rec["WV"], W1=rec["W1"], W2=rec["W2"], v=v, mask=sol.mask,
                           T_lo=t_end.clone(), T_hi=T_hi, reached=reached, solution=sol)


# ------------------------------------------------------------------------------ Def. 5 angles
def _cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))


def weighted_rows(Wv, W1):
    """``W_{v,i} W1_i`` stacked as rows (..., d, d) (Assumption 1, Def. 5)."""
    return Wv[..., :, None] * W1


def cos_xi(Wv, W1):
    """``cos xi_ij`` (..., d, d): angle of ``W_{v,i} W1_i`` with ``W_{v,j} W1_j`` (Def. 5, erratum A.7)."""
    R = weighted_rows(Wv, W1)
    n = R.norm(dim=-1)
    return (R @ R.transpose(-1, -2)) / (n[..., :, None] * n[..., None, :])


def cos_psi(Wv, W1, W2):
    """``cos psi_i`` (..., d): angle between ``dW2 = W1^T W_v^T`` and ``W_{v,i} W1_i`` (Def. 5)."""
    dW2 = ob.velocities(Wv, W1, W2)[2]
    return _cos(weighted_rows(Wv, W1), dW2[..., None, :])


def cos_phi(Wv, W1, W2):
    """``cos phi_i`` (..., d): angle between ``W2`` and ``W_{v,i} W1_i`` (Def. 5)."""
    return _cos(weighted_rows(Wv, W1), W2[..., None, :])


def cos_zeta(Wv, W1, W2):
    """``cos zeta`` (...,): angle between ``W2`` and ``dW2`` (Def. 5)."""
    return _cos(W2, ob.velocities(Wv, W1, W2)[2])


def growth_ratios(Wv, W1, W2) -> tuple[torch.Tensor, torch.Tensor]:
    """``||dW2|| / ||W_v||^2`` and ``||dW2|| / ||W2||^2`` (PAPER Prop 5, eq. (22): both tend to 1)."""
    n = ob.velocities(Wv, W1, W2)[2].norm(dim=-1)
    return n / Wv.pow(2).sum(-1), n / W2.pow(2).sum(-1)


def prop8_bracket(Wv, W1, W2):
    """``Edot / (||dW2||^2) = 1 + ||dW_v||^2/||dW2||^2 + ||W2||^2 ||W_v||^2 / ||dW2||^2`` (proof of Prop 8;
    at most 4 after ``T_3``, tends to 3)."""
    dWv, _, dW2 = ob.velocities(Wv, W1, W2)
    q = dW2.pow(2).sum(-1)
    return 1 + dWv.pow(2).sum(-1) / q + W2.pow(2).sum(-1) * Wv.pow(2).sum(-1) / q


def column_cosines(WV, v):
    """``cos(W_V^k, v^T)`` (..., d) (Thm 2; delegates to :func:`observables.column_cosines`)."""
    return ob.column_cosines(WV, v)


def frozen_part(WV0, v):
    """``P = (I - v^T v) W_V(0)`` (..., d, d): the part of ``W_V`` that (7) never moves (DERIVED §2.3)."""
    v = v.to(WV0)
    return WV0 - v[:, None] * reduce_v(WV0, v)[..., None, :]


# ------------------------------------------------------------------------------ low rank (P12)
def stable_rank(W):
    """``||W||_F^2 / sigma_1(W)^2`` of the trailing (d, d) matrices."""
    return W.pow(2).sum((-1, -2)) / torch.linalg.matrix_norm(W, ord=2).pow(2)


def weyl_bound_W1(Wv0, W10):
    """``lambda_max(W1(0) W1(0)^T - W_v(0)^T W_v(0))`` (DERIVED: bounds ``sigma_2(W1(t))^2`` for all t)."""
    K = W10 @ W10.transpose(-1, -2) - Wv0[..., :, None] * Wv0[..., None, :]
    return torch.linalg.eigvalsh(K)[..., -1]


def weyl_bound_WV(WV0, v):
    """``||(I - v^T v) W_V(0)||_2`` (DERIVED: bounds ``sigma_2(W_V(t))`` for all t)."""
    return torch.linalg.matrix_norm(frozen_part(WV0, v), ord=2)
