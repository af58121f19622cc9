"""Checkers for chen-luo-2025 Prop 1: the effective dynamics of small initialisation (eqs. (5)-(7)).

Identities (proven on symbolic instances by :mod:`twostage.verify.identity`, then cross-checked against the
*exact* loss in mpmath): the eps^3 coefficient (5) (ERRATUM-CORRECTED prefactor 1/n; the printed 1/(2n) must
fail), ``W_Q, W_K`` entering at order eps^5, and the rescaled gradient (6)-(7).

Scaling claims: a drawn configuration is a small data set and a batch of normalised initialisations
``theta_bar_0``; the full model (Def 3) is trained by gradient flow from ``eps * theta_bar_0`` for several
``eps`` (one batched integration, :func:`twostage.numerics.chen_luo.prop1.compare_with_effective`), and the
fitted log-log exponent is judged diffrax-style (:func:`twostage.verify.judge.judge_scaling`):

* ``prop1/agreement-eps2`` -- relative distance ``theta(t)/eps`` vs the effective ODE at fixed
  ``tbar = f Tbar*``: exponent 2 (tolerance 0.3);
* ``prop1/qk-quasistatic`` -- relative change of ``(W_Q, W_K)`` at fixed ``tbar``: exponent 2 (0.3).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import mpmath
import numpy as np
import sympy as sp

from twostage.errors import UnsupportedExpression
from twostage.numerics.chen_luo.prop1 import compare_with_effective
from twostage.theory.chen_luo import prop1
from twostage.theory.chen_luo.model import (
    Obligation,
    expansion_exprs,
    expansion_gradient,
    instance,
    residual_is_zero,
)
from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.draws import EPS, EXAMPLE, FRACTIONS, Prop1Draw, prop1_draws, slopes
from twostage.verify.checks.chen_luo.draws import instance as draw_instance
from twostage.verify.checks.chen_luo.elements import one_draw, relations
from twostage.verify.identity import (
    IdentityConfig,
    combine_numeric,
    identity_checker,
    judge_obligations,
    prepare,
)
from twostage.verify.judge import as_relation, judge_residual
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
ORDER_TOL = 0.3  # fitted eps-order of a Prop. 1 remainder


@functools.lru_cache(maxsize=32)
def agreement(cfg: Prop1Draw) -> dict[str, np.ndarray]:
    """Distances (E, B, M) and Q/K relative changes (E, B, M) over ``EPS`` x ``FRACTIONS``."""
    ds, pb = draw_instance(cfg)
    r = compare_with_effective(ds, pb, EPS, fractions=FRACTIONS, rtol=1e-11)
    return {k: r[k].detach().cpu().numpy() for k in ("distance", "rel_QK", "eps", "Tstar")}


def simulate(cfg: Prop1Draw, ctx) -> dict[str, np.ndarray]:
    return agreement(cfg)


def eps_order(claim) -> float:
    """The power of ``eps`` in the claim's bound (``err <= C eps**k``): the exponent the fit is judged by."""
    (rel,) = relations(claim.formula)
    eps = next(x for x in rel.rhs.free_symbols if x.name == "eps")
    return float(rel.rhs.as_coeff_exponent(eps)[1])


def _order_measure(claim, series: np.ndarray, eps: np.ndarray, name: str, tol: float) -> Measurement:
    """``series`` (E, B, M) is ``O(eps**k)`` with ``k`` read from the formula; a bound written with ``>=``
    (the relation flipped) is judged as the equality it is not (``Ne``-like: a matching order violates it)."""
    (rel,) = relations(claim.formula)
    m = slopes(series, eps, eps_order(claim), tol, name)
    if isinstance(rel, sp.GreaterThan | sp.StrictGreaterThan):
        return as_relation(sp.Ne(rel.lhs, rel.rhs), m)
    return m


@checker(f"{P}/prop1/agreement-eps2", draws=prop1_draws(), simulate=simulate, examples=[EXAMPLE], cost=3)
def agreement_eps2(claim, cfg: Prop1Draw, r: dict) -> Measurement:
    """The relative distance to the effective ODE is ``O(eps**k)``, ``k`` the power in the formula (2)."""
    return _order_measure(claim, r["distance"], r["eps"], "relative distance to effective ODE", ORDER_TOL)


@checker(f"{P}/prop1/qk-quasistatic", draws=prop1_draws(), simulate=simulate, examples=[EXAMPLE], cost=3)
def qk_quasistatic(claim, cfg: Prop1Draw, r: dict) -> Measurement:
    """The relative change of ``(W_Q, W_K)`` is ``O(eps**k)``, ``k`` the power in the formula (2)."""
    return _order_measure(claim, r["rel_QK"], r["eps"], "relative change of (W_Q, W_K)", ORDER_TOL)


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


