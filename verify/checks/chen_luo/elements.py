"""Per-element judging along a batch of trajectories integrated to blow-up (chen-luo-2025 stage 1).

A batch of ``B`` initialisations is integrated once (``numerics.chen_luo.blowup.integrate_to_blowup`` or
the condensation integrator); every element is judged on its own record and the results are combined. An
element that did not reach the blow-up event has no ``T*`` bracket: it is a ``numerical-failure`` for the
claims that need one, never silently skipped.
"""

from __future__ import annotations

from twostage.verify.verdict import Measurement, Status, combine


def blowup_failure(tr: dict, b: int) -> Measurement | None:
    """``numerical-failure`` for an element that did not reach the blow-up event, else ``None``."""
    if not tr["reached"][b]:
        t = tr["t"][b][tr["mask"][b]]
        return Measurement(Status.NUMERICAL_FAILURE, None, {"element": b, "reason":
                           "blow-up event not reached (max steps or non-finite state)",
                           "time": float(t[-1]) if len(t) else None})
    return None


def each_element(tr: dict, B: int, judge_one, needs_blowup: bool = True) -> Measurement:
    """Combine ``judge_one(b)`` (a Measurement, a list of them, or ``None`` for nothing in the judged
    domain) over the ``B`` elements of a batch. An element that did not reach the blow-up event is a
    ``numerical-failure`` when ``needs_blowup`` (its T* bracket is unknown)."""
    out = []
    for b in range(B):
        fail = blowup_failure(tr, b) if needs_blowup else None
        r = fail if fail is not None else judge_one(b)
        if r is not None:
            out.extend(r if isinstance(r, list) else [r])
    return combine(out)


def per_element(tr: dict, B: int, judge_one, needs_blowup: bool = True) -> Measurement:
    """:func:`each_element` with ``judge_one(b, t, E)`` given the element's recorded (valid) points."""

    def one(b: int):
        m = tr["mask"][b]
        return judge_one(b, tr["t"][b][m], tr["E"][b][m])

    return each_element(tr, B, one, needs_blowup)


class _ByName(dict):
    """Symbols by name; a name the formula no longer has (an audit mutation dropped its term) gives a fresh
    symbol, whose value the judges then ignore -- the edited formula is judged, not a ``KeyError``."""

    def __missing__(self, name: str) -> object:
        import sympy as sp

        return sp.Symbol(name)


def symbols_of(claim) -> dict[str, object]:
    """The free symbols of ``claim.formula`` by name (how a judge addresses the formula's quantities).

    >>> import sympy as sp, types
    >>> s = symbols_of(types.SimpleNamespace(formula=sp.Symbol("T") <= 1))
    >>> s["T"], s["E_t0"]
    (T, E_t0)
    """
    return _ByName({s.name: s for s in claim.formula.free_symbols})


def relations(formula) -> tuple:
    """The relationals of a claim's formula (the arguments of an ``And``, or the formula itself)."""
    import sympy as sp

    return tuple(formula.args) if isinstance(formula, sp.And) else (formula,)


def value_of(expr, values: dict[str, float]) -> float:
    """``expr`` evaluated with its free symbols given by name (a formula's right side at measured values)."""
    return float(expr.subs({s: values[s.name] for s in expr.free_symbols}))


def as_relation(rel, m: Measurement) -> Measurement:
    """A judge of ``lhs = rhs`` (``m``) read for the relation of ``rel``: ``Ne`` swaps holds and violated, so
    a flipped equation is judged as written (never an internal error); any other relation keeps ``m``."""
    import dataclasses

    import sympy as sp

    if isinstance(rel, sp.Unequality) and m.status in (Status.HOLDS, Status.VIOLATED):
        swapped = Status.VIOLATED if m.status is Status.HOLDS else Status.HOLDS
        return dataclasses.replace(m, status=swapped, margin=None if m.margin is None else -m.margin,
                                   worst={**m.worst, "relation": "!="})
    return m
