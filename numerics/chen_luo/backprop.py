"""Hand-derived reverse mode of the chen-luo-2025 loss (3) for the one-layer model of Def. 3, batched.

PAPER, chen-luo-2025 Def 3, eqs (1)-(3); only the last position enters the loss. For one parameter set
and sample ``i`` (tokens ``x_ij`` are the rows of ``X_i``, ``c = 1/sqrt(d)``):

    q_i = x_is WQ,  r_i = q_i WK^T,  a_ij = c x_ij . r_i,  A_i = softmax(a_i),  xbar_i = sum_j A_ij x_ij,
    o_i = xbar_i WV,  h_i = tanh(o_i W1),  f_i = h_i . W2,  L = (1/n) sum_i exp(-y_i f_i).

DERIVED (chain rule; checked against autograd and the complex-step derivative in the tests), with
``g_i = -y_i exp(-y_i f_i) / n``, ``M = WQ WK^T`` and ``N = WV W1`` (the loss sees ``WQ, WK`` and
``WV, W1`` only through these products):

    r_i = x_is M,   o_i W1 = xbar_i N,   dW2 = sum_i g_i h_i,   du_i = g_i W2 * (1 - h_i^2),
    G = sum_i xbar_i^T du_i,   dW1 = WV^T G,   dWV = G W1^T,   dA_ij = x_ij . (du_i N^T),
    da_ij = c A_ij (dA_ij - sum_k A_ik dA_ik),   z_i = sum_j da_ij x_ij,   H = sum_i x_is^T z_i,
    dWQ = H WK,   dWK = H^T WQ.

Per sample this costs 5 ``d x d`` products (two of them, ``x_s M`` and ``H``, one GEMM each against the
data shared by the batch) and 4 ``s x d`` data contractions; per element 6 ``d x d x d`` products: in
all ``n (10 d^2 + 8 s d + 4 d) + 12 d^3`` multiply-add FLOPs (:func:`flops_per_element`), about a fifth
of the autograd graph of :mod:`.model` at ``n = 16, s = d = 8``. ``X WK`` and ``X WV`` (``s d^2`` per
sample) are never formed. Contractions against the data are one ``bmm`` over samples with the batch as
the wide dimension.

>>> import torch
>>> from twostage.numerics.chen_luo.data import DataConfig, make_data
>>> from twostage.numerics.chen_luo.init import InitConfig, init_params
>>> from twostage.numerics.chen_luo.model import grad_autograd
>>> ds = make_data(DataConfig(5, 3, 4, seed=1))
>>> p = init_params(InitConfig(d=4, eps=0.5, B=3, seed=2))
>>> L, g = grad_exact(p, ds.X, ds.y)
>>> La, ga = grad_autograd(p, ds.X, ds.y)
>>> max(float((u - v).abs().max()) for u, v in zip(g, ga)) < 1e-15, bool(torch.allclose(L, La))
(True, True)
>>> flops_per_element(n=16, s=8, d=8)
25088
"""

from __future__ import annotations

import math

import torch


def flops_per_element(n: int, s: int, d: int) -> int:
    """Multiply-add FLOPs (2 per product term) of one element's forward + backward over ``n`` samples in
    the association of this module: per sample 5 ``d x d`` products, 4 ``s x d`` data contractions and
    the ``W2`` products of ``f`` and ``dW2``; per element the 6 ``d x d x d`` products (M, N, dW1, dWV,
    dWQ, dWK)."""
    return n * (10 * d * d + 8 * s * d + 4 * d) + 12 * d ** 3


def _rows_dot_data(X: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``out[i, j, b] = x_ij . v[b, i]`` in the (n, s, B) layout: one ``bmm`` over samples,
    (n, s, d) @ (n, d, B); the softmax over ``j`` then runs over a strided axis with ``B`` contiguous."""
    return torch.bmm(X, v.permute(1, 2, 0))


def _weighted_rows(w: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """``out[b, i] = sum_j w[i, j, b] x_ij``: one ``bmm`` over samples, (n, B, s) @ (n, s, d); returned as
    a (B, n, d) view of the (n, B, d) result (``bmm`` reads it through its strides, no copy)."""
    return torch.bmm(w.transpose(1, 2), X).transpose(0, 1)


def _shared_left(xs: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``out[b] = xs W[b]`` (B, m, e) for ``xs`` (m, k) shared by the batch and ``W`` (B, k, e), as one GEMM
    (m, k) @ (k, B e) instead of ``B`` tiny products."""
    B, d, e = W.shape
    return (xs @ W.transpose(0, 1).reshape(d, B * e)).view(-1, B, e).transpose(0, 1)


def _tanh(u: torch.Tensor) -> torch.Tensor:
    """``tanh`` as ``e / (e + 2)``, ``e = expm1(2u)`` (|u| clamped at 20, where tanh is 1 in float64):
    within a few ulp of ``torch.tanh`` (tested) and about three times faster for float64 on CPU."""
    e = torch.expm1(u.clamp(-20.0, 20.0).mul_(2.0))
    return e.div_(e + 2.0)


def grad_exact(p, X: torch.Tensor, y: torch.Tensor):
    """Loss (B,) and gradient (a :class:`~twostage.numerics.chen_luo.model.Params`) of (3) for data ``X``
    (n, s, d) shared by the batch; real dtypes only (use :func:`.model.grad_autograd` otherwise)."""
    from twostage.numerics.chen_luo.model import Params

    X = X.to(device=p.WQ.device, dtype=p.WQ.dtype)
    y = y.to(device=p.WQ.device, dtype=p.WQ.dtype)
    n, d = X.shape[0], X.shape[-1]
    c = 1.0 / math.sqrt(d)
    tr = lambda t: t.transpose(-1, -2)
    xs = X[:, -1, :]                                             # (n, d) last tokens
    M = torch.bmm(p.WQ, tr(p.WK))                                # WQ WK^T
    N = torch.bmm(p.WV, p.W1)                                    # WV W1
    A = torch.softmax(_rows_dot_data(X, _shared_left(xs, M)).mul_(c), 1)   # (n, s, B)
    xbar = _weighted_rows(A, X)                                  # (B, n, d)
    h = _tanh(torch.bmm(xbar, N))
    f = torch.bmm(h, p.W2.unsqueeze(-1)).squeeze(-1)             # (B, n)
    ell = torch.exp(-y * f)
    g = ell.mul(y).mul_(-1.0 / n)                                # dL/df_i
    dW2 = torch.bmm(g.unsqueeze(1), h).squeeze(1)
    du = torch.addcmul(torch.ones_like(h), h, h, value=-1.0).mul_(g.unsqueeze(-1)).mul_(p.W2.unsqueeze(1))
    G = torch.bmm(tr(xbar), du)
    dA = _rows_dot_data(X, torch.bmm(du, tr(N)))                 # (n, s, B)
    da = dA.sub_((A * dA).sum(1, keepdim=True)).mul_(A).mul_(c)
    z = _weighted_rows(da, X)                                    # (B, n, d) view of (n, B, d)
    H = _shared_left(xs.T, z)                                    # sum_i x_is^T z_i, one GEMM
    dWQ, dWK = torch.bmm(H, p.WK), torch.bmm(tr(H), p.WQ)
    dW1, dWV = torch.bmm(tr(p.WV), G), torch.bmm(G, tr(p.W1))
    return ell.mean(1), Params(dWQ, dWK, dWV, dW1, dW2)
