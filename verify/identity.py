"""Judging identities that SymPy proves: symbolic proof obligations plus a numerical cross-check.

Each claim is a list of :class:`~twostage.theory.chen_luo.model.Obligation` built for concrete sizes -- for
the claims judged on their own printed formula (:func:`formula_measure`), the formula's relations instantiated
on the instance by :func:`~twostage.verify.instantiate.instantiate`, plus only the evidence the formula does
not print. A configuration (sizes, seed) is judged by

1. **symbolic**: every ``=`` obligation has ``simplify(lhs - rhs) == 0`` and every ``!=`` obligation does
   not -- otherwise ``violated``; an inequality (a formula edited to ``<=``, ``<``, ...) is decided where the
   sides are identical (``<=``, ``>=`` hold, ``<``, ``>`` are violated), else ``undecided``;
2. **numerical cross-check** at a random Gaussian point (seeded): the relative residual
   ``|lhs - rhs| / max(|lhs|, |rhs|, 1)`` is below ``NUM_TOL`` for ``=`` and above ``NE_TOL`` for
   ``!=`` obligations. Time derivatives along (7) are recomputed by a 4th-order finite difference of
   ``F`` along the flow (independent of the chain rule used symbolically). Prop. 1 obligations are also
   compared with the *exact* loss in mpmath (the remainder after the claimed expansion must be
   ``O(eps^6)``), homogeneity with the ``d_m = 1`` quadrature oracle. A numerical disagreement with a
   symbolic proof gives ``undecided`` (never ``holds``).

Sizes come from the profile (ci: small; full: larger ``d`` and Prop. 1 instances), every size is pinned
as a Hypothesis example with seed 0, and symbolic verdicts are cached per size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st
from sympy.core.function import AppliedUndef

from twostage.numerics.config import require
from twostage.theory.chen_luo.effective import InstanceBinding
from twostage.theory.chen_luo.model import Obligation, residual_is_zero
from twostage.verify.check import Context, checker
from twostage.verify.instantiate import instantiate
from twostage.verify.verdict import Measurement, Status

NUM_TOL = 1e-7  # relative residual of a numerically evaluated '=' obligation
NE_TOL = 1e-6  # a '!=' obligation must differ by more than this at a random point


@dataclass(frozen=True)
class IdentityConfig:
    """Sizes of the symbolic instance (``(d,)`` or ``(n, s, d)``) and the seed of the numerical point."""

    dims: tuple[int, ...]
    seed: int = 0

    def __post_init__(self) -> None:
        require(len(self.dims) in (1, 3) and all(int(x) >= 1 for x in self.dims), "chen-luo-2025/ass/sizes",
                f"sizes must be (d,) or (n, s, d) with entries >= 1, got {self.dims}")
        require(self.seed >= 0, "chen-luo-2025/ass/sizes", f"seed must be >= 0, got {self.seed}")


# ------------------------------------------------------------------------------------ numerical part
def _entries(x) -> list:
    return list(x) if isinstance(x, sp.MatrixBase) else [x]


_CHUNK = 400  # terms per lambdified piece: Python cannot compile one expression with ~10^4 terms


def _lamb(args: Sequence[sp.Symbol], exprs: list):
    """Lambdify a list of expressions; sums with many terms are split into chunks added in numpy."""
    pieces, owner = [], []
    for k, e in enumerate(exprs):
        e = sp.sympify(e)
        terms = e.args if isinstance(e, sp.Add) and len(e.args) > _CHUNK else (e,)
        for j in range(0, len(terms), _CHUNK):
            pieces.append(sp.Add(*terms[j:j + _CHUNK]))
            owner.append(k)
    f = sp.lambdify(list(args), pieces, modules="numpy")
    owner_arr, n_out = np.array(owner), len(exprs)

    def call(*x):
        vals = np.array([complex(v) for v in f(*x)])
        out = np.zeros(n_out, dtype=complex)
        np.add.at(out, owner_arr, vals)
        return out.real if np.all(out.imag == 0) else out

    return call


def _unapply(ob: Obligation) -> Obligation:
    """Replace applied undefined functions (``theta_k(lam t)``) by symbols, so that they can be sampled."""
    apps = set()
    for x in (ob.lhs, ob.rhs):
        if hasattr(x, "atoms"):
            apps |= x.atoms(AppliedUndef)
    if not apps:
        return ob
    rep = {a: sp.Symbol(f"_app_{k}") for k, a in enumerate(sorted(apps, key=str))}
    return Obligation(ob.name, ob.lhs.xreplace(rep), ob.rhs.xreplace(rep), ob.sense, ob.ref)


def _numeric_residual(ob: Obligation) -> Callable[[np.random.Generator], float]:
    """A function of an RNG returning the relative residual of ``ob`` at a random Gaussian point."""
    ob = _unapply(ob)
    syms = sorted(ob.free_symbols(), key=str)
    rhs = _lamb(syms, _entries(ob.rhs))
    if ob.along is None:
        lhs = _lamb(syms, _entries(ob.lhs))

        def value_lhs(x):
            return np.asarray(lhs(*x), float), 1.0
    else:
        F, pairs = ob.along
        state = [s_ for M, _ in pairs for s_ in M]
        vel = [v_ for _, V in pairs for v_ in V]
        others = [s_ for s_ in syms if s_ not in set(state)]
        Ff = _lamb(state + others, _entries(F))
        Vf = _lamb(state + others, vel)

        def value_lhs(x):
            val = dict(zip(syms, x))
            th = np.array([val.get(s_, 0.0) for s_ in state])
            rest = [val[s_] for s_ in others]
            V = np.asarray(Vf(*th, *rest), float)
            scale_t = np.linalg.norm(th) / max(np.linalg.norm(V), 1e-300)
            h = 1e-3 * scale_t
            Fat = lambda a: np.asarray(Ff(*(th + a * h * V), *rest), float)
            fd = (-Fat(2) + 8 * Fat(1) - 8 * Fat(-1) + Fat(-2)) / (12 * h)
            return fd, float(np.max(np.abs(Fat(0)))) / scale_t  # natural scale of dF/dt

    positive = np.array([bool(s_.is_nonnegative) for s_ in syms])

    def residual(rng: np.random.Generator) -> float:
        x = rng.standard_normal(len(syms))
        x = np.where(positive, np.abs(x) + 0.1, x)  # respect the symbols' sign assumptions
        lv, floor = value_lhs(x)
        rv = np.asarray(rhs(*x), float)
        scale = max(float(np.max(np.abs(lv))), float(np.max(np.abs(rv))), floor, 1.0)
        return float(np.max(np.abs(lv - rv))) / scale

    return residual


def symbolic_outcome(ob: Obligation) -> str:
    """``'ok'``, ``'fail'`` or ``'unproven'``: ``=`` needs ``lhs - rhs == 0``, ``!=`` needs it nonzero; an
    inequality is decided only where the sides are identical (``<=``, ``>=`` hold, ``<``, ``>`` fail)."""
    zero = residual_is_zero(ob)
    if ob.sense in ("eq", "ne"):
        return "ok" if zero == (ob.sense == "eq") else "fail"
    if zero:
        return "ok" if ob.sense in ("le", "ge") else "fail"
    return "unproven"


@dataclass
class _Prepared:
    obligations: list[Obligation]
    symbolic_failures: list[str]
    numeric: list[Callable[[np.random.Generator], float]]
    unproven: tuple[str, ...] = ()


def _prove(obs: list[Obligation]) -> _Prepared:
    outcome = [symbolic_outcome(ob) for ob in obs]
    return _Prepared(obs, [ob.name for ob, o in zip(obs, outcome) if o == "fail"],
                     [_numeric_residual(ob) for ob in obs],
                     tuple(ob.name for ob, o in zip(obs, outcome) if o == "unproven"))


_PREPARED: dict[tuple, _Prepared] = {}


def prepare(key: tuple, build: Callable[[], list[Obligation]]) -> _Prepared:
    """Build, prove (symbolically) and lambdify a claim's obligations once per ``key`` (cached)."""
    if key not in _PREPARED:
        _PREPARED[key] = _prove(build())
    return _PREPARED[key]


