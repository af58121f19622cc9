"""Batched adaptive Dormand–Prince 5(4) integrator with per-element step sizes, events and failure reports.

Solves ``y' = f(t, y)`` for ``B`` independent initial values at once. Every element has its own time,
step size and status; one iteration takes one trial step for every still-running element (accepted or
rejected per element, masked). The right-hand side is only evaluated on the running elements:
``f(t, y, idx)`` receives their times ``t`` (b,), states ``y`` (b, N) and their indices ``idx`` (b,) in
the full batch (so element-specific parameters can be gathered; autonomous problems ignore both).

Nothing is integrated into inf/NaN silently: a trial step with a non-finite value is rejected and the
step shrunk; if the step underflows the element stops with status ``NONFINITE`` (or
``STEP_UNDERFLOW``), the element index, accepted-step count and time are reported, and by default an
:class:`IntegrationError` is raised. Blow-up problems are stopped by an event (``g(t, y, idx) >= 0``),
ideally in a reparametrised time (:func:`time_reparametrised`).

Provenance: DERIVED (numerical method, not from the papers): Dormand & Prince (1980) tableau, the
4th-order dense output of Shampine (1986) as in SciPy's RK45, Hairer–Nørsett–Wanner initial step.

>>> import torch
>>> sol = solve(lambda t, y, idx: y, torch.ones(3, 1, dtype=torch.float64), 0.0, 1.0, rtol=1e-10, atol=1e-12)
>>> bool(torch.allclose(sol.y_final[:, 0], torch.full((3,), torch.e, dtype=torch.float64), rtol=1e-8))
True
>>> [Outcome(int(s)).name for s in sol.status]
['DONE', 'DONE', 'DONE']
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from twostage.numerics.integrate.dense import coef, fill_t_eval, locate
from twostage.numerics.integrate.solution import Outcome, Solution
from twostage.numerics.integrate.tableau import ORDER, Rhs, Tableau, rk_step, rms

MIN_FACTOR, MAX_FACTOR, SAFETY = 0.2, 10.0, 0.9


def _initial_step(f, t, y, f0, t1, rtol, atol, idx):
    """Hairer–Nørsett–Wanner starting step, vectorised over the batch (order 5)."""
    scale = atol + rtol * y.abs()
    d0, d1 = rms(y / scale), rms(f0 / scale)
    h0 = torch.where((d0 < 1e-5) | (d1 < 1e-5), torch.full_like(d0, 1e-6), 0.01 * d0 / d1)
    h0 = torch.minimum(h0, t1 - t)
    f1 = f(t + h0, y + h0[:, None] * f0, idx)
    d2 = rms((f1 - f0) / scale) / h0
    dm = torch.maximum(d1, d2)
    h1 = torch.where(dm <= 1e-15, torch.clamp(h0 * 1e-3, min=1e-6), (0.01 / dm).pow(1.0 / ORDER))
    h = torch.minimum(100 * h0, h1)
    return torch.where(torch.isfinite(h) & (h > 0), h, h0 * 1e-3)


class _Recorder:
    """Growable (B, K, ...) buffers, NaN-padded, written at per-element positions."""

    def __init__(self, B, dtype, device, cap=64):
        self.B, self.dtype, self.device, self.cap = B, dtype, device, cap
        self.count = torch.zeros(B, dtype=torch.long, device=device)
        self.bufs: dict[str, torch.Tensor] = {}

    def _grow(self, need):
        while self.cap < need:
            self.cap *= 2
        for k, v in self.bufs.items():
            pad = torch.full((self.B, self.cap - v.shape[1], *v.shape[2:]), math.nan, dtype=v.dtype,
                             device=v.device)
            self.bufs[k] = torch.cat([v, pad], 1)

    def write(self, idx, values: dict[str, torch.Tensor]):
        if idx.numel() == 0:
            return
        pos = self.count[idx]
        need = int(pos.max()) + 1
        if need > self.cap:
            self._grow(need)
        for k, v in values.items():
            if k not in self.bufs:
                dt = v.dtype if v.is_floating_point() or v.is_complex() else self.dtype
                self.bufs[k] = torch.full((self.B, self.cap, *v.shape[1:]), math.nan, dtype=dt,
                                          device=self.device)
            self.bufs[k][idx, pos] = v.to(self.bufs[k].dtype)
        self.count[idx] += 1

    def finish(self):
        K = int(self.count.max()) if self.B else 0
        mask = torch.arange(K, device=self.device)[None, :] < self.count[:, None]
        return {k: v[:, :K] for k, v in self.bufs.items()}, mask


def solve(f: Rhs, y0: torch.Tensor, t0=0.0, t1=math.inf, *, rtol: float = 1e-9, atol: float = 1e-12,
          event: Callable | None = None, max_steps: int = 100_000, record: Callable | None = None,
          record_every: int = 1, t_eval: torch.Tensor | None = None, h_max: float = math.inf,
          h0: float | None = None, locate_events: bool = True, on_failure: str = "raise") -> Solution:
    """Integrate ``y' = f(t, y, idx)`` for a batch ``y0`` (B, N) from ``t0`` to ``t1`` (floats or (B,)).

    * ``event(t, y, idx) -> (b,)``: an element stops (status ``EVENT``) at the first accepted step where
      ``g >= 0`` (also checked at t0); with ``locate_events`` the crossing is located by bisection on the
      step's dense output and the final time/state are those at the crossing.
    * ``record(t, y, idx) -> dict`` of (b, ...) tensors, stored at the initial state, every
      ``record_every``-th accepted step and the final step; ``None`` records ``y``.
    * ``t_eval`` ((M,) or (B, M), increasing, >= t0): dense-output states in ``Solution.y_eval``.
    * ``atol``: float or (B,) tensor. ``max_steps`` caps accepted and (separately) rejected steps per
      element. ``h0``: first step (default: Hairer's heuristic). ``on_failure``: ``"raise"``
      (default, :class:`IntegrationError`) or ``"mark"``.
    """
    if on_failure not in ("raise", "mark"):
        raise ValueError(f"on_failure must be 'raise' or 'mark', got {on_failure!r}")
    if y0.dim() != 2:
        raise ValueError(f"y0 must have shape (B, N), got {tuple(y0.shape)}")
    dev, dt = y0.device, y0.dtype
    B, N = y0.shape
    t = torch.as_tensor(t0, dtype=dt, device=dev).expand(B).clone()
    t1 = torch.as_tensor(t1, dtype=dt, device=dev).expand(B).clone()
    y = y0.clone()
    status = torch.zeros(B, dtype=torch.long, device=dev)
    n_acc = torch.zeros(B, dtype=torch.long, device=dev)
    n_rej = torch.zeros_like(n_acc)
    fail_step = torch.full((B,), -1, dtype=torch.long, device=dev)
    fail_time = torch.full((B,), math.nan, dtype=dt, device=dev)
    all_idx = torch.arange(B, device=dev)
    rec = record or (lambda tt, yy, ii: {"y": yy})
    recorder = _Recorder(B, dt, dev)
    tab = Tableau.on(dt, dev)
    atol_t = torch.as_tensor(atol, dtype=dt, device=dev)
    atol_t = atol_t[:, None] if atol_t.dim() else atol_t

    # dense output bookkeeping
    te = None
    if t_eval is not None:
        te = torch.as_tensor(t_eval, dtype=dt, device=dev)
        te = te.expand(B, -1).contiguous() if te.dim() == 1 else te
        if (te[:, 1:] < te[:, :-1]).any() or (te < t[:, None]).any():
            raise ValueError("t_eval must be increasing and >= t0")
        y_eval = torch.full((B, te.shape[1], N), math.nan, dtype=dt, device=dev)
        at0 = te == t[:, None]
        y_eval[at0] = y[:, None, :].expand(-1, te.shape[1], -1)[at0]
        nxt = at0.sum(1)

    def mark_fail(idx, st):
        status[idx] = int(st)
        fail_step[idx] = n_acc[idx]
        fail_time[idx] = t[idx]

    k1 = f(t, y, all_idx)
    bad0 = ~torch.isfinite(k1).all(1) | ~torch.isfinite(y).all(1)
    mark_fail(all_idx[bad0], Outcome.NONFINITE)
    if event is not None:
        hit = (event(t, y, all_idx) >= 0) & (status == Outcome.RUNNING)
        status[hit] = int(Outcome.EVENT)
    status[(t >= t1) & (status == Outcome.RUNNING)] = int(Outcome.DONE)
    recorder.write(all_idx, {"t": t, **rec(t, y, all_idx)})
    run = status == Outcome.RUNNING
    h = torch.zeros(B, dtype=dt, device=dev)
    if run.any():
        ri = all_idx[run]
        a0 = atol_t[ri] if atol_t.dim() else atol_t
        h[ri] = _initial_step(f, t[ri], y[ri], k1[ri], t1[ri], rtol, a0, ri) if h0 is None else h0
    h = torch.clamp(h, max=h_max)

    while True:
        run = status == Outcome.RUNNING
        act = all_idx[run]
        if act.numel() == 0:
            break
        full = act.numel() == B  # fast path: no gathers while every element is running
        ya, ka = (y, k1) if full else (y[act], k1[act])
        ta, t1a = t[act], t1[act]
        ha = torch.minimum(h[act], t1a - ta)
        hits_end = ha >= t1a - ta
        y_new, t_new, en, K = rk_step(f, ta, ya, ka, ha, t1a, act, tab, rtol,
                                      atol_t[act] if atol_t.dim() else atol_t)
        # a non-finite entry of y_new makes its row sum non-finite; one of f(y_new) makes the error non-finite
        finite = torch.isfinite(y_new.sum(1)) & torch.isfinite(en)
        accept = finite & (en <= 1.0)
        fac = torch.where(en == 0, torch.full_like(en, MAX_FACTOR), SAFETY * en.pow(-1.0 / ORDER))
        fac = torch.nan_to_num(fac, nan=MIN_FACTOR).clamp(MIN_FACTOR, MAX_FACTOR)
        fac = torch.where(accept, fac, torch.clamp(fac, max=1.0))
        fac = torch.where(finite, fac, torch.full_like(fac, 0.25))
        h_next = torch.clamp(ha * fac, max=h_max)
        # accepted steps: events (located on the interpolant), dense output, commit
        all_acc = bool(accept.all())
        ai, rj = (act, act[:0]) if all_acc else (act[accept], act[~accept])
        fin = torch.zeros(B, dtype=torch.bool, device=dev)
        if ai.numel():
            pick = (lambda x: x) if all_acc else (lambda x, m=accept: x[m])
            yn, tn = pick(y_new), pick(t_new)
            # stages of accepted elements, gathered only where needed (K is (7, b, N): a gather of all of it
            # per partly rejected step would move 7x the state)
            pa = None if all_acc else accept.nonzero().squeeze(1)
            stages = ((lambda sel, K=K: K[:, sel]) if all_acc
                      else (lambda sel, K=K, pa=pa: K[:, pa[sel]]))
            yo, to, ho = pick(ya), pick(ta), pick(ha)
            ev = torch.zeros(ai.numel(), dtype=torch.bool, device=dev)
            if event is not None:
                ev = event(tn, yn, ai) >= 0
                if locate_events and bool(ev.any()):
                    e = ev.nonzero().squeeze(1)
                    Qe = coef(stages(e), tab.p)
                    tn[e], yn[e] = locate(event, ai[e], yo[e], to[e], ho[e], tn[e], yn[e], Qe)
            if te is not None:
                fill_t_eval(te, y_eval, nxt, ai, yo, yn, to, ho, tn, stages, tab.p)
            k_last = K[6] if all_acc else K[6, pa]
            if full and all_acc:
                y, k1 = yn, k_last
                t.copy_(tn)
            else:
                y[ai], t[ai], k1[ai] = yn, tn, k_last
            n_acc[ai] += 1
            status[ai[ev]] = int(Outcome.EVENT)
            status[ai[pick(hits_end) & ~ev]] = int(Outcome.DONE)
            cap = (n_acc[ai] >= max_steps) & (status[ai] == Outcome.RUNNING)
            status[ai[cap]] = int(Outcome.MAX_STEPS)
            fin[ai] = status[ai] != Outcome.RUNNING
        n_rej[rj] += 1
        h[act] = h_next
        # rejected steps: underflow / non-finite / too many rejections
        if rj.numel():
            hmin = 16 * torch.finfo(dt).eps * torch.clamp(ta[~accept].abs(), min=torch.finfo(dt).tiny)
            under = h_next[~accept] < hmin
            mark_fail(rj[under & ~finite[~accept]], Outcome.NONFINITE)
            mark_fail(rj[under & finite[~accept]], Outcome.STEP_UNDERFLOW)
            many = (n_rej[rj] >= max_steps) & (status[rj] == Outcome.RUNNING)
            status[rj[many]] = int(Outcome.MAX_STEPS)
        if ai.numel():
            wr = ai[(n_acc[ai] % record_every == 0) | fin[ai]]
            if wr.numel():
                recorder.write(wr, {"t": t[wr], **rec(t[wr], y[wr], wr)})

    bufs, mask = recorder.finish()
    ts = bufs.pop("t")
    sol = Solution(t=ts, records=bufs, mask=mask, t_final=t, y_final=y, status=status, n_accepted=n_acc,
                   n_rejected=n_rej, fail_step=fail_step, fail_time=fail_time)
    if te is not None:
        sol.t_eval, sol.y_eval = te, y_eval
        sol.eval_mask = torch.isfinite(y_eval).all(-1)
    if on_failure == "raise":
        sol.raise_on_failure()
    return sol
