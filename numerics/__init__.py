"""PyTorch numerics: integrators, models and observables, one module per topic (never imported by theory).

The public surface: the device helpers and the configuration guard every simulation uses; the integrator is
:mod:`twostage.numerics.integrate`, the papers' topics are :mod:`twostage.numerics.chen_luo` and
:mod:`twostage.numerics.gong`.
"""

from twostage.numerics.config import require
from twostage.numerics.device import describe, resolve_device

__all__ = ["describe", "require", "resolve_device"]
