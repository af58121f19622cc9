"""How a claim is checked: one :class:`Check` per claim id, written one way.

A check is three pure pieces, in the manner of ``scipy.integrate._ivp`` (data in, result out):

* ``draws(ctx)`` -- the configurations inside the claim's assumptions: a Hypothesis strategy (drawn, shrunk,
  replayed), or a fixed sequence (e.g. one count over ``ctx.profile.seeds`` seeds per dimension);
* ``simulate(draw, ctx)`` -- the numerics the claim speaks of for one draw (a trajectory, a training run, a
  symbolic instance); cached by the numerics where it is shared between claims;
* ``judge(claim, draw, data) -> Measurement`` -- the judgement, by one of the judges of
  :mod:`twostage.verify.judge`, of *the claim's own formula* (``claim.formula``) on that data.

Because ``judge`` receives the claim, a test or ``twostage audit`` can hand it a claim whose formula was
edited, or a sabotaged trajectory, and watch the verdict change; nothing is monkeypatched. Register with the
:func:`checker` decorator on the judge::

    @checker("chen-luo-2025/thm1/edot-lower", draws=stage1_draws(), simulate=trajectories,
             examples=[Stage1Draw(16, 8, 0)])
    def edot_lower(claim, draw, tr):
        ...
        return judge_bound(..., relational=claim.formula, values=...)

``pool`` replaces the default aggregation (:func:`~twostage.verify.verdict.combine`) where the per-draw
results are pieces of one statistic (e.g. Bernoulli counts pooled into one binomial test); draws are then not
shrunk (a counterexample is a property of the pool, not of one draw).

>>> from hypothesis import strategies as st
>>> from twostage.verify.profiles import get_profile
>>> from twostage.verify.verdict import Measurement, Status
>>> c = Check("demo/x", judge=lambda claim, x, data: Measurement(Status.HOLDS, data - x),
...           draws=st.floats(0.0, 0.5), simulate=lambda x, ctx: 1.0)
>>> m = c(Context(get_profile("ci")), claim="demo/x")
>>> m.status.value, m.margin >= 0.5
('holds', True)
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from twostage.errors import UnsupportedExpression
from twostage.verify.profiles import Profile
from twostage.verify.prop import describe_config, run_property
from twostage.verify.verdict import Measurement, Status, combine, settle


@dataclass(frozen=True)
class Context:
    """What a check may depend on: the profile, the torch device name, a base seed."""

    profile: Profile
    device: str = "cpu"
    seed: int = 0


Judge = Callable[[Any, Any, Any], Measurement]
Draws = Callable[[Context], "st.SearchStrategy | Sequence[Any]"]
Pool = Callable[[list[tuple[Measurement, Any]]], Measurement]


@dataclass(frozen=True)
class Check:
    """The check of one claim (see the module docstring); calling it runs it: ``check(ctx, claim)``."""

    claim_id: str
    judge: Judge
    draws: st.SearchStrategy | Sequence[Any] | Draws
    simulate: Callable[[Any, Context], Any] | None = None
    examples: Sequence[Any] | Callable[[Context], Sequence[Any]] = ()
    pool: Pool | None = None
    cost: int = 1  # one draw costs this many ordinary ones: the profile's example count is divided by it

    def profile(self, ctx: Context) -> Profile:
        if self.cost <= 1:
            return ctx.profile
        return dataclasses.replace(ctx.profile, examples=max(2, ctx.profile.examples // self.cost))

    def space(self, ctx: Context) -> st.SearchStrategy | Sequence[Any]:
        d = self.draws
        return d if isinstance(d, st.SearchStrategy | Sequence) else d(ctx)

    def pinned(self, ctx: Context) -> Sequence[Any]:
        return self.examples(ctx) if callable(self.examples) else self.examples

    def evaluate(self, claim: Any, draw: Any, ctx: Context) -> Measurement:
        """Simulate one draw and judge it: the per-example property."""
        data = self.simulate(draw, ctx) if self.simulate is not None else None
        return self.judge(claim, draw, data)

    def __call__(self, ctx: Context, claim: Any = None) -> Measurement:
        """Run the check on ``claim`` (default: the registered claim; ``twostage audit`` passes mutated ones).

        A formula the judges cannot read as a relation (:class:`~twostage.errors.UnsupportedExpression`) is an
        ``undecided`` verdict saying so, never an internal error; a ``holds`` without slack is settled to
        ``undecided`` (:func:`~twostage.verify.verdict.settle`).
        """
        if self.draws is None:  # not yet converted: ``judge`` is a whole ``fn(ctx)`` (removed after issue 10)
            return settle(self.judge(ctx))
        if claim is None:
            from twostage.theory.claims import load_all

            claim = load_all().get(self.claim_id)
        decided = _decided_formula(claim)
        if decided is not None:
            return decided
        try:
            return settle(self._run(ctx, claim))
        except UnsupportedExpression as exc:
            return Measurement(Status.UNDECIDED, None, {"reason": f"formula not judged: {exc}"})

    def _run(self, ctx: Context, claim: Any) -> Measurement:
        space = self.space(ctx)
        if not isinstance(space, st.SearchStrategy):  # a fixed list of draws, every one evaluated
            records = [(self.evaluate(claim, d, ctx), d) for d in space]
            return self.pool(records) if self.pool else combine([m for m, _ in records])
        seed = draw_seed(ctx)
        if self.pool is None:
            return run_property(space, lambda d: self.evaluate(claim, d, ctx), self.profile(ctx),
                                examples=self.pinned(ctx), seed=seed)
        records: list[tuple[Measurement, Any]] = []

        def record(d: Any) -> Measurement:  # no shrinking: a violation is a property of the pool
            m = self.evaluate(claim, d, ctx)
            records.append((m, d))
            return m if m.status is not Status.VIOLATED else dataclasses.replace(m, status=Status.UNDECIDED)

        run_property(space, record, self.profile(ctx), examples=self.pinned(ctx), seed=seed)
        return self.pool(records) if records else Measurement(Status.NOT_APPLICABLE, None, {})


def _decided_formula(claim: Any) -> Measurement | None:
    """A claim whose formula SymPy already decided (an edit made it ``True`` or ``False``, e.g. a dropped term
    leaving ``T >= 0`` of a positive ``T``): ``False`` is violated, ``True`` undecided -- nothing is measured.
    Only a real :class:`~twostage.theory.claims.Claim` is looked at (a formula spy must see the judge
    read)."""
    from sympy.logic.boolalg import BooleanFalse, BooleanTrue

    from twostage.theory.claims import Claim

    f = claim.formula if isinstance(claim, Claim) else None
    if isinstance(f, BooleanFalse):
        return Measurement(Status.VIOLATED, None, {"reason": "the formula is identically False"})
    if isinstance(f, BooleanTrue):
        return Measurement(Status.UNDECIDED, None, {"reason": "the formula is identically True: nothing to "
                                                              "measure"})
    return None


def draw_seed(ctx: Context) -> int:
    """The Hypothesis seed of every drawn configuration: ``ctx.seed`` under ``ci``, and a seed mixed with the
    profile's name otherwise (``quick``/``full`` draw other configurations than the ci set), so that
    ``twostage verify --claim ID --profile P --seed S`` replays exactly the draws (and the worst case) of the
    run that stored it. Claim-independent, so checks sharing a strategy share their draws (and caches).

    >>> from twostage.verify.profiles import get_profile
    >>> draw_seed(Context(get_profile("ci"), seed=3)), draw_seed(Context(get_profile("quick"), seed=3)) != 3
    (3, True)
    """
    if ctx.profile.name == "ci":
        return ctx.seed
    return zlib.crc32(f"{ctx.profile.name}:{ctx.seed}".encode())


CHECKERS: dict[str, Check] = {}


def checker(claim_id: str, *, draws: Any = None, simulate: Callable[[Any, Context], Any] | None = None,
            examples: Sequence[Any] | Callable[[Context], Sequence[Any]] = (), pool: Pool | None = None,
            cost: int = 1) -> Callable[[Judge], Judge]:
    """Register ``judge`` as the check of ``claim_id`` (see the module docstring); returns ``judge``."""

    def deco(judge: Judge) -> Judge:
        old = CHECKERS.get(claim_id)
        if old is not None and old.judge is not judge:
            raise ValueError(f"two checkers for claim {claim_id!r}")
        CHECKERS[claim_id] = Check(claim_id, judge, draws, simulate, examples, pool, cost)
        return judge

    return deco


def config_worst(records: list[tuple[Measurement, Any]], key: Callable[[Measurement], float]):
    """The record minimising ``key`` and its configuration described for ``worst`` (for pools)."""
    m, d = min(records, key=lambda r: key(r[0]))
    return m, describe_config(d)


def pool_seed_counts(records: list[tuple[Measurement, Any]], label: str = "config") -> Measurement:
    """Pool the per-seed Bernoulli counts (``worst["successes"]``, ``worst["n"]``) of every drawn
    configuration into one binomial verdict at the claimed probability (``worst["p_claimed"]``); ``worst``
    names the configuration with the lowest success share (keys ``{label}s``, ``worst_{label}``,
    ``worst_{label}_result``). Without any count (all not applicable) the results are combined."""
    from twostage.verify.judge import judge_binomial

    binom = [(m, c) for m, c in records if m.worst and "successes" in m.worst]
    if not binom:
        return combine([m for m, _ in records])
    k = sum(m.worst["successes"] for m, _ in binom)
    n = sum(m.worst["n"] for m, _ in binom)
    wm, wc = config_worst(binom, lambda m: m.worst["successes"] / max(m.worst["n"], 1))
    info = {f"{label}s": len(binom), f"worst_{label}": wc, f"worst_{label}_result": wm.worst}
    return judge_binomial(k, n, binom[0][0].worst["p_claimed"], info=info)
