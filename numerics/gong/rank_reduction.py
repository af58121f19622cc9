"""Rank reduction of the attention weights: the "spectral characteristics" experiment, gong-2025 §7.4 [Code].

The official script (LASER machinery, ``--lname attn --rate r``) replaces ``attn.c_attn.weight`` (fused
``W_Q|W_K|W_V``, ``d x 3d``) and ``attn.c_proj.weight`` (``d x d``) of transformer blocks 1-6 by rank-``k``
approximations from their **largest** singular values, ``k = floor(min(m, n) (10 - r) / 10)`` for
``r = 0..9`` (rank preservation ``x = (10 - r)/10``), then counts top-1 correct predictions with no further
training. As §8 item 8 asks, the SVD here is exact (``torch.linalg.svd`` in float64) instead of the randomised
``svd_lowrank``; ``keep="smallest"`` is the variant the code defines but never calls
(``do_low_rank_small_singular``): the ``k`` *smallest* singular values are kept (RECONSTRUCTED reading of that
function: same ``k``). Matrices are batched over any leading axes (the seed axis of stacked parameters).

``layers`` defaults to the paper's blocks 1-6 and must exist in the model (a ``ConfigError`` otherwise; no
silent clamping): a small model for this experiment needs at least 7 blocks.

>>> rank_k(768, 2304, 0), rank_k(768, 2304, 3), rank_k(768, 768, 9)
(768, 537, 76)
>>> W = torch.randn(2, 6, 9, dtype=torch.float64)
>>> [int(torch.linalg.matrix_rank(truncate(W, 4, keep)).max()) for keep in ("largest", "smallest")]
[4, 4]
>>> bool(torch.allclose(truncate(W, 6), W))
True
"""

from __future__ import annotations

import torch

from twostage.numerics.config import require

_ASS = "gong-2025/ass/rank-reduction"
PAPER_LAYERS = (1, 2, 3, 4, 5, 6)
TARGETS = ("attn.c_attn.weight", "attn.c_proj.weight")
KEEPS = ("largest", "smallest")
RATES = tuple(range(10))


def rank_k(m: int, n: int, r: int) -> int:
    """``floor(min(m, n) (10 - r) / 10)`` (integer arithmetic, so no rounding error at the floor)."""
    require(0 <= r <= 9, _ASS, f"rate r must be in 0..9, got {r}")
    return min(m, n) * (10 - r) // 10


def truncate(W: torch.Tensor, k: int, keep: str = "largest", svd=None) -> torch.Tensor:
    """Rank-``k`` reconstruction of ``W (..., m, n)`` from its ``k`` largest (or smallest) singular values;
    ``svd`` is ``torch.linalg.svd(W.double(), full_matrices=False)`` if already computed."""
    require(keep in KEEPS, _ASS, f"keep must be one of {KEEPS}, got {keep!r}")
    U, s, Vh = torch.linalg.svd(W.double(), full_matrices=False) if svd is None else svd  # s descending
    sl = slice(0, k) if keep == "largest" else slice(s.shape[-1] - k, s.shape[-1])
    return ((U[..., :, sl] * s[..., None, sl]) @ Vh[..., sl, :]).to(W.dtype)


def target_names(params: dict[str, torch.Tensor], layers: tuple[int, ...] = PAPER_LAYERS) -> list[str]:
    """Names of the matrices the experiment truncates; every layer must exist."""
    n_layer = 1 + max((int(k.split(".")[1]) for k in params if k.startswith("h.")), default=-1)
    require(all(0 <= i < n_layer for i in layers), _ASS,
            f"layers {layers} do not all exist in a model with {n_layer} blocks (the paper's 1-6 need >= 7)")
    return [f"h.{i}.{t}" for i in layers for t in TARGETS]


def decompose(params: dict[str, torch.Tensor], layers: tuple[int, ...] = PAPER_LAYERS) -> dict[str, tuple]:
    """Exact float64 SVD of every target matrix (computed once, shared by all rates and both variants)."""
    with torch.no_grad():
        return {n: torch.linalg.svd(params[n].double(), full_matrices=False)
                for n in target_names(params, layers)}


