"""The fourth mutation class of issue 12: a 1e-4 relative error in the stage-1 field (7) must be caught by a
claim that targets it. The Riccati and E-dot bounds are inequalities with slack and cannot see it; the
``d_m = 1`` elliptic-integral oracle (chen-luo-2025 §4.3, derived) can: here the ``d_m = 1`` system is
integrated independently (scipy DOP853, not our integrator) with and without the error in one component of the
field, and the oracle's judge receives each blow-up time."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import twostage.verify.checks.chen_luo.blowup as s1
from twostage.theory.claims import load_all
from twostage.verify.verdict import Status

E_MAX = 1e14


def blowup_time(w0, m0, c0, error=0.0):
    """``T*`` of ``w' = (1 + error) m c, m' = w c, c' = w m`` (the ``d_m = 1`` instance of (7)), by DOP853 to
    ``E = w m c = 1e14`` and the sharp asymptotics ``T* = t + E^{-1/3}`` (chen-luo-2025 §4.3)."""
    def f(t, z):
        w, m, c = z
        return [(1 + error) * m * c, w * c, w * m]

    hit = lambda t, z: z[0] * z[1] * z[2] - E_MAX  # noqa: E731
    hit.terminal = True
    sol = solve_ivp(f, (0.0, 100.0), [w0, m0, c0], method="DOP853", rtol=1e-13, atol=1e-15, events=hit)
    t, z = sol.t_events[0][0], sol.y_events[0][0]
    return float(t + np.prod(z) ** (-1 / 3))


@pytest.mark.parametrize("cfg", [s1.Dm1Draw(0.7, 0.3, 1.2), s1.Dm1Draw(-0.4, 0.9, -1.1)])
def test_a_1e4_field_error_is_caught_by_the_dm1_oracle(cfg):
    claim = load_all().get("chen-luo-2025/oracle/dm1-elliptic")
    exact = cfg.t0 + blowup_time(cfg.w, cfg.m, cfg.c)
    assert s1.dm1_elliptic(claim, cfg, exact).status is Status.HOLDS  # an independent integration agrees
    perturbed = cfg.t0 + blowup_time(cfg.w, cfg.m, cfg.c, error=1e-4)
    assert abs(perturbed / exact - 1) > 1e-6  # the error moves T* by more than the oracle's tolerance
    assert s1.dm1_elliptic(claim, cfg, perturbed).status is Status.VIOLATED
