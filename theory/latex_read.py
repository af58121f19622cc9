"""Read LaTeX printed by :mod:`twostage.theory.latex` back into SymPy, with an explicit symbol table.

Used by the tests to check that every emitted formula means what its source object means. The
papers' notation (``W^{[1]}``, ``\\bar t``, ``\\|\\dot W_v\\|_2^2``, ``E(0)``) is not LaTeX that a
generic parser understands, so each symbol's printed form is first replaced by a placeholder
(longest first, never inside a control word such as ``\\left``), then ``sympy.parsing.latex``
(ANTLR backend, ``antlr4-python3-runtime`` 4.11 for SymPy >= 1.12) parses the rest, and the
placeholders are mapped back to the symbols.

>>> import sympy as sp
>>> E, E0, t = sp.symbols("E E0 t")
>>> table = {"E": E, "E(0)": E0, "t": t}
>>> parse_back(r"E \\geq \\frac{1}{\\left(E(0)^{-1/3} - t\\right)^{3}}", table) == sp.Ge(
...     E, (E0 ** sp.Rational(-1, 3) - t) ** -3)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.core.function import AppliedUndef


class LatexReadError(ValueError):
    pass


def symbol_table(expr: sp.Basic, names: Mapping[sp.Symbol, str]) -> dict[str, sp.Symbol]:
    """Printed form -> symbol for every free symbol of ``expr`` (``names`` overrides SymPy's)."""
    table: dict[str, sp.Symbol] = {}
    for s in expr.free_symbols:
        if not isinstance(s, sp.Symbol):
            continue
        tex = names.get(s) or sp.latex(s)
        if tex in table and table[tex] != s:
            raise LatexReadError(f"two symbols print as {tex!r}: {table[tex]} and {s}")
        table[tex] = s
    return table


def _pattern(tex: str) -> str:
    pat = re.escape(tex)
    if tex[0].isalpha():
        pat = r"(?<![A-Za-z\\])" + pat
    if tex[-1].isalpha():
        pat = pat + r"(?![A-Za-z])"
    return pat


def _normalise(tex: str) -> str:
    """Forms the ANTLR grammar does not accept, rewritten into ones it does."""
    tex = tex.replace(r"\left|{", "|").replace(r"}\right|", "|")
    return tex.replace(r"\left|", "|").replace(r"\right|", "|")


def parse_back(tex: str, table: Mapping[str, sp.Basic]) -> sp.Basic:
    """Parse ``tex`` with the printed-form -> symbol ``table`` (raises :class:`LatexReadError`)."""
    try:
        from sympy.parsing.latex import parse_latex
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LatexReadError(f"sympy.parsing.latex unavailable: {exc}") from None
    keys = sorted(table, key=len, reverse=True)
    holders = {f"z_{{{i}}}": table[k] for i, k in enumerate(keys)}
    by_key = {k: f"z_{{{i}}}" for i, k in enumerate(keys)}
    if keys:
        rx = re.compile("|".join(_pattern(k) for k in keys))
        text = rx.sub(lambda m: " " + by_key[m.group(0)] + " ", _normalise(tex))
        # a placeholder before a parenthesis is a product, not a function application
        text = re.sub(r"(z_\{\d+\})\s*(?=\\left\(|\()", r"\1 \\cdot ", text)
    else:
        text = _normalise(tex)
    try:
        parsed = parse_latex(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises several types
        raise LatexReadError(f"cannot parse {text!r}: {type(exc).__name__}") from None
    subs = {sp.Symbol(h): s for h, s in holders.items()}
    if sp.Symbol("e") not in subs:
        subs[sp.Symbol("e")] = sp.E
    out = parsed.xreplace(subs)
    funcs = {"max": sp.Max, "min": sp.Min}
    out = out.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in funcs,
                      lambda e: funcs[e.func.__name__](*e.args))
    return _evaluated(out)


def _evaluated(e: sp.Basic) -> sp.Basic:
    """Rebuild bottom-up with evaluation on (the parser leaves ``-1/3`` as ``Mul(-1, 1/3)``)."""
    if e.is_Atom or not e.args:
        return e
    return e.func(*[_evaluated(a) for a in e.args])
