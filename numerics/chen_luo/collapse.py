"""Observables of the key-query dynamics (chen-luo-2025 Thm 3, §9 P13-P14): stable rank, singular-value
ratios, distances to the predicted limits, growth and decay rates. Batched over leading dimensions.

>>> import torch
>>> W = torch.diag(torch.tensor([3.0, 1.0, 0.0], dtype=torch.float64))
>>> float(stable_rank(W)), float(sv_ratio(W, 1))
(1.1111111111111112, 0.3333333333333333)
>>> t = torch.linspace(0, 4, 41, dtype=torch.float64)
>>> round(float(fit_log_slope(t, 5 * torch.exp(-0.7 * t))), 12)
-0.7
"""

from __future__ import annotations

import torch


def singular_values(W: torch.Tensor) -> torch.Tensor:
    return torch.linalg.svdvals(W)


def stable_rank(W: torch.Tensor) -> torch.Tensor:
    """``||W||_F^2 / ||W||_2^2`` (1 for a rank-1 matrix)."""
    s = singular_values(W)
    return (s**2).sum(-1) / s[..., 0] ** 2


def sv_ratio(W: torch.Tensor, k: int = 1) -> torch.Tensor:
    """``sigma_{k+1}(W) / sigma_1(W)`` (0-based ``k``; ``k = 1`` gives ``sigma_2/sigma_1``)."""
    s = singular_values(W)
    return s[..., k] / s[..., 0]


def normalised(W: torch.Tensor) -> torch.Tensor:
    return W / torch.linalg.matrix_norm(W).unsqueeze(-1).unsqueeze(-1)


def distance_to(W: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``|| W/||W||_F - target ||_F`` (``target`` of unit Frobenius norm, broadcast over time)."""
    return torch.linalg.matrix_norm(normalised(W) - target)


def log_norm_rate(W: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``d/dt log ||W(t)||_F`` by second-order finite differences along dim ``-3`` (time), ``W`` (..., T, d,
    d)."""
    ln = torch.log(torch.linalg.matrix_norm(W))
    return torch.gradient(ln, spacing=(t.to(ln),), dim=-1)[0]


def fit_log_slope(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Least-squares slope of ``log y`` against ``t`` along the last dim (a decay/growth rate)."""
    t = t.to(y)
    ly = torch.log(y)
    tc = t - t.mean()
    return ((ly - ly.mean(-1, keepdim=True)) * tc).sum(-1) / (tc**2).sum()


def effective_rank(W: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Roy & Vetterli (2007) effective rank ``exp(H(p))``, ``p_i = sigma_i / sum_j sigma_j`` (RECONSTRUCTED
    choice
    for chen-luo-2025 §5 "effective rank", which the paper does not define)."""
    s = singular_values(W)
    p = s / s.sum(-1, keepdim=True).clamp_min(eps)
    H = -(p * torch.log(p.clamp_min(eps))).sum(-1)
    return torch.exp(H)
