"""Read LaTeX printed by :mod:`twostage.theory.latex` back into SymPy, with an explicit symbol table.

Used by the tests to check that every emitted formula means what its source object means. The
papers' notation (``W^{[1]}``, ``\\bar t``, ``\\|\\dot W_v\\|_2^2``, ``E(0)``) is not LaTeX that a
generic parser understands, so the printed form of each symbol and indexed object is first replaced
by a placeholder (longest first, never inside a control word such as ``\\left``), then
``sympy.parsing.latex`` (ANTLR backend, ``antlr4-python3-runtime`` 4.11 for SymPy >= 1.12) parses
the rest, and the placeholders are mapped back. Placeholders are Greek-letter commands while they
last (so that ``\\frac{d}{d\\alpha}`` parses as a derivative), then ``z_{k}``.

>>> import sympy as sp
>>> E, E0, t = sp.symbols("E E0 t")
>>> table = {"E": E, "E(0)": E0, "t": t}
>>> parse_back(r"E \\geq \\frac{1}{\\left(E(0)^{-1/3} - t\\right)^{3}}", table) == sp.Ge(
...     E, (E0 ** sp.Rational(-1, 3) - t) ** -3)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef

from twostage.errors import LatexReadError
from twostage.theory.latex_printer import AND_SEPARATOR, paper_latex

_GREEK = ("alpha", "beta", "gamma", "delta", "zeta", "eta", "theta", "iota", "kappa", "mu", "nu", "xi", "rho",
          "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")


def symbol_table(expr: sp.Basic, names: Mapping[sp.Symbol, str],
                 printer: Callable[[sp.Basic], str] | None = None) -> dict[str, sp.Basic]:
    """Printed form -> object for every symbol (free or bound) and ``Indexed`` of ``expr``.

    ``names`` maps symbols to their notation; ``printer`` prints an object as the claim printer
    does (default: :func:`twostage.theory.latex_printer.paper_latex` with ``names``).
    """
    show = printer or (lambda e: paper_latex(e, names))
    table: dict[str, sp.Basic] = {}
    objs = [s for s in expr.atoms(sp.Symbol)] + list(expr.atoms(sp.Indexed))
    for s in objs:
        tex = names.get(s) if isinstance(s, sp.Symbol) and s in names else show(s)
        if tex in table and table[tex] != s:
            raise LatexReadError(f"two objects print as {tex!r}: {table[tex]} and {s}")
        table[tex] = s
    return table


def _pattern(tex: str) -> str:
    pat = re.escape(tex)
    if tex[0].isalpha():
        pat = r"(?<![A-Za-z\\])" + pat
    if tex[-1].isalpha():
        pat = pat + r"(?![A-Za-z])"
    return pat


def _unbrace_function_args(tex: str) -> str:
    """``\\sinh{\\left(x\\right)} V`` -> ``\\sinh\\left(x\\right) V``: SymPy braces a function's
    argument, and the grammar then reads ``\\sinh{..} V`` as ``sinh(.. V)``."""
    out, i = [], 0
    for m in re.finditer(rf"\\(?:{'|'.join(_FUNCS)})\{{(?=\\left\()", tex):
        if m.start() < i:
            continue
        j = _closing(tex, m.end() - 1, "{", "}")
        inner = tex[m.end():j]
        if j < len(tex) and _closing(inner, 0, r"\left(", r"\right)") == len(inner) - len(r"\right)"):
            out += [tex[i:m.end() - 1], inner]  # the brace held exactly one \left( ... \right) group
            i = j + 1
    return "".join(out) + tex[i:]


_FUNCS = ("sin", "cos", "tan", "sinh", "cosh", "tanh", "log", "ln", "exp", "operatorname{[A-Za-z]+}",
          "arcsin", "arccos", "arctan", "asinh", "acosh", "atanh")


def _closing(tex: str, start: int, open_: str, close: str) -> int:
    """Index of the ``close`` token matching the ``open_`` token at ``start`` (``len(tex)`` if none)."""
    depth, j = 0, start
    while j < len(tex):
        if tex.startswith(open_, j):
            depth, j = depth + 1, j + len(open_)
            continue
        if tex.startswith(close, j):
            depth -= 1
            if depth == 0:
                return j
            j += len(close)
            continue
        j += 1
    return len(tex)


_RELATIONS = {r"\geq": sp.GreaterThan, r"\leq": sp.LessThan, r"\neq": sp.Unequality, "=": sp.Equality,
              "<": sp.StrictLessThan, ">": sp.StrictGreaterThan}


def _split_relation(tex: str) -> tuple[str, type, str] | None:
    """``(lhs, relation class, rhs)`` when ``tex`` has exactly one relation at the top level."""
    found, depth, j = [], 0, 0
    while j < len(tex):
        if tex.startswith(r"\left", j) and j + 5 < len(tex) and not tex[j + 5].isalpha():
            depth, j = depth + 1, j + 6
            continue
        if tex.startswith(r"\right", j) and j + 6 < len(tex) and not tex[j + 6].isalpha():
            depth, j = depth - 1, j + 7
            continue
        ch = tex[j]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            for op, cls in _RELATIONS.items():
                after = tex[j + len(op):j + len(op) + 1]
                if tex.startswith(op, j) and not (op[0] == "\\" and after.isalpha()):
                    found.append((j, op, cls))
                    j += len(op) - 1
                    break
        j += 1
    if len(found) != 1:
        return None
    at, op, cls = found[0]
    return tex[:at], cls, tex[at + len(op):]


def _normalise(tex: str) -> str:
    """Forms the ANTLR grammar does not accept, rewritten into ones it does."""
    tex = tex.replace(r"\left|{", "|").replace(r"}\right|", "|")
    tex = tex.replace(r"\left|", "|").replace(r"\right|", "|")
    tex = re.sub(r"\\,\s*d(?=[A-Za-z\\])", r"\\, d ", tex)  # integral differentials: d m -> d <placeholder>
    return _unbrace_function_args(tex)


def _placeholders(n: int, tex: str) -> list[tuple[str, sp.Symbol]]:
    """``n`` placeholders: Greek commands that ``tex`` does not use, then ``z_{k}``."""
    free = [g for g in _GREEK if not re.search(rf"\\{g}(?![A-Za-z])", tex)]
    out = [(f"\\{g}", sp.Symbol(g)) for g in free[:n]]
    out += [(f"z_{{{k}}}", sp.Symbol(f"z_{{{k}}}")) for k in range(n - len(out))]
    return out


def parse_back(tex: str, table: Mapping[str, sp.Basic]) -> sp.Basic:
    """Parse ``tex`` with the printed-form -> object ``table`` (raises :class:`LatexReadError`).

    Several relations separated by ``, \\qquad`` (how the printer writes ``And``) give an ``And``.
    """
    if AND_SEPARATOR in tex:
        return sp.And(*[parse_back(part, table) for part in tex.split(AND_SEPARATOR)])
    rel = _split_relation(tex)
    if rel is not None:  # sides parsed apart: the grammar would evaluate T < oo to True
        lhs, cls, rhs = rel
        return cls(parse_back(lhs, table), parse_back(rhs, table), evaluate=False)
    try:
        from sympy.parsing.latex import parse_latex
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LatexReadError(f"sympy.parsing.latex unavailable: {exc}") from None
    keys = sorted(table, key=len, reverse=True)
    holders = _placeholders(len(keys), tex)
    by_key = {k: holders[i][0] for i, k in enumerate(keys)}
    text = _normalise(tex)
    if keys:
        rx = re.compile("|".join(_pattern(k) for k in keys))
        text = rx.sub(lambda m: " " + by_key[m.group(0)] + " ", text)
        # a placeholder before a parenthesis is a product, not a function application
        ph = "|".join(re.escape(h) for h, _ in holders)
        text = re.sub(rf"({ph})\s*(?=\\left\(|\()", r"\1 \\cdot ", text)
    try:
        parsed = parse_latex(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises several types
        raise LatexReadError(f"cannot parse {text!r}: {type(exc).__name__}") from None
    subs = {sym: table[k] for k, (_, sym) in zip(keys, holders)}
    for name, const in (("e", sp.E), ("pi", sp.pi)):  # the parser reads e and \pi as symbols
        subs.setdefault(sp.Symbol(name), const)
    out = parsed.xreplace(subs)
    funcs: dict[str, Callable] = {"max": sp.Max, "min": sp.Min, "O": sp.Order}
    if r"\theta" not in table:  # SymPy prints Heaviside(x, h0) as \theta(x, h0)
        funcs["theta"] = sp.Heaviside
    out = out.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in funcs,
                      lambda e: funcs[e.func.__name__](*e.args))
    return _evaluated(out)


def _evaluated(e: sp.Basic) -> sp.Basic:
    """Rebuild bottom-up with evaluation on (the parser leaves ``-1/3`` as ``Mul(-1, 1/3)``)."""
    if e.is_Atom or not e.args:
        return e
    args = [_evaluated(a) for a in e.args]
    if isinstance(e, sp.core.relational.Relational):  # keep T < oo a relation, as the claim wrote it
        return e.func(*args, evaluate=False)
    return e.func(*args)
