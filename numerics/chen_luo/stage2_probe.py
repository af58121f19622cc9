"""Stage-2 probe on a trained model (chen-luo-2025 Prop 3 / Thm 3 on real outer weights).

For any loss that depends on ``W_Q, W_K`` only through ``M = W_Q W_K^T``, linearising in ``M`` gives (14) with
``F := -dL/dM |_{M=0}`` (DERIVED: for the binary exponential loss of Def. 3 this is exactly eq. (15), checked
by the kq-linear-law checker; here it is the multi-class cross-entropy of the experiments). The probe freezes
the outer weights of a checkpoint, re-initialises ``W_Q, W_K`` at scale ``delta``, runs plain gradient descent
with step ``eta`` on a fixed batch and measures the growth rate of ``||W_Q||`` per unit time ``t = eta *
steps``. Linear GD multiplies the top component by ``1 + eta sigma_1`` per step, so the predicted rate is
``log(1 + eta sigma_1) / eta`` (-> ``sigma_1`` as ``eta -> 0``).

>>> from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite
>>> g = torch.Generator().manual_seed(0)
>>> m = GPTLite(GPTConfig(vocab=7, seq_len=4, d_model=6, d_ff=8, init_std=0.3), g, dtype=torch.float64)
>>> x, y = torch.randint(0, 7, (50, 4), generator=g), torch.randint(0, 7, (50,), generator=g)
>>> r = probe(m, x, y)
>>> abs(r["rate_measured"] / r["rate_predicted"] - 1) < 1e-3, r["alignment_final"] > 0.999
(True, True)
"""

from __future__ import annotations

import copy
import math

import torch

from twostage.numerics.chen_luo.gptlite import GPTLite, last_token_loss


def general_F(model: GPTLite, x: torch.Tensor, y: torch.Tensor, layer: int = 0) -> torch.Tensor:
    """``F = -dL/dM`` at ``M = 0`` for the attention of ``layer`` (all other weights as they are)."""
    d = model.cfg.d_model
    M = torch.zeros(d, d, dtype=model.w(layer, "WQ").dtype, device=x.device, requires_grad=True)
    (g,) = torch.autograd.grad(last_token_loss(model, x, y, M={layer: M}), M)
    return -g


def probe(
    model: GPTLite,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    delta: float = 1e-30,
    steps: int = 5000,
    eta: float | None = None,
    gap_time: float = 8.0,
    max_growth: float = 60.0,
    layer: int = 0,
    seed: int = 0,
) -> dict:
    """Q/K-only gradient descent from a ``delta``-small initialisation on a frozen copy of ``model``
    (float64).

    ``eta`` defaults to ``0.1 / sigma_1(F)``. The run stops once ``(sigma_1 - sigma_2) t >= gap_time`` (the
    ``sigma_2`` component has died out), once ``||W_Q||`` has grown by ``e^max_growth``, or after ``steps``.
    The tiny default ``delta`` keeps ``W_Q W_K^T`` in the linear regime over that whole growth (the gradient
    ``h^T (dL/dz) h W_K`` is exact in floating point however small ``W_K`` is). Returns the measured and
    predicted rates, ``sigma_1, sigma_2`` of ``F`` and the alignment ``|<W_Q W_K^T / ||.||, u_1 v_1^T>|`` at
    the end (Thm 3 predicts 1).
    """
    m = copy.deepcopy(model).double()
    for p in m.parameters():
        p.requires_grad_(False)
    F = general_F(m, x, y, layer)
    U, S, Vh = torch.linalg.svd(F)
    s1, s2 = float(S[0]), float(S[1])
    eta = 0.1 / s1 if eta is None else eta
    g = torch.Generator().manual_seed(seed)
    d = m.cfg.d_model
    WQ = m.w(layer, "WQ")
    WK = m.w(layer, "WK")
    WQ.copy_(delta * torch.randn(d, d, generator=g, dtype=torch.float64))
    WK.copy_(delta * torch.randn(d, d, generator=g, dtype=torch.float64))
    WQ.requires_grad_(True)
    WK.requires_grad_(True)
    logn, times = [math.log(float(WQ.detach().norm()))], [0.0]
    for k in range(1, steps + 1):
        gq, gk = torch.autograd.grad(last_token_loss(m, x, y), (WQ, WK))
        with torch.no_grad():
            WQ -= eta * gq
            WK -= eta * gk
        logn.append(math.log(float(WQ.detach().norm())))
        times.append(k * eta)
        if logn[-1] - logn[0] > max_growth or (s1 - s2) * times[-1] >= gap_time:
            break
    with torch.no_grad():
        P = WQ @ WK.T
        align = float(abs((P / P.norm() * torch.outer(U[:, 0], Vh[0])).sum()))
    # rate over the last third of the run (asymptotic regime: the sigma_2 component has died out)
    k0 = 2 * (len(times) - 1) // 3
    rate = (logn[-1] - logn[k0]) / (times[-1] - times[k0])
    return {
        "sigma1": s1,
        "sigma2": s2,
        "eta": eta,
        "steps": len(times) - 1,
        "rate_measured": rate,
        "rate_predicted": math.log1p(eta * s1) / eta,
        "alignment_final": align,
        "norm_growth": logn[-1] - logn[0],
        "times": times,
        "log_norm": logn,
    }
