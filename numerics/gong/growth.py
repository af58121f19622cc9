"""gong-2025 signal growth and Q stage time, numerically: the measurements the ``gong-2025/derived/*-growth``
and ``derived/q-stage-time*`` claims are judged on (the laws are :mod:`twostage.theory.gong.growth`,
DERIVED for the default variant of the reconstruction, ``docs/papers/gong_2025.md``).

* :func:`eta_time` -- the summed learning rate ``H(t) = sum_{s < t} eta_s`` of the two-stage schedule
  (``eta1`` for steps ``s < T1``, then ``eta2``) or of a constant one;
* :func:`increments` -- per seed and recorded interval ``[t, t')``: the increase of a signal, its value at
  ``t`` and ``H(t') - H(t)`` (the points at which the growth laws are judged);
* :func:`early_run` -- every GD step of the first ``2 T1`` steps (at least 40), without held-out data;
* :func:`q_stage_times` -- ``T_Q`` (first step with held-out Q accuracy >= ``level``) at one constant rate
  for several ``q_scale``, on a one-dimensional P part (under the parallel coupling the Q block's dynamics do
  not involve the P block, so the P part only costs time).

>>> from twostage.numerics.gong.setting import DEFAULT
>>> eta_time(np.array([0, 10, 20, 30]), DEFAULT).tolist()
[0.0, 2.0, 4.0, 5.0]
>>> inc = increments({"t": np.array([0, 10, 30]), "S_P": np.array([[0.0], [1.0], [1.5]])}, "S_P", DEFAULT)
>>> inc["DeltaS"].tolist(), inc["S"].tolist(), inc["DeltaH"].tolist()
([1.0, 0.5], [0.0, 1.0], [2.0, 3.0])
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from twostage.numerics.gong.setting import GongConfig
from twostage.numerics.gong.stages import first_reach, train


def eta_time(t: np.ndarray, cfg: GongConfig, schedule: str = "two-stage") -> np.ndarray:
    """``H(t) = sum_{s < t} eta_s`` (the step trigger of the default variant, or ``"constant"`` ``eta1``)."""
    t = np.asarray(t, dtype=float)
    if schedule == "constant":
        return cfg.eta1 * t
    if schedule != "two-stage" or cfg.trigger != "step":
        raise ValueError("eta_time needs the two-stage schedule with trigger 'step', or 'constant'")
    return cfg.eta1 * np.minimum(t, cfg.T1) + cfg.eta2 * np.maximum(t - cfg.T1, 0.0)


def increments(tr: dict, key: str, cfg: GongConfig, schedule: str = "two-stage",
               cumulative: bool = False) -> dict[str, np.ndarray]:
    """Flattened per (interval, seed): ``DeltaS`` = ``S(t') - S(t)``, ``S`` = ``S(t)``, ``DeltaH`` =
    ``H(t') - H(t)`` for consecutive records ``t < t'`` of ``tr[key]`` (shape ``(records, seeds)``), or with
    ``cumulative`` for ``t`` the first record and every later ``t'``."""
    S = np.asarray(tr[key], dtype=float)
    H = eta_time(tr["t"], cfg, schedule)
    start = np.zeros(len(S) - 1, dtype=int) if cumulative else np.arange(len(S) - 1)
    dH = np.broadcast_to((H[1:] - H[start])[:, None], S[1:].shape)
    return {"DeltaS": (S[1:] - S[start]).ravel(), "S": S[start].ravel(), "DeltaH": np.array(dH).ravel()}


def early_steps(cfg: GongConfig) -> int:
    return max(40, 2 * cfg.T1)


def early_run(cfg: GongConfig, seeds: int, seed: int = 0, device: str = "cpu") -> dict:
    """Every GD step of the first :func:`early_steps` steps of the two-stage schedule (signals only)."""
    short = dataclasses.replace(cfg, steps=min(cfg.steps, early_steps(cfg)))
    return train(short, seeds, seed=seed, record_every=1, spectra=False, held_out=False, device=device)


def q_stage_times(cfg: GongConfig, seeds: int, q_scales: tuple[float, ...], estimate, seed: int = 0,
                  level: float = 0.9, record_every: int = 2, device: str = "cpu") -> np.ndarray:
    """Median ``T_Q`` per ``q_scale`` under the constant rate ``cfg.eta1``; each run lasts ``4 estimate(q)``
    steps (``estimate``: the claim's ``S_*/(eta R_Q)`` as a function of ``q_scale``; at least 20 steps).
    ``inf`` where Q is not learned within the run."""
    out = []
    for q in q_scales:
        steps = max(20, int(math.ceil(4 * estimate(q))))
        c = dataclasses.replace(cfg, q_scale=q, d_p=1, steps=steps)
        tr = train(c, seeds, seed=seed, schedule="constant", record_every=record_every, spectra=False,
                   device=device)
        out.append(float(np.median(first_reach(tr["t"], tr["test_acc_Q"], level))))
    return np.array(out)


def derived_curves(cfg: GongConfig, t: np.ndarray) -> dict[str, np.ndarray | float]:
    """The derived laws along the two-stage schedule, for plotting beside the measured signals:
    ``P_bound`` (the per-step bound iterated from ``S_P = 0``: ``s <- s + eta_s m1^2 sigmoid(-x0 s)``),
    ``Q_bound`` (``R_Q H(t)``), the Q threshold ``S_star`` and the stage-time estimate ``t_Q``
    (:mod:`twostage.theory.gong.growth`, evaluated at ``cfg``)."""
    import sympy as sp

    from twostage.theory.gong import growth as th

    v = {th.gamma0: cfg.gamma0, th.sigma: cfg.sigma, th.q_s: cfg.q_scale, th.b0: cfg.b0, th.eta1: cfg.eta1,
         th.eta2: cfg.eta2, th.T1: cfg.T1, th.nu_m: th.nu_minus_value(cfg.zeta, cfg.d_q, cfg.sigma)}
    p_rate = sp.lambdify(th.S_P, th.p_rate().subs(v), "math")
    t = np.asarray(t)
    eta = np.diff(eta_time(np.arange(int(t.max()) + 1), cfg))
    s = np.zeros(len(eta) + 1)
    for k, e in enumerate(eta):
        s[k + 1] = s[k] + e * p_rate(s[k])
    return {"P_bound": s[t.astype(int)], "Q_bound": float(th.q_rate().subs(v)) * eta_time(t, cfg),
            "S_star": float(th.q_threshold().subs(v)), "t_Q": float(th.q_stage_time().subs(v))}
