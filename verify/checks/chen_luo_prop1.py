"""Numerical checkers for chen-luo-2025 Prop 1 and the escape-time law (scaling claims).

A drawn configuration is a small data set and a batch of normalised initialisations ``theta_bar_0``;
the full model (Def 3) is trained by gradient flow from ``eps * theta_bar_0`` for several ``eps``
(one batched integration, :func:`twostage.numerics.chen_luo.fullflow.compare_with_effective`), and
the fitted log-log exponent is judged diffrax-style (:func:`twostage.verify.judge.judge_scaling`):

* ``prop1/agreement-eps2`` -- relative distance ``theta(t)/eps`` vs the effective ODE at fixed
  ``tbar = f Tbar*``: exponent 2 (tolerance 0.3);
* ``prop1/qk-quasistatic`` -- relative change of ``(W_Q, W_K)`` at fixed ``tbar``: exponent 2 (0.3);
* ``escape/inverse-eps`` -- escape time (outer weights reach 0.05) against eps: exponent -1 (0.1).
  The law is asymptotic, ``eps t_esc = (n s/||Z||) Tbar* - O(eps)``: at eps = 1e-2 the initial
  weights are already within a factor ~2 of the escape size and the local exponent is about -1.2
  (measured), so the fit uses eps in ``ESCAPE_EPS`` = 1e-3 .. 1e-4 (measured exponents -1.01).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.fullflow import compare_with_effective, escape_time
from twostage.numerics.chen_luo.init import InitConfig, init_normalised
from twostage.numerics.config import require
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_scaling
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, combine

EPS = (1e-2, 3e-3, 1e-3)
ESCAPE_EPS = (1e-3, 3e-4, 1e-4)
FRACTIONS = (0.2, 0.5)
ESCAPE_SIZE = 0.05


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


def _instance(cfg: Prop1Draw):
    ds = make_data(DataConfig(cfg.n, cfg.s, cfg.d, cfg.seed))
    pb = init_normalised(InitConfig(cfg.d, 0.5, cfg.B, cfg.seed + 1))
    return ds, pb


@functools.lru_cache(maxsize=32)
def agreement(cfg: Prop1Draw) -> dict[str, np.ndarray]:
    """Distances (E, B, M) and Q/K relative changes (E, B, M) over ``EPS`` x ``FRACTIONS``."""
    ds, pb = _instance(cfg)
    r = compare_with_effective(ds, pb, EPS, fractions=FRACTIONS, rtol=1e-11)
    return {k: r[k].detach().cpu().numpy() for k in ("distance", "rel_QK", "eps", "Tstar")}


def _slopes(y: np.ndarray, eps: np.ndarray, expected: float, tol: float, name: str) -> Measurement:
    """One exponent fit per (initialisation, fraction); the worst one decides."""
    ms = []
    _, B, M = y.shape
    for b in range(B):
        for k in range(M):
            ms.append(judge_scaling(eps, y[:, b, k], expected, tol,
                                    {"quantity": name, "element": b, "fraction": FRACTIONS[k]}))
    return combine(ms)


def agreement_measure(cfg: Prop1Draw, expected: float = 2.0, tol: float = 0.3) -> Measurement:
    r = agreement(cfg)
    return _slopes(r["distance"], r["eps"], expected, tol, "relative distance to effective ODE")


def quasistatic_measure(cfg: Prop1Draw, expected: float = 2.0, tol: float = 0.3) -> Measurement:
    r = agreement(cfg)
    return _slopes(r["rel_QK"], r["eps"], expected, tol, "relative change of (W_Q, W_K)")


EXAMPLE = Prop1Draw(6, 3, 3, 0)  # the size of the paper's Appendix C.1 instance


@checker("chen-luo-2025/prop1/agreement-eps2")
def check_agreement(ctx: Context) -> Measurement:
    return run_property(prop1_draws(), agreement_measure, _small(ctx), examples=[EXAMPLE])


@checker("chen-luo-2025/prop1/qk-quasistatic")
def check_quasistatic(ctx: Context) -> Measurement:
    return run_property(prop1_draws(), quasistatic_measure, _small(ctx), examples=[EXAMPLE])


@functools.lru_cache(maxsize=32)
def escape_times(cfg: Prop1Draw) -> np.ndarray:
    """Escape times (len(ESCAPE_EPS), B) in gradient-flow time t."""
    ds, pb = _instance(cfg)
    times = [escape_time(pb, ds, e, c=ESCAPE_SIZE)["t_esc"] for e in ESCAPE_EPS]
    return np.stack([t.detach().cpu().numpy() for t in times])


def escape_measure(cfg: Prop1Draw, expected: float = -1.0, tol: float = 0.1) -> Measurement:
    t = escape_times(cfg)
    return _slopes(t[:, :, None], np.asarray(ESCAPE_EPS), expected, tol, "escape time t_esc")


@checker("chen-luo-2025/escape/inverse-eps")
def check_inverse_eps(ctx: Context) -> Measurement:
    return run_property(prop1_draws(), escape_measure, _small(ctx), examples=[EXAMPLE])


def _small(ctx: Context):
    """Full-model gradient flow is the costly part: a third of the profile's examples (at least 2)."""
    from dataclasses import replace

    return replace(ctx.profile, examples=max(2, ctx.profile.examples // 3))
