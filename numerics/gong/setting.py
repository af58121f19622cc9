"""gong-2025 reconstructed setting, numerically: configuration, batched data sampler, model and its
SymPy-derived GD step (the symbolic side is :mod:`twostage.theory.gong.setting`).

**Data** (RECONSTRUCTED from the official notebook's toy sampler, ``docs/papers/gong_2025.md`` §2.2).

Configuration and batched sampler: tensors have a leading seed dimension ``S`` (one independent data set per
seed). A prompt has ``L`` context tokens and one query (index ``-1`` on the token axis).

* P part (dim ``d_p``): ``p = gamma0 y w* + sigma z``, ``z ~ N(0, I)`` conditioned on ``y <w*, z> >= 0``
  (sampled exactly by reflecting the ``w*`` coordinate), ``w* = e_1``.
* Q part (dim ``d_q``): ``q = sigma z'`` for ``y = +1``; ``q = sigma z' +- zeta 1`` for ``y = -1``
  (sign uniform), i.e. the scalar ``zeta`` added to / subtracted from every coordinate as in the notebook.

>>> cfg = GongConfig(d_p=4, d_q=4, L=5, n=3)
>>> p, q, y = sample(cfg, seeds=2, generator=torch.Generator().manual_seed(0))
>>> tuple(p.shape), tuple(q.shape), tuple(y.shape)
((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6))
>>> bool(((y[..., None] * p)[..., 0] >= cfg.gamma0).all())
True

**Model** (:mod:`twostage.theory.gong.setting`) and its SymPy-derived GD step.

Batched over seeds: ``W_P (S, d_p, d_p)``, ``W_Q (S, d_q, d_q)``, ``b (S,)``.

The training hot path is :func:`step_terms`: one *fused* GD step that computes the scores ``s^P, s^Q`` once
and derives the outputs, the loss dict of :func:`losses` and the gradient (from the lambdified SymPy
coefficients of :func:`twostage.theory.gong.setting.pair_coefficients`) from them. It makes two passes over
the token data (scores, then the gradient contraction; see :mod:`twostage.numerics.gong.cost`). The score
contraction ``s_l = (x_q^T W) x_l`` and the gradient ``(1/n) sum x_q (sum_l c_l x_l)^T`` are each one small
``bmm`` with ``W`` and one broadcast multiply-reduce over the context tokens.

>>> import torch
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

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
import torch

from twostage.numerics.config import require
from twostage.theory.gong import setting as th


@dataclass(frozen=True)
class GongConfig:
    """Reconstructed synthetic setting (all fields RECONSTRUCTED; the paper's values are not retrievable)."""

    d_p: int = 16
    d_q: int = 16
    L: int = 16  # context tokens per prompt
    n: int = 128  # training prompts per seed
    gamma0: float = 1.0
    zeta: float = 0.4
    sigma: float = 1.0
    sigma0: float = 1e-3  # initialisation scale
    eta1: float = 0.2
    anneal: float = 0.1  # eta2 = anneal * eta1
    eps1: float = 0.05  # stage 1 ends when the P-only loss first reaches eps1
    steps: int = 600
    n_test: int = 512

    def __post_init__(self) -> None:
        require(self.d_p >= 1 and self.d_q >= 1 and self.L >= 1 and self.n >= 1, "gong-2025/ass/data",
                "dimensions, prompt length and sample size must be >= 1")
        require(self.gamma0 > 0 and self.zeta > 0 and self.sigma > 0, "gong-2025/ass/data",
                f"gamma0, zeta, sigma must be > 0 (got {self.gamma0}, {self.zeta}, {self.sigma})")
        require(self.sigma0 > 0, "gong-2025/ass/schedule", "sigma0 must be > 0")
        require(self.eta1 > 0 and 0 < self.anneal <= 1, "gong-2025/ass/schedule",
                f"need eta1 > 0 and 0 < anneal <= 1 (got {self.eta1}, {self.anneal})")
        require(0 < self.eps1 < 0.6931, "gong-2025/ass/schedule", "eps1 must be in (0, log 2)")
        require(self.steps >= 1 and self.n_test >= 1, "gong-2025/ass/schedule",
                "steps and n_test must be >= 1")

    @property
    def eta2(self) -> float:
        return self.anneal * self.eta1


def sample(cfg: GongConfig, seeds: int, n: int | None = None, generator: torch.Generator | None = None,
           device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64):
    """``(p, q, y)`` of shapes ``(S, n, L+1, d_p)``, ``(S, n, L+1, d_q)``, ``(S, n, L+1)``."""
    n = cfg.n if n is None else n
    shape = (seeds, n, cfg.L + 1)
    y = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64).to(dtype) * 2 - 1
    z = torch.randn(*shape, cfg.d_p, generator=generator, dtype=dtype)
    z[..., 0] = y * z[..., 0].abs()  # exact draw of z | y<w*,z> >= 0 (reflection), w* = e_1
    p = cfg.sigma * z
    p[..., 0] += cfg.gamma0 * y
    side = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64).to(dtype) * 2 - 1
    q = cfg.sigma * torch.randn(*shape, cfg.d_q, generator=generator, dtype=dtype)
    q += (cfg.zeta * side * (y < 0).to(dtype))[..., None]
    return p.to(device), q.to(device), y.to(device)


def w_star(cfg: GongConfig, dtype=torch.float64, device="cpu") -> torch.Tensor:
    w = torch.zeros(cfg.d_p, dtype=dtype, device=device)
    w[0] = 1.0
    return w


def u_zeta(cfg: GongConfig, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Unit vector along the cluster shift ``zeta 1``."""
    return torch.full((cfg.d_q,), cfg.d_q ** -0.5, dtype=dtype, device=device)


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
