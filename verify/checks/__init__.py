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


def _canonical(fn: Checker) -> bool:
    return fn.__module__.startswith("twostage.")


def checker(claim_id: str) -> Callable[[Checker], Checker]:
    def deco(fn: Checker) -> Checker:
        old = CHECKERS.get(claim_id)
        # the same function imported under two module names (pytest's importlib mode collects
        # verify/checks/x.py as ``verify.checks.x``) is fine; the registry keeps the package's own
        # ``twostage.*`` one, the name a fresh worker process can import it by
        if old is not None and (old.__code__.co_filename, old.__qualname__) != (
            fn.__code__.co_filename, fn.__qualname__):
            raise ValueError(f"two checkers for claim {claim_id!r}")
        if old is None or not _canonical(old) or _canonical(fn):
            CHECKERS[claim_id] = fn
        return fn

    return deco


def load_checkers() -> dict[str, Checker]:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    return CHECKERS
