"""Checkers for chen-luo-2025 Stage 2, part 1: loss factorisation, Prop 3 (dynamics separation, linear law and
its regime of validity) and the structure of F (eq. (15)).

A claim with a symbolic part is judged on one more pinned draw, its :class:`Proof` instance: ``simulate``
runs the proof of ``theory/chen_luo/stage2.py`` and the judge compares the facts with the expected values.
The other draws are Hypothesis-drawn data (:class:`DataDraw`): ``simulate`` computes the numerics (errors,
gradients, trajectories), the judge fits log-log slopes against ``delta`` (``judge_scaling``) or checks exact
identities (``judge_residual``). Mutation tests hand a judge sabotaged data (e.g. the errors of the misprinted
loss) or turn its knob (a wrong exponent, a wrong ``F``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from twostage.numerics.chen_luo import stage2 as S2
from twostage.numerics.chen_luo import stage2_loss as SL
from twostage.theory.chen_luo import stage2 as T2
from twostage.verify.check import Context, checker
from twostage.verify.checks.chen_luo.draws import DataDraw, Proof, data_draws, per_scale
from twostage.verify.judge import judge_residual, judge_scaling
from twostage.verify.verdict import Measurement, Status, combine

P = "chen-luo-2025"
PINNED = DataDraw(n=6, s=3, d=3, seed=0)  # the size of the reference instance (App. C.1)


def symbolic_measurement(facts: dict, expected: dict, name: str) -> Measurement:
    """``holds`` iff every expected fact of a symbolic proof has the expected value."""
    bad = {k: {"got": facts.get(k), "expected": v} for k, v in expected.items() if facts.get(k) != v}
    if bad:
        return Measurement(Status.VIOLATED, -1.0, {"symbolic": name, "mismatch": bad})
    return Measurement(Status.HOLDS, 1.0, {"symbolic": name, "facts": {k: facts[k] for k in expected}})


def proven(prove: Callable[[], Any], numeric: Callable[[Any, Context], Any]) -> Callable[[Any, Context], Any]:
    """``simulate`` of a claim with a symbolic part: the proof's facts for its :class:`Proof` draw, the
    numerics for the others."""

    def simulate(draw: Any, ctx: Context) -> Any:
        return prove() if isinstance(draw, Proof) else numeric(draw, ctx)

    return simulate


def _per_element_scaling(x: np.ndarray, Y: np.ndarray, expected: float, tol: float,
                         info: dict) -> Measurement:
    """``Y`` (len(x), B): one log-log fit per batch element, combined (worst element reported)."""
    return combine(judge_scaling(x, Y[:, b], expected, tol, {**info, "element": b})
                   for b in range(Y.shape[1]))


# ------------------------------------------------------------------ loss factorisation
FACT_EXPECT = {"softmax_first_order_(45)": True, "double_sum_equals_matrix_form": True, "order_of_error": 4,
               "misprint_order_of_error": 2}
FACT_DELTAS = np.array([3e-2, 1e-2, 3e-3, 1e-3])
FACT_PROOF = Proof("s=3; s=2")  # App. A.3: O(delta^4) for s >= 3, O(delta^6) for s = 2 (sigmoid)


def factorisation_errors(cfg: DataDraw, misprint: bool = False, device: str = "cpu") -> dict[str, Any]:
    """``|L - (1/n) sum L_1 L_2|`` (len(deltas), B) at ``W_Q = delta Qbar``, ``W_K = delta Kbar``;
    ``misprint``: with the main-text (13) (no first ``1/s`` in ``L_2``) -- the mutation."""
    T = cfg.tensors(device)
    err = np.stack([SL.factorisation_error(T["X"], T["y"], T["u"], dl * T["Qbar"], dl * T["Kbar"], misprint)
                    .abs().cpu().numpy() for dl in FACT_DELTAS])
    return {"error": err, "misprint": misprint}


def _factorisation_proofs() -> dict[str, dict]:
    return {"s=3": T2.prove_loss_factorisation(s=3), "s=2": T2.prove_loss_factorisation(s=2)}


@checker(f"{P}/stage2/loss-factorisation", draws=per_scale(data_draws, s_min=3),
         simulate=proven(_factorisation_proofs, lambda c, ctx: factorisation_errors(c, device=ctx.device)),
         examples=[PINNED, FACT_PROOF])
def loss_factorisation(claim, cfg: DataDraw | Proof, r: dict, expected: float = 4.0) -> Measurement:
    """Symbolic: the exact delta-series facts; numeric: slope ``expected`` (4 for ``s >= 3``) of the error."""
    if isinstance(cfg, Proof):
        return combine([symbolic_measurement(r["s=3"], FACT_EXPECT, "s=3"),
                        symbolic_measurement(r["s=2"], {"order_of_error": 6}, "s=2")])
    return _per_element_scaling(FACT_DELTAS, r["error"], expected, 0.3, {"misprint": r["misprint"]})


# ------------------------------------------------------------------ Prop 3: dynamics separation
SEP_EXPECT = {"L2_minus_1": 2, "outer": 2, "query": 1, "key": 1}
SEP_DELTAS = np.array([1e-2, 3e-3, 1e-3, 3e-4])
SEP_PROOF = Proof("n=1, s=3, d=2")


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


@checker(f"{P}/prop3/dynamics-separation", draws=per_scale(data_draws),
         simulate=proven(T2.prove_dynamics_separation, lambda cfg, ctx: separation_norms(cfg, ctx.device)),
         examples=[PINNED, SEP_PROOF])
def dynamics_separation(claim, cfg: DataDraw | Proof, norms: dict, orders: dict | None = None) -> Measurement:
    """Slopes of the gradient norms against delta: ``orders`` (default outer 2, query 1, key 1), tol 0.25."""
    if isinstance(cfg, Proof):
        return symbolic_measurement(norms, SEP_EXPECT, cfg.instance)
    orders = orders or {"outer": 2.0, "query": 1.0, "key": 1.0}
    return combine(_per_element_scaling(SEP_DELTAS, norms[k], orders[k], 0.25, {"gradient": k})
                   for k in orders)


# ------------------------------------------------------------------ Prop 3: linear law (14)
LAW_EXPECT = {"F_is_sum_of_F_i": True, "query_gradient_identity": True, "key_gradient_identity": True,
              "query_remainder_order": 3, "key_remainder_order": 3, "full_loss_delta1_is_F_Kbar": True,
              "full_loss_delta2_vanishes": True}
LAW_PROOF = Proof("n=1, s=3, d=2")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1).clamp_min(1e-300)).max())


def law_gradients(cfg: DataDraw, device: str = "cpu") -> dict[str, Any]:
    """The draw's tensors with autograd gradients: ``dL/dM`` at ``M = W_Q W_K^T = 0`` (``W_Q`` gradient at
    ``W_Q = 0, W_K = I``) of the full and the factorised loss, and at O(1) weights ``(Qbar, Kbar)`` the
    factorised loss's ``(grad_{W_Q}, grad_{W_K})`` and factors ``L_{2,i}``."""
    T = cfg.tensors(device)
    X, y, u = T["X"], T["y"], T["u"]
    eye = torch.eye(cfg.d, dtype=X.dtype, device=X.device).expand(cfg.B, -1, -1)
    zero = torch.zeros_like(eye)
    at_zero = {name: SL.qk_gradients(fn, X, y, u, zero, eye)[0]
               for name, fn in (("full", SL.loss_full), ("factorised", SL.loss_factorised))}
    Q, K = T["Qbar"], T["Kbar"]
    gQ, gK = SL.qk_gradients(SL.loss_factorised, X, y, u, Q, K)
    return {"X": X, "y": y, "u": u, "Q": Q, "K": K, "dL_dM": at_zero, "L2": SL.L2_factors(X, y, u, Q, K),
            "gQ": gQ, "gK": gK}


