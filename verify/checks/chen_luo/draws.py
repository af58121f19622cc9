"""Configurations and Hypothesis strategies shared by several chen-luo-2025 topics (no checkers here).

* :class:`Prop1Draw` -- a small data set and normalised initialisations for the full model's gradient flow
  (Prop 1 and the escape-time law), with :func:`slopes`, the per-element exponent fit both judge.

Stage 2 has two sources of ``F``:

* :class:`SpectrumDraw` -- ``F = U diag(sigma) V^T`` with a *prescribed* spectrum, built constructively so
that
  the multiplicity ``k`` of ``sigma_1`` is exact (ties included) and the gap to ``sigma_{k+1}`` is bounded
  below; the lower singular values are either tied to ``sigma_{k+1}`` or at least one gap below it (this keeps
  the finite-window rate fits free of a slow third exponential; see ``chen_luo_stage2_collapse``).
* :class:`DataDraw` -- data ``X, y`` and outer weights ``W_V, W^{[1]}, W^{[2]}`` (Gaussian), ``F`` by eq.
(15).

A claim with a symbolic part also has a :class:`Proof` draw, the instance its theory proves it on.

Both are frozen dataclasses validated on construction (``numerics.config.require``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.init import InitConfig, init_normalised
from twostage.numerics.chen_luo.stage2 import F_from_weights, F_with_singular_values
from twostage.numerics.chen_luo.stage2_loss import u_of
from twostage.numerics.config import require
from twostage.verify.judge import judge_scaling
from twostage.verify.verdict import Measurement, combine

SIMPLE = "chen-luo-2025/stage2/ass-simple-sigma1"
DT = torch.float64


@dataclass(frozen=True)
class SpectrumDraw:
    """``B`` matrices ``F`` with singular values ``sigma`` (non-increasing) and ``B`` initialisations of scale
    delta."""

    sigma: tuple[float, ...]
    seed: int
    B: int = 4
    delta: float = 1e-3

    def __post_init__(self) -> None:
        s = self.sigma
        require(len(s) >= 2, SIMPLE, "need d >= 2")
        require(s[0] > 0 and s[-1] >= 0, SIMPLE, f"singular values must be >= 0 with sigma_1 > 0, got {s}")
        require(all(a >= b for a, b in zip(s, s[1:])), SIMPLE, f"singular values must be non-increasing: {s}")
        require(0 < self.delta < 1 and self.B >= 1, SIMPLE, "delta in (0, 1), B >= 1")

    @property
    def d(self) -> int:
        return len(self.sigma)

    @property
    def multiplicity(self) -> int:
        return sum(1 for v in self.sigma if v == self.sigma[0])

    @property
    def gap(self) -> float:
        """``sigma_1 - sigma_{k+1}`` (``sigma_1`` when all are tied)."""
        k = self.multiplicity
        return self.sigma[0] - (self.sigma[k] if k < self.d else 0.0)

    def build(self, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed)
        sig = torch.tensor(self.sigma, dtype=DT).expand(self.B, -1).contiguous()
        F = F_with_singular_values(sig, g, device)
        WQ0, WK0 = (self.delta * torch.randn(2, self.B, self.d, self.d, generator=g, dtype=DT)).to(device)
        return F, WQ0, WK0


@st.composite
def spectra(draw, multiplicity: int | None = 1, d_max: int = 5, delta: float = 1e-3, B: int = 4):
    """Spectra with ``sigma_1`` of the given multiplicity (``None``: any ``1 <= k < d``)."""
    d = draw(st.integers(2, d_max))
    k = draw(st.integers(1, d - 1)) if multiplicity is None else min(multiplicity, d - 1)
    s1 = draw(st.floats(0.3, 2.0))
    rel_gap = draw(st.floats(0.15, 0.9))
    s_next = s1 * (1 - rel_gap)
    gap = s1 - s_next
    rest = []
    for _ in range(d - k - 1):
        tied = draw(st.booleans())
        room = s_next - gap
        rest.append(s_next if tied or room <= 0 else room * draw(st.floats(0.0, 1.0)))
    sigma = tuple([s1] * k + [s_next] + sorted(rest, reverse=True))
    return SpectrumDraw(sigma=sigma, seed=draw(st.integers(0, 2**31 - 1)), B=B, delta=delta)


@dataclass(frozen=True)
class DataDraw:
    """``B`` datasets of ``n`` samples, ``s`` tokens of width ``d``, with Gaussian outer weights (scale
    ``outer``)."""

    n: int
    s: int
    d: int
    seed: int
    B: int = 4
    outer: float = 1.0

    def __post_init__(self) -> None:
        require(self.n >= 1 and self.s >= 2 and self.d >= 2 and self.B >= 1, "chen-luo-2025/def3/shapes",
                f"need n >= 1, s >= 2, d >= 2, got n={self.n}, s={self.s}, d={self.d}")
        require(0 < self.outer <= 10, "chen-luo-2025/def3/shapes", "outer scale in (0, 10]")

    def tensors(self, device: str = "cpu") -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed)
        B, n, s, d = self.B, self.n, self.s, self.d
        X = torch.randn(B, n, s, d, generator=g, dtype=DT)
        y = torch.where(torch.rand(B, n, generator=g, dtype=DT) < 0.5, -1.0, 1.0).to(DT)
        WV = torch.randn(B, d, d, generator=g, dtype=DT) * self.outer / d**0.5
        W1 = torch.randn(B, d, d, generator=g, dtype=DT) * self.outer / d**0.5
        W2 = torch.randn(B, d, generator=g, dtype=DT) * self.outer / d**0.5
        Qb, Kb = torch.randn(2, B, d, d, generator=g, dtype=DT)
        out = dict(X=X, y=y, WV=WV, W1=W1, W2=W2, Qbar=Qb, Kbar=Kb)
        out = {k: v.to(device) for k, v in out.items()}
        out["u"] = u_of(out["WV"], out["W1"], out["W2"])
        out["F"] = F_from_weights(out["X"], out["y"], out["WV"], out["W1"], out["W2"])
        return out


def data_draws(n_max: int = 6, s_min: int = 2, d_max: int = 5, fewer_samples: bool = False, B: int = 4):
    """``fewer_samples``: ``n < d`` so that the rank bound ``rank F <= n`` and the span statement bite."""
    @st.composite
    def build(draw):
        d = draw(st.integers(3 if fewer_samples else 2, d_max))
        n = draw(st.integers(1, d - 1)) if fewer_samples else draw(st.integers(1, n_max))
        s = draw(st.integers(s_min, 5))
        return DataDraw(n=n, s=s, d=d, seed=draw(st.integers(0, 2**31 - 1)), B=B,
                        outer=draw(st.floats(0.5, 2.0)))

    return build()


@dataclass(frozen=True)
class Proof:
    """The exact symbolic instance a Stage-2 claim is proven on by ``theory/chen_luo/{stage2,collapse}.py``
    (e.g. ``n=1, s=3, d=2``; chen-luo-2025 App. A.3-A.5), pinned as one more example of the claim: its
    ``simulate`` runs the theory's proof, its judge compares the proven facts with the expected ones."""

    instance: str


