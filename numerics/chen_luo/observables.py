"""Stage-1 observables of chen-luo-2025, batched over any leading dimensions.

Arguments follow the reduced state of the effective ODE (7): ``Wv`` (..., d), ``W1`` (..., d, d),
``W2`` (..., d), optionally the full ``WV`` (..., d, d) with the direction ``v`` (d,). Leading dims may be
(B,) or (B, K) (a recorded trajectory), so the same functions serve live states and stored series.

Provenance of each formula is in its docstring. The vector field is that of Prop. 1 (7) in components
(DERIVED, chen-luo-2025 §2.3): ``dWv = (W1 W2)^T``, ``dW1 = Wv^T W2^T``, ``dW2 = W1^T Wv^T``.

>>> import torch
>>> from twostage.numerics.chen_luo import observables as ob
>>> x = torch.tensor([[0.5]], dtype=torch.float64)           # balanced scalar case Wv = W1 = W2 = x
>>> Wv, W1, W2 = x, x[..., None], x
>>> float(ob.energy(Wv, W1, W2)), float(ob.energy_rate(Wv, W1, W2))   # E = x^3, Edot = 3 x^4
(0.125, 0.1875)
"""

from __future__ import annotations

import torch


def velocities(Wv, W1, W2):
    """The effective vector field (7), ``(dWv, dW1, dW2)`` (DERIVED, chen-luo-2025 §2.3 componentwise)."""
    dWv = torch.einsum("...ij,...j->...i", W1, W2)
    dW1 = Wv[..., :, None] * W2[..., None, :]
    dW2 = torch.einsum("...i,...ij->...j", Wv, W1)
    return dWv, dW1, dW2


def energy(Wv, W1, W2):
    """``E = Wv W1 W2`` (PAPER, chen-luo-2025 eq. (8))."""
    return (Wv * torch.einsum("...ij,...j->...i", W1, W2)).sum(-1)


def energy_rate(Wv, W1, W2):
    """``Edot = ||dWv||^2 + ||dW2||^2 + ||Wv||^2 ||W2||^2`` (PAPER, chen-luo-2025 identity (16))."""
    dWv, _, dW2 = velocities(Wv, W1, W2)
    sq = lambda a: a.pow(2).sum(-1)
    return sq(dWv) + sq(dW2) + sq(Wv) * sq(W2)


def norms(Wv, W1, W2) -> dict[str, torch.Tensor]:
    """``||Wv||``, ``||W1||_F``, ``||W2||``."""
    return {"norm_Wv": Wv.norm(dim=-1), "norm_W1": W1.flatten(-2).norm(dim=-1), "norm_W2": W2.norm(dim=-1)}


def degeneracy(Wv, W1, W2) -> tuple[torch.Tensor, torch.Tensor]:
    """Def. 4 (PAPER, chen-luo-2025 eq. (10)): ``D1 = ||Wv||^2 - ||W2||^2`` and
    ``D2 = ||dWv||^2 - ||dW2||^2 + min(||Wv||^2, ||W2||^2) D1``; non-degenerate iff both are nonzero."""
    dWv, _, dW2 = velocities(Wv, W1, W2)
    a, c = Wv.pow(2).sum(-1), W2.pow(2).sum(-1)
    D1 = a - c
    return D1, dWv.pow(2).sum(-1) - dW2.pow(2).sum(-1) + torch.minimum(a, c) * D1


