"""Checkers for chen-luo-2025 Stage 2, part 1: loss factorisation, Prop 3 (dynamics separation, linear law and
its regime of validity) and the structure of F (eq. (15)).

Each checker combines the symbolic proof of ``theory/chen_luo/stage2.py`` (facts compared with the expected
values) with a numerical measurement on Hypothesis-drawn data: log-log slopes against ``delta`` judged by
``judge_scaling``, exact identities by ``judge_residual``. The ``evaluate_*`` functions take the knobs the
mutation tests turn (the misprinted loss, a wrong expected exponent, a sabotaged F).
"""

from __future__ import annotations

import numpy as np
import torch

from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.theory.chen_luo import stage2 as T2
from twostage.verify.checks import Context, checker
from twostage.verify.checks.chen_luo.draws import DataDraw, data_draws
from twostage.verify.judge import judge_residual, judge_scaling
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
PINNED = DataDraw(n=6, s=3, d=3, seed=0)  # the size of the reference instance (App. C.1)


def symbolic_measurement(facts: dict, expected: dict, name: str) -> Measurement:
    """``holds`` iff every expected fact of a symbolic proof has the expected value."""
    bad = {k: {"got": facts.get(k), "expected": v} for k, v in expected.items() if facts.get(k) != v}
    if bad:
        return Measurement(Status.VIOLATED, -1.0, {"symbolic": name, "mismatch": bad})
    return Measurement(Status.HOLDS, 1.0, {"symbolic": name, "facts": {k: facts[k] for k in expected}})


def _per_element_scaling(x: np.ndarray, Y: np.ndarray, expected: float, tol: float,
                         info: dict) -> Measurement:
    """``Y`` (len(x), B): one log-log fit per batch element, combined (worst element reported)."""
    return combine(judge_scaling(x, Y[:, b], expected, tol, {**info, "element": b})
                   for b in range(Y.shape[1]))


# ------------------------------------------------------------------ loss factorisation
FACT_EXPECT = {"softmax_first_order_(45)": True, "double_sum_equals_matrix_form": True, "order_of_error": 4,
               "misprint_order_of_error": 2}
FACT_DELTAS = np.array([3e-2, 1e-2, 3e-3, 1e-3])


def evaluate_factorisation(cfg: DataDraw, misprint: bool = False, expected: float = 4.0,
                           device: str = "cpu") -> Measurement:
    """``|L - (1/n) sum L_1 L_2|`` against ``delta`` (``W_Q = delta Qbar``, ``W_K = delta Kbar``): slope 4 (s
    >= 3)."""
    T = cfg.tensors(device)
    err = np.stack([SL.factorisation_error(T["X"], T["y"], T["u"], dl * T["Qbar"], dl * T["Kbar"], misprint)
                    .abs().cpu().numpy() for dl in FACT_DELTAS])
    return _per_element_scaling(FACT_DELTAS, err, expected, 0.3, {"misprint": misprint})


@checker(f"{P}/stage2/loss-factorisation")
def check_loss_factorisation(ctx: Context) -> Measurement:
    sym = combine([symbolic_measurement(T2.prove_loss_factorisation(s=3), FACT_EXPECT, "s=3"),
                   symbolic_measurement(T2.prove_loss_factorisation(s=2), {"order_of_error": 6}, "s=2")])
    num = run_property(data_draws(s_min=3, B=4 * ctx.profile.scale),
                       lambda c: evaluate_factorisation(c, device=ctx.device), ctx.profile, examples=[PINNED],
                       seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ Prop 3: dynamics separation
SEP_EXPECT = {"L2_minus_1": 2, "outer": 2, "query": 1, "key": 1}
SEP_DELTAS = np.array([1e-2, 3e-3, 1e-3, 3e-4])


def separation_norms(cfg: DataDraw, device: str = "cpu") -> dict[str, np.ndarray]:
    """Norms (len(deltas), B) of ``grad_outer(L - Ltilde_1)`` and of ``grad_{W_Q} L``, ``grad_{W_K} L``."""
    T = cfg.tensors(device)
    out = {"outer": [], "query": [], "key": []}
    for dl in SEP_DELTAS:
        Q, K = dl * T["Qbar"], dl * T["Kbar"]
        go = SL.outer_gradients(T["X"], T["y"], T["WV"], T["W1"], T["W2"], Q, K)
        out["outer"].append(torch.sqrt(sum((g**2).flatten(1).sum(1) for g in go)).cpu().numpy())
        gQ, gK = SL.qk_gradients(SL.loss_full, T["X"], T["y"], T["u"], Q, K)
        out["query"].append(gQ.flatten(1).norm(dim=1).cpu().numpy())
        out["key"].append(gK.flatten(1).norm(dim=1).cpu().numpy())
    return {k: np.stack(v) for k, v in out.items()}


def evaluate_separation(cfg: DataDraw, orders: dict | None = None, device: str = "cpu") -> Measurement:
    orders = orders or {"outer": 2.0, "query": 1.0, "key": 1.0}
    norms = separation_norms(cfg, device)
    return combine(_per_element_scaling(SEP_DELTAS, norms[k], orders[k], 0.25, {"gradient": k})
                   for k in orders)


@checker(f"{P}/prop3/dynamics-separation")
def check_dynamics_separation(ctx: Context) -> Measurement:
    sym = symbolic_measurement(T2.prove_dynamics_separation(), SEP_EXPECT, "n=1, s=3, d=2")
    num = run_property(data_draws(B=4 * ctx.profile.scale),
                       lambda c: evaluate_separation(c, device=ctx.device),
                       ctx.profile, examples=[PINNED], seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ Prop 3: linear law (14)
LAW_EXPECT = {"F_is_sum_of_F_i": True, "query_gradient_identity": True, "key_gradient_identity": True,
              "query_remainder_order": 3, "key_remainder_order": 3, "full_loss_delta1_is_F_Kbar": True,
              "full_loss_delta2_vanishes": True}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1).clamp_min(1e-300)).max())


