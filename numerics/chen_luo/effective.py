"""The effective stage-1 dynamics (7) of chen-luo-2025, batched, and its integration to blow-up.

PAPER, chen-luo-2025 Prop 1 (7): ``d theta_bar / d tbar = grad (v WV W1 W2)`` (gradient *ascent* on E).
In components (DERIVED, §2.3; the reduced variables close because ||v|| = 1):

    dWv = (W1 W2)^T,   dW1 = Wv^T W2^T,   dW2 = W1^T Wv^T,   dWV = v^T (W1 W2)^T,   dWQ = dWK = 0.

The reduced state is ``(Wv (B,d), W1 (B,d,d), W2 (B,d))`` packed as (B, d + d^2 + d); the full form adds
``WV`` (B,d,d) (state ``(WV, W1, W2)``, :func:`rhs_full`). The field is homogeneous of degree 2 and blows up
at a finite ``T*`` (Thm 1). :func:`integrate_to_blowup` therefore integrates in ``tau`` with
``d tau = sqrt(1 + ||theta||^2) d tbar`` (``tbar`` carried as a state component) and stops each element at
the event ``E >= E_max``. Since ``E(t) <= (T* - t)^-3`` whenever ``E > 0`` (DERIVED general consequence
of Thm 1 (11)), ``T*`` lies in ``[t_end, t_end + E_end^(-1/3)]``; the upper end is asymptotically exact
because ``E (T* - t)^3 -> 1`` (DERIVED, §4.3, sharp limit), so it is also the point estimate ``T_est``.
Both ends carry the integration error (about ``rtol`` relative): in the balanced scalar case the upper
bound is attained exactly, so the computed ``T_hi`` may fall below ``T*`` by that much.

>>> import torch
>>> from twostage.numerics.chen_luo.effective import integrate_to_blowup
>>> x0 = torch.tensor([[0.5]], dtype=torch.float64)        # balanced scalar case: T* = 1 / x0 = 2
>>> res = integrate_to_blowup(x0, x0[..., None], x0, E_max=1e12)
>>> abs(float(res.T_est[0]) - 2.0) < 1e-9, bool(res.T_lo[0] < 2.0)
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from twostage.numerics.chen_luo import observables as ob
from twostage.numerics.chen_luo.model import Params
from twostage.numerics.integrate import Outcome, Solution, solve, time_reparametrised


def pack(Wv: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor) -> torch.Tensor:
    """(B, d), (B, d, d), (B, d) -> (B, d + d^2 + d)."""
    return torch.cat([Wv, W1.reshape(W1.shape[0], -1), W2], 1)


def unpack(z: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack` (views)."""
    b = z.shape[0]
    return z[:, :d], z[:, d:d + d * d].reshape(b, d, d), z[:, d + d * d:d + d * d + d]


def dim_of(n_state: int) -> int:
    """``d`` from the packed length ``d^2 + 2 d``."""
    d = int(round(math.sqrt(n_state + 1) - 1))
    if d * d + 2 * d != n_state:
        raise ValueError(f"state length {n_state} is not d^2 + 2d")
    return d


def field(z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The reduced vector field (7) on packed states (B, d^2 + 2d) (DERIVED, chen-luo-2025 §2.3), written
    into ``out`` (a (B, d^2 + 2d) tensor or row-strided view, e.g. an integrator stage) when given."""
    d = dim_of(z.shape[1])
    b = z.shape[0]
    Wv, W1, W2 = unpack(z, d)
    if out is None:
        out = torch.empty((b, z.shape[1]), dtype=z.dtype, device=z.device)  # filled in place, no cat
    torch.mul(Wv[:, :, None], W2[:, None, :], out=out[:, d:d + d * d].view(b, d, d))
    # (bmm into a strided ``out=`` view is about twice slower on CPU than bmm and a copy)
    out[:, :d] = torch.bmm(W1, W2[:, :, None])[:, :, 0]
    out[:, d + d * d:] = torch.bmm(Wv[:, None, :], W1)[:, 0, :]
    return out


def rhs(t: torch.Tensor, z: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """:func:`field` with the integrator's signature ``f(t, y, idx)`` (autonomous)."""
    return field(z)


def rhs_full(v: torch.Tensor):
    """Right-hand side of (7) on the full state ``(WV (B,d,d), W1, W2)`` packed as (B, 2 d^2 + d), with
    ``Wv = v WV`` (PAPER Prop 1 (7); components DERIVED §2.3). Only ``WV``'s component along ``v`` moves."""

    def f(t, z, idx):
        b = z.shape[0]
        d = v.shape[0]
        WV, W1, W2 = z[:, :d * d].reshape(b, d, d), z[:, d * d:2 * d * d].reshape(b, d, d), z[:, 2 * d * d:]
        Wv = torch.einsum("i,bij->bj", v.to(z), WV)
        dWv = torch.bmm(W1, W2[:, :, None])[:, :, 0]
        dWV = v.to(z)[None, :, None] * dWv[:, None, :]
        dW1 = Wv[:, :, None] * W2[:, None, :]
        dW2 = torch.bmm(Wv[:, None, :], W1)[:, 0, :]
        return torch.cat([dWV.reshape(b, -1), dW1.reshape(b, -1), dW2], 1)

    return f


def reduced_state(pbar: Params, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(Wv = v WV_bar, W1_bar, W2_bar)`` from normalised full-model parameters (PAPER eq. (8))."""
    return torch.einsum("i,bij->bj", v.to(pbar.WV), pbar.WV), pbar.W1, pbar.W2


def full_WV(WV0: torch.Tensor, v: torch.Tensor, Wv: torch.Tensor, Wv0: torch.Tensor) -> torch.Tensor:
    """``WV(t) = WV(0) + v^T (Wv(t) - Wv(0))``: the part orthogonal to v is frozen (DERIVED, §2.3).
    ``Wv`` may carry extra leading dims after the batch, e.g. (B, K, d); ``WV0`` (B, d, d), ``Wv0`` (B, d)."""
    extra = Wv.dim() - Wv0.dim()
    WV0 = WV0.reshape(WV0.shape[:1] + (1,) * extra + WV0.shape[1:])
    dv = Wv - Wv0.reshape(Wv0.shape[:1] + (1,) * extra + Wv0.shape[1:])
    return WV0 + v.to(Wv)[:, None] * dv[..., None, :]


def integrate(Wv, W1, W2, tbar_eval: torch.Tensor, *, rtol: float = 1e-10, atol: float = 1e-13,
              E_max: float = 1e12, max_steps: int = 100_000) -> Solution:
    """Integrate (7) in ``tbar`` itself up to ``max(tbar_eval)``, dense output at ``tbar_eval`` ((M,) or
    (B, M)). Meant for times below ``T*``; an element reaching ``E >= E_max`` first stops (status EVENT,
    its later ``y_eval`` stay NaN) rather than running into the singularity."""
    z0 = pack(Wv, W1, W2)
    d = Wv.shape[1]
    te = torch.as_tensor(tbar_eval, dtype=z0.dtype, device=z0.device)
    t1 = te.max(-1).values if te.dim() == 2 else te.max()
    ev = lambda t, z, idx: ob.energy(*unpack(z, d)) - E_max
    return solve(rhs, z0, 0.0, t1, rtol=rtol, atol=atol, t_eval=te, event=ev, max_steps=max_steps,
                 record=lambda t, z, idx: {}, on_failure="raise")


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