def per_scale(strategy, *args, B: int = 4, **kw):
    """``draws`` of a check: ``strategy(*args, B=B * profile.scale, **kw)`` for the context's profile."""
    return lambda ctx: strategy(*args, B=B * ctx.profile.scale, **kw)


# ------------------------------------------------------------------ Prop 1 and the escape-time law
EPS = (1e-2, 3e-3, 1e-3)
FRACTIONS = (0.2, 0.5)


@dataclass(frozen=True)
class Prop1Draw:
    """Data ``(n, s, d)`` and ``B`` normalised initialisations from ``seed`` (assumptions: Z != 0,
    eps small, gradient flow, tbar below blow-up -- the last two hold by construction)."""

    n: int
    s: int
    d: int
    seed: int
    B: int = 2

    def __post_init__(self) -> None:
        require(self.n >= 1 and self.s >= 1 and self.d >= 1, "chen-luo-2025/def3/shapes", "n, s, d >= 1")


def prop1_draws() -> st.SearchStrategy[Prop1Draw]:
    return st.builds(Prop1Draw, n=st.integers(2, 6), s=st.integers(2, 4), d=st.integers(2, 4),
                     seed=st.integers(0, 10_000))


EXAMPLE = Prop1Draw(6, 3, 3, 0)  # the size of the paper's Appendix C.1 instance


def instance(cfg: Prop1Draw):
    """The draw's data set and normalised initialisations."""
    ds = make_data(DataConfig(cfg.n, cfg.s, cfg.d, cfg.seed))
    pb = init_normalised(InitConfig(cfg.d, 0.5, cfg.B, cfg.seed + 1))
    return ds, pb


def slopes(y: np.ndarray, eps: np.ndarray, expected: float, tol: float, name: str) -> Measurement:
    """One exponent fit per (initialisation, fraction) of ``y`` (E, B, M); the worst one decides."""
    ms = []
    _, B, M = y.shape
    for b in range(B):
        for k in range(M):
            ms.append(judge_scaling(eps, y[:, b, k], expected, tol,
                                    {"quantity": name, "element": b, "fraction": FRACTIONS[k]}))
    return combine(ms)


# --- chen-luo-2025 Thm 1 (blow-up a.s., counted) and the d_m = 1 oracle (topic blowup) -------------------
@dataclass(frozen=True)
class CountDraw:
    """``n`` Gaussian draws of dimension ``d`` from ``seed``; ``max_steps`` bounds each integration."""

    d: int
    n: int
    seed: int
    max_steps: int = 20_000


@dataclass(frozen=True)
class Dm1Draw:
    """``(w, m, c)`` at time ``t0`` with ``m > 0`` and ``w c > 0`` (assumption chen-luo-2025/ass/dm1-escape);
    (7) is autonomous, so an integration of duration ``D`` from ``t0`` blows up at ``T* = t0 + D``."""

    w: float
    m: float
    c: float
    t0: float = 1.0

    def __post_init__(self) -> None:
        require(self.m > 0 and self.w * self.c > 0, "chen-luo-2025/ass/dm1-escape",
                f"need m > 0 and w c > 0, got (w, m, c) = ({self.w}, {self.m}, {self.c})")


def dm1_draws() -> st.SearchStrategy[Dm1Draw]:
    mag = st.floats(0.05, 2.0)
    return st.builds(lambda w, m, c, s: Dm1Draw(s * w, m, s * c), mag, mag, mag, st.sampled_from([1.0, -1.0]))
