"""Checker registry: one function per claim id, ``check(ctx) -> Measurement``.

Checker modules live beside this file (one per result group, mirroring ``theory/``) and register
with :func:`checker`. :func:`load_checkers` imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from twostage.verify.profiles import Profile
from twostage.verify.verdict import Measurement


@dataclass(frozen=True)
class Context:
    """What a checker may depend on: the profile, the torch device name, a base seed."""

    profile: Profile
    device: str = "cpu"
    seed: int = 0


Checker = Callable[[Context], Measurement]
CHECKERS: dict[str, Checker] = {}


def checker(claim_id: str) -> Callable[[Checker], Checker]:
    def deco(fn: Checker) -> Checker:
        if claim_id in CHECKERS and CHECKERS[claim_id] is not fn:
            raise ValueError(f"two checkers for claim {claim_id!r}")
        CHECKERS[claim_id] = fn
        return fn

    return deco


def load_checkers() -> dict[str, Checker]:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    return CHECKERS