def _claimed_expansion(n: int, s: int, d: int, formula: sp.Basic) -> list[sp.Expr]:
    """``L_0 .. L_5`` as the formula claims them (``L_0``, ``L_3``) and as derived (``L_4``, ``L_5``)."""
    L = expansion_exprs(instance(n, s, d))
    claimed = {ob.name.split(" ")[0]: ob.rhs for ob in prop1.formula_obligations(formula, n, s, d)}
    return [claimed.get("L0", L[0]), 0, 0, claimed.get("L3", L[3]), L[4], L[5]]


@identity_checker(f"{P}/prop1/eps3-coefficient", "prop1")
def eps3_coefficient(claim, cfg: IdentityConfig, _=None) -> Measurement:
    """``eps3-coefficient``: the claim's formula (eq. (5), ERRATUM-CORRECTED prefactor ``1/n``), instantiated
    on the ``(n, s, d)`` instance, against the derived expansion; the printed form ``1/(2n)`` must differ. A
    formula with another prefactor, sign or power is proven false (``violated``)."""
    n, s, d = cfg.dims
    formula = claim.formula
    p = prepare(("eps3", cfg.dims, sp.srepr(formula)),
                lambda: prop1.formula_obligations(formula, n, s, d) + prop1.printed_form_obligations(n, s, d))
    m = judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg):
        return m
    return combine_numeric(m, expansion_vs_exact(n, s, d, cfg.seed, _claimed_expansion(n, s, d, formula)))


_PARAMS = {"\\bar W_Q": "WQ", "\\bar W_K": "WK", "\\bar W_V": "WV", "\\bar W^{[1]}": "W1",
           "\\bar W^{[2]}": "W2"}  # the formula's matrix symbols -> the instance's parameters
LK_MAX = 4  # the formula's ``L_k``: "any coefficient with k <= 4" (its symbol's meaning in the claim)


def _orders(L: sp.Symbol) -> list[int]:
    """The eps-orders a coefficient symbol of the formula names: ``L5`` -> [5], ``L_k`` -> [0, .., 4]."""
    if L.name == "L_k":
        return list(range(LK_MAX + 1))
    if L.name[:1] == "L" and L.name[1:].isdigit() and int(L.name[1:]) <= 5:
        return [int(L.name[1:])]
    raise UnsupportedExpression(f"{L}: not a coefficient L_j (j <= 5) of the eps-expansion")


def coefficient_obligations(formula: sp.Basic, n: int, s: int, d: int) -> list[Obligation]:
    """The claim's relations on the ``(n, s, d)`` instance (chen-luo-2025 Prop 1): ``L_j`` is the derived
    ``eps^j`` coefficient of the loss (``L_k`` each of ``L_0 .. L_4``), ``Derivative(L_j, W)`` its gradient
    over the entries of the instance's ``W``, a number on the right side that number in every entry; ``=``
    and ``!=`` are proven or refuted as written."""
    inst = instance(n, s, d)
    L, params = expansion_exprs(inst), inst.params()
    out = []
    for rel in relations(formula):
        if not isinstance(rel, sp.Equality | sp.Unequality) or rel.rhs.free_symbols:
            raise UnsupportedExpression(f"{rel}: want Eq/Ne(L_j or Derivative(L_j, W), number)")
        lhs, wrt = (rel.lhs.expr, params[_PARAMS[rel.lhs.variables[0].name]]) \
            if isinstance(rel.lhs, sp.Derivative) else (rel.lhs, None)
        for k in _orders(lhs):
            value = L[k] if wrt is None else expansion_gradient(inst, k, wrt)
            rhs = rel.rhs if wrt is None else sp.Matrix([rel.rhs] * len(wrt))
            sense = "ne" if isinstance(rel, sp.Unequality) else "eq"
            out.append(Obligation(f"{rel} at L{k}", value, rhs, sense, "chen-luo-2025 Prop 1 (the formula)"))
    return out


def first_qk_order(formula: sp.Basic) -> int | None:
    """The order at which the formula says ``W_Q`` first enters: ``j`` of ``Ne(Derivative(L_j, W_Q), 0)``."""
    js = [k for rel in relations(formula)
          if isinstance(rel, sp.Unequality) and isinstance(rel.lhs, sp.Derivative)
          and rel.lhs.variables[0].name == "\\bar W_Q" for k in _orders(rel.lhs.expr)]
    return min(js) if js else None


