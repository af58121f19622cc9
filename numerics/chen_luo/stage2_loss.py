"""Activation-free losses of chen-luo-2025 Stage 2 (§4.5, App. A.3) and training of ``W_Q, W_K`` alone.

Batched over ``B`` problems: ``X`` (B, n, s, d) (tokens are rows), ``y`` (B, n) in {+-1}, outer weights
through ``u = W_V W^{[1]} W^{[2]}`` (B, d), ``W_Q, W_K`` (B, d, d). With the activation removed the last-token
output is ``f_i = softmax(z_i) X_i u``, ``z_ij = X_{i,s} W_Q W_K^T X_{i,j}^T / sqrt(d)`` (PAPER Def 3 with
sigma = id).

* :func:`loss_full` -- ``(1/n) sum_i exp(-y_i f_i)`` (eq. (3)).
* :func:`loss_factorised` -- ``(1/n) sum_i L_{1,i} L_{2,i}`` (eq. (46); ``misprint=True``: main-text (13)).
* :func:`factorisation_terms` -- per sample ``L_{1,i}``, ``L_{2,i}`` and ``L_i - L_{1,i} L_{2,i}``.
* :func:`qk_gradients`, :func:`outer_gradients` -- autograd gradients, per batch element.
* :func:`train_qk` -- gradient flow on ``(W_Q, W_K)`` with frozen outer weights (adaptive Dormand-Prince).

>>> import torch
>>> g = torch.Generator().manual_seed(1)
>>> X = torch.randn(2, 4, 3, 2, generator=g, dtype=torch.float64)
>>> y = torch.sign(torch.randn(2, 4, generator=g))
>>> u = torch.randn(2, 2, generator=g, dtype=torch.float64); Z = torch.zeros(2, 2, 2, dtype=torch.float64)
>>> bool(torch.allclose(loss_full(X, y, u, Z, Z), loss_factorised(X, y, u, Z, Z)))
True
"""

from __future__ import annotations

import math

import torch

from twostage.numerics.chen_luo.stage2 import _split, solve_sampled


def logits(X: torch.Tensor, WQ: torch.Tensor, WK: torch.Tensor) -> torch.Tensor:
    """``z_ij`` (B, n, s) of the last token's attention row."""
    q = torch.einsum("bnd,bde->bne", X[:, :, -1, :], WQ)
    k = torch.einsum("bnsd,bde->bnse", X, WK)
    return torch.einsum("bne,bnse->bns", q, k) / math.sqrt(X.shape[-1])


