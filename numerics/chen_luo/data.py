"""Synthetic data for chen-luo-2025 stage 1: tokens ``X`` (n, s, d) as row vectors, labels ``y`` in {+-1}.

The quantities of Prop. 1, eq. (6) (PAPER, chen-luo-2025 Prop 1 (6)):

* ``Z = sum_i y_i sum_j X_ij`` (a row vector in token space; the statement tacitly needs ``Z != 0``),
* the condensation direction ``v = Z / ||Z||``,
* the rescaled time ``tbar = eps ||Z|| t / (n s)``.

>>> from twostage.numerics.chen_luo.data import DataConfig, make_data
>>> ds = make_data(DataConfig(n=6, s=3, d=3, seed=0))
>>> tuple(ds.X.shape), tuple(ds.y.shape), sorted(set(ds.y.tolist())) <= [-1.0, 1.0]
((6, 3, 3), (6,), True)
>>> abs(float(ds.v.norm()) - 1.0) < 1e-15
True
>>> abs(ds.t_of_tbar(ds.tbar(2.0, eps=0.01), eps=0.01) - 2.0) < 1e-12
True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twostage.numerics.config import require

Z_NONZERO = "chen-luo-2025/ass/Z-nonzero"
SHAPES = "chen-luo-2025/def3/shapes"


@dataclass(frozen=True)
class DataConfig:
    """``n`` samples of ``s`` tokens of dimension ``d`` (= d_m), drawn from ``seed``.

    Tokens are i.i.d. N(0, 1) entries; labels are uniform on {+-1} (RECONSTRUCTED: the paper's theory
    holds for any data with ``Z != 0``; its experiments use the anchor-function task instead).
    """

    n: int
    s: int
    d: int
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "s", "d"):
            v = getattr(self, name)
            require(isinstance(v, int) and v >= 1, SHAPES, f"{name} must be an integer >= 1, got {v!r}")
        require(isinstance(self.seed, int) and self.seed >= 0, SHAPES,
                f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class Dataset:
    """Tokens ``X`` (n, s, d), labels ``y`` (n,), and ``Z`` (d,), ``v`` (d,), ``Znorm`` of Prop. 1 (6).

    Construct through :func:`make_data` or :meth:`from_tensors`, which validate ``Z != 0``.
    """

    X: torch.Tensor
    y: torch.Tensor
    Z: torch.Tensor
    v: torch.Tensor
    Znorm: float

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def s(self) -> int:
        return self.X.shape[1]

    @property
    def d(self) -> int:
        return self.X.shape[2]

    @classmethod
    def from_tensors(cls, X: torch.Tensor, y: torch.Tensor) -> Dataset:
        """Validate shapes and labels, compute ``Z`` and ``v``; ``Z = 0`` raises ``ConfigError``."""
        require(X.dim() == 3, SHAPES, f"X must have shape (n, s, d), got {tuple(X.shape)}")
        require(y.shape == X.shape[:1], SHAPES,
                f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
        require(bool(torch.all(y.abs() == 1)), "chen-luo-2025/def3/labels", "labels must be +1 or -1")
        Z = condensation_sum(X, y)
        Znorm = float(Z.norm())
        scale = float(X.abs().sum()) + 1e-300
        require(Znorm > 1e-12 * scale and Znorm == Znorm, Z_NONZERO,
                f"Z = sum_i y_i sum_j X_ij must be nonzero (||Z|| = {Znorm:.3g})")
        return cls(X=X, y=y, Z=Z, v=Z / Znorm, Znorm=Znorm)

    def tbar(self, t, eps: float):
        """Rescaled time of Prop. 1 (6): ``tbar = eps ||Z|| t / (n s)`` (PAPER, chen-luo-2025 Prop 1 (6))."""
        return t * (eps * self.Znorm / (self.n * self.s))

    def t_of_tbar(self, tbar, eps: float):
        """Inverse of :meth:`tbar`: gradient-flow time ``t = n s tbar / (eps ||Z||)``."""
        return tbar * (self.n * self.s / (eps * self.Znorm))

    def to(self, device=None, dtype=None) -> Dataset:
        kw = {"device": device, "dtype": dtype}
        return Dataset(X=self.X.to(**kw), y=self.y.to(**kw), Z=self.Z.to(**kw), v=self.v.to(**kw),
                       Znorm=self.Znorm)


def condensation_sum(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``Z = sum_i y_i sum_j X_ij`` (PAPER, chen-luo-2025 Prop 1 (6)); a (d,) row vector."""
    return torch.einsum("i,ijk->k", y.to(X.dtype), X)


def make_data(cfg: DataConfig, dtype: torch.dtype = torch.float64, device="cpu") -> Dataset:
    """Draw ``X`` ~ N(0, 1) and ``y`` uniform in {+-1} from ``cfg.seed`` (on CPU, so every device sees the
    same data), then move to ``device``/``dtype``. ``Z = 0`` raises ``ConfigError`` (``Z-nonzero``)."""
    g = torch.Generator().manual_seed(cfg.seed)
    X = torch.randn(cfg.n, cfg.s, cfg.d, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (cfg.n,), generator=g).to(torch.float64) * 2 - 1
    return Dataset.from_tensors(X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype))
