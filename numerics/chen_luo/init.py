"""Small Gaussian initialisation (4) of chen-luo-2025 and the normalised (bar) parameters.

PAPER, chen-luo-2025 eq. (4): every entry of ``W2, W1, WQ, WK, WV`` is independent N(0, eps^2), eps << 1.
Normalised parameters: ``Wbar = W / eps`` (PAPER, Prop. 1).

The normalised initialisation ``theta_bar(0)`` is drawn from ``seed`` independently of ``eps``, so
sweeping ``eps`` at fixed seed keeps the *same* normalised initialisation (what the escape-time scaling
and the O(eps^2) agreement of Prop. 1 compare).

>>> from twostage.numerics.chen_luo.init import InitConfig, init_params, normalised
>>> cfg = InitConfig(d=3, eps=0.01, B=4, seed=1)
>>> p = init_params(cfg)
>>> tuple(p.WQ.shape), tuple(p.W2.shape)
((4, 3, 3), (4, 3))
>>> bool((normalised(p, cfg.eps).W1 * cfg.eps - p.W1).abs().max() < 1e-15)
True
>>> try:
...     InitConfig(d=3, eps=1.5, B=1)
... except ValueError as exc:
...     print(exc.assumption)
chen-luo-2025/ass/eps-small
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twostage.numerics.chen_luo.model import Params
from twostage.numerics.config import require

EPS_SMALL = "chen-luo-2025/ass/eps-small"
SHAPES = "chen-luo-2025/def3/shapes"


@dataclass(frozen=True)
class InitConfig:
    """``B`` initialisations of width ``d`` at scale ``eps`` from ``seed`` (eq. (4))."""

    d: int
    eps: float
    B: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        require(isinstance(self.d, int) and self.d >= 1, SHAPES, f"d must be >= 1, got {self.d!r}")
        require(isinstance(self.B, int) and self.B >= 1, SHAPES, f"B must be >= 1, got {self.B!r}")
        require(0.0 < float(self.eps) < 1.0, EPS_SMALL, f"eps must satisfy 0 < eps < 1, got {self.eps!r}")
        require(isinstance(self.seed, int) and self.seed >= 0, SHAPES,
                f"seed must be a non-negative integer, got {self.seed!r}")


def init_normalised(cfg: InitConfig, dtype: torch.dtype = torch.float64, device="cpu") -> Params:
    """``theta_bar(0)``: all entries N(0, 1), drawn on CPU from ``cfg.seed`` (device independent)."""
    g = torch.Generator().manual_seed(cfg.seed)
    B, d = cfg.B, cfg.d
    mats = [torch.randn(B, d, d, generator=g, dtype=torch.float64) for _ in range(4)]
    w2 = torch.randn(B, d, generator=g, dtype=torch.float64)
    return Params(*(t.to(device=device, dtype=dtype) for t in (*mats, w2)))


def init_params(cfg: InitConfig, dtype: torch.dtype = torch.float64, device="cpu") -> Params:
    """Initialisation (4): ``theta(0) = eps * theta_bar(0)``, entries N(0, eps^2)."""
    return init_normalised(cfg, dtype, device).scale(cfg.eps)


def normalised(p: Params, eps: float) -> Params:
    """Normalised parameters ``theta / eps`` (PAPER, chen-luo-2025 Prop 1)."""
    return p.scale(1.0 / eps)
