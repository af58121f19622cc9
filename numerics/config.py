"""Configuration validation shared by theory (symbol substitution) and numerics (training).

Configurations are frozen dataclasses whose ``__post_init__`` calls :func:`require`, so an invalid
configuration cannot be constructed; the error names the violated assumption in one line.

>>> from twostage.numerics.config import require
>>> require(2 > 1, "chen-luo-2025/ass/Z-nonzero", "Z = sum_i y_i sum_j X_ij must be nonzero")
>>> require(False, "chen-luo-2025/ass/eps-small", "eps must be in (0, 1), got 2")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
twostage.errors.ConfigError: configuration outside assumption chen-luo-2025/ass/eps-small: eps ...
"""

from __future__ import annotations

from twostage.errors import ConfigError


def require(condition: bool, assumption: str, message: str) -> None:
    if not condition:
        raise ConfigError(assumption, message)