@identity_checker(f"{P}/prop1/qk-order5", "prop1")
def qk_order5(claim, cfg: IdentityConfig, _=None) -> Measurement:
    """Prop 1: the claim's relations (``L_4 = 0``, ``grad_{Q,K} L_k = 0`` for k <= 4, ``grad_Q L_5 != 0``)
    proven on the instance (:func:`coefficient_obligations`), with the derived linear-softmax form of
    ``L_5`` (``prop1.qk_obligations``); numerically, ``dL_exact/dWbar_Q[0,0]`` has the fitted eps-order the
    formula names (its first ``j`` with ``grad_Q L_j != 0``)."""
    n, s, d = cfg.dims
    pf = prepare(("qk-formula", cfg.dims, sp.srepr(claim.formula)),
                 lambda: coefficient_obligations(claim.formula, n, s, d))
    p = prepare(("qk", cfg.dims), lambda: prop1.qk_obligations(n, s, d))
    m = combine([judge_obligations(pf.obligations, cfg.seed, {"dims": cfg.dims, "part": "formula"}, pf),
                 judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)])
    order_q = first_qk_order(claim.formula)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg) or order_q is None:
        return one_draw(m)
    x = _random_point(n, s, d, cfg.seed)
    g = [prop1.exact_gradient(n, s, d, e, x, indices=[0])[0] for e in (0.02, 0.01)]
    order = _fitted_order(g[0], g[1], 0.02, 0.01)
    info = {"dL/dWQ_order": order, "formula_order": order_q}
    return one_draw(combine_numeric(m, judge_residual(abs(order - order_q), ORDER_TOL, info)))


def _time_factor(formula: sp.Basic) -> tuple[sp.Expr, dict[str, sp.Symbol]]:
    """The factor of ``d theta_bar/d tbar`` in front of ``grad L`` from the formula's time map ``tbar = kappa
    t`` (eq. (6)): ``theta(t) = eps theta_bar(kappa t)`` and ``d theta/dt = -grad_theta L = -grad L / eps``
    solved by SymPy for ``theta_bar'`` (the chain rule as in ``prop1.time_map``, with the formula's kappa)."""
    rel = next((r for r in relations(formula)
                if isinstance(r, sp.Equality) and getattr(r.lhs, "name", "") == "tbar"), None)
    S = {x.name: x for x in formula.free_symbols}
    if rel is None or "t" not in S or "eps" not in S:
        raise UnsupportedExpression("rescaled-gradient: no time map Eq(tbar, kappa t) in the formula")
    kappa = sp.simplify(rel.rhs / S["t"])
    if S["t"] in kappa.free_symbols:
        raise UnsupportedExpression(f"time map {rel} is not linear in t")
    tt, g, thp, th = sp.Symbol("tau"), sp.Symbol("g"), sp.Symbol("thp"), sp.Function("theta_bar")
    dtheta = sp.diff(S["eps"] * th(kappa * tt), tt).replace(lambda e: isinstance(e, sp.Subs), lambda e: thp)
    (sol,) = sp.solve(sp.Eq(dtheta, -g / S["eps"]), thp)
    return sp.simplify(sol / g), S


def flow_obligations(formula: sp.Basic, n: int, s: int, d: int) -> list[Obligation]:
    """The claim's equations (6)-(7) on the ``(n, s, d)`` instance, component by component over all normalised
    parameters: ``Derivative(L_j | Ev, theta_bar)`` -> the gradient of the derived ``eps^j`` coefficient or of
    ``v Wbar_V Wbar1 Wbar2``, ``n, s, Z_norm`` -> the instance's; ``Derivative(theta_bar, tbar)`` -> the
    formula's time factor times ``sum_j eps^j grad L_j``, whose terms of eps-order below the ``k`` of the
    formula's ``O(eps**k)`` must equal those of its right side (chen-luo-2025 Prop 1, eqs. (6)-(7))."""
    inst = instance(n, s, d)
    syms = [w for ws in inst.params().values() for w in ws]
    factor, S = _time_factor(formula)
    _, Znorm = prop1.condensation_direction(inst)
    nums = {S[k]: v for k, v in (("n", n), ("s", s), ("Z_norm", Znorm)) if k in S}
    grads = {f"L{j}": expansion_gradient(inst, j, syms) for j in range(6)}
    grads["Ev"] = sp.Matrix([sp.diff(prop1.effective_potential(inst), w) for w in syms])
    comp = lambda e, i: e.replace(  # noqa: E731  Derivative(X, theta_bar) -> component i of grad X
        lambda a: isinstance(a, sp.Derivative) and a.variables[0].name == "theta_bar",
        lambda a: grads[a.expr.name][i] if a.expr.name in grads else sp.nan).xreplace(nums)
    out, ref = [], "chen-luo-2025 Prop 1, eqs. (6)-(7) (the formula)"
    for rel in relations(formula):
        sense = "ne" if isinstance(rel, sp.Unequality) else "eq"
        if getattr(rel.lhs, "name", "") == "tbar":
            continue  # the time map: used through its factor
        if isinstance(rel.lhs, sp.Derivative) and rel.lhs.variables[0].name == "tbar":
            order = rel.rhs.getO()
            k = sp.Integer(order.expr.as_coeff_exponent(S["eps"])[1]) if order is not None else sp.oo
            c, pf = factor.xreplace(nums).as_coeff_exponent(S["eps"])
            terms = int(k - pf) if k.is_finite and k - pf <= 6 else 6  # L_0 .. L_5 are derived
            rest = rel.rhs.removeO()
            lead = [sp.Matrix([c * grads[f"L{j}"][i] - (comp(rest, i) if j + pf == 0 else 0)
                               for i in range(len(syms))]) for j in range(terms)]
            ob = Obligation(f"{rel}: terms below eps^{k}", sp.Matrix.vstack(*lead),
                            sp.zeros(len(syms) * len(lead), 1), sense, ref)
            if terms < k - pf and residual_is_zero(ob):  # can refute (a term differs), not confirm
                raise UnsupportedExpression(f"{rel}: the terms up to L5 agree; nothing is derived beyond")
            out.append(ob)
            continue
        lhs, rhs = (sp.Matrix([comp(x, i) for i in range(len(syms))]) for x in (rel.lhs, rel.rhs))
        if lhs.has(sp.nan) or rhs.has(sp.nan) or (lhs.free_symbols | rhs.free_symbols) - set(inst.symbols()):
            raise UnsupportedExpression(f"{rel}: symbols the instance does not bind")
        out.append(Obligation(str(rel), lhs, rhs, sense, ref))
    return out


