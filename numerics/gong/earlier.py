"""gong-2025 earlier version, numerically: the stage-1 loss ``K^1`` at ``t1`` of a training run, the measured
side of ``gong-2025/earlier/K1-bound`` (:mod:`twostage.theory.gong.earlier`, QUOTED-FROM-EARLIER-VERSION).

``K^1`` is defined in the ``parallel`` coupling of the reconstruction (two sub-models with their own losses,
``docs/papers/gong_2025.md`` §2.3 [Rev-4], §5 [Rev-3]): the P sub-model's own logistic training loss.

>>> import numpy as np
>>> from twostage.numerics.gong.setting import DEFAULT
>>> K = np.array([[.7, .7], [.1, .2], [.01, .02], [0, 0]])
>>> k1_at_t1(DEFAULT, {"t": np.array([0, 10, 20, 30]), "K_P": K})
(20, 0.02)
"""

from __future__ import annotations

import numpy as np

from twostage.numerics.gong.setting import GongConfig


def k1_at_t1(cfg: GongConfig, tr: dict) -> tuple[int, float]:
    """``(t1, largest K^1(t1) over seeds)`` of a :func:`twostage.numerics.gong.stages.train` record, ``t1``
    the anneal step ``cfg.T1`` (the first recorded step at or after it)."""
    i = int(np.clip(np.searchsorted(tr["t"], cfg.T1), 0, len(tr["t"]) - 1))
    return int(tr["t"][i]), float(tr["K_P"][i].max())
