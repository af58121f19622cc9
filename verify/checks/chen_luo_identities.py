"""Checkers for the chen-luo-2025 identities that SymPy proves (theory/chen_luo/*).

Each claim is a list of :class:`~twostage.theory.chen_luo.model.Obligation` built for concrete sizes.
A configuration (sizes, seed) is judged by

1. **symbolic**: every ``=`` obligation has ``simplify(lhs - rhs) == 0`` and every ``!=`` obligation does
   not -- otherwise ``violated``;
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

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st
from sympy.core.function import AppliedUndef

from twostage.numerics.config import require
from twostage.theory.chen_luo import blowup, conservation, effective, prop1
from twostage.theory.chen_luo.model import Obligation, expansion_exprs, instance, residual_is_zero
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_residual
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status

NUM_TOL = 1e-7  # relative residual of a numerically evaluated '=' obligation
NE_TOL = 1e-6  # a '!=' obligation must differ by more than this at a random point
ORDER_TOL = 0.3  # fitted eps-order of a Prop. 1 remainder


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


@dataclass
class _Prepared:
    obligations: list[Obligation]
    symbolic_failures: list[str]
    numeric: list[Callable[[np.random.Generator], float]]


_PREPARED: dict[tuple, _Prepared] = {}


def prepare(key: tuple, build: Callable[[], list[Obligation]]) -> _Prepared:
    """Build, prove (symbolically) and lambdify a claim's obligations once per ``key`` (cached)."""
    if key not in _PREPARED:
        obs = build()
        fails = [ob.name for ob in obs if residual_is_zero(ob) != (ob.sense == "eq")]
        _PREPARED[key] = _Prepared(obs, fails, [_numeric_residual(ob) for ob in obs])
    return _PREPARED[key]


def judge_obligations(obligations: list[Obligation], seed: int = 0, info: dict | None = None,
                      prepared: _Prepared | None = None) -> Measurement:
    """Symbolic proof + numerical cross-check of a list of obligations (see the module docstring)."""
    p = prepared or _Prepared(obligations, [ob.name for ob in obligations
                                            if residual_is_zero(ob) != (ob.sense == "eq")],
                              [_numeric_residual(ob) for ob in obligations])
    info = {**(info or {}), "obligations": len(p.obligations), "seed": seed}
    if p.symbolic_failures:
        return Measurement(Status.VIOLATED, -1.0, {**info, "failed": p.symbolic_failures,
                                                   "reason": "simplify(lhs - rhs) does not match the claim"})
    rng = np.random.default_rng(seed)
    worst, margin, bad = 0.0, 1.0, []
    for ob, res in zip(p.obligations, p.numeric):
        r = res(rng)
        if not math.isfinite(r):
            return Measurement(Status.NUMERICAL_FAILURE, None, {**info, "obligation": ob.name})
        if ob.sense == "eq":
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


def _combine_numeric(m: Measurement, extra: Measurement) -> Measurement:
    if m.status is not Status.HOLDS:
        return m
    if extra.status is Status.HOLDS:
        return Measurement(Status.HOLDS, min(m.margin, extra.margin), {**m.worst, **extra.worst})
    status = Status.UNDECIDED if extra.status is Status.VIOLATED else extra.status
    return Measurement(status, extra.margin, {**m.worst, **extra.worst})


# ------------------------------------------------------------------------------ Prop. 1 numerics
def _fitted_order(r1, r2, e1, e2) -> float:
    return float(mpmath.log(abs(r1) / abs(r2)) / mpmath.log(mpmath.mpf(e1) / e2))


def _random_point(n: int, s: int, d: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed + 1).standard_normal(len(instance(n, s, d).symbols())))


def expansion_vs_exact(n: int, s: int, d: int, seed: int, claimed: Sequence[sp.Expr],
                       expected_order: int = 6, eps_pair=(0.004, 0.002)) -> Measurement:
    """Exact loss minus the claimed ``sum_k claimed[k] eps^k``: fitted order against ``expected_order``."""
    inst = instance(n, s, d)
    f = prop1.exact_loss_numeric(n, s, d)
    x = _random_point(n, s, d, seed)
    sub = dict(zip(inst.symbols(), x))
    with mpmath.workdps(50):
        coeff = [mpmath.mpf(str(sp.N(sp.sympify(c).xreplace(sub), 45))) for c in claimed]
        series = lambda e: sum(c * mpmath.mpf(e) ** k for k, c in enumerate(coeff))
        rem = [f(mpmath.mpf(e), *x) - series(e) for e in eps_pair]
        order = _fitted_order(rem[0], rem[1], *eps_pair)
    return judge_residual(abs(order - expected_order), ORDER_TOL,
                          {"remainder_order": order, "expected_order": expected_order})


