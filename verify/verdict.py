"""Verdicts: holds / violated / undecided / not-applicable, with a margin and the worst case.

``margin`` is the smallest *relative slack* over everything checked: positive means the claim held
with room to spare, negative means it was violated by that relative amount. A value within the stated
numerical tolerance of the bound is ``undecided`` -- never ``holds``.

>>> from twostage.verify.verdict import Measurement, Status, combine
>>> a = Measurement(Status.HOLDS, 0.3, {"seed": 1})
>>> b = Measurement(Status.UNDECIDED, 1e-12, {"seed": 2})
>>> combine([a, b]).status.value, combine([a, b]).worst
('undecided', {'seed': 2})
>>> combine([a, Measurement(Status.VIOLATED, -0.5, {"seed": 3})]).status.value
'violated'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class Status(str, Enum):
    HOLDS = "holds"
    VIOLATED = "violated"
    UNDECIDED = "undecided"
    NOT_APPLICABLE = "not-applicable"  # the assumption is unmet for every drawn configuration
    NUMERICAL_FAILURE = "numerical-failure"  # NaN/inf appeared in a run; never counted as holds


_SEVERITY = {
    Status.VIOLATED: 4,
    Status.NUMERICAL_FAILURE: 3,
    Status.UNDECIDED: 2,
    Status.HOLDS: 1,
    Status.NOT_APPLICABLE: 0,
}


@dataclass(frozen=True)
class Measurement:
    """The judged outcome of one example (one configuration / seed / trajectory).

    ``examples`` counts ``unit`` s: ``""`` means drawn configurations (one judged draw each); a pooled count
    says what it counted (e.g. ``"Bernoulli trials"`` for the seeds of a binomial test).
    """

    status: Status
    margin: float | None
    worst: dict[str, Any] = field(default_factory=dict)
    examples: int = 1
    unit: str = ""


@dataclass(frozen=True)
class Verdict:
    """The verdict on one claim: status, margin, how many examples entered it, the worst case (enough to
    replay it), the tolerance text that says how it was decided, and the seconds it took.

    :meth:`to_json` / :meth:`from_json` are the one serialisation of a verdict (``--json``, the verdict store
    and the sweeps all go through them); ``from_json`` also reads the older keys ``claim_id`` and ``detail``.

    >>> v = Verdict("x/y/z", Status.HOLDS, 0.5, 3, {"seed": 1}, "relative slack > 1e-9")
    >>> Verdict.from_json(v.to_json()) == v and v.to_json()["examples_unit"] == "configurations"
    True
    >>> Verdict.from_json({"claim_id": "x/y/z", "status": "holds", "margin": 0.5, "examples": 3,
    ...                    "detail": "old"}).tolerance
    'old'
    """

    claim_id: str
    status: Status
    margin: float | None
    examples: int
    worst: dict[str, Any] | None = None
    tolerance: str = ""
    seconds: float = 0.0
    examples_unit: str = "configurations"  # what ``examples`` counts (see :class:`Measurement`)

    def to_json(self) -> dict[str, Any]:
        margin = self.margin if self.margin is not None and math.isfinite(self.margin) else None
        return {"id": self.claim_id, "status": self.status.value, "margin": margin, "examples": self.examples,
                "examples_unit": self.examples_unit, "worst": self.worst, "tolerance": self.tolerance,
                "seconds": self.seconds}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Verdict:
        """Raises ``KeyError``/``ValueError``/``TypeError`` on a malformed entry."""
        margin = d.get("margin")
        return cls(str(d["id"] if "id" in d else d["claim_id"]), Status(d["status"]),
                   None if margin is None else float(margin), int(d.get("examples") or 0), d.get("worst"),
                   str(d.get("tolerance", d.get("detail", "")) or ""), float(d.get("seconds") or 0.0),
                   str(d.get("examples_unit") or "configurations"))


def relative_slack(measured: np.ndarray, bound: np.ndarray, sense: str, floor: float = 0.0) -> np.ndarray:
    """Relative slack of ``measured (sense) bound``: positive when satisfied.

    Scale is ``max(|bound|, |measured|, floor)`` so that slacks are comparable across magnitudes.
    """
    m = np.asarray(measured, dtype=float)
    b = np.asarray(bound, dtype=float)
    if sense == "<=":
        gap = b - m
    elif sense == ">=":
        gap = m - b
    else:
        raise ValueError(f"sense must be '<=' or '>=', got {sense!r}")
    scale = np.maximum(np.maximum(np.abs(b), np.abs(m)), max(floor, 1e-300))
    return gap / scale


def classify(slack: float, tol: float) -> Status:
    """Tri-state decision for one relative slack: > tol holds, < -tol violated, else undecided."""
    if not math.isfinite(slack):
        return Status.NUMERICAL_FAILURE
    if slack > tol:
        return Status.HOLDS
    if slack < -tol:
        return Status.VIOLATED
    return Status.UNDECIDED


def settle(m: Measurement) -> Measurement:
    """``holds`` only with room to spare: a ``holds`` whose margin is not positive becomes ``undecided``.

    ``holds`` means "by more than the tolerance" (README); a margin of 0 (or below) says the evidence sat at
    the bound, so the verdict cannot be ``holds`` whatever the judge decided.

    >>> settle(Measurement(Status.HOLDS, 0.0)).status.value
    'undecided'
    >>> settle(Measurement(Status.HOLDS, 1e-3)).status.value
    'holds'
    """
    if m.status is Status.HOLDS and m.margin is not None and math.isfinite(m.margin) and m.margin <= 0:
        why = {**m.worst, "reason": "holds with no slack (margin <= 0) is undecided"}
        return Measurement(Status.UNDECIDED, m.margin, why, m.examples, m.unit)
    return m


def combine(measurements: Iterable[Measurement]) -> Measurement:
    """Aggregate: the most severe status wins; margin is the minimum; worst is from the minimum.

    All ``not-applicable`` (or empty) gives ``not-applicable``; a ``holds`` with no slack is settled to
    ``undecided`` (:func:`settle`).
    """
    everything = list(measurements)
    ms = [m for m in everything if m.status is not Status.NOT_APPLICABLE]
    n_all = sum(m.examples for m in everything)
    units = sorted({m.unit or "configurations" for m in everything})
    unit = "" if units in ([], ["configurations"]) else " + ".join(units)
    if not ms:
        return Measurement(Status.NOT_APPLICABLE, None, {}, examples=n_all, unit=unit)
    status = max((m.status for m in ms), key=_SEVERITY.__getitem__)
    same = [m for m in ms if m.status is status]
    with_margin = [m for m in same if m.margin is not None and math.isfinite(m.margin)]
    pick = min(with_margin, key=lambda m: m.margin) if with_margin else same[0]
    margins = [m.margin for m in ms if m.margin is not None and math.isfinite(m.margin)]
    return settle(Measurement(status, min(margins) if margins else None, pick.worst,
                              sum(m.examples for m in ms), unit))
