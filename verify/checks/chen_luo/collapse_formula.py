"""Instantiating the matrix formulas of chen-luo-2025 Stage 2 (Thm 3, App. A.5; claims of
``theory/chen_luo/collapse.py``) on concrete data: the problem's ``U, Sigma, V``, singular vectors and initial
values by the formula's symbol names (numerics), and the formula instantiated on the exact SymPy instances of
the proofs (the symbolic facts judged on each checker's :class:`Proof` draw). Used by
``verify/checks/chen_luo/collapse.py``; every fact is computed from the formula it is given, so an edited
formula changes it.
"""

from __future__ import annotations

import functools

import sympy as sp
import torch

from twostage.errors import UnsupportedExpression
from twostage.theory.chen_luo import collapse as TC
from twostage.verify.checks.chen_luo.elements import relations
from twostage.verify.checks.chen_luo.matrix_expr import evaluate
from twostage.verify.verdict import Measurement, Status


def decided(formula) -> Measurement | None:
    """The verdict on a formula SymPy has decided already (a mutated rate ``Eq(rho, -sigma2)`` of positive
    symbols is ``false``): ``false`` is violated and ``true`` undecided (nothing is measured), as in
    :func:`~twostage.verify.rigorous_judge.judge_rigorous`; ``None`` for any other formula."""
    if formula in (sp.true, sp.false):
        return Measurement(Status.VIOLATED if formula is sp.false else Status.UNDECIDED, None,
                           {"reason": f"formula is identically {formula}: nothing is measured"})
    return None


def matrix_values(F: torch.Tensor, Q0: torch.Tensor, K0: torch.Tensor) -> dict[str, torch.Tensor]:
    """The formula symbols of (14)'s problem by name, batch ``(B, 1, d, d)`` (a time axis to broadcast):
    ``U, Sigma, V`` of the SVD of ``F``, their transposes, the singular vectors ``u_k, v_k`` (and ``v_k^T``),
    ``W_{Q}(0)``, ``W_{K}(0)``."""
    U, S, Vh = torch.linalg.svd(F)
    V = Vh.transpose(-1, -2)
    m = {"F": F, "U": U, r"U^{\top}": U.transpose(-1, -2), "V": V, r"V^{\top}": V.transpose(-1, -2),
         r"\Sigma": torch.diag_embed(S), "W_{Q}(0)": Q0, "W_{K}(0)": K0}
    for k in range(F.shape[-1]):
        u, v = U[..., :, k:k + 1], V[..., :, k:k + 1]
        m.update({f"u_{k + 1}": u, f"v_{k + 1}": v, rf"u_{k + 1}^{{\top}}": u.transpose(-1, -2),
                  rf"v_{k + 1}^{{\top}}": v.transpose(-1, -2)})
    return {k: x.unsqueeze(1) for k, x in m.items()}


def transposed(values: dict) -> dict:
    """The same values for the problem with ``F^T``: (14) is symmetric under ``(W_Q, U, W_Q(0)) <-> (W_K, V,
    W_K(0))``, so the formula for ``W_Q`` evaluated on these gives ``W_K``."""
    swap = {"U": "V", r"U^{\top}": r"V^{\top}", "W_{Q}(0)": "W_{K}(0)", "W_Q": "W_K"}
    swap.update({v: k for k, v in swap.items()})
    return {swap.get(k, k): v for k, v in values.items()}


@functools.lru_cache(maxsize=16)
def closed_form_facts(rhs: sp.Basic) -> dict:
    """The formula's right side instantiated on the exact 2x2 instance (:func:`TC.cayley_instance`), ``W_K``
    by the ``Q <-> K`` symmetry: does it solve (14)?"""
    inst = TC.cayley_instance()
    vals = {"U": inst["U"], r"U^{\top}": inst["U"].T, "V": inst["V"], r"V^{\top}": inst["V"].T,
            r"\Sigma": inst["Sigma"], "W_{Q}(0)": inst["WQ0"], "W_{K}(0)": inst["WK0"], "t": TC.t}
    facts = TC.solution_facts(evaluate(rhs, vals), evaluate(rhs, transposed(vals)), inst)
    return {f"formula_{k}": v for k, v in facts.items()}


DDT = r"\frac{d}{dt}"


def conserved_law(formula) -> tuple[sp.Basic, sp.Basic, sp.Basic]:
    """``(relation, X, R)`` of a formula ``d/dt X = R`` (``d/dt`` printed as a leading factor)."""
    (rel,) = relations(formula)
    c, nc = rel.lhs.args_cnc() if isinstance(rel.lhs, sp.Mul) else ([], [rel.lhs])
    if not nc or getattr(nc[0], "name", None) != DDT:
        raise UnsupportedExpression(f"not a time derivative d/dt X: {rel.lhs}")
    return rel, sp.Mul(*c, *nc[1:]), rel.rhs


def flow_values(WQ, WK) -> dict:
    """The symbols of a conserved law (``W_Q``, ``W_Q^T``, ``W_K``, ``W_K^T``): tensors or SymPy matrices."""
    T = lambda M: M.T if isinstance(M, sp.MatrixBase) else M.transpose(-1, -2)  # noqa: E731
    return {"W_Q": WQ, r"W_Q^{\top}": T(WQ), "W_K": WK, r"W_K^{\top}": T(WK)}


