"""chen-luo-2025 Stage 2 numerics: the matrix F of eq. (15) and the linear key-query law (14), batched.

Shapes: a batch of ``B`` problems; ``F`` (B, d, d); ``W_Q, W_K`` (B, d, d) in the paper's convention (tokens
are rows, ``z = X W_Q W_K^T X^T / sqrt(d)``); times ``t`` (T,). Everything is float64 for theorem checks.

* :func:`F_from_weights` -- eq. (15) from data and outer weights (PAPER, chen-luo-2025 Prop 3 (15)).
* :func:`F_with_singular_values` -- ``U diag(sigma) V^T`` with prescribed (possibly tied) singular values, for
  property tests that must control the multiplicity of ``sigma_1``.
* :func:`closed_form` / :func:`closed_form_scaled` -- the cosh/sinh solution of (14) (DERIVED, App. A.5); the
  scaled version returns ``e^{-sigma_1 t} W(t)`` without overflow, for long horizons.
* :func:`integrate_linear` -- (14) integrated by the shared adaptive Dormand-Prince solver (independent of the
SVD).
* :func:`predicted_limits` -- ``u_1 c_hat``, ``v_1 c_hat``, ``u_1 v_1^T`` (DERIVED limits of Thm 3).

>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> F = F_with_singular_values(torch.tensor([[2.0, 1.0, 0.5]], dtype=torch.float64), g)
>>> [round(v, 12) for v in torch.linalg.svdvals(F)[0].tolist()]
[2.0, 1.0, 0.5]
>>> WQ0, WK0 = 1e-3 * torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
>>> t = torch.linspace(0, 1, 5, dtype=torch.float64)
>>> WQ, WK = closed_form(F, WQ0, WK0, t)
>>> num = integrate_linear(F, WQ0, WK0, t)
>>> bool(torch.allclose(WQ, num[0], rtol=1e-9, atol=1e-15))
True
"""

from __future__ import annotations

import math

import torch

from twostage.numerics.integrate import solve


# ------------------------------------------------------------------ F of eq. (15)
def token_scatter(X: torch.Tensor) -> torch.Tensor:
    """``S_i = sum_j X_{i,j}^T (X_{i,j} - Xbar_i)`` for ``X`` (..., n, s, d): (..., n, d, d) (symmetric
    PSD)."""
    Xc = X - X.mean(dim=-2, keepdim=True)
    return torch.einsum("...sd,...se->...de", X, Xc)


def L1_factors(X: torch.Tensor, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``L_{1,i} = exp(-y_i (1/s) sum_j X_{i,j} u)`` for ``X`` (B, n, s, d), ``y`` (B, n), ``u`` (B, d)."""
    g0 = torch.einsum("bnsd,bd->bn", X, u) / X.shape[-2]
    return torch.exp(-y * g0)


def F_from_u(X: torch.Tensor, y: torch.Tensor, u: torch.Tensor,
             weights: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. (15) with ``u = W_V W^{[1]} W^{[2]}``: ``(1/(n s sqrt d)) sum_i y_i L_{1,i} X_{i,s}^T u^T S_i``.

    ``weights`` (B, n) multiplies each sample's term (e.g. ``L_{2,i}`` for the exact gradient of (46)).
    """
    B, n, s, d = X.shape
    w = y * L1_factors(X, y, u) * (1.0 if weights is None else weights)
    uS = torch.einsum("bd,bnde->bne", u, token_scatter(X))
    return torch.einsum("bn,bnd,bne->bde", w, X[:, :, -1, :], uS) / (n * s * math.sqrt(d))


def F_from_weights(X: torch.Tensor, y: torch.Tensor, WV: torch.Tensor, W1: torch.Tensor,
                   W2: torch.Tensor) -> torch.Tensor:
    """Eq. (15) from the outer weights ``W_V`` (B, d, d), ``W^{[1]}`` (B, d, d), ``W^{[2]}`` (B, d)."""
    u = (WV @ W1 @ W2.unsqueeze(-1)).squeeze(-1)
    return F_from_u(X, y, u)


# ------------------------------------------------------------------ constructive F
def random_orthogonal(B: int, d: int, gen: torch.Generator, dtype=torch.float64,
                      device="cpu") -> torch.Tensor:
    """Haar-distributed orthogonal matrices (QR of a Gaussian with the sign fix)."""
    G = torch.randn(B, d, d, generator=gen, dtype=dtype).to(device)
    Q, R = torch.linalg.qr(G)
    return Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1)).unsqueeze(-2)


def F_with_singular_values(sigma: torch.Tensor, gen: torch.Generator, device="cpu") -> torch.Tensor:
    """``F = U diag(sigma) V^T`` with Haar ``U, V``; ``sigma`` (B, d) non-increasing, ties allowed."""
    B, d = sigma.shape
    U = random_orthogonal(B, d, gen, sigma.dtype, device)
    V = random_orthogonal(B, d, gen, sigma.dtype, device)
    return U @ torch.diag_embed(sigma.to(device)) @ V.transpose(-1, -2)


