"""gong-2025 reconstructed model (see :mod:`twostage.theory.gong.setting`) and its SymPy-derived GD step.

Batched over seeds: ``W_P (S, d_p, d_p)``, ``W_Q (S, d_q, d_q)``, ``b (S,)``.

The training hot path is :func:`step_terms`: one *fused* GD step that computes the scores ``s^P, s^Q`` once
and derives the outputs, the loss dict of :func:`losses` and the gradient (from the lambdified SymPy
coefficients of :func:`twostage.theory.gong.setting.pair_coefficients`) from them. It makes two passes over
the token data (scores, then the gradient contraction; see :mod:`twostage.numerics.gong.cost`). The score
contraction ``s_l = (x_q^T W) x_l`` and the gradient ``(1/n) sum x_q (sum_l c_l x_l)^T`` are each one small
``bmm`` with ``W`` and one broadcast multiply-reduce over the context tokens.

>>> import torch
>>> from twostage.numerics.gong.data import GongConfig, sample
>>> cfg = GongConfig(d_p=3, d_q=3, L=4, n=5)
>>> g = torch.Generator().manual_seed(1)
>>> p, q, y = sample(cfg, 2, generator=g)
>>> params = init_params(cfg, 2, generator=g)
>>> ga, gb = gradients(params, p, q, y), autograd_gradients(params, p, q, y)
>>> all(torch.allclose(a, b, atol=1e-12) for a, b in zip(ga, gb))
True
>>> ls, _ = step_terms(params, p, q, y)
>>> all(torch.equal(ls[k], v) for k, v in losses(params, p, q, y).items())
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
import torch

from twostage.theory.gong import setting as th


def init_params(cfg, seeds: int, generator: torch.Generator | None = None, dtype=torch.float64, device="cpu"):
    WP = cfg.sigma0 * torch.randn(seeds, cfg.d_p, cfg.d_p, generator=generator, dtype=dtype)
    WQ = cfg.sigma0 * torch.randn(seeds, cfg.d_q, cfg.d_q, generator=generator, dtype=dtype)
    return WP.to(device), WQ.to(device), torch.zeros(seeds, dtype=dtype, device=device)


def _block_scores(W, x):
    """``s_l = x_q^T W x_l`` for one block ``x (S, n, L+1, d)``: ``a = x_q W`` (bmm), then ``x_l . a``."""
    a = torch.bmm(x[:, :, -1], W)
    return (x[:, :, :-1] * a[:, :, None, :]).sum(-1)


def _block_gradient(c, x):
    """``(1/n) sum_prompts x_q (sum_l c_l x_l)^T`` for coefficients ``c (S, n, L)`` and a block ``x``."""
    v = (x[:, :, :-1] * c[..., None]).sum(-2)
    return torch.bmm(x[:, :, -1].transpose(1, 2), v) / x.shape[1]


def scores(params, p, q):
    """``s^P_l = p^T W_P p_l`` and ``s^Q_l = q^T W_Q q_l``, shape ``(S, n, L)`` (query = last token)."""
    WP, WQ, _ = params
    return _block_scores(WP, p), _block_scores(WQ, q)


def _outputs(b, sP, sQ, y):
    L = sP.shape[-1]
    fP = (torch.relu(sP) * y[:, :, :-1]).sum(-1) / L
    fQ = b[:, None] - torch.relu(sQ).sum(-1) / L
    return fP, fQ


def outputs(params, p, q, y):
    """``(f_P, f_Q)`` with ``f_P = (1/L) sum y_l ReLU(s^P_l)``, ``f_Q = b - (1/L) sum ReLU(s^Q_l)``."""
    return _outputs(params[2], *scores(params, p, q), y)


def logistic(v):
    return torch.nn.functional.softplus(-v)


def _losses(fP, fQ, yq):
    return {"K": logistic(yq * (fP + fQ)).mean(1), "K_P": logistic(yq * fP).mean(1),
            "K_Q": logistic(yq * fQ).mean(1), "acc": ((yq * (fP + fQ)) > 0).to(fP.dtype).mean(1),
            "acc_P": ((yq * fP) > 0).to(fP.dtype).mean(1), "acc_Q": ((yq * fQ) > 0).to(fP.dtype).mean(1)}


def losses(params, p, q, y):
    """Per-seed mean losses: full ``K``, P-only ``K_P`` (f_P alone) and Q-only ``K_Q`` (f_Q alone), and
    accuracies."""
    return _losses(*outputs(params, p, q, y), y[:, :, -1])


def _exp(x):
    return torch.exp(torch.clamp(torch.as_tensor(x), max=700.0))  # e/(1+e) stays finite in float64


def _heaviside(x, *_):
    return (x > 0).to(x.dtype)


@lru_cache(maxsize=1)
def _coefficient_fns():
    """Lambdified SymPy coefficients ``dl/ds^P``, ``dl/ds^Q``, ``dl/db`` (theory.gong.setting)."""
    c = th.pair_coefficients()
    mods = [{"Heaviside": _heaviside, "exp": _exp}, "math"]
    args = (th.F, th.y, th.yl, th.sP, th.sQ, th.L)
    return tuple(sp.lambdify(args, c[k], modules=mods) for k in ("P", "Q", "b"))


def step_terms(params, p, q, y):
    """One fused GD step (gong-2025, reconstructed): ``(losses dict, (g_P, g_Q, g_b))`` from one score pass.

    The losses equal :func:`losses` bit for bit (same score and output code); the gradient of the per-seed
    mean loss ``K`` is assembled from the lambdified SymPy coefficients ``c_P, c_Q, c_b`` evaluated at those
    scores: ``g_B = (1/n) sum_prompts sum_l c_B(l) x_B x_{B,l}^T``, ``g_b = mean c_b`` (no autograd).
    """
    sP, sQ = scores(params, p, q)
    fP, fQ = _outputs(params[2], sP, sQ, y)
    yq = y[:, :, -1:]
    ls = _losses(fP, fQ, yq[..., 0])
    cP_fn, cQ_fn, cb_fn = _coefficient_fns()
    F = (fP + fQ)[..., None]
    Lc = sP.shape[-1]
    cP = cP_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cQ = cQ_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cb = cb_fn(F[..., 0], yq[..., 0], None, None, None, Lc)
    return ls, (_block_gradient(cP, p), _block_gradient(cQ, q), cb.mean(1))


def gradients(params, p, q, y):
    """Gradient of the per-seed mean loss from the SymPy-derived coefficients (no autograd; see
    :func:`step_terms`)."""
    return step_terms(params, p, q, y)[1]


def autograd_gradients(params, p, q, y):
    """Reference gradient by ``torch.autograd`` (sum over seeds of per-seed mean losses)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in params]
    K = losses(leaves, p, q, y)["K"].sum()
    return torch.autograd.grad(K, leaves)