def judge_obligations(obligations: list[Obligation], seed: int = 0, info: dict | None = None,
                      prepared: _Prepared | None = None) -> Measurement:
    """Symbolic proof + numerical cross-check of a list of obligations (see the module docstring)."""
    p = prepared or _prove(obligations)
    info = {**(info or {}), "obligations": len(p.obligations), "seed": seed}
    if p.symbolic_failures:
        return Measurement(Status.VIOLATED, -1.0, {**info, "failed": p.symbolic_failures,
                                                   "reason": "simplify(lhs - rhs) does not match the claim"})
    if p.unproven:
        return Measurement(Status.UNDECIDED, None, {**info, "unproven": list(p.unproven), "reason":
                           "an inequality between sides that are not identical is not decided by SymPy here"})
    rng = np.random.default_rng(seed)
    worst, margin, bad = 0.0, 1.0, []
    for ob, res in zip(p.obligations, p.numeric):
        r = res(rng)
        if not math.isfinite(r):
            return Measurement(Status.NUMERICAL_FAILURE, None, {**info, "obligation": ob.name})
        if ob.sense in ("eq", "le", "ge"):  # (an inequality reaching here has identical sides)
            worst = max(worst, r)
            margin = min(margin, 1.0 - r / NUM_TOL)
            if r >= NUM_TOL:
                bad.append(ob.name)
        elif r <= NE_TOL:
            bad.append(ob.name)
    info["max_relative_residual"] = worst
    if bad:
        return Measurement(Status.UNDECIDED, margin, {**info, "numeric_disagreement": bad})
    return Measurement(Status.HOLDS, margin, info)


