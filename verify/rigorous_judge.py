"""Rigorous ``bound`` verdicts: the claim's own SymPy relational, evaluated in ball arithmetic.

:func:`judge_bound_rigorous` decides ``lhs (>=|>|<=|<) rhs`` at every point of a trajectory with
:func:`twostage.theory.rigorous.decide`. Exact inputs (ints, Fractions, SymPy rationals, and floats
listed in ``exact`` such as a time grid or a drawn configuration value) stay exact; every other
float is *measured* and enters as a ball of radius ``rel_err * |x| + abs_err`` -- the declared
dtype rounding plus whatever integration error the caller states. A point whose measured value sits
at the bound within that radius is ``undecided``, never ``holds``; one NaN/inf among the measured
values is a ``numerical-failure`` (with its index and time).

Contract (see CONTRIBUTING.md, *Rigorous bound verdicts*):

* ``relational`` is the ``Claim.formula`` (``Ge``/``Gt``/``Le``/``Lt``; ``Eq``/``Ne`` are judged too --
  ``Eq`` can only hold in exact arithmetic and is undecided where the balls overlap), so the printed and the
  judged formula are the same object; a formula SymPy already decided (``true``/``false``) or that is no
  relation at all is a verdict (undecided, or violated for ``false``), never an exception;
* ``values`` maps each free symbol (or ``IndexedBase``, or its name) to a scalar or to a 1-D array
  with one entry per point; scalars are broadcast;
* ``rel_err`` defaults to ``k * eps(dtype)`` (``k = 4``); ``abs_err`` is a scalar, or a dict
  ``{symbol: scalar | array}`` of absolute radii added per measured symbol;
* the margin is the smallest relative slack of the midpoints (as in
  :func:`twostage.verify.verdict.relative_slack`); ``worst`` records the point, the precision at
  which it was decided, and how many points were undecided/violated/outside the bound's domain.

>>> import numpy as np, sympy as sp
>>> E, E0, t = sp.symbols("E E0 t")
>>> rel = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)     # chen-luo-2025 Thm 1, eq. (11)
>>> ts = np.linspace(0.0, 0.5, 6)
>>> exact_E = (1.0 - ts) ** -3                                # the balanced case attains the bound
>>> m = judge_bound_rigorous(rel, {E: exact_E, E0: 1, t: ts}, exact=[t])
>>> m.status.value, m.worst["undecided"]                      # at the bound within rounding
('undecided', 6)
>>> judge_bound_rigorous(rel, {E: exact_E * 1.01, E0: 1, t: ts}, exact=[t]).status.value
'holds'
>>> judge_bound_rigorous(rel, {E: exact_E * 0.99, E0: 1, t: ts}, exact=[t]).status.value
'violated'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from twostage.errors import UnsupportedExpression
from twostage.theory.rigorous import PRECISIONS, Truth, ball, compile_expr, decide, relation_sides, to_float
from twostage.theory.rigorous import exact as exact_value
from twostage.verify.verdict import Measurement, Status, relative_slack

_EPS = {"float64": 2.0 ** -52, "float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}
_SENSE = {">=": ">=", ">": ">=", "<=": "<=", "<": "<=", "==": "==", "!=": "!="}


def dtype_eps(dtype: Any) -> float:
    """Machine epsilon of a dtype name (``"float64"``), NumPy dtype or torch dtype."""
    name = str(dtype).replace("torch.", "")
    if name not in _EPS:
        try:
            return float(np.finfo(np.dtype(name)).eps)
        except TypeError:
            raise ValueError(f"unknown dtype {dtype!r}") from None
    return _EPS[name]


def _key(k: Any) -> Any:
    if isinstance(k, str):
        return sp.Symbol(k)
    if isinstance(k, sp.IndexedBase):
        return k.label
    return k


def _is_float_data(v: Any) -> bool:
    if isinstance(v, float):
        return True
    if isinstance(v, (list, tuple)) or hasattr(v, "dtype"):
        return np.issubdtype(np.asarray(v).dtype, np.floating)
    return False


def judge_bound_rigorous(
    relational: sp.Basic,
    values: Mapping[Any, Any],
    *,
    rel_err: float | None = None,
    abs_err: float | Mapping[Any, Any] = 0.0,
    dtype: Any = "float64",
    k: float = 4.0,
    exact_symbols: Iterable[Any] = (),
    exact: Iterable[Any] = (),
    times: Sequence[float] | np.ndarray | None = None,
    info: dict[str, Any] | None = None,
    precisions: Sequence[int] = PRECISIONS,
    floor: float = 0.0,
) -> Measurement:
    """Judge ``relational`` at every point of ``values`` in ball arithmetic (see module docstring).

    ``exact``/``exact_symbols`` (synonyms) list float-valued symbols that are exact inputs.
    ``times`` (default: the values of ``t`` if that symbol is present) labels the worst point.
    """
    if relational in (sp.true, sp.false):  # a relation SymPy already decided (e.g. a mutated constant bound)
        return Measurement(Status.VIOLATED if relational is sp.false else Status.UNDECIDED, None, {
            **(info or {}), "reason": f"formula is identically {relational}: nothing is measured",
            "rigorous": True})
    try:
        lhs, rhs, op = relation_sides(relational)
    except UnsupportedExpression as exc:
        return Measurement(Status.UNDECIDED, None, {**(info or {}), "reason": str(exc), "rigorous": True})
    compile_expr(lhs), compile_expr(rhs)  # fail early on unsupported nodes
    vals = {_key(kk): v for kk, v in values.items()}
    missing = {s for s in relational.free_symbols if isinstance(s, sp.Symbol)} - set(vals)
    missing -= {i for s in relational.atoms(sp.Sum) for i in s.variables}
    if missing:
        raise KeyError(f"no values for {', '.join(sorted(map(str, missing)))}")
    exact_keys = {_key(s) for s in (*exact, *exact_symbols)}
    meas_keys = {kk for kk, v in vals.items() if kk not in exact_keys and _is_float_data(v)}
    rel = dtype_eps(dtype) * k if rel_err is None else float(rel_err)
    abs_map = dict(abs_err) if isinstance(abs_err, Mapping) else {kk: abs_err for kk in meas_keys}
    abs_map = {_key(kk): v for kk, v in abs_map.items()}

    indexed = {b.label for b in relational.atoms(sp.IndexedBase)}
    n, cols, scalars = _columns(vals, indexed)
    base_info = dict(info or {})
    if times is None and sp.Symbol("t") in vals:
        times = np.broadcast_to(np.asarray(vals[sp.Symbol("t")], dtype=float), (n,))
    tarr = None if times is None else np.ravel(np.asarray(times, dtype=float))

    # NaN/inf among measured values: numerical failure at the first such point
    for kk in meas_keys:
        arr = np.broadcast_to(np.asarray(vals[kk], dtype=float), (n,) + np.shape(vals[kk])[1:])
        bad = ~np.isfinite(arr.reshape(n, -1)).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            return Measurement(Status.NUMERICAL_FAILURE, None, {
                **base_info, "index": i, "time": None if tarr is None else float(tarr[i]),
                "symbol": str(kk), "reason": "non-finite value"}, examples=1)

    scalar_env = {kk: _enter(v, kk in meas_keys, rel, _abs_at(abs_map, kk, None))
                  for kk, v in scalars.items()}
    decisions = []
    for i in range(n):
        env = dict(scalar_env)
        for kk, col in cols.items():
            env[kk] = _enter(col[i], kk in meas_keys, rel, _abs_at(abs_map, kk, i))
        decisions.append(decide(relational, env, precisions))
    return _aggregate(decisions, op, tarr, base_info, rel, floor)


def _columns(vals: dict, indexed: set) -> tuple[int, dict, dict]:
    """Split values into per-point columns and constants. A symbol's 1-D array is a column; an
    ``IndexedBase``'s 1-D sequence is a constant and its 2-D array (points x entries) a column."""
    cols, scalars, n = {}, {}, None
    for kk, v in vals.items():
        per_point = 2 if kk in indexed else 1
        if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) >= per_point:
            arr = v if isinstance(v, np.ndarray) else np.asarray(v, dtype=object)
            if n is not None and len(arr) != n:
                raise ValueError(f"values for {kk} have {len(arr)} points, others {n}")
            n = len(arr)
            cols[kk] = arr.tolist()
        else:
            scalars[kk] = v
    return (n or 1), cols, scalars