@checker(f"{P}/prop3/kq-linear-law", draws=per_scale(data_draws),
         simulate=proven(T2.prove_linear_law, lambda cfg, ctx: law_gradients(cfg, ctx.device)),
         examples=[PINNED, LAW_PROOF])
def kq_linear_law(claim, cfg: DataDraw | Proof, g: dict, F_fn=S2.F_from_u) -> Measurement:
    """(a) ``F`` of (15) equals ``-dL/dM`` at ``M = 0`` (full and factorised losses); (b) at O(1) weights
    ``-grad_{W_Q} Lfac = Ftilde W_K`` and ``-grad_{W_K} Lfac = Ftilde^T W_Q`` exactly, ``Ftilde`` being (15)
    with each sample weighted by ``L_{2,i}``. ``F_fn`` is the F under test (eq. (15))."""
    if isinstance(cfg, Proof):
        return symbolic_measurement(g, LAW_EXPECT, cfg.instance)
    X, y, u = g["X"], g["y"], g["u"]
    F = F_fn(X, y, u)
    res = {f"F_is_minus_dL_dM_{name}": _rel(-gQ, F) for name, gQ in g["dL_dM"].items()}
    Q, K = g["Q"], g["K"]
    Ft = F_fn(X, y, u, g["L2"])
    res["grad_WQ_is_Ftilde_WK"] = _rel(-g["gQ"], Ft @ K)
    res["grad_WK_is_FtildeT_WQ"] = _rel(-g["gK"], Ft.transpose(-1, -2) @ Q)
    return combine(judge_residual(v, 1e-10, {"identity": k}) for k, v in res.items())


