"""Checker for the gong-2025 reconstructed setting (:mod:`twostage.theory.gong.setting`, §2.2-2.4 and §4,
RECONSTRUCTED): ``gong-2025/setting/gd-updates``.

The SymPy-derived GD step (:func:`twostage.numerics.gong.setting.gradients`, lambdified from
:func:`twostage.theory.gong.setting.pair_coefficients`) against ``torch.autograd`` on random instances; the
matrix-calculus step it rests on (``d(x^T W z)/dW = x z^T``) is proved by SymPy first. The derived signals
of the setting are checked in :mod:`twostage.verify.checks.gong.signals`.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st

from twostage.numerics.gong.setting import (
    GongConfig,
    autograd_gradients,
    gradients,
    init_params,
    outputs,
    sample,
    scores,
)
from twostage.theory.gong.setting import score_gradient_is_outer_product
from twostage.verify.check import checker
from twostage.verify.judge import judge_residual
from twostage.verify.verdict import Measurement, Status, combine

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
    """Both gradients on one random instance (3 seeds; data and initialisation from ``ctx.seed``), with what
    the claim's coefficient needs: the P scores ``s_P``, the labels ``y``, ``y_l``, the output ``F`` the P
    block is trained on (``f_P + f_Q`` under one shared loss, ``f_P`` under ``coupling="parallel"``) and the
    P tokens (query ``p``, context ``p_l``)."""
    g = torch.Generator().manual_seed(ctx.seed)
    p, q, y = sample(cfg, 3, generator=g)
    params = init_params(cfg, 3, generator=g)
    sP, _ = scores(params, p, q)
    fP, fQ = outputs(params, p, q, y)
    F = fP + fQ if cfg.coupling == "shared" else fP
    np_ = lambda x: x.detach().cpu().numpy()  # noqa: E731
    return {"sympy": gradients(params, p, q, y, cfg.coupling),
            "autograd": autograd_gradients(params, p, q, y, cfg.coupling),
            "seed": ctx.seed, "s_P": np_(sP), "F": np_(F)[..., None], "y": np_(y[:, :, -1:]),
            "y_l": np_(y[:, :, :-1]), "L": sP.shape[-1], "p": np_(p)}


def formula_update(rhs, data: dict) -> np.ndarray:
    """The P-block update of the statement, ``g_P = (1/n) sum_prompts sum_l c_P(l) p p_l^T``, with ``c_P`` the
    formula's right side evaluated at the measured ``F, y, y_l, s_P, L`` (``Heaviside(s, 0)``: ReLU'(0) = 0,
    as torch)."""
    syms = sorted(rhs.free_symbols, key=str)
    f = sp.lambdify(syms, rhs, modules=[{"Heaviside": lambda x, h0=0.0: np.heaviside(x, h0)}, "numpy"])
    with np.errstate(all="ignore"):
        c = np.broadcast_to(f(*(data[s.name] for s in syms)), data["s_P"].shape)
    p = data["p"]
    return np.einsum("snl,snd,snle->sde", c, p[:, :, -1], p[:, :, :-1]) / p.shape[1]


@lru_cache(maxsize=1)
def _outer_product_proved() -> bool:
    return score_gradient_is_outer_product()


@checker("gong-2025/setting/gd-updates", draws=small_configs(), simulate=update_pair,
         examples=[GongConfig(d_p=4, d_q=4, L=5, n=8),
                   GongConfig(d_p=4, d_q=4, L=5, n=8, coupling="parallel", b0=1.0)])
def gd_updates(claim, cfg: GongConfig, data: dict) -> Measurement:
    """The claim's coefficient ``c_P`` (its formula's right side, evaluated at the measured quantities)
    assembled into the P-block update and compared with autograd's gradient of the reconstructed loss
    (relative residual below ``RESIDUAL_TOL``; a ``!=`` formula is judged as written); with it, the SymPy
    matrix-calculus step and the whole lambdified GD step ``(g_P, g_Q, g_b)`` against autograd."""
    if not _outer_product_proved():
        return Measurement(Status.VIOLATED, -1.0, {"reason": "d(x^T W z)/dW != x z^T"})
    rel = claim.formula
    ref = data["autograd"][0].detach().cpu().numpy()
    res_f = float(np.max(np.abs(formula_update(rel.rhs, data) - ref)) / (np.max(np.abs(ref)) + 1e-30))
    res = max(float((x - z).abs().max() / (z.abs().max() + 1e-30))
              for x, z in zip(data["sympy"], data["autograd"]))
    m_formula = judge_residual(res_f if np.isfinite(res_f) else math.inf, RESIDUAL_TOL,
                               {"seed": data["seed"], "quantity": "g_P from the formula's c_P"})
    if isinstance(rel, sp.Unequality):  # judged as written: the update from c_P must differ
        m_formula = dataclasses.replace(
            m_formula, status={Status.HOLDS: Status.VIOLATED, Status.VIOLATED: Status.HOLDS}.get(
                m_formula.status, m_formula.status), margin=-(m_formula.margin or 0.0))
    m = combine([m_formula, judge_residual(res, RESIDUAL_TOL, {"seed": data["seed"]})])
    return dataclasses.replace(m, examples=1, unit="")  # one drawn configuration
