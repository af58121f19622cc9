"""Check of chen-luo-2025 Prop 5 (i), eq. (20): the split ``[d_m] = C_1 + C_2`` with ``C_1`` non-empty,
``|W_{v,i}| -> infinity`` on ``C_1`` and a finite limit on ``C_2``, judged along the shared trajectories
(:mod:`.trajectory`).

Divergence and convergence are read as growth exponents in ``E`` (not in ``T* - t``: only a bracket of ``T*``
is known, and at ``E = 1e12`` it is 1 % of ``T* - t``): per index the least-squares slope of
``log(1 + |W_{v,i}|)`` against ``log E`` on the recorded points after Assumption 1 holds with
``E >= E_SPLIT`` (where ``||W_v|| ~ E^{1/3}`` is large). An index with slope above ``CLASS_CUT`` is in
``C_1``. Every number judged comes from the claim's formula: the relation on the size of ``C_1`` and the
exponent of each class (``a_{C_1} = 1/3``: the rate of ``||W_v|| ~ (T* - t)^{-1}``, as ``E ~ (T* - t)^{-3}``;
``a_{C_2} = 0``: a finite limit).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.condensation.trajectory import (
    ALONG,
    CondensationDraw,
    not_applicable,
    window,
)
from twostage.verify.checks.chen_luo.elements import each_element, relations, value_of
from twostage.verify.judge import as_relation, judge_bound, judge_residual
from twostage.verify.verdict import Measurement, Status

P = "chen-luo-2025"
E_SPLIT = 1e12
CLASS_CUT = 1 / 6  # the definition of the classes: slope above it -> C_1 (diverges), below -> C_2
SLOPE_TOL = 0.01
MIN_POINTS = 8


def index_slopes(tr: dict, b: int) -> tuple[np.ndarray, dict] | None:
    """Per index ``i``, the slope of ``log(1 + |W_{v,i}|)`` against ``log E`` (``None``: Assumption 1 never
    holds)."""
    idx = window(tr, b, ass1=True)
    if idx is None:
        return None
    E = tr["E"][b][idx]
    keep = E >= E_SPLIT
    info = {"element": b, "points": int(keep.sum()), "E_from": E_SPLIT}
    if keep.sum() < MIN_POINTS:
        return np.array([]), info
    x = np.log(E[keep])
    Y = np.log1p(np.abs(tr["Wv"][b][idx][keep]))  # (points, d)
    slopes = np.polyfit(x, Y, 1)[0]
    return np.atleast_1d(slopes), info


def split_measure(formula: sp.Basic, slopes: np.ndarray, info: dict) -> list[Measurement]:
    """Judge every relation of the formula on one element's slopes."""
    classes = {"C_1": slopes[slopes > CLASS_CUT], "C_2": slopes[slopes <= CLASS_CUT]}
    info = {**info, "slopes": [round(float(s), 4) for s in slopes], "C_1": int(len(classes["C_1"])),
            "C_2": int(len(classes["C_2"]))}
    out = []
    for rel in relations(formula):
        (sym,) = [s for s in rel.lhs.free_symbols]
        cls = next(k for k in classes if k in sym.name)
        if sym.name.startswith("n_"):  # the size of a class
            out.append(judge_bound(rel, {sym: np.array([float(len(classes[cls]))])}, tol=0.0, exact=(sym,),
                                   info={**info, "class": cls}))
            continue
        if len(classes[cls]) == 0:  # nothing in the class: its exponent is not measured in this element
            continue
        target = value_of(rel.rhs, {})
        worst = float(np.max(np.abs(classes[cls] - target)))
        out.append(as_relation(rel, judge_residual(worst, SLOPE_TOL, {**info, "class": cls,
                                                                      "expected_slope": target})))
    return out


@checker(f"{P}/prop5/c1-c2-split", **ALONG)
def c1_c2_split(claim, cfg: CondensationDraw, tr: dict) -> Measurement:
    """chen-luo-2025 Prop 5 (i), eq. (20): ``C_1`` non-empty, divergence on ``C_1``, finite limits on
    ``C_2``."""

    def one(b: int) -> Measurement | list[Measurement]:
        got = index_slopes(tr, b)
        if got is None:
            return not_applicable(b)
        slopes, info = got
        if len(slopes) == 0:
            return Measurement(Status.UNDECIDED, None, {**info, "reason": f"fewer than {MIN_POINTS} points "
                                                                   f"with E >= {E_SPLIT:g}"})
        return split_measure(claim.formula, slopes, info)

    return each_element(tr, cfg.B, one)
