"""Gradient flow of the full one-layer transformer (chen-luo-2025 Def. 3) and its comparison with (7).

Training is gradient flow ``theta' = -grad L(theta)`` (PAPER, chen-luo-2025 §2.2), integrated by the
adaptive Dormand-Prince integrator (rtol ~ 1e-9 in float64; no silent large GD steps), batched over
initialisations: every batch element is an independent parameter set on the same data.

* :func:`compare_with_effective`: Prop. 1 (PAPER, (6)-(7)): ``theta(t) / eps`` against the effective ODE
  at fixed ``tbar = eps ||Z|| t / (n s)``; the relative distance is O(eps^2) (Appendix C.1 reference:
  1.65e-5 at eps = 1e-2 -> 1.49e-6 at eps = 3e-3 on its own random n=6, s=3, d=3 instance).
* :func:`escape_time`: the first time the outer weights reach a fixed size ``c``; ``eps t_esc`` tends to
  ``(n s / ||Z||) Tbar*`` (DERIVED, §4.3 homogeneity; Appendix C.1).
* :func:`relative_changes` and :func:`full_invariants`: P2 (Q/K quasi-static, DERIVED) and P3' (the
  balancedness laws of the full flow, DERIVED).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from twostage.numerics.chen_luo import effective as eff
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


def outer_size(p: Params, norm: str = "maxabs") -> torch.Tensor:
    """Size of the outer weights ``(WV, W1, W2)``: largest entry (``maxabs``) or joint Frobenius norm."""
    z = torch.cat([p.WV.flatten(1), p.W1.flatten(1), p.W2], 1)
    if norm == "maxabs":
        return z.abs().amax(1)
    if norm == "fro":
        return z.norm(dim=1)
    raise ValueError(f"norm must be 'maxabs' or 'fro', got {norm!r}")


def escape_time(pbar0: Params, ds: Dataset, eps: float, c: float = 0.05, norm: str = "maxabs",
                rtol: float = 1e-9, max_steps: int = 100_000) -> dict[str, torch.Tensor]:
    """First time the outer weights of the full flow from ``eps * pbar0`` reach size ``c`` (B elements).

    Returns ``t_esc`` (gradient-flow time), ``tbar_esc = eps ||Z|| t_esc / (n s)`` and ``eps_t_esc``;
    ``tbar_esc -> Tbar*(pbar0)`` as ``eps -> 0`` with a gap ~ eps (DERIVED, chen-luo-2025 §4.3, App. C.1).
    Raises if an element does not escape (the ``c`` must be reachable, e.g. c << 1 but > eps * size).
    """
    p0 = pbar0.scale(eps)
    # generous horizon: the effective dynamics blow up at Tbar*; the full flow escapes near it
    wv, w1, w2 = eff.reduced_state(pbar0, ds.v.to(pbar0.W2))
    horizon = ds.t_of_tbar(4.0 * eff.blowup_time(wv, w1, w2), eps)
    sol = integrate_flow(p0, ds, horizon, rtol=rtol, max_steps=max_steps, record=lambda t, z, i: {},
                         event=lambda t, p, idx: outer_size(p, norm) - c)
    if not bool((sol.status == 2).all()):
        raise RuntimeError(f"{int((sol.status != 2).sum())} elements did not reach outer size {c}")
    t_esc = sol.t_final
    return {"t_esc": t_esc, "tbar_esc": ds.tbar(t_esc, eps), "eps_t_esc": eps * t_esc}


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
        Tstar = eff.blowup_time(Wv0, W10, W20)
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
