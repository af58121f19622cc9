"""Automatic mutations of a claim's formula, for ``twostage audit`` (issue 12, *measured evidence strength*).

A :class:`Mutation` is one deliberate edit of ``Claim.formula``; a checker that reads the formula and judges
the numerics it speaks of should call the edited claim ``violated``. The classes of edit:

* ``scale``: one numeric constant ``c`` (a coefficient, an additive constant) becomes ``c (1 + delta)`` or
  ``c (1 - delta)`` for each ``delta`` of a ladder (exact rationals, so ball arithmetic stays exact);
* ``shift``: one exponent ``p`` (of a power) becomes ``p + delta`` or ``p - delta``;
* ``relation``: the relation is reversed (``>=`` becomes ``<=``), negated (``>=`` becomes ``<``), or made an
  equality/inequality; ``weaken`` edits (``>`` to ``>=``, ``==`` to ``>=``) are expected *not* to be caught;
* ``drop``: one additive term of a sum is dropped.

Numbers inside ``Indexed`` subscripts, ``Tuple`` s (summation limits) and ``MatrixSymbol`` shapes are
structure, not constants, and are left alone. A mutation whose formula SymPy simplifies back to the original
(or to ``True``) is skipped.

>>> import sympy as sp
>>> E, E0, t = sp.symbols("E E0 t")
>>> rel = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)       # chen-luo-2025 Thm 1, eq. (11)
>>> ms = mutations(rel, ladder=(sp.Rational(1, 10),))
>>> sorted({m.kind for m in ms})
['drop', 'relation', 'scale', 'shift']
>>> next(m for m in ms if m.kind == "shift").formula
E >= (-t + E0**(-7/30))**(-3)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from twostage.verify.verdict import Measurement, Status

if TYPE_CHECKING:
    from twostage.verify.check import Check, Context

LADDER = tuple(sp.Rational(x) for x in ("1", "1/10", "1/100", "1/1000", "1/10000"))
QUICK_LADDER = (sp.Rational(1, 2), sp.Rational(1, 20))
Path = tuple[int, ...]


@dataclass(frozen=True)
class Mutation:
    """One edit of a formula: its class, the edited node (``where``: path of argument indices and the node as
    text), the size ``delta`` (``None`` for relation edits and dropped terms), the edited formula, and whether
    a sound checker should catch it (``expect``: ``"violated"``; a weakened relation: ``"holds"``)."""

    kind: str
    where: str
    path: Path
    delta: float | None
    sign: int
    formula: sp.Basic
    expect: str = "violated"

    @property
    def label(self) -> str:
        size = "" if self.delta is None else f" {'+' if self.sign > 0 else '-'}{self.delta:g}"
        return f"{self.kind} {self.where}{size}"

    @property
    def site(self) -> tuple[str, Path, int]:
        """What a ladder walks over: one node in one direction."""
        return self.kind, self.path, self.sign


def _at(expr: sp.Basic, path: Path) -> sp.Basic:
    for i in path:
        expr = expr.args[i]
    return expr


def replace_at(expr: sp.Basic, path: Path, new: sp.Basic) -> sp.Basic:
    """``expr`` with the node at ``path`` (argument indices from the root) replaced by ``new``."""
    if not path:
        return new
    args = list(expr.args)
    args[path[0]] = replace_at(args[path[0]], path[1:], new)
    if isinstance(expr, sp.Rel):  # rebuilt as written (an Eq of matrix expressions would evaluate to False)
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def _nodes(expr: sp.Basic, path: Path = ()) -> Iterator[tuple[Path, sp.Basic, sp.Basic | None]]:
    """Every node with its path and its parent (structure subtrees skipped)."""
    yield path, expr, None
    if isinstance(expr, sp.Indexed | sp.Tuple | sp.IndexedBase | sp.Symbol | sp.MatrixSymbol):
        return
    for i, a in enumerate(expr.args):
        for p, node, parent in _nodes(a, path + (i,)):
            yield p, node, (expr if parent is None else parent)


def sites(formula: sp.Basic) -> tuple[list[Path], list[Path], list[tuple[Path, int]]]:
    """Paths of the numeric constants, of the numeric exponents, and ``(Add path, term index)`` pairs."""
    consts, exps, terms = [], [], []
    for path, node, _ in _nodes(formula):
        if isinstance(node, sp.Number) and node != 0 and path:
            parent = _at(formula, path[:-1])
            if isinstance(parent, sp.Pow) and path[-1] == 1:
                exps.append(path)
            elif not isinstance(parent, sp.Indexed | sp.Tuple):
                consts.append(path)
        if isinstance(node, sp.Add) and len(node.args) >= 2:
            terms.extend((path, i) for i in range(len(node.args)))
    return consts, exps, terms


def _relation_edits(formula: sp.Basic) -> list[tuple[str, sp.Basic, str]]:
    if not isinstance(formula, sp.Rel):
        return []
    a, b = formula.lhs, formula.rhs
    op = formula.rel_op
    edits = {
        ">=": [("reversed <=", sp.Le(a, b, evaluate=False)), ("negated <", sp.Lt(a, b, evaluate=False)),
               ("equality", sp.Eq(a, b, evaluate=False))],
        ">": [("reversed <", sp.Lt(a, b, evaluate=False)), ("negated <=", sp.Le(a, b, evaluate=False))],
        "<=": [("reversed >=", sp.Ge(a, b, evaluate=False)), ("negated >", sp.Gt(a, b, evaluate=False)),
               ("equality", sp.Eq(a, b, evaluate=False))],
        "<": [("reversed >", sp.Gt(a, b, evaluate=False)), ("negated >=", sp.Ge(a, b, evaluate=False))],
        "==": [("negated !=", sp.Ne(a, b, evaluate=False))],
        "!=": [("negated ==", sp.Eq(a, b, evaluate=False))],
    }.get(op, [])
    ge, le = ("weakened >=", sp.Ge(a, b, evaluate=False)), ("weakened <=", sp.Le(a, b, evaluate=False))
    weak = {">": [ge], "<": [le], "==": [ge, le]}
    return [(w, f, "violated") for w, f in edits] + [(w, f, "holds") for w, f in weak.get(op, [])]


def _conjunct_edits(formula: sp.Basic) -> list[tuple[str, sp.Basic, str]]:
    """:func:`_relation_edits` of a relation, or of each relation of an ``And`` (the others kept), labelled
    ``[k] ...`` with ``k`` the conjunct's position (1-based)."""
    if not isinstance(formula, sp.And):
        return _relation_edits(formula)
    args, out = formula.args, []
    for k, arg in enumerate(args):
        for text, f, expect in _relation_edits(arg):
            out.append((f"[{k + 1}] {text}", sp.And(*args[:k], f, *args[k + 1:], evaluate=False), expect))
    return out


