"""Gradient flow of the full one-layer transformer (chen-luo-2025 Def. 3) and its comparison with (7).

Training is gradient flow ``theta' = -grad L(theta)`` (PAPER, chen-luo-2025 §2.2), integrated by the
adaptive Dormand-Prince integrator (rtol ~ 1e-9 in float64; no silent large GD steps), batched over
initialisations: every batch element is an independent parameter set on the same data.

Its comparison with (7) is :mod:`.prop1`, the escape time :mod:`.blowup`.
* :func:`relative_changes` and :func:`full_invariants`: P2 (Q/K quasi-static, DERIVED) and P3' (the
  balancedness laws of the full flow, DERIVED).
"""

from __future__ import annotations

import torch

from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.data import Dataset
from twostage.numerics.chen_luo.model import Params, grad, loss
from twostage.numerics.integrate import Solution, solve

NAMES = ("WQ", "WK", "WV", "W1", "W2")
OUTER = ("WV", "W1", "W2")


def flow_rhs(ds: Dataset):
    """``f(t, z, idx) = -grad L`` on flat parameter states (B, 4 d^2 + d) (see :meth:`Params.flat`)."""

    def f(t, z, idx):
        _, g = grad(Params.unflat(z, ds.d), ds.X, ds.y)
        return -g.flat()

    return f


def relative_changes(p: Params, p0: Params) -> dict[str, torch.Tensor]:
    """``||W(t) - W(0)||_F / ||W(0)||_F`` for each of the five weights (RD; RECONSTRUCTED reading of §5)."""
    return {f"rel_{k}": ob.relative_change(getattr(p, k), getattr(p0, k), 2 if k != "W2" else 1)
            for k in NAMES}


def full_invariants(p: Params) -> dict[str, torch.Tensor]:
    """Conserved by the exact gradient flow of the full model (DERIVED, chen-luo-2025 §9 P3'): the loss
    depends on ``(WV, W1)`` only through ``WV W1`` and on ``(WQ, WK)`` only through ``WQ WK^T``, so
    ``WV^T WV - W1 W1^T`` and ``WQ^T WQ - WK^T WK`` are constant. Returns the (B, d, d) matrices."""
    tr = lambda a: a.transpose(-1, -2)
    return {"VW1": tr(p.WV) @ p.WV - p.W1 @ tr(p.W1), "QK": tr(p.WQ) @ p.WQ - tr(p.WK) @ p.WK}


def integrate_flow(p0: Params, ds: Dataset, t1=None, *, t_eval=None, rtol: float = 1e-9, atol=None,
                   event=None, record=None, record_every: int = 1, max_steps: int = 100_000,
                   on_failure: str = "raise") -> Solution:
    """Gradient flow from ``p0`` (batched) on ``ds`` up to ``t1`` (default: the last ``t_eval``).

    ``atol`` defaults to ``1e-3 rtol`` times each element's RMS parameter size (the weights are O(eps)).
    The default ``record`` stores the loss and :func:`relative_changes` at every accepted step.
    ``event(t, p: Params, idx) -> (b,)`` stops an element where it becomes ``>= 0`` (located precisely).
    """
    ds = ds.to(device=p0.W2.device, dtype=p0.W2.dtype)
    z0 = p0.flat()
    d = ds.d
    if atol is None:
        atol = 1e-3 * rtol * z0.pow(2).mean(1).sqrt()
    if t1 is None:
        if t_eval is None:
            raise ValueError("give t1 or t_eval")
        te = torch.as_tensor(t_eval, dtype=z0.dtype, device=z0.device)
        t1 = te.max(-1).values if te.dim() == 2 else te.max()

    def default_record(t, z, idx):
        p = Params.unflat(z, d)
        return {"loss": loss(p, ds.X, ds.y), **relative_changes(p, p0.index(idx))}

    ev = None if event is None else (lambda t, z, idx: event(t, Params.unflat(z, d), idx))
    return solve(flow_rhs(ds), z0, 0.0, t1, rtol=rtol, atol=atol, t_eval=t_eval, event=ev,
                 record=record or default_record, record_every=record_every, max_steps=max_steps,
                 on_failure=on_failure)






