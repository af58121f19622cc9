"""gong-2025: growth of the P and Q signal weights and the Q stage time in the default variant (DERIVED).

None of these formulas is the paper's (its body is not available, ``docs/papers/gong_2025.md``); they are
derived by the companion for the reconstructed model of :mod:`twostage.theory.gong.setting` in the default
variant (:data:`twostage.numerics.gong.setting.DEFAULT`: two sub-models trained in parallel on their own
logistic losses, §2.3 [Rev-4]; both parts in every prompt, §2.1 [Rev-1]; separable P part with margin
``gamma0``, §2.2 [Notebook]; three-cluster Q part scaled by ``q_scale``, §2.2 / Li-Wei-Ma; fixed readout
threshold ``b0``; ``eta1`` for ``T1`` steps then ``eta2``, §2.5 [Rev-2]).

**Signals.** ``S_P = w*^T W_P w*`` and ``S_Q = |u^T W_Q u|``, ``u = 1/sqrt(d_q)`` (the direction of the
cluster shift ``zeta 1``; either sign of ``u^T W_Q u`` carries the Q knowledge, since the context tokens'
``a_{Q,l}`` are symmetric, and a seed's sign is set by its first, random, steps).
Write ``a = <w*, p>``, ``a_Q = <u, q>``. Along ``u`` the Q part is ``q_scale sigma g`` for
``y = +1`` and ``q_scale (sigma g +- m)``, ``m = zeta sqrt(d_q)``, for ``y = -1``; the means of ``|.|`` are
``q_scale nu_+`` and ``q_scale nu_-`` with (SymPy integrals, :func:`folded_mean_integral`)

    nu_+ = sigma sqrt(2/pi),   nu_- = m erf(m / (sigma sqrt 2)) + sigma sqrt(2/pi) exp(-m^2 / (2 sigma^2)),

and a context token has ``E|a_Q| = q_scale mu``, ``mu = (nu_+ + nu_-)/2``. The other directions of ``q``
carry no label information and have zero mean, so the expected gradient of ``W_Q`` has no component off
``u u^T`` once ``W_Q`` is aligned (``W_Q = c u u^T``).

**P signal (per-step update).** The expected decrease of ``K1`` along ``w* w*^T`` is
``E[sigmoid(-y f_P) |a| (1/L) sum_l H(s_l) |a_l|]`` (``y a = |a|``, ``y_l a_l = |a_l|``: the P part is
separable). With ``H <= 1`` and ``E|a| = m1 = gamma0 + sigma sqrt(2/pi)``
(:func:`twostage.theory.gong.signals.m1_expr`), and for an aligned block ``W_P ~ S_P w* w*^T`` a margin
``y f_P >= S_P gamma0 m1 / 2 = S_P x0`` (``|a| >= gamma0``, half the context on the query's side, whose mean
``|a_l|`` is ``m1``), the per-step increment obeys

    S_P(t') - S_P(t) <= (sum_{t <= s < t'} eta_s) m1^2 sigmoid(-x0 S_P(t)),    x0 = gamma0 m1 / 2

(the rate bound decreases along the increasing signal, so one interval may use its left end). The law is
linear while ``x0 S_P << 1`` (at most twice the initial rate ``m1^2/4`` of ``derived/init-gradient``) and
logarithmic afterwards: integrating ``dS/dH <= m1^2 sigmoid(-x0 S)`` gives
``S + (exp(x0 S) - 1)/x0 <= m1^2 H``, i.e. ``S_P ~ log(x0 m1^2 H) / x0``.

**Q signal (per-step update).** For ``W_Q = c u u^T`` (either sign) the score ``s_l = c a_Q a_{Q,l}`` and the
expected decrease of ``K2`` along ``u u^T`` is ``E[sigmoid(-y f_Q) (-y) |a_Q|] q_scale mu / 2``. At small
``W_Q`` the output is ``f_Q = b0``, and the rate is

    R_Q = q_scale^2 (mu / 4) (sigmoid(b0) nu_- - sigmoid(-b0) nu_+)

Growing ``c`` lowers ``f_Q`` (``f_Q = b0 - c q_scale^2 |a_Q| mu/2`` in mean field), which lowers
``sigmoid(f_Q)`` (``y = -1``) and raises ``sigmoid(-f_Q)`` (``y = +1``): the rate only decreases, so the Q law
is *linear at most*: ``S_Q(t') - S_Q(t) <= R_Q sum eta_s``. Unlike the P block, the Q block receives no
first-order signal at a random initialisation (``derived/init-gradient``): its first steps have a random
sign and grow slower than ``R_Q``.

**Q stage time.** In mean field a ``y = -1`` query is classified correctly iff
``S_Q q_scale^2 |a_Q'| mu / 2 > b0``; a held-out Q accuracy of 0.9 needs 80% of the ``y = -1`` queries right,
so the 20% quantile of ``|a_Q'|``, which lies below its mean ``nu_-``, must pass: ``S_Q >= S_* =
2 b0 / (q_scale^2 nu_- mu)``. At most ``R_Q`` per unit of ``eta``, the signal needs ``S_*/R_Q`` units, of
which stage 1 supplies ``eta1 T1``:

    T_Q >= t_Q = T1 + (S_*/R_Q - eta1 T1) / eta2         (when S_*/R_Q >= eta1 T1),

a heuristic lower bound (mean field; ignores the unaligned first steps, which only make T_Q later).
``S_*/R_Q = 8 b0 / (q_scale^4 nu_- mu^2 (sigmoid(b0) nu_- - sigmoid(-b0) nu_+))``, so at a constant rate
``eta`` the estimate is ``S_*/(eta R_Q) ~ eta^-1 q_scale^-4`` (derived, not assumed: ``q_scale`` enters the
scores twice and the gradient twice). The exponent is exact beyond mean field: ``W~ = q_scale^2 W_Q`` obeys
the GD of ``q_scale = 1`` at rate ``eta q_scale^4`` (``f_Q`` depends on ``W_Q`` only through ``W~``), so
``T_Q(eta, q_scale) = T_Q(eta q_scale^4, 1)`` up to the initial scale.

>>> import sympy as sp
>>> sp.simplify(sp.diff(sp.log(constant_rate_time()), q_s) * q_s)
-4
>>> round(float(q_rate().subs({q_s: 0.25, b0: 1, sigma: 1, nu_m: nu_minus_value(2.12, 8, 1.0)})), 4)
0.2213
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.claims import Claim, Kind, Provenance, register
from twostage.theory.gong.setting import PAPER, eta1, eta2, gamma0, sigma, zeta
from twostage.theory.gong.signals import m1_expr

q_s = sp.Symbol("q_scale", positive=True)
b0 = sp.Symbol("b0", real=True)
d_q = sp.Symbol("d_q", positive=True, integer=True)
T1 = sp.Symbol("T1", nonnegative=True)
eta = sp.Symbol("eta", positive=True)
dH = sp.Symbol("DeltaH", nonnegative=True)  # sum of the learning rates over one interval of steps
S_P, S_Q, dS_P, dS_Q = sp.symbols("S_P S_Q DeltaS_P DeltaS_Q", real=True)
T_Q = sp.Symbol("T_Q", positive=True)
beta = sp.Symbol("beta", real=True)
#: ``nu_- = E|sigma g + zeta sqrt(d_q)|`` as a named quantity of the formulas (its closed form has ``erf``,
#: which the LaTeX round trip of the claims cannot read); its value is :func:`nu_minus` at the configuration
nu_m = sp.Symbol("nu_minus", positive=True)
_g = sp.Symbol("g", real=True)
_m = sp.Symbol("m", positive=True)


def expit(x: sp.Expr) -> sp.Expr:
    """The logistic function ``1/(1 + exp(-x))`` (``-l'(-x)`` for the logistic loss of §2.4)."""
    return 1 / (1 + sp.exp(-x))


def folded_mean_integral() -> sp.Expr:
    """``E|sigma g + m|``, ``g ~ N(0, 1)``, integrated by SymPy (about 10 s; :func:`nu_minus` is its result,
    compared in ``tests/gong/test_growth.py``)."""
    phi = sp.exp(-_g**2 / 2) / sp.sqrt(2 * sp.pi)
    mean = sp.integrate((sigma * _g + _m) * phi, (_g, -sp.oo, sp.oo))
    neg = sp.integrate((sigma * _g + _m) * phi, (_g, -sp.oo, -_m / sigma))
    return sp.simplify(mean - 2 * neg)


def nu_plus() -> sp.Expr:
    return sigma * sp.sqrt(2 / sp.pi)


def nu_minus(m: sp.Expr | None = None) -> sp.Expr:
    """``E|sigma g + m|`` in closed form, at ``m = zeta sqrt(d_q)`` by default."""
    m = zeta * sp.sqrt(d_q) if m is None else m
    return m * sp.erf(m / (sigma * sp.sqrt(2))) + sigma * sp.sqrt(2 / sp.pi) * sp.exp(-m**2 / (2 * sigma**2))


def nu_minus_value(zeta_v: float, d_q_v: int, sigma_v: float) -> float:
    """:func:`nu_minus` at a configuration (the value of the symbol ``nu_minus`` of the formulas)."""
    return float(nu_minus().subs({zeta: zeta_v, d_q: d_q_v, sigma: sigma_v}).evalf(30))


def mu() -> sp.Expr:
    return (nu_plus() + nu_m) / 2


def p_rate(S: sp.Expr = S_P) -> sp.Expr:
    """Rate bound of the P signal per unit of ``eta`` at signal ``S``: ``m1^2 sigmoid(-x0 S)``."""
    m1 = m1_expr()
    return m1**2 * expit(-gamma0 * m1 / 2 * S)


def q_rate() -> sp.Expr:
    """``R_Q = q_scale^2 (mu/4) (sigmoid(b0) nu_- - sigmoid(-b0) nu_+)``, the Q signal's rate at
    ``f_Q = b0``."""
    return q_s**2 * mu() / 4 * (expit(b0) * nu_m - expit(-b0) * nu_plus())


def q_threshold() -> sp.Expr:
    """``S_* = 2 b0 / (q_scale^2 nu_- mu)``: the Q signal a mean ``y = -1`` query needs to pass ``b0``."""
    return 2 * b0 / (q_s**2 * nu_m * mu())


def q_stage_time() -> sp.Expr:
    """``t_Q = T1 + (S_*/R_Q - eta1 T1) / eta2`` (two-stage schedule)."""
    return T1 + (q_threshold() / q_rate() - eta1 * T1) / eta2


def constant_rate_time() -> sp.Expr:
    """``S_* / (eta R_Q)``: the estimate under one constant rate ``eta``."""
    return q_threshold() / (eta * q_rate())


_ASS = ("gong-2025/ass/data", "gong-2025/ass/model", "gong-2025/ass/schedule")
_REF = "derived for the default variant (§2.1 [Rev-1], §2.2 [Notebook], §2.3 [Rev-4], §2.4, §2.5 [Rev-2])"

P_GROWTH = register(Claim(
    id="gong-2025/derived/p-signal-growth", paper=PAPER, ref=_REF, provenance=Provenance.DERIVED,
    kind=Kind.BOUND,
    statement="Along the trajectory the P signal S_P = w*^T W_P w* grows per interval by at most "
              "DeltaH m1^2 sigmoid(-x0 S_P), x0 = gamma0 m1/2, DeltaH the summed learning rates: linear at "
              "first, logarithmic once x0 S_P >> 1 (argument in theory/gong/growth.py).",
    formula=sp.LessThan(dS_P, dH * p_rate()),
    assumptions=_ASS, uses=("gong-2025/derived/init-gradient",),
    symbols=(("DeltaS_P", "increase of S_P over an interval of steps"), ("DeltaH", "sum of eta_s over it"),
             ("S_P", "P signal at the start of the interval"), ("gamma0", "P margin"),
             ("sigma", "noise scale")),
    tolerance="judge_bound in ball arithmetic (measured increments to float precision) on every seed and "
              "interval: every step of the first 2 T1 steps and every 10 steps of the full run",
))
Q_GROWTH = register(Claim(
    id="gong-2025/derived/q-signal-growth", paper=PAPER, ref=_REF, provenance=Provenance.DERIVED,
    kind=Kind.BOUND,
    statement="Along the trajectory the Q signal S_Q = |u^T W_Q u| grows at most linearly in the summed "
              "learning rate, at the rate R_Q = q_scale^2 (mu/4)(sigmoid(b0) nu_- - sigmoid(-b0) nu_+) it "
              "has at f_Q = b0 (the rate decreases as f_Q falls).",
    formula=sp.LessThan(dS_Q, dH * q_rate()),
    assumptions=_ASS, uses=("gong-2025/derived/init-gradient",),
    symbols=(("DeltaS_Q", "increase of S_Q over an interval of steps"), ("DeltaH", "sum of eta_s over it"),
             ("q_scale", "scale of the Q part"), ("b0", "readout threshold"),
             ("nu_minus", "E|sigma g + zeta sqrt(d_q)| = m erf(m/(sigma sqrt 2)) + sigma sqrt(2/pi) "
                          "exp(-m^2/(2 sigma^2)), m = zeta sqrt(d_q)")),
    tolerance="judge_bound in ball arithmetic on every seed and interval (as p-signal-growth)",
))
Q_TIME = register(Claim(
    id="gong-2025/derived/q-stage-time", paper=PAPER, ref=_REF, provenance=Provenance.DERIVED,
    kind=Kind.BOUND,
    statement="The Q stage ends no earlier than t_Q = T1 + (S_*/R_Q - eta1 T1)/eta2 GD steps, S_* = "
              "2 b0/(q_scale^2 nu_- mu) (T_Q: first step with held-out Q accuracy >= 0.9; heuristic "
              "mean-field lower bound).",
    formula=sp.GreaterThan(T_Q, q_stage_time()),
    assumptions=_ASS, uses=("gong-2025/derived/q-signal-growth",),
    symbols=(("T_Q", "first recorded step with held-out Q accuracy >= 0.9"), ("T1", "anneal step"),
             ("eta1", "stage-1 rate"), ("eta2", "stage-2 rate"), ("nu_minus", "E|sigma g + zeta sqrt(d_q)|")),
    tolerance="judge_bound per seed in ball arithmetic; T_Q is known to the recording grid (10 steps)",
))
Q_SCALING = register(Claim(
    id="gong-2025/derived/q-stage-time-scaling", paper=PAPER, ref=_REF, provenance=Provenance.DERIVED,
    kind=Kind.SCALING,
    statement="At a constant rate the Q stage time scales like T_Q ~ q_scale^(-4) (from S_*/(eta R_Q); exact "
              "by the rescaling W~ = q_scale^2 W_Q).",
    formula=sp.Eq(beta, sp.simplify(sp.diff(sp.log(constant_rate_time()), q_s) * q_s)),
    assumptions=_ASS, uses=("gong-2025/derived/q-stage-time",),
    symbols=(("beta", "log-log slope of T_Q in q_scale"),),
    tolerance="fitted log-log slope within 0.3 of beta (judge_scaling)",
))