def reduce(params: dict[str, torch.Tensor], r: int, keep: str = "largest",
           layers: tuple[int, ...] = PAPER_LAYERS,
           svds: dict[str, tuple] | None = None) -> dict[str, torch.Tensor]:
    """A copy of ``params`` (stacked or not) with the target matrices truncated at rate ``r`` (``svds``: the
    output of :func:`decompose`, to avoid recomputing the decompositions)."""
    out = dict(params)
    with torch.no_grad():
        for name in target_names(params, layers):
            W = params[name]
            svd = None if svds is None else svds[name]
            out[name] = truncate(W, rank_k(W.shape[-2], W.shape[-1], r), keep, svd)
    return out


def truncation_report(params: dict[str, torch.Tensor], reduced: dict[str, torch.Tensor], r: int,
                      keep: str = "largest", layers: tuple[int, ...] = PAPER_LAYERS,
                      tol: float = 1e-5, svds: dict[str, tuple] | None = None) -> dict:
    """Check a truncation (``ok`` is the verdict): every target matrix has numerical rank exactly ``k``
    (singular values above ``10 eps(dtype) sqrt(max(m, n)) sigma_1``), its singular values equal the ``k``
    selected singular values of the original (the rest zero) to ``tol`` relative to the original's largest,
    and every other parameter is unchanged.
    """
    worst, wrong_rank = 0.0, []
    names = target_names(params, layers)
    for name in names:
        W, Wt = params[name].double(), reduced[name].double()
        k = rank_k(W.shape[-2], W.shape[-1], r)
        s = torch.linalg.svdvals(W) if svds is None else svds[name][1]
        st = torch.linalg.svdvals(Wt)
        expected = torch.zeros_like(s)
        expected[..., :k] = s[..., :k] if keep == "largest" else s[..., s.shape[-1] - k:]
        worst = max(worst, float(((st - expected).abs() / s[..., :1]).max()))
        floor = 10 * torch.finfo(reduced[name].dtype).eps * max(W.shape[-2:]) ** 0.5 * s[..., :1]
        rank = (st > floor).sum(-1).reshape(-1)
        if (rank != k).any():
            wrong_rank.append((name, k, sorted(set(rank.tolist()))))
    changed = [n for n in params if n not in names and not torch.equal(params[n], reduced[n])]
    ok = worst < tol and not wrong_rank and not changed
    return {"ok": ok, "r": r, "keep": keep, "matrices": len(names), "max_rel_sv_error": worst, "tol": tol,
            "wrong_rank": wrong_rank[:3], "changed_untouched": changed[:3]}


def curve(base, params: dict[str, torch.Tensor], enc, keep: str = "largest",
          layers: tuple[int, ...] = PAPER_LAYERS, rates: tuple[int, ...] = RATES, batch: int = 512,
          svds: dict[str, tuple] | None = None) -> dict:
    """Accuracy of the truncated models (no retraining) for every rate: ``x = (10 - r)/10``, ``exact``,
    ``type`` and ``correct`` (exact count) as ``(len(rates), S)`` arrays, and each truncation's report."""
    import numpy as np

    from twostage.numerics.gong.realdata import evaluate

    rows: dict[str, list] = {"exact": [], "type": [], "loss": []}
    reports = []
    svds = decompose(params, layers) if svds is None else svds
    for r in rates:
        red = reduce(params, r, keep, layers, svds)
        reports.append(truncation_report(params, red, r, keep, layers, svds=svds))
        ev = evaluate(base, red, enc, batch)
        for k in rows:
            rows[k].append(ev[k].cpu().numpy())
    out = {k: np.stack(v) for k, v in rows.items()}
    out.update(x=np.array([(10 - r) / 10 for r in rates]), correct=np.rint(out["exact"] * enc.ids.shape[0]),
               reports=reports)
    return out