def evaluate_linear_law(cfg: DataDraw, F_fn=S2.F_from_u, device: str = "cpu") -> Measurement:
    """(a) ``F`` of (15) equals ``-dL/dM`` at ``M = W_Q W_K^T = 0`` (autograd, full and factorised losses);
    (b) at O(1) weights, ``-grad_{W_Q} Lfac = Ftilde W_K`` and ``-grad_{W_K} Lfac = Ftilde^T W_Q`` exactly,
    where
    ``Ftilde`` is (15) with each sample weighted by ``L_{2,i}``. ``F_fn`` is the F under test."""
    T = cfg.tensors(device)
    X, y, u = T["X"], T["y"], T["u"]
    eye = torch.eye(cfg.d, dtype=X.dtype, device=X.device).expand(cfg.B, -1, -1)
    zero = torch.zeros_like(eye)
    F = F_fn(X, y, u)
    res = {}
    for name, fn in (("full", SL.loss_full), ("factorised", SL.loss_factorised)):
        gQ, _ = SL.qk_gradients(fn, X, y, u, zero, eye)
        res[f"F_is_minus_dL_dM_{name}"] = _rel(-gQ, F)
    Q, K = T["Qbar"], T["Kbar"]
    Ft = F_fn(X, y, u, SL.L2_factors(X, y, u, Q, K))
    gQ, gK = SL.qk_gradients(SL.loss_factorised, X, y, u, Q, K)
    res["grad_WQ_is_Ftilde_WK"] = _rel(-gQ, Ft @ K)
    res["grad_WK_is_FtildeT_WQ"] = _rel(-gK, Ft.transpose(-1, -2) @ Q)
    return combine(judge_residual(v, 1e-10, {"identity": k}) for k, v in res.items())


@checker(f"{P}/prop3/kq-linear-law")
def check_kq_linear_law(ctx: Context) -> Measurement:
    sym = symbolic_measurement(T2.prove_linear_law(), LAW_EXPECT, "n=1, s=3, d=2")
    num = run_property(data_draws(B=4 * ctx.profile.scale),
                       lambda c: evaluate_linear_law(c, device=ctx.device),
                       ctx.profile, examples=[PINNED], seed=ctx.seed)
    return combine([sym, num])


# ------------------------------------------------------------------ Q/K training on the full loss vs (14)
FLOW_DELTAS = np.array([1e-2, 3e-3, 1e-3])
FLOW_TAU = 2.0  # horizon in units of 1/sigma_1(F): the weights grow by about e^2/2 -- still small