@identity_checker(f"{P}/prop1/rescaled-gradient", "prop1")
def rescaled_gradient(claim, cfg: IdentityConfig, _=None) -> Measurement:
    """Prop 1, eqs. (6)-(7): the claim's equations proven on the instance (:func:`flow_obligations`), with
    ``prop1.rescaled_gradient_obligations``; numerically, the exact gradient of (3) (mpmath) times the
    formula's time factor approaches ``grad(v W_V W1 W2)`` with a fitted error order of at least the ``k`` of
    its ``O(eps**k)`` (within ``ORDER_TOL``)."""
    n, s, d = cfg.dims
    pf = prepare(("rescaled-formula", cfg.dims, sp.srepr(claim.formula)),
                 lambda: flow_obligations(claim.formula, n, s, d))
    p = prepare(("rescaled", cfg.dims), lambda: prop1.rescaled_gradient_obligations(n, s, d))
    m = combine([judge_obligations(pf.obligations, cfg.seed, {"dims": cfg.dims, "part": "formula"}, pf),
                 judge_obligations(p.obligations, cfg.seed, {"dims": cfg.dims}, p)])
    flow = next((r for r in relations(claim.formula) if isinstance(r.lhs, sp.Derivative)
                 and r.lhs.variables[0].name == "tbar" and r.rhs.getO() is not None), None)
    if m.status is not Status.HOLDS or not _exact_affordable(cfg) or flow is None:
        return one_draw(m)
    factor, S = _time_factor(claim.formula)
    k = float(flow.rhs.getO().expr.as_coeff_exponent(S["eps"])[1])
    inst = instance(n, s, d)
    x = _random_point(n, s, d, cfg.seed)
    sub = dict(zip(inst.symbols(), x))
    params = [w for ws in inst.params().values() for w in ws]
    Ev = prop1.effective_potential(inst)
    _, Znorm = prop1.condensation_direction(inst)
    nums = {S[k_]: v for k_, v in (("n", n), ("s", s), ("Z_norm", Znorm.xreplace(sub))) if k_ in S}
    f = sp.lambdify(S["eps"], factor.xreplace(nums), "mpmath")
    errs = []
    with mpmath.workdps(60):
        target = [mpmath.mpf(str(sp.N(sp.diff(Ev, w).xreplace(sub), 50))) for w in params]
        for e in (0.004, 0.002):
            g = prop1.exact_gradient(n, s, d, e, x, dps=60)
            diff = [gi * f(mpmath.mpf(e)) - ti for gi, ti in zip(g, target)]
            errs.append(mpmath.sqrt(sum(v * v for v in diff)) / mpmath.sqrt(sum(v * v for v in target)))
        order = float(mpmath.log(errs[0] / errs[1]) / mpmath.log(2))
    info = {"flow_error_order": order, "formula_order": k, "flow_error": [float(e) for e in errs]}
    return one_draw(combine_numeric(m, judge_residual(max(k - order, 0.0), ORDER_TOL, info)))  # O(): >= k
