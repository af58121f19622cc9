"""chen-luo-2025 Thm 1 numerically: the effective ODE (7) integrated to its blow-up, batched; the escape
time of the full flow; Gaussian initial states.

:func:`integrate_to_blowup` integrates in ``tau`` with ``d tau = sqrt(1 + ||theta||^2) d tbar`` (``tbar``
carried as a state component) and stops each element at the event ``E >= E_max``. Since
``E(t) <= (T* - t)^-3`` whenever ``E > 0`` (DERIVED general consequence of Thm 1 (11)), ``T*`` lies in
``[t_end, t_end + E_end^(-1/3)]``; the upper end is asymptotically exact because ``E (T* - t)^3 -> 1``
(DERIVED, §4.3, sharp limit), so it is also the point estimate ``T_est``. Both ends carry the integration
error (about ``rtol`` relative): in the balanced scalar case the upper bound is attained exactly, so the
computed ``T_hi`` may fall below ``T*`` by that much.

* :func:`gaussian_state`: ``B`` N(0, 1) reduced states (normalised weights, eq. (4)), optionally with the
  sign of ``E(0)`` forced (``W2 -> -W2`` flips ``E`` and preserves the Gaussian law);
* :func:`escape_time`: the first time the outer weights of the *full* flow reach a fixed size; ``eps t_esc``
  tends to ``(n s / ||Z||) Tbar*`` (DERIVED, §4.3 homogeneity; Appendix C.1).

>>> import torch
>>> x0 = torch.tensor([[0.5]], dtype=torch.float64)        # balanced scalar case: T* = 1 / x0 = 2
>>> res = integrate_to_blowup(x0, x0[..., None], x0, E_max=1e12)
>>> abs(float(res.T_est[0]) - 2.0) < 1e-9, bool(res.T_lo[0] < 2.0)
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from twostage.numerics.chen_luo import effective as eff
from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.data import Dataset
from twostage.numerics.chen_luo.effective import field, pack, unpack
from twostage.numerics.chen_luo.fullflow import integrate_flow
from twostage.numerics.chen_luo.model import Params
from twostage.numerics.integrate import Outcome, Solution, solve, time_reparametrised


def gaussian_state(d: int, B: int, seed: int, sign: int = 0, device: str = "cpu"):
    """Reduced state ``(Wv, W1, W2)`` of ``B`` N(0, 1) draws (normalised weights, eq. (4)), float64.

    ``sign``: +1 forces ``E(0) > 0``, -1 forces ``E(0) <= 0`` (by ``W2 -> -W2``), 0 keeps the draw.
    """
    g = torch.Generator().manual_seed(seed)
    Wv = torch.randn(B, d, generator=g, dtype=torch.float64)
    W1 = torch.randn(B, d, d, generator=g, dtype=torch.float64)
    W2 = torch.randn(B, d, generator=g, dtype=torch.float64)
    if sign != 0:
        E0 = torch.einsum("bk,bkl,bl->b", Wv, W1, W2)
        flip = (E0 > 0) != (sign > 0)
        W2 = torch.where(flip[:, None], -W2, W2)
    return tuple(x.to(device) for x in (Wv, W1, W2))


@dataclass
class BlowupResult:
    """Outcome of :func:`integrate_to_blowup`. Series are (B, K) padded with NaN, ``mask`` marks valid ones.

    ``t`` is the rescaled time tbar; ``series`` holds ``E``, ``Edot`` and norms (plus invariant drifts and
    the state when asked); ``T_lo <= T* <= T_hi`` with ``T_hi = T_est = t_end + E_end^(-1/3)``;
    ``reached`` marks the elements that hit ``E >= E_max`` (all others failed or hit ``max_steps``)."""

    t: torch.Tensor
    series: dict[str, torch.Tensor]
    mask: torch.Tensor
    t_end: torch.Tensor
    E_end: torch.Tensor
    T_lo: torch.Tensor
    T_hi: torch.Tensor
    T_est: torch.Tensor
    reached: torch.Tensor
    state_end: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    solution: Solution


def integrate_to_blowup(Wv, W1, W2, *, E_max: float = 1e12, rtol: float = 1e-10, atol: float = 1e-12,
                        max_steps: int = 20_000, record_every: int = 1, invariants: bool = False,
                        record_state: bool = False, on_failure: str = "raise") -> BlowupResult:
    """Integrate (7) from ``(Wv, W1, W2)`` (B, d), (B, d, d), (B, d) until ``E >= E_max`` for every element,
    in the reparametrised time of :func:`twostage.numerics.integrate.time_reparametrised`.

    Records at accepted steps: ``E``, ``Edot`` (identity (16)), ``norm_Wv``, ``norm_W1``, ``norm_W2``; with
    ``invariants`` the relative drift of each invariant of :func:`observables.invariants` (``drift_<name>``)
    against the initial state; with ``record_state`` the states ``Wv``, ``W1``, ``W2``.
    """
    d = Wv.shape[1]
    z0 = pack(Wv, W1, W2)
    inv0 = ob.invariants(Wv, W1, W2) if invariants else None
    n = z0.shape[1]

    def record(tau, y, idx):
        a, b, c = unpack(y[:, :n], d)
        out = {"tbar": y[:, n], "E": ob.energy(a, b, c), "Edot": ob.energy_rate(a, b, c), **ob.norms(a, b, c)}
        if inv0 is not None:
            start = {k: (v[idx], s[idx]) for k, (v, s) in inv0.items()}
            drift = ob.invariant_drift(ob.invariants(a, b, c), start)
            out.update({f"drift_{k}": v for k, v in drift.items()})
        if record_state:
            out.update(Wv=a, W1=b, W2=c)
        return out

    ev = lambda tau, y, idx: ob.energy(*unpack(y[:, :n], d)) - E_max
    y0 = torch.cat([z0, torch.zeros_like(z0[:, :1])], 1)
    rhs = time_reparametrised(lambda th, idx, out=None: field(th, out), f_writes_out=True)
    sol = solve(rhs, y0, 0.0, math.inf, rtol=rtol, atol=atol,
                event=ev, max_steps=max_steps, record=record, record_every=record_every,
                on_failure=on_failure)
    series = dict(sol.records)
    t = series.pop("tbar")
    t_end = sol.y_final[:, n]
    state_end = unpack(sol.y_final[:, :n], d)
    E_end = ob.energy(*state_end)
    reached = sol.status == Outcome.EVENT
    gap = torch.where(E_end > 0, E_end.clamp(min=torch.finfo(E_end.dtype).tiny).pow(-1.0 / 3.0),
                      torch.full_like(E_end, math.inf))
    T_hi = torch.where(reached, t_end + gap, torch.full_like(t_end, math.inf))
    return BlowupResult(t=t, series=series, mask=sol.mask, t_end=t_end, E_end=E_end, T_lo=t_end.clone(),
                        T_hi=T_hi, T_est=T_hi.clone(), reached=reached, state_end=state_end, solution=sol)


def blowup_time(Wv, W1, W2, **kw) -> torch.Tensor:
    """Point estimate of ``T*`` (B,) for every element (see :class:`BlowupResult`); raises if an element does
    not reach the event (``max_steps``) or fails numerically."""
    kw.setdefault("record_every", 10 ** 9)
    res = integrate_to_blowup(Wv, W1, W2, **kw)
    if not bool(res.reached.all()):
        bad = (~res.reached).nonzero().flatten().tolist()
        raise RuntimeError(f"elements {bad[:5]} did not reach E >= E_max (status "
                           f"{[Outcome(int(s)).name for s in res.solution.status[bad[:5]]]})")
    return res.T_est


def dm1_blowup_time(w, m, c, *, E_max: float = 1e14, rtol: float = 1e-12, atol: float = 1e-14):
    """``T*`` of the ``d_m = 1`` system ``w' = m c, m' = w c, c' = w m`` by integration (batched: ``w, m, c``
    floats or (B,) tensors). The quadrature oracle is ``theory/chen_luo/blowup.py:dm1_blowup_time``
    (DERIVED, chen-luo-2025 §4.3: (0.7, 0.3, 1.2) -> 1.400750).

    >>> round(float(dm1_blowup_time(0.7, 0.3, 1.2)[0]), 6)
    1.40075
    """
    w, m, c = (torch.as_tensor(x, dtype=torch.float64).reshape(-1) for x in (w, m, c))
    w, m, c = torch.broadcast_tensors(w, m, c)
    return blowup_time(w[:, None], m[:, None, None], c[:, None], E_max=E_max, rtol=rtol, atol=atol)


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
    horizon = ds.t_of_tbar(4.0 * blowup_time(wv, w1, w2), eps)
    sol = integrate_flow(p0, ds, horizon, rtol=rtol, max_steps=max_steps, record=lambda t, z, i: {},
                         event=lambda t, p, idx: outer_size(p, norm) - c)
    if not bool((sol.status == 2).all()):
        raise RuntimeError(f"{int((sol.status != 2).sum())} elements did not reach outer size {c}")
    t_esc = sol.t_final
    return {"t_esc": t_esc, "tbar_esc": ds.tbar(t_esc, eps), "eps_t_esc": eps * t_esc}