def combine_numeric(m: Measurement, extra: Measurement) -> Measurement:
    if m.status is not Status.HOLDS:
        return m
    if extra.status is Status.HOLDS:
        return Measurement(Status.HOLDS, min(m.margin, extra.margin), {**m.worst, **extra.worst})
    status = Status.UNDECIDED if extra.status is Status.VIOLATED else extra.status
    return Measurement(status, extra.margin, {**m.worst, **extra.worst})


# ------------------------------------------------------------------------------ the checkers
def _dims(ctx: Context, kind: str) -> list[tuple[int, ...]]:
    big = ctx.profile.name == "full" or ctx.profile.scale >= 8
    mid = big or ctx.profile.name == "quick" or ctx.profile.scale >= 2
    if kind == "one":
        return [(1,)]
    if kind == "prop1":
        return [(2, 2, 2)] + ([(1, 3, 2)] if mid else []) + ([(2, 3, 3)] if big else [])
    return [(1,), (2,), (3,)] + ([(4,)] if big else [])


def identity_draws(kind: str):
    """``draws`` of an identity check: the sizes of the profile, a seed for the numerical point."""
    return lambda ctx: st.builds(IdentityConfig, dims=st.sampled_from(_dims(ctx, kind)),
                                 seed=st.integers(0, 2**31 - 1))


def identity_examples(kind: str):
    """Every size of the profile pinned, with the run's seed."""
    return lambda ctx: [IdentityConfig(d_, ctx.seed) for d_ in _dims(ctx, kind)]


def identity_checker(claim_id: str, kind: str = "d"):
    """:func:`~twostage.verify.check.checker` for a claim proven on symbolic instances of the profile's sizes
    (``kind``: ``"d"`` -> (d,) = 1, 2, 3 (+4 under full); ``"prop1"`` -> (n, s, d) instances)."""
    return checker(claim_id, draws=identity_draws(kind), examples=identity_examples(kind))


def symbolic(cfg: IdentityConfig, name: str, build: Callable[[int], list[Obligation]]) -> Measurement:
    """Judge the obligations ``build(d)`` of a (d,)-sized instance (prepared once per size)."""
    (d,) = cfg.dims
    p = prepare((name, cfg.dims), lambda: build(d))
    return judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)


def formula_measure(name: str, formula, cfg: IdentityConfig, bind: Callable[[int], InstanceBinding],
                    extra: Callable[[int], list[Obligation]] | None = None, ref: str = "") -> Measurement:
    """Judge the claim's own ``formula`` on the (d,)-sized instance ``bind(d)`` (issue 12, item 1): its
    relations instantiated by :func:`~twostage.verify.instantiate.instantiate`, plus ``extra(d)`` -- evidence
    the formula does not state (never a copy of it). Proven once per ``(formula, d)``: a mutated formula is
    proven anew (``name`` keys the cache with them)."""
    (d,) = cfg.dims

    def build() -> list[Obligation]:
        b = bind(d)
        return instantiate(formula, b.names, b.pairs, b.dims, ref=ref) + (extra(d) if extra else [])

    p = prepare(("formula", name, formula, cfg.dims), build)
    return judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)