# ------------------------------------------------------------------ Q/K training on the full loss vs (14)
FLOW_DELTAS = np.array([1e-2, 3e-3, 1e-3])
FLOW_TAU = 2.0  # horizon in units of 1/sigma_1(F): the weights grow by about e^2/2 -- still small


def full_loss_flow(cfg: DataDraw, device: str = "cpu") -> dict[str, torch.Tensor]:
    """Q/K gradient flow on the full activation-free loss (frozen outer weights) from ``delta (Qbar, Kbar)``
    for every delta (one delta-major batch), sampled up to ``t = FLOW_TAU / sigma_1(F)``."""
    T = cfg.tensors(device)
    m = len(FLOW_DELTAS)
    rep = lambda x: x.repeat(m, *([1] * (x.dim() - 1)))  # noqa: E731  (delta-major batch)
    dl = torch.tensor(FLOW_DELTAS, dtype=T["X"].dtype, device=T["X"].device).repeat_interleave(cfg.B)
    Q0, K0 = dl.view(-1, 1, 1) * rep(T["Qbar"]), dl.view(-1, 1, 1) * rep(T["Kbar"])
    F = rep(T["F"])
    s1 = torch.linalg.svdvals(F)[:, 0]
    t = torch.linspace(0, FLOW_TAU, 3, dtype=F.dtype, device=F.device).view(1, -1) / s1.view(-1, 1)
    WQ, WK = SL.train_qk(rep(T["X"]), rep(T["y"]), rep(T["u"]), Q0, K0, t, kind="full")
    return {"F": F, "Q0": Q0, "K0": K0, "t": t, "WQ": WQ, "WK": WK}


@checker(f"{P}/prop3/kq-full-vs-linear", draws=per_scale(data_draws, B=2, n_max=4, d_max=4),
         simulate=lambda cfg, ctx: full_loss_flow(cfg, ctx.device),
         examples=[DataDraw(n=6, s=3, d=3, seed=0, B=2)])
def kq_full_vs_linear(claim, cfg: DataDraw, fl: dict, predict=S2.closed_form) -> Measurement:
    """Relative distance at ``FLOW_TAU`` between the flow and ``predict`` (the closed form of (14)): slope 2
    against delta (tol 0.3)."""
    pQ, pK = predict(fl["F"], fl["Q0"], fl["K0"], fl["t"])
    err = ((torch.cat([fl["WQ"], fl["WK"]], -1) - torch.cat([pQ, pK], -1))[:, -1].flatten(1).norm(dim=1)
           / torch.cat([pQ, pK], -1)[:, -1].flatten(1).norm(dim=1))
    err = err.view(len(FLOW_DELTAS), cfg.B).cpu().numpy()
    return _per_element_scaling(FLOW_DELTAS, err, 2.0, 0.3, {"tau": FLOW_TAU})


# ------------------------------------------------------------------ structure of F
F_EXPECT = {"S_symmetric": True, "S_centred_gram": True, "F_equals_final_tokens_times_B": True,
            "A_columns": 2,
            "appendix_(50)_equals_(15)": True}
F_PROOF = Proof("n=2, s=3, d=3")


def F_first_tokens(X, y, u, weights=None):
    """A deliberately wrong F (first tokens instead of final ones) for the mutation tests."""
    return S2.F_from_u(X.flip(-2), y, u, weights)


@checker(f"{P}/stage2/F-structure", draws=per_scale(data_draws, fewer_samples=True),
         simulate=proven(T2.prove_F_structure, lambda cfg, ctx: cfg.tensors(ctx.device)),
         examples=[DataDraw(n=2, s=3, d=5, seed=0), F_PROOF])
def F_structure(claim, cfg: DataDraw | Proof, T: dict, F_fn=S2.F_from_u) -> Measurement:
    """``S_i`` symmetric PSD; numerical ``rank F <= min(n, d)``; left singular vectors (of nonzero singular
    values) in the span of the final tokens (projection residual). ``F_fn`` is the F under test (eq. (15))."""
    if isinstance(cfg, Proof):
        return symbolic_measurement(T, F_EXPECT, cfg.instance)
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