def token_values(X: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``c_ij = X_{i,j} u`` (B, n, s)."""
    return torch.einsum("bnsd,bd->bns", X, u)


def loss_full(X, y, u, WQ, WK) -> torch.Tensor:
    """Exponential loss of the activation-free model, per batch element (B,)."""
    f = (torch.softmax(logits(X, WQ, WK), dim=-1) * token_values(X, u)).sum(-1)
    return torch.exp(-y * f).mean(-1)


def loss_L1(X, y, u) -> torch.Tensor:
    """``Ltilde_1 = (1/n) sum_i L_{1,i}`` (uniform attention), (B,)."""
    return torch.exp(-y * token_values(X, u).mean(-1)).mean(-1)


def loss_factorised(X, y, u, WQ, WK, misprint: bool = False) -> torch.Tensor:
    """``(1/n) sum_i L_{1,i} L_{2,i}`` with ``L_{2,i} = exp(-y_i sum_j (z_ij/s - sum_l z_il/s^2) c_ij)`` (eq.
    (46)).

    ``misprint=True`` drops the first ``1/s`` as main-text eq. (13) does (erratum, App. A item 2).
    """
    z, c = logits(X, WQ, WK), token_values(X, u)
    s = X.shape[-2]
    first = 1.0 if misprint else 1.0 / s
    g1 = ((first * z - z.sum(-1, keepdim=True) / s**2) * c).sum(-1)
    return (torch.exp(-y * c.mean(-1)) * torch.exp(-y * g1)).mean(-1)


def factorisation_terms(X, y, u, WQ, WK, misprint: bool = False) -> dict[str, torch.Tensor]:
    """Per sample (B, n): ``L_{1,i}``, ``L_{2,i}`` of eq. (46) and ``r_i = L_i - L_{1,i} L_{2,i}`` without
    cancellation, so that ``L_i = L_{1,i} L_{2,i} + r_i`` carries the full loss to well below its rounding (a
    judge evaluates a claimed form of ``L`` from ``L_{1,i}, L_{2,i}`` and compares with it).

    Both are ``L_{1,i}`` times ``exp`` of small exponents, so ``r_i = L_{1,i} (expm1(-y_i(f_i - g0_i)) -
    expm1(-y_i g1_i))`` with the softmax deviation ``p_j - 1/s = (expm1(z_j) - mean_l expm1(z_l)) / (s (1 +
    mean_l expm1(z_l)))`` (exact and stable). ``misprint``: ``L_2`` of main-text (13) (no first ``1/s``)."""
    z, c = logits(X, WQ, WK), token_values(X, u)
    s = X.shape[-2]
    e = torch.expm1(z)
    em = e.mean(-1, keepdim=True)
    dp = (e - em) / (s * (1 + em))
    first = 1.0 if misprint else 1.0 / s
    g1 = ((first * z - z.sum(-1, keepdim=True) / s**2) * c).sum(-1)
    L1 = torch.exp(-y * c.mean(-1))
    return {"L1": L1, "L2": torch.exp(-y * g1),
            "r": L1 * (torch.expm1(-y * (dp * c).sum(-1)) - torch.expm1(-y * g1))}


def factorisation_error(X, y, u, WQ, WK, misprint: bool = False) -> torch.Tensor:
    """``L - (1/n) sum_i L_{1,i} L_{2,i}`` (B,) without cancellation (:func:`factorisation_terms`)."""
    return factorisation_terms(X, y, u, WQ, WK, misprint)["r"].mean(-1)


def L2_factors(X, y, u, WQ, WK) -> torch.Tensor:
    """``L_{2,i}`` (B, n) of eq. (46)."""
    z, c = logits(X, WQ, WK), token_values(X, u)
    s = X.shape[-2]
    return torch.exp(-y * ((z / s - z.sum(-1, keepdim=True) / s**2) * c).sum(-1))


def u_of(WV: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor) -> torch.Tensor:
    return (WV @ W1 @ W2.unsqueeze(-1)).squeeze(-1)


def qk_gradients(loss_fn, X, y, u, WQ, WK, **kw) -> tuple[torch.Tensor, torch.Tensor]:
    """``(grad_{W_Q} L, grad_{W_K} L)`` per batch element (the batch losses are independent, so one
    backward)."""
    with torch.enable_grad():
        Q = WQ.detach().requires_grad_(True)
        K = WK.detach().requires_grad_(True)
        gQ, gK = torch.autograd.grad(loss_fn(X, y, u, Q, K, **kw).sum(), (Q, K))
    return gQ, gK


def outer_gradients(X, y, WV, W1, W2, WQ, WK, minus_L1: bool = True) -> tuple[torch.Tensor, ...]:
    """Gradients of the full loss w.r.t. ``W_V, W^{[1]}, W^{[2]}`` (minus those of ``Ltilde_1`` when
    asked)."""
    with torch.enable_grad():
        ps = [p.detach().requires_grad_(True) for p in (WV, W1, W2)]
        u = u_of(*ps)
        L = loss_full(X, y, u, WQ, WK) - (loss_L1(X, y, u) if minus_L1 else 0.0)
        return torch.autograd.grad(L.sum(), ps)


def train_qk(X, y, u, WQ0, WK0, t: torch.Tensor, *, kind: str = "full", rtol: float = 1e-11,
             atol: float = 1e-18) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient flow ``d(W_Q, W_K)/dt = -grad L`` with frozen outer weights, sampled at ``t`` ((T,) or (B,
    T)): (B, T, d, d) twice.

    ``kind``: ``"full"`` (softmax) or ``"factorised"`` (eq. (46)).
    """
    fn = {"full": loss_full, "factorised": loss_factorised}[kind]
    d = WQ0.shape[-1]

    def rhs(tt, yy, idx):
        Q = yy[:, : d * d].view(-1, d, d)
        K = yy[:, d * d:].view(-1, d, d)
        gQ, gK = qk_gradients(fn, X[idx], y[idx], u[idx], Q, K)
        return -torch.cat([gQ.flatten(1), gK.flatten(1)], dim=1)

    y0 = torch.cat([WQ0.flatten(1), WK0.flatten(1)], dim=1)
    return _split(solve_sampled(rhs, y0, t.to(WQ0), rtol=rtol, atol=atol), d)
