"""Checker for the gong-2025 reconstructed setting (:mod:`twostage.theory.gong.setting`, §2.2-2.4 and §4,
RECONSTRUCTED): ``gong-2025/setting/gd-updates``.

The SymPy-derived GD step (:func:`twostage.numerics.gong.setting.gradients`, lambdified from
:func:`twostage.theory.gong.setting.pair_coefficients`) against ``torch.autograd`` on random instances; the
matrix-calculus step it rests on (``d(x^T W z)/dW = x z^T``) is proved by SymPy first. The derived signals
of the setting are checked in :mod:`twostage.verify.checks.gong.signals`.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from hypothesis import strategies as st

from twostage.numerics.gong.setting import GongConfig, autograd_gradients, gradients, init_params, sample
from twostage.theory.gong.setting import score_gradient_is_outer_product
from twostage.verify.check import checker
from twostage.verify.judge import judge_residual
from twostage.verify.verdict import Measurement, Status

RESIDUAL_TOL = 1e-10


@st.composite
def small_configs(draw):
    """Configurations inside the reconstructed assumptions (free parameters drawn, the rest derived)."""
    return GongConfig(d_p=draw(st.integers(2, 6)), d_q=draw(st.integers(2, 6)), L=draw(st.integers(2, 8)),
                      n=draw(st.integers(2, 16)), gamma0=draw(st.floats(0.2, 2.0)),
                      zeta=draw(st.floats(0.2, 2.0)), sigma=draw(st.floats(0.5, 1.5)),
                      sigma0=draw(st.sampled_from([1e-3, 0.1, 1.0])),
                      coupling=draw(st.sampled_from(["shared", "parallel"])),
                      mix=draw(st.sampled_from([(1.0, 0.0, 0.0), (0.5, 0.25, 0.25)])),
                      q_scale=draw(st.sampled_from([1.0, 0.25])), b0=draw(st.sampled_from([0.0, 1.0])))


def update_pair(cfg: GongConfig, ctx) -> dict:
    """Both gradients on one random instance (3 seeds; data and initialisation from ``ctx.seed``)."""
    g = torch.Generator().manual_seed(ctx.seed)
    p, q, y = sample(cfg, 3, generator=g)
    params = init_params(cfg, 3, generator=g)
    return {"sympy": gradients(params, p, q, y, cfg.coupling),
            "autograd": autograd_gradients(params, p, q, y, cfg.coupling),
            "seed": ctx.seed}


@lru_cache(maxsize=1)
def _outer_product_proved() -> bool:
    return score_gradient_is_outer_product()


@checker("gong-2025/setting/gd-updates", draws=small_configs(), simulate=update_pair,
         examples=[GongConfig(d_p=4, d_q=4, L=5, n=8),
                   GongConfig(d_p=4, d_q=4, L=5, n=8, coupling="parallel", b0=1.0)])
def gd_updates(claim, cfg: GongConfig, data: dict) -> Measurement:
    """Largest relative residual of the SymPy-derived ``(g_P, g_Q, g_b)`` against autograd below 1e-10."""
    if not _outer_product_proved():
        return Measurement(Status.VIOLATED, -1.0, {"reason": "d(x^T W z)/dW != x z^T"})
    res = max(float((x - z).abs().max() / (z.abs().max() + 1e-30))
              for x, z in zip(data["sympy"], data["autograd"]))
    return judge_residual(res, RESIDUAL_TOL, {"seed": data["seed"]})
