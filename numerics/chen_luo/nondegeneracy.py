"""chen-luo-2025 Def 4 (non-degenerate initialisation, eq. (10)) evaluated on batches of Gaussian draws.

``D1, D2`` are the polynomials of :mod:`twostage.theory.chen_luo.nondegeneracy`, lambdified to numpy; a draw
is non-degenerate when both are nonzero, where "zero" means within rounding of the magnitude of their terms (a
value at that level is counted as a counterexample, never as non-degenerate).

>>> from twostage.numerics.chen_luo.blowup import gaussian_state
>>> Wv, W1, W2 = (x.numpy() for x in gaussian_state(3, 64, seed=0))
>>> k, n, info = nondegenerate_ok(Wv, W1, W2, 3)
>>> (k, n)
(64, 64)
>>> nondegenerate_ok(Wv, W1, Wv.copy(), 3)[0]  # W2 = Wv^T: D1 = 0 exactly
0
"""

from __future__ import annotations

import numpy as np

from twostage.theory.chen_luo.nondegeneracy import Evaluator, nondegeneracy_numpy


def nondegenerate_values(Wv: np.ndarray, W1: np.ndarray, W2: np.ndarray,
                         evaluator: Evaluator | None = None) -> tuple[np.ndarray, ...]:
    """``(D1, D2, zero1, zero2)`` for a batch: the values (by ``evaluator``, default eq. (10)) and the level
    of rounding of their terms below which a value counts as zero (a counterexample, never non-degenerate)."""
    D1, D2 = (evaluator or nondegeneracy_numpy())(Wv, W1, W2)
    scale1 = np.einsum("bk,bk->b", Wv, Wv) + np.einsum("bk,bk->b", W2, W2)
    return D1, D2, 1e-12 * scale1, 1e-12 * (1 + scale1) ** 2


def nondegenerate_ok(Wv: np.ndarray, W1: np.ndarray, W2: np.ndarray, d: int,
                     evaluator: Evaluator | None = None) -> tuple[int, int, dict]:
    """(non-degenerate draws, draws, info) for a batch of initialisations (Def 4, eq. (10))."""
    n = len(Wv)
    D1, D2, z1, z2 = nondegenerate_values(Wv, W1, W2, evaluator)
    ok = (np.abs(D1) > z1) & (np.abs(D2) > z2)
    info = {"d": d, "min_abs_D1": float(np.abs(D1).min()), "min_abs_D2": float(np.abs(D2).min())}
    return int(ok.sum()), n, info