EXACT_MAX_SYMBOLS = 40  # the mpmath comparison with the exact loss runs on instances up to this size


def _exact_affordable(cfg: IdentityConfig) -> bool:
    """The exact-loss cross-check (mpmath, central differences) only on small instances; larger ones
    (full profile) rely on the symbolic proof and the lambdified numerical check."""
    return len(instance(*cfg.dims).symbols()) <= EXACT_MAX_SYMBOLS


def _claimed_expansion(n: int, s: int, d: int, c: sp.Expr | None) -> list[sp.Expr]:
    L = expansion_exprs(instance(n, s, d))
    obs = prop1.eps3_obligations(n, s, d, c)
    return [obs[0].rhs, 0, 0, obs[3].rhs, L[4], L[5]]  # claimed L0, L3 (eq. (5)); derived L4, L5


def check_eps3(cfg: IdentityConfig, c: sp.Expr | None = None) -> Measurement:
    """``eps3-coefficient``: eq. (5) with prefactor ``c`` (default the corrected ``1/n``); the printed
    form must differ. ``c = prefactor(n, printed=True)`` is the mutation that must be violated."""
    n, s, d = cfg.dims
    p = prepare(("eps3", cfg.dims, None if c is None else str(c)),
                lambda: prop1.eps3_obligations(n, s, d, c) + prop1.printed_form_obligations(n, s, d))
    m = judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg):
        return m
    return _combine_numeric(m, expansion_vs_exact(n, s, d, cfg.seed, _claimed_expansion(n, s, d, c)))


def check_qk(cfg: IdentityConfig) -> Measurement:
    n, s, d = cfg.dims
    p = prepare(("qk", cfg.dims), lambda: prop1.qk_obligations(n, s, d))
    m = judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg):
        return m
    # numeric: d L_exact / d Wbar_Q[0,0] (the first parameter) is of order eps^5
    x = _random_point(n, s, d, cfg.seed)
    g = [prop1.exact_gradient(n, s, d, e, x, indices=[0])[0] for e in (0.02, 0.01)]
    order = _fitted_order(g[0], g[1], 0.02, 0.01)
    return _combine_numeric(m, judge_residual(abs(order - 5), ORDER_TOL, {"dL/dWQ_order": order}))


def check_rescaled(cfg: IdentityConfig) -> Measurement:
    n, s, d = cfg.dims
    p = prepare(("rescaled", cfg.dims), lambda: prop1.rescaled_gradient_obligations(n, s, d))
    m = judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg):
        return m
    inst = instance(n, s, d)
    x = _random_point(n, s, d, cfg.seed)
    sub = dict(zip(inst.symbols(), x))
    params = [w for ws in inst.params().values() for w in ws]
    Ev = prop1.effective_potential(inst)
    _, Znorm = prop1.condensation_direction(inst)
    errs = []
    with mpmath.workdps(60):
        target = [mpmath.mpf(str(sp.N(sp.diff(Ev, w).xreplace(sub), 50))) for w in params]
        factor = -(n * s) / mpmath.mpf(str(sp.N(Znorm.xreplace(sub), 50)))
        for e in (0.004, 0.002):
            g = prop1.exact_gradient(n, s, d, e, x, dps=60)
            diff = [gi * factor / mpmath.mpf(e) ** 3 - ti for gi, ti in zip(g, target)]
            errs.append(mpmath.sqrt(sum(v * v for v in diff)) / mpmath.sqrt(sum(v * v for v in target)))
        order = float(mpmath.log(errs[0] / errs[1]) / mpmath.log(2))
    info = {"flow_error_order": order, "flow_error": [float(e) for e in errs]}
    return _combine_numeric(m, judge_residual(abs(order - 2), ORDER_TOL, info))