def mutations(formula: sp.Basic | None, ladder: Sequence[sp.Rational] = LADDER,
              limit: int | None = None) -> list[Mutation]:
    """The mutations of ``formula`` (none for a claim without one), in ladder order (largest delta first).

    ``limit`` caps the number of constant/exponent sites (the first ones in tree order), for quick audits.
    """
    if formula is None or not isinstance(formula, sp.Basic):
        return []
    consts, exps, terms = sites(formula)
    if limit is not None:
        consts, exps, terms = consts[:limit], exps[:limit], terms[: 2 * limit]
    out: list[Mutation] = []
    for text, f, expect in _conjunct_edits(formula):
        out.append(Mutation("relation" if expect == "violated" else "weaken", text, (), None, 0, f, expect))
    for path, i in terms:
        add = _at(formula, path)
        rest = add.args[:i] + add.args[i + 1:]
        out.append(Mutation("drop", f"term {add.args[i]}", path + (i,), None, 0,
                            replace_at(formula, path, sp.Add(*rest))))
    for delta in ladder:
        d = sp.Rational(delta)
        for path in consts:
            c = _at(formula, path)
            for sign in (1, -1):
                out.append(Mutation("scale", f"constant {c}", path, float(d), sign,
                                    replace_at(formula, path, c * (1 + sign * d))))
        for path in exps:
            p = _at(formula, path)
            for sign in (1, -1):
                out.append(Mutation("shift", f"exponent {p}", path, float(d), sign,
                                    replace_at(formula, path, p + sign * d)))
    return [m for m in out if m.formula not in (sp.true, formula) and m.formula != formula]


class FormulaRead(Exception):
    """Raised by :class:`FormulaSpy` at the first read of ``claim.formula`` (ends the check early)."""


class FormulaSpy:
    """A stand-in for a claim that forwards every attribute but raises :class:`FormulaRead` when ``formula``
    is read: running a check on it answers "does this checker read its claim's formula?" without running it to
    the end (issue 12, item 1: one formula per claim)."""

    def __init__(self, claim: object) -> None:
        object.__setattr__(self, "_claim", claim)

    def __getattr__(self, name: str) -> object:
        if name == "formula":
            raise FormulaRead(object.__getattribute__(self, "_claim").id)
        return getattr(object.__getattribute__(self, "_claim"), name)


class _Unread(Exception):
    """A judge returned a verdict without reading the formula."""


def reads_formula(check: Check, ctx: Context, claim: object) -> bool:
    """Whether the judge of ``check`` reads ``claim.formula``: the check runs on a :class:`FormulaSpy` and
    stops at the first read (yes) or at the first judgement that is not ``not-applicable`` made without one
    (no) -- a judge is one pure function of (claim, draw, data): one draw's judgement answers for all."""

    def judge(c: object, draw: object, data: object) -> Measurement:
        m = check.judge(c, draw, data)
        if m.status is not Status.NOT_APPLICABLE:
            raise _Unread(check.claim_id)
        return m

    try:
        dataclasses.replace(check, judge=judge)(ctx, FormulaSpy(claim))
    except FormulaRead:
        return True
    except _Unread:
        return False
    return False
