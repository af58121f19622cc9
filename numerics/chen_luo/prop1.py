"""chen-luo-2025 Prop 1 numerically: the full model's gradient flow against the effective dynamics (7).

:func:`compare_with_effective` (PAPER, (6)-(7)): ``theta(t) / eps`` against the effective ODE at fixed
``tbar = eps ||Z|| t / (n s)``; the relative distance is O(eps^2) (Appendix C.1 reference: 1.65e-5 at
eps = 1e-2 -> 1.49e-6 at eps = 3e-3 on its own random n=6, s=3, d=3 instance); the relative change of
``(W_Q, W_K)`` is O(eps^2) too (DERIVED, P2: the key/query weights are quasi-static in stage 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from twostage.numerics.chen_luo import effective as eff
from twostage.numerics.chen_luo.blowup import blowup_time
from twostage.numerics.chen_luo.data import Dataset
from twostage.numerics.chen_luo.fullflow import NAMES, OUTER, integrate_flow
from twostage.numerics.chen_luo.model import Params


def compare_with_effective(ds: Dataset, pbar0: Params, eps: Sequence[float],
                           fractions: Sequence[float] = (0.2, 0.4, 0.6), *, rtol: float = 1e-9,
                           Tstar: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Prop. 1 agreement: relative distance between ``theta(t)/eps`` (full flow from ``eps * pbar0``) and the
    effective ODE (7) from ``pbar0`` at ``tbar = f * Tbar*`` for each fraction ``f``.

    All ``eps`` values and all ``B`` initialisations run in one batched integration (B' = len(eps) B).
    Returns ``distance`` (E, B, M) over all five weights (WQ, WK frozen in (7)), ``distance_outer``
    (E, B, M) over (WV, W1, W2), ``rel_QK`` (E, B, M) the relative change of (WQ, WK) in the full flow,
    ``tbar`` (B, M), ``Tstar`` (B,) and ``eps`` (E,).
    """
    dt, dev = pbar0.W2.dtype, pbar0.W2.device
    ds = ds.to(device=dev, dtype=dt)
    v = ds.v
    Wv0, W10, W20 = eff.reduced_state(pbar0, v)
    if Tstar is None:
        Tstar = blowup_time(Wv0, W10, W20)
    fr = torch.as_tensor(list(fractions), dtype=dt, device=dev)
    tb = Tstar[:, None] * fr[None, :]  # (B, M)
    B, M, E, d = pbar0.B, fr.numel(), len(eps), ds.d
    es = eff.integrate(Wv0, W10, W20, tb, rtol=min(rtol, 1e-10) * 0.1)
    Wv, W1, W2 = (x.reshape(B, M, *x.shape[1:]) for x in eff.unpack(es.y_eval.reshape(B * M, -1), d))
    WV = eff.full_WV(pbar0.WV, v, Wv, Wv0)
    rep = lambda x: x[:, None].expand(B, M, *x.shape[1:])
    eff_p = Params(rep(pbar0.WQ), rep(pbar0.WK), WV, W1, W2)  # (B, M, ...)

    e = torch.as_tensor(list(eps), dtype=dt, device=dev)
    big0 = Params(*(torch.cat([x * ei for ei in e], 0) for x in pbar0))  # (E B, ...) element (k, b)
    t_eval = torch.cat([ds.t_of_tbar(tb, float(ei)) for ei in e], 0)  # (E B, M)
    sol = integrate_flow(big0, ds, t_eval=t_eval, rtol=rtol, record=lambda t, z, i: {})
    scale_back = e.repeat_interleave(B)[:, None, None]
    full = Params.unflat((sol.y_eval / scale_back).reshape(E * B * M, -1), d)
    full = Params(*(x.reshape(E, B, M, *x.shape[1:]) for x in full))

    def dist(names):
        num = sum((getattr(full, k) - getattr(eff_p, k)[None]).flatten(3).pow(2).sum(-1) for k in names)
        den = sum(getattr(eff_p, k).flatten(2).pow(2).sum(-1) for k in names)
        return (num / den[None]).sqrt()

    q0 = torch.cat([pbar0.WQ.flatten(1), pbar0.WK.flatten(1)], 1)
    qt = torch.cat([full.WQ.flatten(3), full.WK.flatten(3)], 3)
    rel_qk = (qt - q0[None, :, None]).norm(dim=-1) / q0.norm(dim=-1)[None, :, None]
    return {"distance": dist(NAMES), "distance_outer": dist(OUTER), "rel_QK": rel_qk, "tbar": tb,
            "Tstar": Tstar, "eps": e}
