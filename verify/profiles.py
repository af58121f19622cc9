"""Verification profiles (``ci``, ``quick``, ``full``) and the Hypothesis profiles behind them.

A :class:`Profile` scales how many configurations Hypothesis draws (``examples``), how many seeds a
probabilistic claim is counted over (``seeds``) and a size multiplier for batches/sweeps (``scale``).
Under ``CI=true`` Hypothesis loads its deterministic ``ci`` profile (``derandomize=True``).

>>> from twostage.verify.profiles import get_profile
>>> get_profile("ci").examples < get_profile("full").examples
True
>>> get_profile("huge")
Traceback (most recent call last):
...
twostage.errors.ProfileError: unknown profile 'huge' (choose from ci, quick, full)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings

from twostage.errors import ProfileError


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int  # Hypothesis examples per property
    seeds: int  # draws for almost-sure / w.h.p. counts
    scale: int  # multiplier for batch sizes and sweep lengths
    derandomize: bool = True
    shrink: bool = True  # shrink a counterexample (the audit turns it off: it only asks *whether* one exists)


PROFILES = {
    "ci": Profile("ci", examples=6, seeds=256, scale=1, derandomize=True),
    "quick": Profile("quick", examples=20, seeds=1024, scale=2, derandomize=False),
    "full": Profile("full", examples=200, seeds=8192, scale=8, derandomize=False),
}

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("ci", derandomize=True, max_examples=PROFILES["ci"].examples, **_COMMON)
settings.register_profile("quick", max_examples=PROFILES["quick"].examples, **_COMMON)
settings.register_profile("full", max_examples=PROFILES["full"].examples, **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ProfileError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})") from None


def hypothesis_settings(profile: Profile, seed: int | None = None) -> settings:
    """Settings for one property run: example count from the profile, deterministic under CI/seed."""
    derand = profile.derandomize or seed is not None or os.environ.get("CI", "").lower() == "true"
    phases = tuple(Phase) if profile.shrink else tuple(p for p in Phase if p is not Phase.shrink)
    return settings(max_examples=profile.examples, derandomize=derand, phases=phases, **_COMMON)
