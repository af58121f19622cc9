"""Numerical checkers for chen-luo-2025 stage 1 (Thm 1, Def 4, the d_m = 1 oracle).

Each checker draws configurations *inside* the claim's assumptions with Hypothesis (dimension, seed,
starting point), integrates the effective ODE (7) batched over initialisations
(:func:`twostage.numerics.chen_luo.effective.integrate_to_blowup`), and judges the claim's own SymPy
relational (``Claim.formula``) in ball arithmetic (``judge_bound(..., relational=...)``), every
measured float carrying the integrator's relative error ``INTEGRATOR_TOL``.

Constructive assumptions: a Gaussian initialisation with the wrong sign of ``E(0)`` is mapped to one
with the right sign by ``W2 -> -W2`` (which flips ``E`` and preserves the Gaussian law), so every
drawn configuration satisfies ``E(t0) > 0`` (resp. ``<= 0``) without filtering.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from twostage.numerics.chen_luo.effective import integrate_to_blowup
from twostage.numerics.config import require
from twostage.theory.claims import load_all
from twostage.verify.checks import Context, checker
from twostage.verify.judge import judge_binomial, judge_bound, judge_residual
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

INTEGRATOR_RTOL = 1e-11
INTEGRATOR_TOL = 1e-9  # relative error allowed for recorded values (integrator rtol accumulated over the run)
E_MAX = 1e12
# Judged domain. Thm 1's bounds are asymptotically *attained* at blow-up (E (T*-t)^3 -> 1, Edot/E^{4/3} -> 3,
# DERIVED sharp limit, §4.3), their relative slack decaying like E^{-4/3}: beyond E ~ 1e3 it drops below
# what float64 integration can resolve, so points there are not judged (measured: slack 5e-8 at E = 1e3
# for a nearly balanced d = 1 draw, 1e-3..1e-2 for generic d = 16 draws).
E_JUDGE = 1e3
E_START = 10.0  # Riccati comparisons start at a t0 with 0 < E(t0) <= E_START
MAX_DIM = 6


@dataclass(frozen=True)
class Stage1Draw:
    """A batch of ``B`` Gaussian normalised initialisations of dimension ``d`` (chen-luo-2025 eq. (4)).

    ``sign``: +1 forces ``E(0) > 0``, -1 forces ``E(0) <= 0``, 0 keeps the draw as it is.
    ``start``: where the Riccati comparison starts, as a fraction of the recorded steps after ``E > 0``.
    """

    d: int
    B: int
    seed: int
    sign: int = 0
    start: float = 0.0

    def __post_init__(self) -> None:
        require(1 <= self.d <= 64, "chen-luo-2025/ass/gaussian-init", f"d must be in [1, 64], got {self.d}")
        require(self.B >= 1, "chen-luo-2025/ass/gaussian-init", f"B must be >= 1, got {self.B}")
        require(self.sign in (-1, 0, 1), "chen-luo-2025/ass/E-t0-positive", "sign must be -1, 0, 1")
        require(0.0 <= self.start < 1.0, "chen-luo-2025/ass/before-blowup", "start must be in [0, 1)")


def draws(sign: int = 0, with_start: bool = False, B: int = 8) -> st.SearchStrategy[Stage1Draw]:
    start = st.floats(0.0, 0.9) if with_start else st.just(0.0)
    return st.builds(Stage1Draw, d=st.integers(1, MAX_DIM), B=st.just(B), seed=st.integers(0, 2**31 - 1),
                     sign=st.just(sign), start=start)


def initialisation(cfg: Stage1Draw, device: str = "cpu"):
    """Reduced state ``(Wv, W1, W2)`` of ``B`` N(0, 1) draws (normalised weights, eq. (4))."""
    g = torch.Generator().manual_seed(cfg.seed)
    Wv = torch.randn(cfg.B, cfg.d, generator=g, dtype=torch.float64)
    W1 = torch.randn(cfg.B, cfg.d, cfg.d, generator=g, dtype=torch.float64)
    W2 = torch.randn(cfg.B, cfg.d, generator=g, dtype=torch.float64)
    if cfg.sign != 0:
        E0 = torch.einsum("bk,bkl,bl->b", Wv, W1, W2)
        flip = (E0 > 0) != (cfg.sign > 0)
        W2 = torch.where(flip[:, None], -W2, W2)
    return tuple(x.to(device) for x in (Wv, W1, W2))


@functools.lru_cache(maxsize=64)
def trajectories(cfg: Stage1Draw, device: str = "cpu"):
    """Integrate (7) to ``E >= E_MAX`` and return numpy arrays: t, E, Edot (B, K), mask, T bracket."""
    Wv, W1, W2 = initialisation(cfg, device)
    res = integrate_to_blowup(Wv, W1, W2, E_max=E_MAX, rtol=INTEGRATOR_RTOL, atol=1e-14, max_steps=20_000,
                              on_failure="mark")
    cpu = lambda x: x.detach().cpu().numpy()
    return {"t": cpu(res.t), "E": cpu(res.series["E"]), "Edot": cpu(res.series["Edot"]),
            "mask": cpu(res.mask), "T_lo": cpu(res.T_lo), "T_hi": cpu(res.T_hi), "reached": cpu(res.reached)}


def _claim(cid: str):
    return load_all().get(cid)


def _symbols(claim) -> dict[str, object]:
    return {s.name: s for s in claim.formula.free_symbols}


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


def start_index(E: np.ndarray, fraction: float) -> int:
    """Index of the Riccati starting point t0: ``fraction`` of the way through the recorded points with
    ``0 < E <= E_START`` (the first point with ``E > 0`` when there is none in that range)."""
    pos = np.flatnonzero((E > 0) & (E <= E_START))
    if len(pos) == 0:
        return int(np.flatnonzero(E > 0)[0])
    return int(pos[int(fraction * (len(pos) - 1))])


# --- Thm 1: Edot >= 3|E|^{4/3} (pointwise along trajectories) -------------------------------------
def edot_lower_measure(cfg: Stage1Draw, relational, device: str = "cpu") -> Measurement:
    tr = trajectories(cfg, device)
    sym = _symbols(_claim("chen-luo-2025/thm1/edot-lower"))
    out = []
    for b in range(cfg.B):
        m = tr["mask"][b] & (tr["E"][b] <= E_JUDGE)
        vals = {sym["Edot"]: tr["Edot"][b][m], sym["E"]: tr["E"][b][m]}
        out.append(judge_bound(tr["Edot"][b][m], None, ">=", INTEGRATOR_TOL, {"element": b},
                               times=tr["t"][b][m], relational=relational, values=vals))
    return combine(out)


@checker("chen-luo-2025/thm1/edot-lower")
def check_edot_lower(ctx: Context) -> Measurement:
    rel = _claim("chen-luo-2025/thm1/edot-lower").formula
    return run_property(draws(), lambda c: edot_lower_measure(c, rel, ctx.device), ctx.profile,
                        examples=[Stage1Draw(16, 8, 0)])


# --- Thm 1 (11): Riccati lower bound from t0 with E(t0) > 0 ----------------------------------------
SKIP = 0.01  # the comparison is an equality at t0; points closer than 1 % of (T* - t0) are not judged


def riccati_positive_measure(cfg: Stage1Draw, relational, device: str = "cpu") -> Measurement:
    tr = trajectories(cfg, device)
    sym = _symbols(_claim("chen-luo-2025/thm1/riccati-positive"))

    def one(b, t, E):
        i0 = start_index(E, cfg.start)
        t0, E0 = t[i0], E[i0]
        keep = (t > t0 + SKIP * (tr["T_hi"][b] - t0)) & (E <= E_JUDGE)
        if not keep.any():
            return None
        vals = {sym["E"]: E[keep], sym["t"]: t[keep], sym["E_t0"]: E0, sym["t0"]: t0}
        return judge_bound(E[keep], None, ">=", INTEGRATOR_TOL, {"element": b, "t0": float(t0)},
                           times=t[keep], relational=relational, values=vals, exact=(sym["t"],))

    return per_element(tr, cfg.B, one)


@checker("chen-luo-2025/thm1/riccati-positive")
def check_riccati_positive(ctx: Context) -> Measurement:
    rel = _claim("chen-luo-2025/thm1/riccati-positive").formula
    return run_property(draws(sign=0, with_start=True),
                        lambda c: riccati_positive_measure(c, rel, ctx.device), ctx.profile,
                        examples=[Stage1Draw(16, 8, 0, 1, 0.0)])


# --- Thm 1 (12): E(0) <= 0 -------------------------------------------------------------------------
def riccati_nonpositive_measure(cfg: Stage1Draw, relational, device: str = "cpu") -> Measurement:
    tr = trajectories(cfg, device)
    sym = _symbols(_claim("chen-luo-2025/thm1/riccati-nonpositive"))

    def one(b, t, E):
        require(E[0] <= 0, "chen-luo-2025/ass/E-t0-nonpositive", f"E(0) = {E[0]} > 0")
        keep = (t > 0) & (E < 0)  # once E >= 0 the bound (negative) holds trivially
        if not keep.any():
            return None
        vals = {sym["E"]: E[keep], sym["t"]: t[keep], sym["E_t0"]: E[0], sym["t0"]: 0.0}
        return judge_bound(E[keep], None, ">=", INTEGRATOR_TOL, {"element": b, "E0": float(E[0])},
                           times=t[keep], relational=relational, values=vals, exact=(sym["t"], sym["t0"]))

    return per_element(tr, cfg.B, one, needs_blowup=False)


@checker("chen-luo-2025/thm1/riccati-nonpositive")
def check_riccati_nonpositive(ctx: Context) -> Measurement:
    rel = _claim("chen-luo-2025/thm1/riccati-nonpositive").formula
    return run_property(draws(sign=-1), lambda c: riccati_nonpositive_measure(c, rel, ctx.device),
                        ctx.profile, examples=[Stage1Draw(16, 8, 0, -1)])


# --- Thm 1: T* <= t0 + E(t0)^{-1/3} -----------------------------------------------------------------
def tstar_upper_measure(cfg: Stage1Draw, relational, device: str = "cpu") -> Measurement:
    """The measured T* is the *upper* end of the bracket (T* <= T_hi), so `holds` is conservative."""
    tr = trajectories(cfg, device)
    sym = _symbols(_claim("chen-luo-2025/thm1/tstar-upper"))

    def one(b, t, E):
        i0 = start_index(E, cfg.start)
        T_hi = np.array([tr["T_hi"][b]])
        vals = {sym["T_star"]: T_hi, sym["E_t0"]: E[i0], sym["t0"]: t[i0]}
        return judge_bound(T_hi, None, "<=", INTEGRATOR_TOL,
                           {"element": b, "t0": float(t[i0]), "T_lo": float(tr["T_lo"][b])},
                           relational=relational, values=vals, exact=(sym["t0"],))

    return per_element(tr, cfg.B, one)


@checker("chen-luo-2025/thm1/tstar-upper")
def check_tstar_upper(ctx: Context) -> Measurement:
    rel = _claim("chen-luo-2025/thm1/tstar-upper").formula
    return run_property(draws(with_start=True), lambda c: tstar_upper_measure(c, rel, ctx.device),
                        ctx.profile, examples=[Stage1Draw(16, 8, 0, 0, 0.0)])


# --- derived: E(t) <= (T* - t)^{-3} while E > 0 ----------------------------------------------------
BRACKET = 1e-3  # judge points where the T* bracket moves the bound by < 0.3 % (3 x BRACKET relative)


def upper_general_measure(cfg: Stage1Draw, relational, device: str = "cpu") -> Measurement:
    """Only ``T_lo <= T* <= T_hi`` is known: the bound is evaluated with ``T_hi`` (the smallest bound
    consistent with the bracket). Points so close to ``T*`` that the bracket width exceeds
    ``BRACKET (T_lo - t)`` are outside the decidable domain and not judged (stated in the claim's
    tolerance); near blow-up the bound is asymptotically attained (E (T*-t)^3 -> 1)."""
    tr = trajectories(cfg, device)
    sym = _symbols(_claim("chen-luo-2025/thm1/upper-general"))

    def one(b, t, E):
        lo, hi = tr["T_lo"][b], tr["T_hi"][b]
        # T* enters (T*-t)^-3 amplified by 3 T*/(T*-t): judge further from blow-up than the other bounds
        keep = (E > 0) & (E <= E_JUDGE / 10) & ((hi - lo) < BRACKET * (lo - t))
        if not keep.any():
            return None
        vals = {sym["E"]: E[keep], sym["t"]: t[keep], sym["T_star"]: hi}
        return judge_bound(E[keep], None, "<=", INTEGRATOR_TOL, {"element": b, "T_hi": float(hi)},
                           times=t[keep], relational=relational, values=vals, exact=(sym["t"],))

    return per_element(tr, cfg.B, one)


@checker("chen-luo-2025/thm1/upper-general")
def check_upper_general(ctx: Context) -> Measurement:
    rel = _claim("chen-luo-2025/thm1/upper-general").formula
    return run_property(draws(), lambda c: upper_general_measure(c, rel, ctx.device), ctx.profile,
                        examples=[Stage1Draw(16, 8, 0)])


# --- Thm 1: blow-up almost surely (counted over seeds) ---------------------------------------------
def blowup_count(d: int, n: int, seed: int, device: str = "cpu", E_max: float = E_MAX,
                 max_steps: int = 20_000) -> tuple[int, int]:
    """How many of ``n`` Gaussian draws reach ``E >= E_max`` (a finite ``T*``) within ``max_steps``."""
    Wv, W1, W2 = initialisation(Stage1Draw(d, n, seed), device)
    res = integrate_to_blowup(Wv, W1, W2, E_max=E_max, rtol=1e-8, atol=1e-12, max_steps=max_steps,
                              record_every=10**9, on_failure="mark")
    ok = res.reached & torch.isfinite(res.T_hi)
    return int(ok.sum()), n


@checker("chen-luo-2025/thm1/blowup-as")
def check_blowup_as(ctx: Context) -> Measurement:
    n = ctx.profile.seeds
    out = []
    for d in (1, 2, 4, 8):  # one batched integration of `n` seeds per dimension
        k, total = blowup_count(d, n, ctx.seed + 1000 * d, ctx.device)
        out.append(judge_binomial(k, total, 1.0, info={"d": d}))
    return _pool_binomial(out)


def _pool_binomial(ms: list[Measurement]) -> Measurement:
    k = sum(m.worst["successes"] for m in ms)
    n = sum(m.worst["n"] for m in ms)
    pooled = judge_binomial(k, n, 1.0, info={"per_dimension": [m.worst for m in ms]})
    return pooled


# --- Def 4: non-degenerate almost surely ---------------------------------------------------------
def nondegenerate_count(d: int, n: int, seed: int) -> tuple[int, int, dict]:
    Wv, W1, W2 = (x.numpy() for x in initialisation(Stage1Draw(d, n, seed)))
    return nondegenerate_ok(Wv, W1, W2, d)


def nondegenerate_ok(Wv: np.ndarray, W1: np.ndarray, W2: np.ndarray, d: int) -> tuple[int, int, dict]:
    """(non-degenerate draws, draws, info) for a batch of initialisations (Def 4, eq. (10))."""
    from twostage.theory.chen_luo.nondegeneracy import nondegeneracy_numpy

    n = len(Wv)
    D1, D2 = nondegeneracy_numpy()(Wv, W1, W2)
    scale1 = np.einsum("bk,bk->b", Wv, Wv) + np.einsum("bk,bk->b", W2, W2)
    # |D| at the level of rounding of its terms counts as zero (a counterexample)
    ok = (np.abs(D1) > 1e-12 * scale1) & (np.abs(D2) > 1e-12 * (1 + scale1) ** 2)
    info = {"d": d, "min_abs_D1": float(np.abs(D1).min()), "min_abs_D2": float(np.abs(D2).min())}
    return int(ok.sum()), n, info


@checker("chen-luo-2025/def4/nondegenerate-as")
def check_nondegenerate(ctx: Context) -> Measurement:
    ms = []
    for d in (1, 2, 4, 16):
        k, n, info = nondegenerate_count(d, 16 * ctx.profile.seeds, ctx.seed + d)
        ms.append(judge_binomial(k, n, 1.0, info=info))
    return _pool_binomial(ms)


# --- d_m = 1 elliptic-integral oracle vs the integrator --------------------------------------------
@dataclass(frozen=True)
class Dm1Draw:
    """``(w, m, c)`` with ``m > 0`` and ``w c > 0`` (assumption chen-luo-2025/ass/dm1-escape)."""

    w: float
    m: float
    c: float

    def __post_init__(self) -> None:
        require(self.m > 0 and self.w * self.c > 0, "chen-luo-2025/ass/dm1-escape",
                f"need m > 0 and w c > 0, got (w, m, c) = ({self.w}, {self.m}, {self.c})")


def dm1_draws() -> st.SearchStrategy[Dm1Draw]:
    mag = st.floats(0.05, 2.0)
    return st.builds(lambda w, m, c, s: Dm1Draw(s * w, m, s * c), mag, mag, mag, st.sampled_from([1.0, -1.0]))


DM1_TOL = 1e-6


def dm1_measure(cfg: Dm1Draw, oracle=None) -> Measurement:
    from twostage.numerics.chen_luo.effective import dm1_blowup_time as integrated
    from twostage.theory.chen_luo.blowup import dm1_blowup_time

    oracle = oracle or dm1_blowup_time
    exact = float(oracle(cfg.w, cfg.m, cfg.c))
    num = float(integrated(cfg.w, cfg.m, cfg.c)[0])
    return judge_residual(abs(num - exact) / exact, DM1_TOL, {"oracle": exact, "integrated": num})


@checker("chen-luo-2025/oracle/dm1-elliptic")
def check_dm1(ctx: Context) -> Measurement:
    return run_property(dm1_draws(), dm1_measure, ctx.profile, examples=[Dm1Draw(0.7, 0.3, 1.2)])
