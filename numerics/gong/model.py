"""gong-2025 reconstructed model (see :mod:`twostage.theory.gong.setting`) and its SymPy-derived GD step.

Batched over seeds: ``W_P (S, d_p, d_p)``, ``W_Q (S, d_q, d_q)``, ``b (S,)``.

>>> import torch
>>> from twostage.numerics.gong.data import GongConfig, sample
>>> cfg = GongConfig(d_p=3, d_q=3, L=4, n=5)
>>> g = torch.Generator().manual_seed(1)
>>> p, q, y = sample(cfg, 2, generator=g)
>>> params = init_params(cfg, 2, generator=g)
>>> ga, gb = gradients(params, p, q, y), autograd_gradients(params, p, q, y)
>>> all(torch.allclose(a, b, atol=1e-12) for a, b in zip(ga, gb))
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


def scores(params, p, q):
    """``s^P_l = p^T W_P p_l`` and ``s^Q_l = q^T W_Q q_l``, shape ``(S, n, L)`` (query = last token)."""
    WP, WQ, _ = params
    sP = torch.einsum("snd,sde,snle->snl", p[:, :, -1], WP, p[:, :, :-1])
    sQ = torch.einsum("snd,sde,snle->snl", q[:, :, -1], WQ, q[:, :, :-1])
    return sP, sQ


def outputs(params, p, q, y):
    """``(f_P, f_Q)`` with ``f_P = (1/L) sum y_l ReLU(s^P_l)``, ``f_Q = b - (1/L) sum ReLU(s^Q_l)``."""
    sP, sQ = scores(params, p, q)
    L = sP.shape[-1]
    fP = (torch.relu(sP) * y[:, :, :-1]).sum(-1) / L
    fQ = params[2][:, None] - torch.relu(sQ).sum(-1) / L
    return fP, fQ


def logistic(v):
    return torch.nn.functional.softplus(-v)


def losses(params, p, q, y):
    """Per-seed mean losses: full ``K``, P-only ``K_P`` (f_P alone) and Q-only ``K_Q`` (f_Q alone), and
    accuracies."""
    fP, fQ = outputs(params, p, q, y)
    yq = y[:, :, -1]
    return {"K": logistic(yq * (fP + fQ)).mean(1), "K_P": logistic(yq * fP).mean(1),
            "K_Q": logistic(yq * fQ).mean(1), "acc": ((yq * (fP + fQ)) > 0).to(fP.dtype).mean(1),
            "acc_P": ((yq * fP) > 0).to(fP.dtype).mean(1), "acc_Q": ((yq * fQ) > 0).to(fP.dtype).mean(1)}


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


def gradients(params, p, q, y):
    """Gradient of the per-seed mean loss from the SymPy-derived coefficients (no autograd)."""
    cP_fn, cQ_fn, cb_fn = _coefficient_fns()
    sP, sQ = scores(params, p, q)
    fP, fQ = outputs(params, p, q, y)
    F = (fP + fQ)[..., None]
    yq = y[:, :, -1:]
    Lc = sP.shape[-1]
    n = p.shape[1]
    cP = cP_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cQ = cQ_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cb = cb_fn(F[..., 0], yq[..., 0], None, None, None, Lc)
    gP = torch.einsum("snl,snd,snle->sde", cP, p[:, :, -1], p[:, :, :-1]) / n
    gQ = torch.einsum("snl,snd,snle->sde", cQ, q[:, :, -1], q[:, :, :-1]) / n
    return gP, gQ, cb.mean(1)


def autograd_gradients(params, p, q, y):
    """Reference gradient by ``torch.autograd`` (sum over seeds of per-seed mean losses)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in params]
    K = losses(leaves, p, q, y)["K"].sum()
    return torch.autograd.grad(K, leaves)
