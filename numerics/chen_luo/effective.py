"""The effective stage-1 dynamics (7) of chen-luo-2025, batched: the field and its integration to fixed times.

PAPER, chen-luo-2025 Prop 1 (7): ``d theta_bar / d tbar = grad (v WV W1 W2)`` (gradient *ascent* on E).
In components (DERIVED, §2.3; the reduced variables close because ||v|| = 1):

    dWv = (W1 W2)^T,   dW1 = Wv^T W2^T,   dW2 = W1^T Wv^T,   dWV = v^T (W1 W2)^T,   dWQ = dWK = 0.

The reduced state is ``(Wv (B,d), W1 (B,d,d), W2 (B,d))`` packed as (B, d + d^2 + d); the full form adds
``WV`` (B,d,d) (state ``(WV, W1, W2)``, :func:`rhs_full`). The field is homogeneous of degree 2 and blows up
at a finite ``T*`` (Thm 1); integration to the blow-up is :mod:`twostage.numerics.chen_luo.blowup`.
"""

from __future__ import annotations

import math

import torch

from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.model import Params
from twostage.numerics.integrate import Solution, solve


def pack(Wv: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor) -> torch.Tensor:
    """(B, d), (B, d, d), (B, d) -> (B, d + d^2 + d)."""
    return torch.cat([Wv, W1.reshape(W1.shape[0], -1), W2], 1)


def unpack(z: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack` (views)."""
    b = z.shape[0]
    return z[:, :d], z[:, d:d + d * d].reshape(b, d, d), z[:, d + d * d:d + d * d + d]


def dim_of(n_state: int) -> int:
    """``d`` from the packed length ``d^2 + 2 d``."""
    d = int(round(math.sqrt(n_state + 1) - 1))
    if d * d + 2 * d != n_state:
        raise ValueError(f"state length {n_state} is not d^2 + 2d")
    return d


def field(z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The reduced vector field (7) on packed states (B, d^2 + 2d) (DERIVED, chen-luo-2025 §2.3), written
    into ``out`` (a (B, d^2 + 2d) tensor or row-strided view, e.g. an integrator stage) when given."""
    d = dim_of(z.shape[1])
    b = z.shape[0]
    Wv, W1, W2 = unpack(z, d)
    if out is None:
        out = torch.empty((b, z.shape[1]), dtype=z.dtype, device=z.device)  # filled in place, no cat
    torch.mul(Wv[:, :, None], W2[:, None, :], out=out[:, d:d + d * d].view(b, d, d))
    # (bmm into a strided ``out=`` view is about twice slower on CPU than bmm and a copy)
    out[:, :d] = torch.bmm(W1, W2[:, :, None])[:, :, 0]
    out[:, d + d * d:] = torch.bmm(Wv[:, None, :], W1)[:, 0, :]
    return out


def rhs(t: torch.Tensor, z: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """:func:`field` with the integrator's signature ``f(t, y, idx)`` (autonomous)."""
    return field(z)


def rhs_full(v: torch.Tensor):
    """Right-hand side of (7) on the full state ``(WV (B,d,d), W1, W2)`` packed as (B, 2 d^2 + d), with
    ``Wv = v WV`` (PAPER Prop 1 (7); components DERIVED §2.3). Only ``WV``'s component along ``v`` moves."""

    def f(t, z, idx):
        b = z.shape[0]
        d = v.shape[0]
        WV, W1, W2 = z[:, :d * d].reshape(b, d, d), z[:, d * d:2 * d * d].reshape(b, d, d), z[:, 2 * d * d:]
        Wv = torch.einsum("i,bij->bj", v.to(z), WV)
        dWv = torch.bmm(W1, W2[:, :, None])[:, :, 0]
        dWV = v.to(z)[None, :, None] * dWv[:, None, :]
        dW1 = Wv[:, :, None] * W2[:, None, :]
        dW2 = torch.bmm(Wv[:, None, :], W1)[:, 0, :]
        return torch.cat([dWV.reshape(b, -1), dW1.reshape(b, -1), dW2], 1)

    return f


def reduced_state(pbar: Params, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(Wv = v WV_bar, W1_bar, W2_bar)`` from normalised full-model parameters (PAPER eq. (8))."""
    return torch.einsum("i,bij->bj", v.to(pbar.WV), pbar.WV), pbar.W1, pbar.W2


def full_WV(WV0: torch.Tensor, v: torch.Tensor, Wv: torch.Tensor, Wv0: torch.Tensor) -> torch.Tensor:
    """``WV(t) = WV(0) + v^T (Wv(t) - Wv(0))``: the part orthogonal to v is frozen (DERIVED, §2.3).
    ``Wv`` may carry extra leading dims after the batch, e.g. (B, K, d); ``WV0`` (B, d, d), ``Wv0`` (B, d)."""
    extra = Wv.dim() - Wv0.dim()
    WV0 = WV0.reshape(WV0.shape[:1] + (1,) * extra + WV0.shape[1:])
    dv = Wv - Wv0.reshape(Wv0.shape[:1] + (1,) * extra + Wv0.shape[1:])
    return WV0 + v.to(Wv)[:, None] * dv[..., None, :]


def integrate(Wv, W1, W2, tbar_eval: torch.Tensor, *, rtol: float = 1e-10, atol: float = 1e-13,
              E_max: float = 1e12, max_steps: int = 100_000) -> Solution:
    """Integrate (7) in ``tbar`` itself up to ``max(tbar_eval)``, dense output at ``tbar_eval`` ((M,) or
    (B, M)). Meant for times below ``T*``; an element reaching ``E >= E_max`` first stops (status EVENT,
    its later ``y_eval`` stay NaN) rather than running into the singularity."""
    z0 = pack(Wv, W1, W2)
    d = Wv.shape[1]
    te = torch.as_tensor(tbar_eval, dtype=z0.dtype, device=z0.device)
    t1 = te.max(-1).values if te.dim() == 2 else te.max()
    ev = lambda t, z, idx: ob.energy(*unpack(z, d)) - E_max
    return solve(rhs, z0, 0.0, t1, rtol=rtol, atol=atol, t_eval=te, event=ev, max_steps=max_steps,
                 record=lambda t, z, idx: {}, on_failure="raise")