# ------------------------------------------------------------------ the linear law (14)
def svd(F: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``U, sigma, V`` with ``F = U diag(sigma) V^T`` (sigma descending)."""
    U, S, Vh = torch.linalg.svd(F)
    return U, S, Vh.transpose(-1, -2)


def _rotated(F, WQ0, WK0):
    U, S, V = svd(F)
    return U, S, V, U.transpose(-1, -2) @ WQ0, V.transpose(-1, -2) @ WK0


def _times(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Times ``(T,)`` shared or ``(B, T)`` per element, as a (B or 1, T, 1) tensor."""
    t = t.to(like)
    return (t.unsqueeze(0) if t.dim() == 1 else t).unsqueeze(-1)


def closed_form(F: torch.Tensor, WQ0: torch.Tensor, WK0: torch.Tensor,
                t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``W_Q(t), W_K(t)`` (B, T, d, d) of (14): ``U[cosh(St) A0 + sinh(St) B0]``, ``V[sinh(St) A0 + cosh(St)
    B0]``."""
    U, S, V, A0, B0 = _rotated(F, WQ0, WK0)
    st = S.unsqueeze(1) * _times(t, S)  # (B, T, d)
    ch, sh = torch.cosh(st).unsqueeze(-1), torch.sinh(st).unsqueeze(-1)
    A = ch * A0.unsqueeze(1) + sh * B0.unsqueeze(1)
    Bm = sh * A0.unsqueeze(1) + ch * B0.unsqueeze(1)
    return U.unsqueeze(1) @ A, V.unsqueeze(1) @ Bm


def closed_form_scaled(F: torch.Tensor, WQ0: torch.Tensor, WK0: torch.Tensor,
                       t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``e^{-sigma_1 t} W_Q(t)``, ``e^{-sigma_1 t} W_K(t)`` -- overflow-free for any horizon.

    Row ``k`` of the rotated state is ``((e^{-(s1-sk)t} + e^{-(s1+sk)t}) A0_k + (e^{-(s1-sk)t} -
    e^{-(s1+sk)t}) B0_k)/2``.
    """
    U, S, V, A0, B0 = _rotated(F, WQ0, WK0)
    tt = _times(t, S)
    s1 = S[:, :1].unsqueeze(1)
    em = torch.exp(-(s1 - S.unsqueeze(1)) * tt)
    ep = torch.exp(-(s1 + S.unsqueeze(1)) * tt)
    ch, sh = ((em + ep) / 2).unsqueeze(-1), ((em - ep) / 2).unsqueeze(-1)
    A = ch * A0.unsqueeze(1) + sh * B0.unsqueeze(1)
    Bm = sh * A0.unsqueeze(1) + ch * B0.unsqueeze(1)
    return U.unsqueeze(1) @ A, V.unsqueeze(1) @ Bm


def linear_rhs(F: torch.Tensor):
    """Right-hand side of (14) on the flat state ``[vec W_Q, vec W_K]`` for the shared solver."""
    d = F.shape[-1]

    def rhs(t, y, idx):
        Fi = F[idx]
        WQ = y[:, : d * d].view(-1, d, d)
        WK = y[:, d * d:].view(-1, d, d)
        return torch.cat([(Fi @ WK).flatten(1), (Fi.transpose(-1, -2) @ WQ).flatten(1)], dim=1)

    return rhs


def integrate_linear(F: torch.Tensor, WQ0: torch.Tensor, WK0: torch.Tensor, t: torch.Tensor, *,
                     rtol: float = 1e-12, atol: float = 1e-18) -> tuple[torch.Tensor, torch.Tensor]:
    """(14) by the adaptive Dormand-Prince solver, sampled at ``t`` ((T,) or (B, T), dense output);
    returns (B, T, d, d) twice."""
    y0 = torch.cat([WQ0.flatten(1), WK0.flatten(1)], dim=1)
    return _split(solve_sampled(linear_rhs(F), y0, t.to(F), rtol=rtol, atol=atol), F.shape[-1])


def solve_sampled(rhs, y0: torch.Tensor, t: torch.Tensor, *, rtol: float, atol: float) -> torch.Tensor:
    """Shared-solver run from ``t[..., 0]`` to ``t[..., -1]`` (per element when ``t`` is (B, T)); states at
    ``t``."""
    t0, t1 = (t[0], t[-1]) if t.dim() == 1 else (t[:, 0], t[:, -1])
    sol = solve(rhs, y0, t0, t1, rtol=rtol, atol=atol, t_eval=t, max_steps=200_000)
    ye = sol.y_eval.clone()  # (B, T, N)
    ye[:, 0] = y0  # the first sample is the initial time
    return ye


def _split(ye: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    return ye[..., : d * d].unflatten(-1, (d, d)), ye[..., d * d:].unflatten(-1, (d, d))


def predicted_limits(F: torch.Tensor, WQ0: torch.Tensor, WK0: torch.Tensor) -> dict[str, torch.Tensor]:
    """DERIVED limits for a simple ``sigma_1``: ``u_1 c_hat``, ``v_1 c_hat``, ``u_1 v_1^T`` with
    ``c = u_1^T W_Q(0) + v_1^T W_K(0)`` (independent of the SVD sign convention)."""
    U, S, V = svd(F)
    u1, v1 = U[..., :, 0], V[..., :, 0]
    c = torch.einsum("bd,bde->be", u1, WQ0) + torch.einsum("bd,bde->be", v1, WK0)
    ch = c / c.norm(dim=-1, keepdim=True)
    return {"WQ": torch.einsum("bd,be->bde", u1, ch), "WK": torch.einsum("bd,be->bde", v1, ch),
            "WQWK": torch.einsum("bd,be->bde", u1, v1), "c_norm": c.norm(dim=-1), "sigma": S}
