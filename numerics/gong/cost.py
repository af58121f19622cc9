"""Cost model of one fused gong-2025 GD step (reconstructed setting, :func:`numerics.gong.model.step_terms`).

Per seed and step, for a block ``B`` in ``{P, Q}`` of width ``d_B`` with ``n`` prompts of ``L`` context
tokens and one query token:

* FLOPs (multiply-add counted as 2 per product term) of the four contractions of the step:
  ``a = x_q^T W_B`` (``2 n d_B^2``), the scores ``s_l = a . x_l`` (``2 n L d_B``), the context sum
  ``v = sum_l c_B(l) x_l`` (``2 n L d_B``) and the gradient ``g_B = x_q v^T / n`` (``2 n d_B^2``): in all
  ``4 n d_B (d_B + L)``. ``matmul_flops`` is the ``W``-side part ``4 n d_B^2`` that the step runs as
  ``bmm`` (what ``torch.utils.flop_counter.FlopCounterMode`` sees); the score and context contractions are
  broadcast multiply-reduces. The elementwise work on the ``(n, L)`` scores and coefficients (ReLU, the
  SymPy coefficient expressions, the losses) is ``O(n L)`` against ``O(n L d)`` and is not counted.
* Bytes: the least a step implemented as a sequence of passes must move. Each data tensor (``p``, ``q``
  of ``n (L+1) d_B`` entries and the labels ``y`` of ``n (L+1)``) is read once per *pass*, and the fused
  step needs ``passes = 2``: the scores need ``W`` before the coefficients exist, and the coefficients need
  the whole prompt's output ``F`` before the gradient contraction can start. The parameters
  (``d_P^2 + d_Q^2 + 1`` entries) are read once and the gradient, of the same size, written once.
  ``passes=1`` is the bound of a kernel that keeps one prompt (``(L+1)(d_P + d_Q + 1)`` entries, 4.3 KB at
  the defaults) in L1 across both phases; torch eager ops also write and re-read a data-sized temporary in
  each multiply-reduce, which the model leaves out.

At the defaults (``d_P = d_Q = L = 16``, ``n = 128``, float64) a seed-step moves ~1.15 MB for ~0.52 MFLOP
(~0.45 FLOP/byte): memory-bound unless the data stays in cache across steps, which is what the chunking of
:func:`numerics.gong.train.train` is for.

>>> from twostage.numerics.gong.setting import GongConfig
>>> c = step_cost(GongConfig())
>>> c["flops"], c["matmul_flops"], c["bytes"]
(524288, 262144, 1157136)
>>> seed_bytes(GongConfig())
578568
"""

from __future__ import annotations

import torch


def _itemsize(dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _entries(cfg) -> tuple[int, int]:
    """Entries of one seed's data ``p, q, y`` and of its parameters ``W_P, W_Q, b``."""
    return cfg.n * (cfg.L + 1) * (cfg.d_p + cfg.d_q + 1), cfg.d_p ** 2 + cfg.d_q ** 2 + 1


def seed_bytes(cfg, dtype=torch.float64) -> int:
    """Bytes of one seed's resident state: data ``p, q, y`` and parameters ``W_P, W_Q, b``."""
    return sum(_entries(cfg)) * _itemsize(dtype)


def step_cost(cfg, dtype=torch.float64, passes: int = 2) -> dict[str, int]:
    """``{"bytes", "flops", "matmul_flops"}`` of one fused GD step for ONE seed (model in the module doc).

    >>> from twostage.numerics.gong.setting import GongConfig
    >>> step_cost(GongConfig(d_p=1, d_q=1, L=1, n=1))  # FLOPs 4 n d (d + L) = 8 per block
    {'bytes': 144, 'flops': 16, 'matmul_flops': 8}

    (bytes: 2 passes over 2 tokens x 3 entries, plus 3 parameters read and 3 gradient entries written,
    ``(12 + 6) * 8``.)
    """
    if passes < 1:
        raise ValueError(f"passes must be >= 1 (got {passes})")
    n, L = cfg.n, cfg.L
    data, n_params = _entries(cfg)
    flops = sum(4 * n * d * (d + L) for d in (cfg.d_p, cfg.d_q))
    matmul = sum(4 * n * d * d for d in (cfg.d_p, cfg.d_q))
    nbytes = (passes * data + 2 * n_params) * _itemsize(dtype)
    return {"bytes": nbytes, "flops": flops, "matmul_flops": matmul}
