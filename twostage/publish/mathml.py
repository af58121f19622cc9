r"""Math for the HTML report: LaTeX to presentation MathML, rendered by the browser itself (no script, no
network at view time; Chromium, Firefox and Safari draw MathML natively).

The report shows the very LaTeX that the PDF and ``twostage latex`` print -- a claim's formula from
:func:`twostage.theory.latex.claim_latex` (the paper's notation) and the inline ``$...$`` of statements,
notes and assumptions (:func:`twostage.theory.latex_statements.statement_text`, which also marks the
ASCII math of the gong-2025 statements) -- converted to MathML by ``latex2mathml``. MathML Core has no
``mathvariant`` other than ``normal``, so script, double-struck, bold and fraktur letters are written as
the Unicode mathematical alphanumeric characters instead; ``|`` and ``/`` get TeX's (zero) spacing.

>>> to_mathml(r"T_{\mathcal P} < T_{\mathcal Q}").count("\U0001d4ab")
1
>>> rich_text(r"if $E(0)>0$ & more")[:8], "<math" in rich_text("if $E(0)>0$")
('if <math', True)
>>> rich_text("no math: 5 < 6")
'no math: 5 &lt; 6'
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from twostage.theory.latex_printer import AND_SEPARATOR
from twostage.theory.latex_statements import split_math

_SCRIPT_EXC = {"B": 0x212C, "E": 0x2130, "F": 0x2131, "H": 0x210B, "I": 0x2110, "L": 0x2112, "M": 0x2133,
               "R": 0x211B, "e": 0x212F, "g": 0x210A, "o": 0x2134}
_DOUBLE_EXC = {"C": 0x2102, "H": 0x210D, "N": 0x2115, "P": 0x2119, "Q": 0x211A, "R": 0x211D, "Z": 0x2124}
_FRAKTUR_EXC = {"C": 0x212D, "H": 0x210C, "I": 0x2111, "R": 0x211C, "Z": 0x2128}
_ALPHA_BASE = {  # mathvariant -> (capital A, small a) code points, exceptions
    "script": (0x1D49C, 0x1D4B6, _SCRIPT_EXC),
    "double-struck": (0x1D538, 0x1D552, _DOUBLE_EXC),
    "bold": (0x1D400, 0x1D41A, {}),
    "fraktur": (0x1D504, 0x1D51E, _FRAKTUR_EXC),
}
_VARIANT = re.compile(r'<mi mathvariant="(script|double-struck|bold|fraktur)">([A-Za-z0-9]+)</mi>')


def _styled(variant: str, text: str) -> str:
    cap, small, exc = _ALPHA_BASE[variant]
    out = []
    for ch in text:
        if ch in exc:
            out.append(chr(exc[ch]))
        elif "A" <= ch <= "Z":
            out.append(chr(cap + ord(ch) - ord("A")))
        elif "a" <= ch <= "z":
            out.append(chr(small + ord(ch) - ord("a")))
        elif ch.isdigit() and variant == "bold":
            out.append(chr(0x1D7CE + int(ch)))
        elif ch.isdigit() and variant == "double-struck":
            out.append(chr(0x1D7D8 + int(ch)))
        else:
            out.append(ch)
    return "".join(out)


_TIGHT = {  # operators TeX sets without space (ordinary symbols), which MathML spaces as relations
    '<mo stretchy="false">&#x0007C;</mo>': '<mo stretchy="false" lspace="0" rspace="0">&#x0007C;</mo>',
    "<mo>&#x0002F;</mo>": '<mo lspace="0" rspace="0">&#x0002F;</mo>',
    '<mo stretchy="true">&#x000AF;</mo>': '<mo stretchy="false">&#x000AF;</mo>',  # a bar accent, not a rule
}


def _core(mathml: str) -> str:
    """Rewrite what MathML Core does not render as TeX does: styled letters (``\\mathcal`` and friends),
    spacing around ``|`` and ``/``, and accent bars drawn as stretchy rules."""
    mathml = _VARIANT.sub(lambda m: f"<mi>{_styled(m.group(1), m.group(2))}</mi>", mathml)
    for old, new in _TIGHT.items():
        mathml = mathml.replace(old, new)
    return mathml


@lru_cache(maxsize=4096)
def to_mathml(tex: str, display: bool = False) -> str:
    """One ``<math>`` element for ``tex`` (``display`` = block), its LaTeX kept as ``alttext``."""
    from latex2mathml.converter import convert

    tex = tex.strip()
    out = _core(convert(tex, display="block" if display else "inline"))
    return out.replace("<math ", f'<math alttext="{html.escape(tex)}" ', 1)


def display_math(tex: str) -> str:
    """A displayed formula; a conjunction printed as ``a, \\qquad b`` becomes one line per relation, so
    that long statements wrap instead of running off the page."""
    parts = [p for p in tex.split(AND_SEPARATOR) if p.strip()] or [tex]
    return "".join(f'<div class="display">{to_mathml(p, display=True)}</div>' for p in parts)


def rich_text(text: str) -> str:
    """Prose with inline ``$...$`` math as escaped HTML with ``<math>`` elements."""
    out = []
    for is_math, seg in split_math(text or ""):
        out.append(to_mathml(seg) if is_math else html.escape(seg, quote=False))
    return "".join(out)
