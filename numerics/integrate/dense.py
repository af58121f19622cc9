"""Dense output of a Dormand–Prince step: the 4th-order interpolant, event location, ``t_eval`` filling.

Provenance: DERIVED (numerical method): Shampine's (1986) interpolant as in SciPy's RK45.
"""

from __future__ import annotations

import torch


def interp(ya, ha, Q, x):
    """Dense output at fractions ``x`` (b,) of the steps: ``y + h * sum_j Q_j x^(j+1)``."""
    x = x[:, None]
    powers = torch.cat([x, x ** 2, x ** 3, x ** 4], 1)
    return ya + ha[:, None] * torch.einsum("bnj,bj->bn", Q, powers)


def locate(event, idx, ya, ta, ha, tn, yn, Q, iters: int = 60):
    """Bisection for the first crossing ``g >= 0`` on the interpolant of the step (g < 0 at its start):
    returns the time and state at the smallest bracket end where ``g >= 0`` (``yn`` itself if x = 1)."""
    lo, hi = torch.zeros_like(ta), torch.ones_like(ta)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        pos = event(ta + mid * ha, interp(ya, ha, Q, mid), idx) >= 0
        hi, lo = torch.where(pos, mid, hi), torch.where(pos, lo, mid)
        if bool((hi - lo).max() <= 4 * torch.finfo(ta.dtype).eps):
            break
    full = hi >= 1
    t_root = torch.where(full, tn, ta + hi * ha)
    y_root = torch.where(full[:, None], yn, interp(ya, ha, Q, hi))
    return t_root, y_root


def coef(K, tab_p):
    """Dense-output coefficients ``Q = K^T P``: (b, N, 4) from the 7 stages (7, b, N)."""
    return torch.einsum("sbn,sj->bnj", K, tab_p)


def fill_t_eval(te, y_eval, nxt, ai, ya, yn, ta, ha, tn, stages, tab_p):
    """Fill the t_eval points inside (ta, tn] of the accepted elements ``ai`` by the 4th-order interpolant;
    ``stages(sel)`` gives the (7, len(sel), N) stages of the accepted elements at positions ``sel``."""
    M = te.shape[1]
    while True:
        pos = nxt[ai]
        live = pos < M
        if not live.any():
            return
        tp = te[ai, pos.clamp(max=M - 1)]
        inside = live & (tp <= tn)
        if not inside.any():
            return
        sel = inside.nonzero().squeeze(1)
        val = interp(ya[sel], ha[sel], coef(stages(sel), tab_p), (tp[sel] - ta[sel]) / ha[sel])
        at_end = tp[sel] == tn[sel]
        val[at_end] = yn[sel][at_end]
        y_eval[ai[sel], pos[sel]] = val
        nxt[ai[sel]] += 1
