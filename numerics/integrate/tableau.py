"""The Dormand–Prince 5(4) tableau and one pure, batched trial step.

Provenance: DERIVED (numerical method, not from the papers): Dormand & Prince (1980) tableau, the 4th-order
dense output of Shampine (1986) as in SciPy's RK45.

>>> import torch
>>> tab = Tableau.on(torch.float64, torch.device("cpu"))
>>> y = torch.ones(2, 1, dtype=torch.float64); t = torch.zeros(2, dtype=torch.float64)
>>> f = lambda t, y, idx: y
>>> y1, t1, err, K = rk_step(f, t, y, f(t, y, None), torch.full((2,), 0.1, dtype=torch.float64),
...                          torch.ones(2, dtype=torch.float64), torch.arange(2), tab, 1e-9, 1e-12)
>>> round(float(y1[0, 0]), 9), float(t1[0]), K.shape
(1.105170918, 0.1, torch.Size([7, 2, 1]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Rhs = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

C = [0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0]
A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
]
B = [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
# error weights b5 - b4 over the 7 stages (the 7th is f(t+h, y_new), first-same-as-last)
E = [-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40]
# dense output (Shampine), as scipy.integrate.RK45.P: y(t+xh) = y + h * sum_j Q_j x^(j+1), Q = K^T P
P = [
    [1, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0, 0, 0, 0],
    [0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
]
ORDER = 5  # of the propagated solution (step-size control)


@dataclass(frozen=True)
class Tableau:
    """The Dormand–Prince coefficients as tensors of one dtype and device."""

    a: tuple[torch.Tensor, ...]
    b: torch.Tensor
    e: torch.Tensor
    p: torch.Tensor

    @classmethod
    def on(cls, dtype: torch.dtype, device: torch.device) -> Tableau:
        as_t = lambda x: torch.tensor(x, dtype=dtype, device=device)
        return cls(tuple(as_t(r) for r in A), as_t(B), as_t(E), as_t(P))


def rk_step(f, t: torch.Tensor, y: torch.Tensor, k1: torch.Tensor, h: torch.Tensor, t_end: torch.Tensor,
            idx: torch.Tensor, tab: Tableau, rtol: float, atol) -> tuple[torch.Tensor, ...]:
    """One trial Dormand–Prince step for a batch, pure: data in, step out (cf. ``scipy.integrate._ivp.rk``).

    ``t`` (b,), ``y`` (b, N), ``k1 = f(t, y)``, step ``h`` (b,) (already clipped to ``t_end - t``), ``idx``
    the elements' indices in the full batch, ``atol`` a float or (b, 1) tensor. Returns ``y_new``, ``t_new``
    (``t_end`` exactly where the step reaches it), ``err`` (the scaled RMS error norm, (b,)) and the seven
    stages ``K`` (7, b, N), the last one ``f(t_new, y_new)`` (first same as last).
    """
    b, N = y.shape
    K = torch.empty((7, b, N), dtype=y.dtype, device=y.device)
    K[0] = k1
    hc = h[:, None]
    for i in range(1, 6):
        yi = torch.addcmul(y, hc, torch.tensordot(tab.a[i], K[:i], dims=1))
        eval_into(f, t + C[i] * h, yi, idx, K[i])
    y_new = torch.addcmul(y, hc, torch.tensordot(tab.b, K[:6], dims=1))
    t_new = torch.where(h >= t_end - t, t_end, t + h)
    eval_into(f, t_new, y_new, idx, K[6])
    err = hc * torch.tensordot(tab.e, K, dims=1)
    scale = torch.maximum(y.abs(), y_new.abs()).mul_(rtol).add_(atol)
    return y_new, t_new, rms(err.div_(scale)), K


def eval_into(f, t, y, idx, out: torch.Tensor) -> None:
    """``out[:] = f(t, y, idx)``; a right-hand side marked ``writes_out`` writes there itself (no copy)."""
    if getattr(f, "writes_out", False):
        f(t, y, idx, out=out)
    else:
        out.copy_(f(t, y, idx))


def rms(x: torch.Tensor) -> torch.Tensor:
    return x.pow(2).mean(1).sqrt()
