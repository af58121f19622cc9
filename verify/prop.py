"""Run a property over Hypothesis-drawn configurations and aggregate per-example measurements.

The property is ``evaluate(config) -> Measurement``. Every example is recorded; a ``violated``
example makes Hypothesis shrink towards a minimal counterexample, which becomes the verdict's worst
case (with the configuration, so it can be replayed). Pinned paper configurations go in
``examples`` (Hypothesis ``@example``).

>>> from hypothesis import strategies as st
>>> from twostage.verify.verdict import Measurement, Status
>>> from twostage.verify.profiles import get_profile
>>> m = run_property(st.floats(0.1, 1.0), lambda x: Measurement(Status.HOLDS, x), get_profile("ci"))
>>> m.status.value, m.examples >= 1
('holds', True)
>>> bad = run_property(st.floats(0.0, 1.0), lambda x: Measurement(
...     Status.VIOLATED if x > 0.5 else Status.HOLDS, 0.5 - x, {"x": x}), get_profile("ci"))
>>> bad.status.value, bad.worst["x"] > 0.5
('violated', True)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from twostage.verify.profiles import Profile, hypothesis_settings
from twostage.verify.verdict import Measurement, Status, combine


class _Counterexample(Exception):
    def __init__(self, measurement: Measurement) -> None:
        super().__init__("counterexample")
        self.measurement = measurement


def describe_config(cfg: Any) -> Any:
    """JSON-friendly description of a drawn configuration (dataclasses become dicts)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        d = {"type": type(cfg).__name__}
        for f in dataclasses.fields(cfg):
            d[f.name] = describe_config(getattr(cfg, f.name))
        return d
    if isinstance(cfg, (list, tuple)):
        return [describe_config(c) for c in cfg]
    if isinstance(cfg, float | int | str | bool) or cfg is None:
        return cfg
    return repr(cfg)


def run_property(
    strategy: st.SearchStrategy,
    evaluate: Callable[[Any], Measurement],
    profile: Profile,
    examples: Iterable[Any] = (),
    seed: int | None = None,
) -> Measurement:
    """Evaluate over drawn configurations; return the aggregated measurement.

    Violations are shrunk by Hypothesis; the reported worst case is the shrunk counterexample.
    """
    records: list[Measurement] = []

    def prop(cfg: Any) -> None:
        m = evaluate(cfg)
        m = dataclasses.replace(m, worst={"config": describe_config(cfg), **m.worst})
        records.append(m)
        if m.status is Status.VIOLATED:
            raise _Counterexample(m)

    test = given(strategy)(prop)
    for ex in examples:
        test = example(ex)(test)
    test = hypothesis_settings(profile, seed)(test)
    if seed is not None:
        from hypothesis import seed as hseed

        test = hseed(seed)(test)
    try:
        with warnings.catch_warnings():
            # Hypothesis flags any change of the *global* ``random`` state during a draw. No strategy of ours
            # touches it (tests/verify/test_strategies.py draws every checker's strategy with the warning as
            # an error); in a Dask worker the worker's own threads (heartbeats, comms) do, which Hypothesis
            # cannot tell apart from a strategy: only that message is silenced, and only here.
            warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
            test()
    except _Counterexample as exc:
        shrunk = exc.measurement
        agg = combine(records)
        worst = {**shrunk.worst, "shrunk": True}
        return Measurement(Status.VIOLATED, agg.margin, worst, agg.examples, agg.unit)
    return combine(records)
