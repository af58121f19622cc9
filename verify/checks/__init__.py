"""The checkers: one module per topic, ``verify/checks/<paper>/<topic>.py`` (a package where a topic's
checkers exceed one small module), mirroring ``theory/<paper>/<topic>.py`` and
``numerics/<paper>/<topic>.py``.

Each registers its checks with :func:`twostage.verify.check.checker`; :func:`load_checkers` imports them all
and returns the registry ``{claim id: Check}``.
"""

from __future__ import annotations

import importlib
import pkgutil

from twostage.verify.check import CHECKERS, Check, Context, checker

__all__ = ["CHECKERS", "Check", "Context", "checker", "load_checkers"]


def load_checkers() -> dict[str, Check]:
    for mod in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(mod.name)
    return CHECKERS
