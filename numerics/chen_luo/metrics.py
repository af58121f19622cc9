"""Training metrics of the chen-luo-2025 experiments (§5, App. B) and automatic stage detection.

The paper names its metrics without formulas; the companion's choices (RECONSTRUCTED unless noted):

* cosine-similarity heat maps of neuron vectors, rows and columns reordered by the leading eigenvector of the
  similarity matrix (PAPER, Fig. 1/2 caption);
* "relative change of norms": the relative distance ``||W(t) - W(0)||_F / ||W(0)||_F`` of Luo et al. (2021),
per
  matrix and per group (the group value uses the concatenated parameters); and, for stage detection, the
  windowed rate ``||W(t_k) - W(t_{k-1})||_F / ||W(t_{k-1})||_F`` between consecutive logs;
* effective rank: Roy & Vetterli (2007), ``exp`` of the entropy of the normalised singular values;
* Assumption-1 satisfaction rates, adapted to the multi-class model with ``d_ff != d_m`` (see
  :func:`assumption1_rates`);
* singular-vector stability between consecutive logs: ``(1/d) sum_i |cos(u_i(t), u_i(t'))|`` (absolute value,
  since singular vectors are defined up to sign);
* Frobenius norms (PAPER).

>>> import torch
>>> W = torch.tensor([[1.0, 2.0, -1.0], [0.0, 4.0, 0.0]])
>>> S = cosine_matrix(W)
>>> bool(torch.allclose(S.diagonal(), torch.ones(3)))
True
>>> detect_switch([0.1, 0.2, 0.15, 0.05, 0.01], [0.0, 0.01, 0.02, 0.08, 0.1], steps=[0, 10, 20, 30, 40])
30
"""

from __future__ import annotations

import math

import torch

from twostage.numerics.chen_luo.collapse import effective_rank  # noqa: F401  (re-export)