def invariants(Wv, W1, W2, WV=None, v=None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Conserved quantities of (7) as ``name -> (A - B, scale = |A| + |B|)``.

    * ``row``/``col``: PAPER, chen-luo-2025 Prop 2 (9): ``Wv_k^2 - ||W1_k||^2``, ``W2_k^2 - ||W1^k||^2``.
    * ``D1``: ``||Wv||^2 - ||W2||^2`` and ``W1-Wv``: ``||W1||_F^2 - ||Wv||^2`` (PAPER Prop 2, "third
      equation" d||Wv||^2/dt = 2E and its analogues).
    * ``K``: ``W1 W1^T - Wv^T Wv``; ``Kp``: ``W1^T W1 - W2 W2^T`` (DERIVED, Ji-Telgarsky matrix forms, §4.1).
    * with ``WV``, ``v``: ``gramV``: ``WV^T WV - W1 W1^T`` and ``perp``: ``WV - v^T Wv`` (DERIVED, §2.3/§4.1).
    """
    sq1 = lambda a: a.pow(2).sum(-1)
    outer = lambda a, b: a[..., :, None] * b[..., None, :]
    out = {
        "row": (Wv.pow(2) - sq1(W1), Wv.pow(2) + sq1(W1)),
        "col": (W2.pow(2) - W1.pow(2).sum(-2), W2.pow(2) + W1.pow(2).sum(-2)),
        "D1": (sq1(Wv) - sq1(W2), sq1(Wv) + sq1(W2)),
        "W1-Wv": (W1.pow(2).sum((-1, -2)) - sq1(Wv), W1.pow(2).sum((-1, -2)) + sq1(Wv)),
    }
    A, Bm = W1 @ W1.transpose(-1, -2), outer(Wv, Wv)
    out["K"] = (A - Bm, A.abs() + Bm.abs())
    A2, B2 = W1.transpose(-1, -2) @ W1, outer(W2, W2)
    out["Kp"] = (A2 - B2, A2.abs() + B2.abs())
    if WV is not None:
        G = WV.transpose(-1, -2) @ WV
        out["gramV"] = (G - A, G.abs() + A.abs())
        P = outer(v.to(Wv), Wv) if v.dim() == 1 else v[..., :, None] * Wv[..., None, :]
        out["perp"] = (WV - P, WV.abs() + P.abs())
    return out


_INV_RANK = {"row": 1, "col": 1, "D1": 0, "W1-Wv": 0, "K": 2, "Kp": 2, "gramV": 2, "perp": 2}


def _reduce(x, r):
    return x.flatten(-r).norm(dim=-1) if r else x.abs()


def invariant_drift(now: dict, start: dict) -> dict[str, torch.Tensor]:
    """Relative drift ``||I(t) - I(0)|| / max(||scale(t)||, ||scale(0)||)`` of every invariant (norm over the
    invariant's own entries), from two :func:`invariants` dicts. Leading dims broadcast, e.g. ``now`` from a
    recorded (B, K, ...) trajectory against ``start`` from the (B, 1, ...) initial state."""
    out = {}
    for k, (val, sc) in now.items():
        v0, s0 = start[k]
        r = _INV_RANK[k]
        scale = torch.maximum(_reduce(sc, r), _reduce(s0, r))
        out[k] = _reduce(val - v0, r) / scale.clamp(min=torch.finfo(scale.dtype).tiny)
    return out


def singular_values(W):
    """Singular values (descending) of the trailing (d, d) matrices; ``W`` (..., d, d) -> (..., d)."""
    return torch.linalg.svdvals(W)


def relative_change(W, W0, dims: int):
    """``||W - W0|| / ||W0||`` over the trailing ``dims`` dims (Frobenius; the RD of Luo et al. 2021,
    RECONSTRUCTED reading of chen-luo-2025 §5 "relative change")."""
    return (W - W0).flatten(-dims).norm(dim=-1) / W0.flatten(-dims).norm(dim=-1)


def assumption1_fractions(Wv, W1, W2) -> tuple[torch.Tensor, torch.Tensor]:
    """Satisfaction rates ``|A1|/d`` and ``|A2|/d^2`` of Assumption 1 (PAPER, chen-luo-2025 Ass. 1, §7.1 (iv),
    with rows as in Ass. 1): A1 = {i: W2_i (Wv W1^i) > 0 and Wv_i (W1_i W2) > 0}, A2 = {(i, j): both Gram
    entries of the sign-weighted columns W2_i W1^i and rows Wv_i W1_i positive}."""
    dWv, _, dW2 = velocities(Wv, W1, W2)
    a1 = ((W2 * dW2 > 0) & (Wv * dWv > 0)).to(Wv.dtype).mean(-1)
    cols = W1 * W2[..., None, :]  # column i scaled by W2_i
    rows = W1 * Wv[..., :, None]  # row i scaled by Wv_i
    gc = cols.transpose(-1, -2) @ cols
    gr = rows @ rows.transpose(-1, -2)
    a2 = ((gc > 0) & (gr > 0)).to(Wv.dtype).flatten(-2).mean(-1)
    return a1, a2


def column_cosines(WV, v):
    """``cos(WV^k, v^T) = (v WV)_k / ||WV^k||`` for every column k (Thm. 2; DERIVED concrete reading §4.4)."""
    return torch.einsum("i,...ik->...k", v.to(WV), WV) / WV.norm(dim=-2)