def _abs_at(abs_map: dict, kk: Any, i: int | None) -> Any:
    v = abs_map.get(kk, 0.0)
    if np.ndim(v) == 0 or i is None:
        return v
    return np.asarray(v)[i]


def _enter(v: Any, is_measured: bool, rel: float, abs_: Any) -> Any:
    """An input value: measured floats become balls; sequences (IndexedBase data) element-wise."""
    if isinstance(v, (list, tuple, np.ndarray)):
        a = np.asarray(abs_, dtype=float) if np.ndim(abs_) else None
        return [_enter(x, is_measured, rel, abs_ if a is None else a[j]) for j, x in enumerate(v)]
    if is_measured:
        return ball(float(v), rel=rel, abs_=float(abs_))
    return exact_value(v)


def _aggregate(decisions: list, op: str, tarr: np.ndarray | None, info: dict, rel: float,
               floor: float) -> Measurement:
    sense = _SENSE[op]
    finite = [d for d in decisions if d.finite]
    excluded = len(decisions) - len(finite)
    counts = {t: sum(d.truth is t for d in decisions) for t in Truth}
    if not finite:
        return Measurement(Status.UNDECIDED, None, {
            **info, "reason": "bound not finite anywhere", "points": len(decisions), "rigorous": True})
    lhs = np.array([to_float(d.lhs) for d in decisions])
    rhs = np.array([to_float(d.rhs) for d in decisions])
    with np.errstate(invalid="ignore"):
        slack = _slack(np.nan_to_num(lhs), np.nan_to_num(rhs), sense, floor)
    slack[[not d.finite for d in decisions]] = np.inf
    if counts[Truth.VIOLATED]:
        status = Status.VIOLATED
    elif counts[Truth.UNDECIDED] > excluded:
        status = Status.UNDECIDED
    else:
        status = Status.HOLDS
    pick = [i for i, d in enumerate(decisions) if d.finite and d.truth.value == status.value]
    i = min(pick, key=lambda j: slack[j])
    d = decisions[i]
    precs = [x.prec for x in decisions if x.prec is not None]
    worst = {
        **info, "index": i, "measured": float(lhs[i]), "bound": float(rhs[i]), "sense": op,
        "prec": d.prec, "max_prec": max(precs) if precs else None, "reason": d.reason,
        "points": len(decisions), "undecided": counts[Truth.UNDECIDED] - excluded,
        "violated": counts[Truth.VIOLATED], "excluded": excluded, "rel_err": rel, "rigorous": True,
    }
    if tarr is not None:
        worst["time"] = float(tarr[i])
    margin = float(np.min(slack))
    if op == "==" and status is Status.HOLDS:  # proven equal (exact): no slack to speak of, and none needed
        return Measurement(status, None, worst)
    return Measurement(status, margin if math.isfinite(margin) else None, worst)


def _slack(lhs: np.ndarray, rhs: np.ndarray, sense: str, floor: float) -> np.ndarray:
    """Relative slack of one relation (positive = satisfied): ``relative_slack`` for the inequalities, minus
    the relative distance for ``==`` and the relative distance for ``!=``."""
    if sense in ("<=", ">="):
        return relative_slack(lhs, rhs, sense, floor)
    dist = np.abs(relative_slack(lhs, rhs, ">=", floor))
    return -dist if sense == "==" else dist

