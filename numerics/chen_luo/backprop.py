"""Hand-derived reverse mode of the chen-luo-2025 loss (3) for the one-layer model of Def. 3, batched.

PAPER, chen-luo-2025 Def 3, eqs (1)-(3); only the last position enters the loss. For one parameter set
and sample ``i`` (tokens ``x_ij`` are the rows of ``X_i``, ``c = 1/sqrt(d)``):

    q_i = x_is WQ,  r_i = q_i WK^T,  a_ij = c x_ij . r_i,  A_i = softmax(a_i),  xbar_i = sum_j A_ij x_ij,
    o_i = xbar_i WV,  h_i = tanh(o_i W1),  f_i = h_i . W2,  L = (1/n) sum_i exp(-y_i f_i).

DERIVED (chain rule; checked against autograd and the complex-step derivative in the tests), with
``g_i = -y_i exp(-y_i f_i) / n``:

    dW2 = sum_i g_i h_i,            du_i = g_i W2 * (1 - h_i^2),    dW1 = sum_i o_i^T du_i,
    do_i = du_i W1^T,               dWV = sum_i xbar_i^T do_i,      dA_ij = x_ij . (do_i WV^T),
    da_ij = c A_ij (dA_ij - sum_k A_ik dA_ik),  z_i = sum_j da_ij x_ij,
    dWK = sum_i z_i^T q_i,          dWQ = sum_i x_is^T (z_i WK).

The association never forms ``X WK`` or ``X WV`` (``s d^2`` per sample): every product is either a
``d x d`` product per sample or an ``s x d`` contraction against the shared data, so a gradient costs
``22 d^2 + 8 s d + 4 d`` multiply-add FLOPs per sample (:func:`flops_per_sample`), about a quarter of
the autograd graph of :mod:`.model` at ``s = d = 8``. Contractions against the data ``X`` (shared by
the batch) are one ``bmm`` over samples with the batch as the wide dimension.

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
>>> flops_per_sample(s=8, d=8)
1952
"""

from __future__ import annotations

import math

import torch


def flops_per_sample(s: int, d: int) -> int:
    """Multiply-add FLOPs (2 per product term) of one sample's forward + backward in the association of
    this module: 11 ``d x d`` products (4 forward, 7 backward), 4 ``s x d`` data contractions, and the
    ``W2`` products of ``f`` and ``dW2``."""
    return 22 * d * d + 8 * s * d + 4 * d


def _rows_dot_data(X: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``out[i, j, b] = x_ij . v[b, i]`` in the (n, s, B) layout: one ``bmm`` over samples,
    (n, s, d) @ (n, d, B); the softmax over ``j`` then runs over a strided axis with ``B`` contiguous."""
    return torch.bmm(X, v.permute(1, 2, 0))


def _weighted_rows(w: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """``out[b, i] = sum_j w[i, j, b] x_ij``: one ``bmm`` over samples, (n, B, s) @ (n, s, d); returned as
    a (B, n, d) view of the (n, B, d) result (``bmm`` reads it through its strides, no copy)."""
    return torch.bmm(w.transpose(1, 2), X).transpose(0, 1)


def _shared_left(xs: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``out[b] = xs W[b]`` (B, n, d) as one GEMM (n, d) @ (d, B d) instead of ``B`` tiny products."""
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
    q = _shared_left(xs, p.WQ)                                   # (B, n, d)
    A = torch.softmax(_rows_dot_data(X, torch.bmm(q, tr(p.WK))).mul_(c), 1)   # (n, s, B)
    xbar = _weighted_rows(A, X)                                  # (B, n, d)
    o = torch.bmm(xbar, p.WV)
    h = _tanh(torch.bmm(o, p.W1))
    f = torch.bmm(h, p.W2.unsqueeze(-1)).squeeze(-1)             # (B, n)
    ell = torch.exp(-y * f)
    g = ell.mul(y).mul_(-1.0 / n)                                # dL/df_i
    dW2 = torch.bmm(g.unsqueeze(1), h).squeeze(1)
    du = torch.addcmul(torch.ones_like(h), h, h, value=-1.0).mul_(g.unsqueeze(-1)).mul_(p.W2.unsqueeze(1))
    dW1 = torch.bmm(tr(o), du)
    do = torch.bmm(du, tr(p.W1))
    dWV = torch.bmm(tr(xbar), do)
    dA = _rows_dot_data(X, torch.bmm(do, tr(p.WV)))              # (n, s, B)
    da = dA.sub_((A * dA).sum(1, keepdim=True)).mul_(A).mul_(c)
    z = _weighted_rows(da, X)
    dWK = torch.bmm(tr(z), q)
    zWK = torch.bmm(z, p.WK).transpose(0, 1).reshape(n, -1)      # (n, B d)
    dWQ = (xs.T @ zWK).view(d, -1, d).transpose(0, 1)            # sum_i x_is^T (z_i WK)
    return ell.mean(1), Params(dWQ, dWK, dWV, dW1, dW2)