# ------------------------------------------------------------------------------ the checkers
def _dims(ctx: Context, kind: str) -> list[tuple[int, ...]]:
    big = ctx.profile.name == "full" or ctx.profile.scale >= 8
    mid = big or ctx.profile.name == "quick" or ctx.profile.scale >= 2
    if kind == "one":
        return [(1,)]
    if kind == "prop1":
        return [(2, 2, 2)] + ([(1, 3, 2)] if mid else []) + ([(2, 3, 3)] if big else [])
    return [(1,), (2,), (3,)] + ([(4,)] if big else [])


def _run(ctx: Context, kind: str, evaluate: Callable[[IdentityConfig], Measurement]) -> Measurement:
    dims = _dims(ctx, kind)
    strategy = st.builds(IdentityConfig, dims=st.sampled_from(dims), seed=st.integers(0, 2**31 - 1))
    examples = [IdentityConfig(d_, ctx.seed) for d_ in dims]
    return run_property(strategy, evaluate, ctx.profile, examples=examples)


def _symbolic(name: str, build: Callable[[int], list[Obligation]]) -> Callable[[IdentityConfig], Measurement]:
    def evaluate(cfg: IdentityConfig) -> Measurement:
        (d,) = cfg.dims
        p = prepare((name, cfg.dims), lambda: build(d))
        return judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)

    return evaluate


def check_homogeneity(cfg: IdentityConfig) -> Measurement:
    m = _symbolic("homogeneity", blowup.homogeneity_obligations)(cfg)
    if m.status is not Status.HOLDS:
        return m
    rng = np.random.default_rng(cfg.seed)
    w, mm, c = np.abs(rng.standard_normal(3)) + 0.1
    lam = float(rng.uniform(0.5, 2.0))
    T1 = blowup.dm1_blowup_time(w, mm, c)
    T2 = blowup.dm1_blowup_time(lam * w, lam * mm, lam * c)
    res = float(abs(lam * T2 - T1) / T1)
    return _combine_numeric(m, judge_residual(res, 1e-12, {"oracle_homogeneity_residual": res}))


def check_balanced(cfg: IdentityConfig) -> Measurement:
    p = prepare(("balanced",), blowup.balanced_obligations)
    m = judge_obligations(p.obligations, cfg.seed, {}, p)
    if m.status is not Status.HOLDS:
        return m
    x0 = float(np.random.default_rng(cfg.seed).uniform(0.2, 3.0))
    res = float(abs(blowup.dm1_blowup_time(x0, x0, x0) - 1 / x0) * x0)  # quadrature oracle agrees: T* = 1/x0
    return _combine_numeric(m, judge_residual(res, 1e-12, {"x0": x0, "oracle_residual": res}))


_P = "chen-luo-2025"
checker(f"{_P}/prop1/eps3-coefficient")(lambda ctx: _run(ctx, "prop1", check_eps3))
checker(f"{_P}/prop1/qk-order5")(lambda ctx: _run(ctx, "prop1", check_qk))
checker(f"{_P}/prop1/rescaled-gradient")(lambda ctx: _run(ctx, "prop1", check_rescaled))
checker(f"{_P}/eq16/edot-identity")(lambda ctx: _run(ctx, "d", _symbolic(
    "edot", lambda d: effective.rhs_obligations(d) + effective.edot_obligations(d))))
checker(f"{_P}/prop2/conservation")(lambda ctx: _run(ctx, "d", _symbolic(
    "conservation", conservation.conservation_obligations)))
checker(f"{_P}/prop2/norm-growth")(lambda ctx: _run(ctx, "d", _symbolic(
    "norm-growth", conservation.norm_growth_obligations)))
checker(f"{_P}/prop2/matrix-invariants")(lambda ctx: _run(ctx, "d", _symbolic(
    "matrix-invariants", conservation.matrix_invariant_obligations)))
checker(f"{_P}/thm1/velocity-difference")(lambda ctx: _run(ctx, "d", _symbolic(
    "velocity-difference", conservation.velocity_difference_obligations)))
checker(f"{_P}/escape/homogeneity")(lambda ctx: _run(ctx, "d", check_homogeneity))
checker(f"{_P}/oracle/balanced")(lambda ctx: _run(ctx, "one", check_balanced))
