"""The one-layer transformer of chen-luo-2025 Def. 3, eqs (1)-(3), batched over ``B`` parameter sets.

PAPER, chen-luo-2025 Def 3 (1)-(2) and (3): with tokens as row vectors,

    f(X) = tanh(Attn(X) W1) W2,     Attn(X) = softmax_row(X WQ WK^T X^T / sqrt(d)) X WV,
    L(theta) = (1/n) sum_i exp(-y_i f(X_i)_s)        (only the last position enters the loss).

Parameters carry a leading batch dimension: ``WQ, WK, WV, W1`` (B, d, d), ``W2`` (B, d). The batch
elements are independent, so ``autograd`` of the *summed* loss gives every element's own gradient.
The softmax is written out (``exp(s - max) / sum``) so the same code runs on complex parameters for the
complex-step derivative check.

>>> import torch
>>> from twostage.numerics.chen_luo.data import DataConfig, make_data
>>> from twostage.numerics.chen_luo.model import Params, loss
>>> ds = make_data(DataConfig(4, 3, 2))
>>> p = Params.zeros(B=5, d=2)
>>> loss(p, ds.X, ds.y).tolist()      # f = 0 gives exp(0) = 1
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch


class Params(NamedTuple):
    """Batched parameters of Def. 3: ``WQ, WK, WV, W1`` (B, d, d) and ``W2`` (B, d) (a column per element)."""

    WQ: torch.Tensor
    WK: torch.Tensor
    WV: torch.Tensor
    W1: torch.Tensor
    W2: torch.Tensor

    @property
    def B(self) -> int:
        return self.W2.shape[0]

    @property
    def d(self) -> int:
        return self.W2.shape[1]

    @classmethod
    def zeros(cls, B: int, d: int, dtype=torch.float64, device="cpu") -> Params:
        z = lambda *s: torch.zeros(*s, dtype=dtype, device=device)
        return cls(z(B, d, d), z(B, d, d), z(B, d, d), z(B, d, d), z(B, d))

    def flat(self) -> torch.Tensor:
        """Concatenate to a (B, 4 d^2 + d) state vector (order WQ, WK, WV, W1, W2)."""
        return torch.cat([t.reshape(self.B, -1) for t in self], 1)

    @classmethod
    def unflat(cls, z: torch.Tensor, d: int) -> Params:
        """Inverse of :meth:`flat` (views into ``z``)."""
        b, q = z.shape[0], d * d
        m = [z[:, k * q:(k + 1) * q].reshape(b, d, d) for k in range(4)]
        return cls(*m, z[:, 4 * q:4 * q + d])

    def scale(self, c: float) -> Params:
        return Params(*(c * t for t in self))

    def index(self, idx) -> Params:
        return Params(*(t[idx] for t in self))


def _softmax(s: torch.Tensor) -> torch.Tensor:
    """Row softmax over the last axis; works for complex input (shift by the real part's max)."""
    m = (s.real if s.is_complex() else s).amax(-1, keepdim=True)
    e = torch.exp(s - m)
    return e / e.sum(-1, keepdim=True)


def _as_dtype(X: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return X.to(device=like.device, dtype=like.dtype)


def attention(p: Params, X: torch.Tensor, last_only: bool = False) -> torch.Tensor:
    """``Attn(X)`` of eq. (2) for every sample and batch element: (B, n, s, d), or (B, n, d) for the last
    token only (``last_only``). ``X`` is (n, s, d) shared by the batch, or (B, n, s, d)."""
    X = _as_dtype(X, p.WQ)
    d = p.d
    b = "b" if X.dim() == 4 else ""  # per-element data carries the batch index
    XK = torch.einsum(f"{b}nsk,bkl->bnsl", X, p.WK)  # rows X_ij WK
    XV = torch.einsum(f"{b}nsk,bkl->bnsl", X, p.WV)
    if last_only:
        q = torch.einsum(f"{b}nk,bkl->bnl", X[..., -1, :], p.WQ)  # X_is WQ
        A = _softmax(torch.einsum("bnl,bnjl->bnj", q, XK) / math.sqrt(d))
        return torch.einsum("bnj,bnjl->bnl", A, XV)
    q = torch.einsum(f"{b}nsk,bkl->bnsl", X, p.WQ)
    A = _softmax(torch.einsum("bnil,bnjl->bnij", q, XK) / math.sqrt(d))
    return torch.einsum("bnij,bnjl->bnil", A, XV)


def forward(p: Params, X: torch.Tensor) -> torch.Tensor:
    """All outputs ``f(X)`` of eq. (1): (B, n, s)."""
    H = torch.tanh(torch.einsum("bnsk,bkl->bnsl", attention(p, X), p.W1))
    return torch.einsum("bnsl,bl->bns", H, p.W2)


def output_last(p: Params, X: torch.Tensor) -> torch.Tensor:
    """``f(X_i)_s`` (B, n): the last-token output, the only one that enters the loss (3)."""
    H = torch.tanh(torch.einsum("bnk,bkl->bnl", attention(p, X, last_only=True), p.W1))
    return torch.einsum("bnl,bl->bn", H, p.W2)


def loss(p: Params, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exponential loss (3), ``(1/n) sum_i exp(-y_i f(X_i)_s)``, one value per batch element: (B,)."""
    q = _as_dtype(y, p.WQ) * output_last(p, X)
    return torch.exp(-q).mean(1)


def grad_autograd(p: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """Loss (B,) and its gradient with respect to every parameter (same shapes as ``p``), by autograd of the
    summed loss (batch elements are independent, so each gets its own gradient). The reference for
    :func:`.backprop.grad_exact`; also serves per-element data (B, n, s, d) and complex parameters."""
    with torch.enable_grad():
        leaves = Params(*(t.detach().requires_grad_(True) for t in p))
        L = loss(leaves, X, y)
        g = torch.autograd.grad(L.sum(), list(leaves))
    return L.detach(), Params(*g)


def grad(p: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """Loss (B,) and gradient of (3): the hand-derived reverse mode :func:`.backprop.grad_exact` for data
    shared by the batch (n, s, d) and real parameters, :func:`grad_autograd` otherwise."""
    if X.dim() == 3 and not p.WQ.is_complex():
        from twostage.numerics.chen_luo.backprop import grad_exact

        return grad_exact(p, X, y)
    return grad_autograd(p, X, y)