def flow_errors(cfg: DataDraw, predict=S2.closed_form, device: str = "cpu") -> np.ndarray:
    """Relative distance (len(deltas), B) at ``t = FLOW_TAU / sigma_1(F)`` between Q/K gradient flow on the
    full activation-free loss (frozen outer weights) and ``predict`` (the closed form of (14)); all deltas in
    one
    batch."""
    T = cfg.tensors(device)
    m = len(FLOW_DELTAS)
    rep = lambda x: x.repeat(m, *([1] * (x.dim() - 1)))  # noqa: E731  (delta-major batch)
    dl = torch.tensor(FLOW_DELTAS, dtype=T["X"].dtype, device=T["X"].device).repeat_interleave(cfg.B)
    Q0, K0 = dl.view(-1, 1, 1) * rep(T["Qbar"]), dl.view(-1, 1, 1) * rep(T["Kbar"])
    F = rep(T["F"])
    s1 = torch.linalg.svdvals(F)[:, 0]
    t = torch.linspace(0, FLOW_TAU, 3, dtype=F.dtype, device=F.device).view(1, -1) / s1.view(-1, 1)
    WQ, WK = SL.train_qk(rep(T["X"]), rep(T["y"]), rep(T["u"]), Q0, K0, t, kind="full")
    pQ, pK = predict(F, Q0, K0, t)
    err = ((torch.cat([WQ, WK], -1) - torch.cat([pQ, pK], -1))[:, -1].flatten(1).norm(dim=1)
           / torch.cat([pQ, pK], -1)[:, -1].flatten(1).norm(dim=1))
    return err.view(m, cfg.B).cpu().numpy()


def evaluate_full_vs_linear(cfg: DataDraw, predict=S2.closed_form, device: str = "cpu") -> Measurement:
    return _per_element_scaling(FLOW_DELTAS, flow_errors(cfg, predict, device), 2.0, 0.3, {"tau": FLOW_TAU})


@checker(f"{P}/prop3/kq-full-vs-linear")
def check_kq_full_vs_linear(ctx: Context) -> Measurement:
    return run_property(data_draws(n_max=4, d_max=4, B=2 * ctx.profile.scale),
                        lambda c: evaluate_full_vs_linear(c, device=ctx.device), ctx.profile,
                        examples=[DataDraw(n=6, s=3, d=3, seed=0, B=2)], seed=ctx.seed)


# ------------------------------------------------------------------ structure of F
F_EXPECT = {"S_symmetric": True, "S_centred_gram": True, "F_equals_final_tokens_times_B": True,
            "A_columns": 2,
            "appendix_(50)_equals_(15)": True}


def F_first_tokens(X, y, u, weights=None):
    """A deliberately wrong F (first tokens instead of final ones) for the mutation tests."""
    return S2.F_from_u(X.flip(-2), y, u, weights)


def evaluate_F_structure(cfg: DataDraw, F_fn=S2.F_from_u, device: str = "cpu") -> Measurement:
    """``S_i`` symmetric PSD; numerical ``rank F <= min(n, d)``; left singular vectors (of nonzero singular
    values)
    in the span of the final tokens (projection residual)."""
    T = cfg.tensors(device)
    X, y, u = T["X"], T["y"], T["u"]
    S = S2.token_scatter(X)
    scale = float(S.abs().amax())
    asym = float((S - S.transpose(-1, -2)).abs().amax()) / scale
    ms = [judge_residual(asym, 1e-12, {"fact": "S symmetric"}),
          judge_residual(max(0.0, -float(torch.linalg.eigvalsh(S).amin())) / scale, 1e-10, {"fact": "S PSD"})]
    F = F_fn(X, y, u)
    U, sig, _ = S2.svd(F)
    r_bound = min(cfg.n, cfg.d)
    rank = (sig > 1e-9 * sig[:, :1]).sum(-1)
    excess = float((rank - r_bound).clamp_min(0).max())
    ms.append(judge_residual(excess, 0.5, {"fact": "rank F <= min(n, d)", "max_rank": int(rank.max()),
                                           "bound": r_bound}))
    A = X[:, :, -1, :].transpose(-1, -2)  # (B, d, n): final tokens as columns
    Qa, _ = torch.linalg.qr(A)
    r = min(r_bound, cfg.d)
    Ur = U[..., :r] * (sig[:, None, :r] > 1e-9 * sig[:, None, :1])
    resid = (Ur - Qa @ (Qa.transpose(-1, -2) @ Ur)).flatten(1).norm(dim=1)
    ms.append(judge_residual(float(resid.max()), 1e-9, {"fact": "left singular vectors in span{X_is}"}))
    return combine(ms)


@checker(f"{P}/stage2/F-structure")
def check_F_structure(ctx: Context) -> Measurement:
    sym = symbolic_measurement(T2.prove_F_structure(), F_EXPECT, "n=2, s=3, d=3")
    num = run_property(data_draws(fewer_samples=True, B=4 * ctx.profile.scale),
                       lambda c: evaluate_F_structure(c, device=ctx.device), ctx.profile,
                       examples=[DataDraw(n=2, s=3, d=5, seed=0)], seed=ctx.seed)
    return combine([sym, num])