def drift(X, R, WQ: torch.Tensor, WK: torch.Tensor, t: torch.Tensor) -> float:
    """``max_t ||X(t) - X(0) - int_0^t R|| / (||W_Q||^2 + ||W_K||^2)`` along a trajectory (``R`` by the
    trapezoidal rule on the recorded times; exact for a constant ``R``)."""
    v = flow_values(WQ, WK)
    Xt, Rt = evaluate(X, v), evaluate(R, v)
    Rt = Rt if isinstance(Rt, torch.Tensor) else torch.full_like(Xt, float(Rt))
    dt = (t[:, 1:] - t[:, :-1]).view(*t.shape[:1], -1, 1, 1)
    integral = torch.cat([torch.zeros_like(Rt[:, :1]), torch.cumsum((Rt[:, 1:] + Rt[:, :-1]) / 2 * dt, 1)], 1)
    scale = (WQ.flatten(2).norm(dim=-1) ** 2 + WK.flatten(2).norm(dim=-1) ** 2)
    return float(((Xt - Xt[:, :1] - integral).flatten(2).norm(dim=-1) / scale).max())


@functools.lru_cache(maxsize=16)
def conservation_facts(X: sp.Basic, R: sp.Basic) -> dict:
    """The formula's ``d/dt X = R`` on symbolic matrices: along (14) and along any loss's gradient flow."""
    def of(e):
        def f(Q, K):
            out = evaluate(e, flow_values(Q, K))
            return out if isinstance(out, sp.MatrixBase) else sp.Matrix(Q.rows, Q.cols, lambda a, b: out)
        return f

    facts = TC.conservation_facts(of(X), of(R))
    return {f"formula_{k}": v for k, v in facts.items()}


@functools.lru_cache(maxsize=16)
def limit_facts(rhs: sp.Basic) -> dict:
    """The formula's limit object on the exact rotated instance (``U = V = I``, so ``u_k = v_k = e_k``;
    simple ``sigma_1``, ``sigma_d > 0`` and ``= 0``) against the derived limit
    (:func:`TC.normalised_product_limits`)."""
    Ls = TC.normalised_product_limits()
    d = Ls[0].rows
    vals = {}
    for k in range(d):
        e = sp.eye(d)[:, k]
        vals.update({f"u_{k + 1}": e, f"v_{k + 1}": e, rf"u_{k + 1}^{{\top}}": e.T,
                     rf"v_{k + 1}^{{\top}}": e.T})
    R = evaluate(rhs, vals)
    same = all((L - R).applyfunc(sp.simplify).is_zero_matrix for L in Ls)
    return {"formula_limit_of_normalised_product": same}


RANK_SYMBOL = r"\operatorname{rank} W_{\infty}"


def multiplicity(F: torch.Tensor, rtol: float = 1e-9) -> int:
    """The multiplicity of ``sigma_1(F)`` measured from the spectrum (the smallest over the batch)."""
    s = torch.linalg.svdvals(F)
    return int((s >= s[:, :1] * (1 - rtol)).sum(-1).min())


def rank_at_proven(rel, nonzero_rows: dict[int, int]) -> bool:
    """The formula's relation at the proven generic rank of the limit for each multiplicity ``k``."""
    names = {s.name: s for s in rel.free_symbols}
    if set(names) - {RANK_SYMBOL, "k"}:
        raise UnsupportedExpression(f"unknown symbols in {rel}")
    return all(bool(rel.subs({s: {RANK_SYMBOL: r, "k": k}[n] for n, s in names.items()}))
               for k, r in nonzero_rows.items())


def _at_instance(expr: sp.Basic, sig: list[sp.Expr]) -> sp.Expr:
    """A rate of a formula (in ``sigma1``, ``sigma2`` of ``F``) at the ``sigma`` of a proof's instance."""
    names = {"sigma1": sig[0], "sigma2": sig[1]}
    if {s.name for s in expr.free_symbols} - set(names):
        raise UnsupportedExpression(f"a rate in other symbols than sigma1, sigma2: {expr}")
    return expr.subs({s: names[s.name] for s in expr.free_symbols})


def rate_facts(formula, series: dict[str, str]) -> dict:
    """Each ``rho = f(sigma1, sigma2)`` of the formula (its left side named by ``series``) is the rate proven
    on the instance (:func:`TC.proven_rates`) -- an ``!=`` relation holds where they differ."""
    proven = TC.proven_rates()
    ok = True
    for rel in relations(formula):
        rate, sig = proven[series[rel.lhs.name]]
        same = sp.simplify(_at_instance(rel.rhs, sig) - rate) == 0
        ok &= same if not isinstance(rel, sp.Unequality) else not same
    return {"formula_rates_are_the_proven_ones": ok}


def growth_facts(rhs: sp.Basic) -> dict:
    """The formula's rate at the instance's ``sigma`` is the proven ``lim d/dt log ||W_Q||_F``."""
    limit, sig = TC.growth_limit()
    return {"formula_rate_is_the_limit": sp.simplify(_at_instance(rhs, sig) - limit) == 0}
