"""gong-2025 derived signals, numerically: the computations the ``gong-2025/derived/*`` claims are judged on.

The formulas are the companion's derivations for the reconstructed setting
(:mod:`twostage.theory.gong.signals`, DERIVED; the paper's own statements are not retrievable,
``docs/papers/gong_2025.md``):

* :func:`antithetic_init_gradient` -- per-prompt gradients at a symmetric small initialisation, averaged over
  the antithetic pair ``(W_0, -W_0)`` (the Monte-Carlo side of ``derived/init-gradient``);
* :func:`p_loss_curve` and :func:`first_hit` -- the P-only loss under a constant stage-1 rate and the first GD
  step at which it reaches a level (``T_P(eps)`` of ``derived/stage1-time`` and ``-scaling``);
* :func:`t_estimate` -- the first-order estimate ``t_P(eps) = 8 log(1/(e^eps - 1)) / (eta1 m1^4)`` as a float,
  which sizes those runs (how many steps to simulate), lambdified from the theory.

>>> K = np.array([[1.0, 1.0], [0.5, 0.9], [0.2, 0.8]])
>>> first_hit(K, 0.5).tolist()
[1.0, nan]
>>> round(t_estimate(0.3, 0.02, 1.0, 1.0), 6) == round(
...     8 * math.log(1 / (math.exp(0.3) - 1)) / (0.02 * (1 + math.sqrt(2 / math.pi)) ** 4), 6)
True
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
import torch

from twostage.numerics.gong.setting import GongConfig, gradients, init_params, sample
from twostage.numerics.gong.stages import train
from twostage.theory.gong import signals as dv


@lru_cache(maxsize=1)
def _estimate_fn():
    return sp.lambdify((dv.eps, dv.eta1, dv.gamma0, dv.sigma), dv.stage1_time_estimate(), "math")


def t_estimate(eps: float, eta1: float, gamma0: float, sigma: float) -> float:
    """The first-order stage-1 time ``t_P(eps)``
    (:func:`twostage.theory.gong.signals.stage1_time_estimate`)."""
    return _estimate_fn()(eps, eta1, gamma0, sigma)


def antithetic_init_gradient(cfg: GongConfig, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-prompt gradients ``(g_P, g_Q)``, each ``(n, d, d)``, at a symmetric small initialisation.

    ``n`` independent prompts (one per batch slot, ``sigma0 = 1e-8``), each with its own ``W_0``; the gradient
    of each prompt is averaged over the antithetic pair ``(W_0, b)`` and ``(-W_0, b)`` (the symmetric
    initialisation of the derivation). Per-prompt gradients are the SymPy-derived ones
    (:func:`twostage.numerics.gong.setting.gradients`, checked against autograd by ``setting/gd-updates``).
    """
    cfg = GongConfig(**{**cfg.__dict__, "sigma0": 1e-8, "n": 1})
    g = torch.Generator().manual_seed(seed)
    p, q, y = sample(cfg, n, n=1, generator=g)  # n independent prompts, one per batch slot
    WP, WQ, b = init_params(cfg, n, generator=g)
    grads = [torch.stack(x) for x in zip(gradients((WP, WQ, b), p, q, y), gradients((-WP, -WQ, b), p, q, y))]
    return grads[0].mean(0), grads[1].mean(0)  # antithetic average, (n, d, d)


def standard_error(G: torch.Tensor) -> float:
    """Frobenius norm of the standard error of the mean of the samples ``G (n, d, d)``."""
    return float(torch.sqrt((G.var(0) / G.shape[0]).sum()))


def first_hit(K: np.ndarray, level: float) -> np.ndarray:
    """Per seed, first step index with ``K <= level`` (nan if never); ``K`` is ``(steps+1, seeds)``."""
    hit = K <= level
    return np.where(hit.any(0), np.argmax(hit, axis=0).astype(float), np.nan)


def p_loss_curve(cfg: GongConfig, seeds: int, seed: int = 0, eta1: float | None = None,
                 until: float | None = None) -> np.ndarray:
    """P-only loss at every step under constant ``eta1`` (fast path: the Q block does not affect f_P);
    ``until``: stop once every seed's P loss is at most this level (the curve then ends there)."""
    c = GongConfig(**{**cfg.__dict__, "eta1": eta1 or cfg.eta1, "anneal": 1.0})
    tr = train(c, seeds, seed=seed, schedule="constant", record_every=1, spectra=False, held_out=False,
               chunk=seeds, until_K_P=until)
    return tr["K_P"]


def stage1_times(cfg: GongConfig, seeds: int, eps: float, seed: int = 0) -> np.ndarray:
    """``T_P(eps)`` per seed (nan where not reached) over ``ceil(8 t_P(eps))`` steps at ``cfg.eta1``."""
    steps = int(math.ceil(8 * t_estimate(eps, cfg.eta1, cfg.gamma0, cfg.sigma)))
    K = p_loss_curve(GongConfig(**{**cfg.__dict__, "steps": steps}), seeds, seed, until=eps)
    return first_hit(K, eps)


def stage1_time_sweep(cfg: GongConfig, seeds: int, eps: float = 0.2, seed: int = 0,
                      factors: tuple[float, ...] = (0.25, 0.5, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """``(eta1 values, median T_P(eps))`` for ``eta1 = cfg.eta1 * factors``, each run ``6 t_P(eps)`` steps at
    the smallest rate (at least 20)."""
    etas = cfg.eta1 * np.array(factors)
    steps = int(math.ceil(6 * t_estimate(eps, etas[0], cfg.gamma0, cfg.sigma)))
    c = GongConfig(**{**cfg.__dict__, "steps": max(steps, 20)})
    T = np.array([np.nanmedian(first_hit(p_loss_curve(c, seeds, seed, float(e), until=eps), eps))
                  for e in etas])
    return etas, T
