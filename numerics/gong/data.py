"""gong-2025 synthetic data (RECONSTRUCTED from the official notebook's toy sampler, ``gong_2025.md`` §2.2).

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
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twostage.numerics.config import require


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
