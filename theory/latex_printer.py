"""A SymPy LaTeX printer that writes formulas the way the papers do.

SymPy orders the terms of a sum and the factors of a product canonically, and writes ``x**(-1/3)``
as ``\\frac{1}{\\sqrt[3]{x}}``. The papers write ``E(0)^{-1/3} - t`` (chen-luo-2025 Thm 1, eq. (11))
and ``\\|\\dot W_v\\|_2^2 - \\|\\dot W^{[2]}\\|_2^2 + \\min(...)(...)`` (Def. 4, eq. (10)). This printer
takes an *order hint* -- symbol names in the order the paper introduces them (a claim's ``symbols``
tuple, or its ``latex_order`` extra) -- and

* orders the terms of every sum by the earliest hinted symbol they contain, positive terms before
  negative ones on ties, constants last (or where the hint names ``"1"``), and never starts a sum
  with a minus sign when it has a positive term (``T^* - t``, not ``- t + T^*``);
* orders the factors of a plain product (no denominator, coefficient +-1; constants such as
  ``\\pi`` first) and the arguments of ``Min``/``Max`` the same way;
* prints fractional powers other than square roots inline: ``x^{-1/3}``, ``x^{4/3}``, ``\\pi^{5/2}``.

The printed formula is the same SymPy object, only its written order differs; ``tests/theory/test_latex.py``
parses every emitted expression back and compares it numerically with the source.

>>> import sympy as sp
>>> E0, t = sp.symbols("E0 t")
>>> PaperLatexPrinter(order_hint=["E0", "t"]).doprint(E0 ** sp.Rational(-1, 3) - t)
'E_{0}^{-1/3} - t'
>>> sp.latex(E0 ** sp.Rational(-1, 3) - t)
'- t + \\\\frac{1}{\\\\sqrt[3]{E_{0}}}'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

AND_SEPARATOR = r", \qquad "


class PaperLatexPrinter(LatexPrinter):
    """LaTeX printer with paper term order (see module docstring)."""

    def __init__(self, settings: dict | None = None, order_hint: Sequence[str] = ()) -> None:
        super().__init__(settings or {})
        self._rank = {}
        for name in order_hint:
            self._rank.setdefault(str(name), len(self._rank))

    # -- ordering ---------------------------------------------------------------------------
    def _pos(self, e: sp.Basic, constants_first: bool = False) -> tuple[float, ...]:
        """Sort key: the hint ranks of ``e``'s symbols, ascending (unhinted ones rank after all
        hinted ones), so that on a tie of the earliest symbol the term with more early symbols wins."""
        syms = [s for s in e.free_symbols if isinstance(s, sp.Symbol)]
        if not syms:
            return (-1,) if constants_first else (self._rank.get("1", math.inf),)
        ranks = sorted(self._rank.get(s.name, len(self._rank)) for s in syms)
        return (*ranks, math.inf)

    def _hint_sorted(self, items: Sequence[sp.Basic], signs: bool) -> list[sp.Basic]:
        keyed = [(self._pos(x, constants_first=not signs), bool(signs and x.could_extract_minus_sign()),
                  _is_sum(x), i, x)
                 for i, x in enumerate(items)]
        return [k[-1] for k in sorted(keyed, key=lambda k: k[:4])]

    def _as_ordered_terms(self, expr, order=None):  # noqa: ANN001 (SymPy's signature)
        terms = super()._as_ordered_terms(expr, order=order)
        if not isinstance(expr, sp.Add):
            return terms
        terms = self._hint_sorted(list(terms), signs=True)
        first_pos = next((k for k, x in enumerate(terms) if not x.could_extract_minus_sign()), 0)
        return [terms[first_pos]] + terms[:first_pos] + terms[first_pos + 1:]  # never lead with a minus

    def _print_Mul(self, expr: sp.Mul) -> str:
        coeff, rest = expr.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        plain = (coeff in (1, -1) and len(factors) > 1 and all(f.is_commutative for f in factors)
                 and not any(f.is_Pow and f.exp.is_negative for f in factors)
                 and not any(f.is_Rational for f in factors))
        if not plain or not self._rank:
            return super()._print_Mul(expr)
        ordered = self._hint_sorted(list(rest.as_ordered_factors()), signs=False)
        parts = []
        for i, f in enumerate(ordered):
            tex = self._print(f)
            if self._needs_mul_brackets(f, first=(i == 0), last=(i == len(ordered) - 1)):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        return ("- " if coeff == -1 else "") + self._settings["mul_symbol_latex"].join(parts)

    def _print_MinMax(self, expr: sp.Basic, name: str) -> str:
        args = self._hint_sorted(list(expr.args), signs=False) if self._rank else list(expr.args)
        inner = ", ".join(self._print(a) for a in args)
        return rf"\{name}\left({inner}\right)"

    def _print_Min(self, expr: sp.Min, exp: str | None = None) -> str:
        tex = self._print_MinMax(expr, "min")
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_Max(self, expr: sp.Max, exp: str | None = None) -> str:
        tex = self._print_MinMax(expr, "max")
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_And(self, expr: sp.And) -> str:
        """A conjunction as the papers write several relations: ``a = b, \\qquad c = d``."""
        args = self._hint_sorted(list(expr.args), signs=False) if self._rank else list(expr.args)
        return AND_SEPARATOR.join(self._print(a) for a in args)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        """``{W_{v}{}}_{i}``: the empty group keeps TeX from reading a sub/superscripted (or accented)
        base and the index (or a power) as a double sub/superscript."""
        base = self._print(expr.base)
        pad = "" if base.isalpha() else "{}"
        return "{" + base + pad + "}_{" + ",".join(self._print(i) for i in expr.indices) + "}"

    # -- powers -----------------------------------------------------------------------------
    def _print_Pow(self, expr: sp.Pow) -> str:
        e = expr.exp
        if e.is_Rational and e.q != 1 and (e.q, abs(e.p)) != (2, 1) and not expr.base.is_Function:
            base = self.parenthesize(expr.base, PRECEDENCE["Pow"])
            if expr.base.is_Symbol:
                base = self.parenthesize_super(base)
            return f"{base}^{{{e.p}/{e.q}}}"
        return super()._print_Pow(expr)


def _is_sum(x: sp.Basic) -> bool:
    """Parenthesised sums go after other factors on ties: ``\\min(a, b) (a - b)``, ``C^{-3} (T - t)^{-3}``."""
    return bool(x.is_Add or (x.is_Pow and x.base.is_Add))


def paper_latex(expr: sp.Basic, symbol_names: dict | None = None, order_hint: Sequence[str] = ()) -> str:
    """Print ``expr`` with :class:`PaperLatexPrinter`.

    >>> x, y = sp.symbols("x y")
    >>> paper_latex(sp.Ge(x, y ** sp.Rational(4, 3)), {x: r"\\dot E"}, ["x", "y"])
    '\\\\dot E \\\\geq y^{4/3}'
    """
    return PaperLatexPrinter({"symbol_names": dict(symbol_names or {})}, order_hint=order_hint).doprint(expr)
