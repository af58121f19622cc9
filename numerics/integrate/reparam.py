"""Time reparametrisation of a blow-up problem (an integrator input, not a solver)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from twostage.numerics.integrate.tableau import Rhs

Speed = Callable[[torch.Tensor], torch.Tensor]


def time_reparametrised(f: Callable[..., torch.Tensor], speed: Speed | None = None,
                        f_writes_out: bool = False) -> Rhs:
    """Right-hand side in the time ``tau`` with ``d tau = s(theta) dt`` for an autonomous ``f(theta, idx)``.

    The state is ``[theta, t]`` (the original time carried as the last component):
    ``d theta / d tau = f(theta) / s(theta)``, ``d t / d tau = 1 / s(theta)``. The default speed
    ``s = sqrt(1 + ||theta||^2)`` turns the finite-time blow-up of a degree-2 homogeneous field into
    exponential growth in ``tau`` (no blow-up at finite ``tau``), so an energy event is reached cleanly.
    Provenance: DERIVED (standard time change; not from the papers). With ``f_writes_out``, ``f(theta, idx,
    out=...)`` writes its value into the given view, and the returned right-hand side (marked
    ``writes_out``) fills the integrator's stage buffer without temporaries.

    >>> import torch
    >>> rhs = time_reparametrised(lambda th, idx: th ** 2)
    >>> z = torch.tensor([[1.0, 0.0]], dtype=torch.float64)     # theta = 1, t = 0
    >>> out = rhs(torch.zeros(1, dtype=torch.float64), z, torch.arange(1)) * 2 ** 0.5
    >>> bool(torch.allclose(out, torch.ones(1, 2, dtype=torch.float64)))
    True
    """
    sp = speed or (lambda th: torch.hypot(torch.linalg.vector_norm(th, dim=1), torch.ones((), dtype=th.dtype,
                                                                                           device=th.device)))

    def rhs(tau, z, idx, out=None):
        th = z[:, :-1]
        s = sp(th)
        out = torch.empty_like(z) if out is None else out
        if f_writes_out:
            f(th, idx, out=out[:, :-1])
        else:
            out[:, :-1] = f(th, idx)
        out[:, :-1].div_(s[:, None])
        out[:, -1] = s.reciprocal()
        return out

    rhs.writes_out = True
    return rhs