def cosine_matrix(W: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between the columns of ``W`` (the neurons in the paper's convention)."""
    C = W / W.norm(dim=0, keepdim=True).clamp_min(1e-30)
    return C.transpose(-1, -2) @ C


def leading_order_permutation(S: torch.Tensor) -> torch.Tensor:
    """Permutation sorting the entries of the leading eigenvector of the symmetric ``S`` (PAPER, Fig. 1
    caption)."""
    _, vec = torch.linalg.eigh(S)
    lead = vec[:, -1]
    lead = lead * torch.sign(lead.sum() + 1e-30)
    return torch.argsort(lead)


def reordered_cosine(W: torch.Tensor) -> torch.Tensor:
    S = cosine_matrix(W.double())
    p = leading_order_permutation(S)
    return S[p][:, p]


def relative_distance(W: torch.Tensor, W0: torch.Tensor) -> float:
    return float((W - W0).norm() / W0.norm().clamp_min(1e-30))


def group_relative_distance(now: dict, start: dict, names: list[str]) -> float:
    num = math.sqrt(sum(float((now[n] - start[n]).norm()) ** 2 for n in names))
    den = math.sqrt(sum(float(start[n].norm()) ** 2 for n in names))
    return num / max(den, 1e-30)


def singular_vector_stability(W_prev: torch.Tensor, W_now: torch.Tensor, top: int | None = None) -> float:
    """``(1/k) sum_i |cos(u_i, u_i')|`` over the left singular vectors (all of them, or the ``top``
    leading)."""
    U0 = torch.linalg.svd(W_prev.double(), full_matrices=False)[0]
    U1 = torch.linalg.svd(W_now.double(), full_matrices=False)[0]
    k = U0.shape[1] if top is None else top
    return float((U0[:, :k] * U1[:, :k]).sum(0).abs().mean())


def _top_pair(W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    U, _, Vh = torch.linalg.svd(W.double(), full_matrices=False)
    return U[:, 0], Vh[0]


def assumption1_rates(WV: torch.Tensor, W1: torch.Tensor, W2: torch.Tensor) -> dict[str, float]:
    """Satisfaction rates of Assumption 1 (PAPER §4.4, Fig. 2a), adapted to ``W_V`` (d x d), ``W^{[1]}`` (d x
    d_ff), ``W^{[2]}`` (d_ff x d) (RECONSTRUCTED; the paper does not say how ``v``, ``W_v`` and a vector
    ``W^{[2]}`` are defined when the output is multi-class and ``d_ff != d_m``):

    * ``v`` := the leading left singular vector of ``W_V`` (after Stage 1 it is the condensation direction,
    Thm 2),
      ``W_v = v^T W_V`` (1 x d);
    * the vector ``W^{[2]}`` := ``W^{[2]} b`` with ``b`` the leading right singular vector of ``W^{[2]}``;
    * the joint sign of ``(v, b)`` is fixed by ``E = W_v W^{[1]} W^{[2]} b > 0``; the remaining joint flip
    leaves
      every condition unchanged;
    * with ``d_ff != d_m`` the two conditions of A1 index different things (columns ``i in [d_ff]``, rows ``i
      in [d_m]``), so ``|A1|`` counts satisfied column and row conditions over ``d_ff + d_m``, and ``|A2|``
      counts satisfied column pairs and row pairs over ``d_ff^2 + d_m^2``.
    """
    v, _ = _top_pair(WV)
    _, b = _top_pair(W2)
    W1 = W1.double()
    Wv = v @ WV.double()  # (d,)
    w2 = W2.double() @ b  # (d_ff,)
    if float(Wv @ W1 @ w2) < 0:
        w2 = -w2
    cols = w2 * (Wv @ W1) > 0  # W2_i W_v W1^{,i} > 0, i in [d_ff]
    rows = Wv * (W1 @ w2) > 0  # W_v,i W1_i W2 > 0, i in [d]
    colvec = W1 * w2  # columns W2_i W1^{,i}
    rowvec = W1 * Wv[:, None]  # rows W_v,i W1_i
    cpairs = (colvec.T @ colvec) > 0
    rpairs = (rowvec @ rowvec.T) > 0
    d, f = W1.shape
    return {
        "A1": float(cols.sum() + rows.sum()) / (d + f),
        "A2": float(cpairs.sum() + rpairs.sum()) / (d * d + f * f),
        "A1_cols": float(cols.float().mean()),
        "A1_rows": float(rows.float().mean()),
        "A2_cols": float(cpairs.float().mean()),
        "A2_rows": float(rpairs.float().mean()),
    }


# ------------------------------------------------------------------ stage detection
def smooth(x: list[float], k: int = 3) -> list[float]:
    """Centred moving average of width ``2k+1`` (shrinking at the ends)."""
    n = len(x)
    return [sum(x[max(0, i - k) : i + k + 1]) / len(x[max(0, i - k) : i + k + 1]) for i in range(n)]


def detect_switch(
    outer_rate: list[float], attn_rate: list[float], steps: list[int], sustain: int = 2
) -> int | None:
    """Stage boundary, definition (i): the first logged step after the peak of the outer group's windowed
    relative change at which the attention group's windowed relative change exceeds the outer group's and
    keeps exceeding it
    for ``sustain`` further logs (or to the end). ``None`` if it never happens."""
    if not outer_rate:
        return None
    peak = max(range(len(outer_rate)), key=outer_rate.__getitem__)
    n = len(outer_rate)
    for k in range(peak, n):
        ok = all(attn_rate[j] > outer_rate[j] for j in range(k, min(n, k + sustain + 1)))
        if ok:
            return steps[k]
    return None


def detect_plateau(loss: list[float], steps: list[int], frac: float = 0.1, k: int = 2) -> int | None:
    """Stage boundary, definition (ii): the loss plateau. With the smoothed loss, the per-step decrease rate
    ``-(dL/dstep)`` reaches its peak in Stage 1; the plateau starts at the first later log where that rate
    falls
    below ``frac`` of the peak. ``None`` if the loss never decreases."""
    ls = smooth(loss, k)
    rates = [0.0] + [(ls[i - 1] - ls[i]) / max(steps[i] - steps[i - 1], 1) for i in range(1, len(ls))]
    peak = max(range(len(rates)), key=rates.__getitem__)
    if rates[peak] <= 0:
        return None
    for i in range(peak, len(rates)):
        if rates[i] < frac * rates[peak]:
            return steps[i]
    return None
