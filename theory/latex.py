"""LaTeX printing in the papers' notation, from the same SymPy objects that are evaluated.

Each paper has a symbol-name map (:data:`NOTATION`: SymPy symbol name -> LaTeX); :func:`claim_latex`
prints a claim's formula with it, in the paper's term order (a claim's ``symbols`` tuple, or its
``latex_order`` extra, lists symbol names in the order the paper writes them; see
:mod:`twostage.theory.latex_printer`). :func:`render_claims` is what ``twostage latex`` prints: per
claim its reference ("Thm 1, eq. (11)"), provenance (an erratum says what was corrected), statement
and formula.

>>> import sympy as sp
>>> from twostage.theory.latex import to_latex
>>> E, t, T = sp.symbols("E t T_star")
>>> to_latex(sp.Le(E, (T - t) ** -3), "chen-luo-2025")
'E \\\\leq \\\\frac{1}{\\\\left(T^{*} - t\\\\right)^{3}}'
>>> E0 = sp.Symbol("E0")
>>> to_latex(sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3), "chen-luo-2025", order=["E", "E0", "t"])
'E \\\\geq \\\\frac{1}{\\\\left(E(0)^{-1/3} - t\\\\right)^{3}}'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sympy as sp

from twostage.theory.latex_printer import paper_latex
from twostage.theory.latex_statements import DOLLAR as _DOLLAR
from twostage.theory.latex_statements import note_text, statement_text
from twostage.theory.latex_statements import split_raw as _split_math

NOTATION: dict[str, dict[str, str]] = {
    "chen-luo-2025": {
        "T_star": "T^{*}",
        "tbar": r"\bar t",
        "Tbar_star": r"\bar T^{*}",
        "E0": "E(0)",
        "E_t0": "E(t_0)",
        "t0": "t_0",
        "eps": r"\varepsilon",
        "Z_norm": r"\|Z\|_2",
        "t_esc": r"t_{\mathrm{esc}}",
        "lam": r"\lambda",
        "Wv_sq": r"\|W_v\|_2^2",
        "W2_sq": r"\|W^{[2]}\|_2^2",
        "W1_sq": r"\|W^{[1]}\|_F^2",
        "dWv_sq": r"\|\dot W_v\|_2^2",
        "dW2_sq": r"\|\dot W^{[2]}\|_2^2",
        "Edot": r"\dot E",
        "sigma1": r"\sigma_1",
        "sigma2": r"\sigma_2",
        # stage-1 theory layer (theory/chen_luo/{prop1,effective,conservation,nondegeneracy,blowup}.py)
        "x0": "x_0",
        "L0": r"\mathcal L_0",
        "L3": r"\mathcal L_3",
        "L4": r"\mathcal L_4",
        "L5": r"\mathcal L_5",
        "L_k": r"\mathcal L_k",
        "theta_bar": r"\bar\theta",
        "Ev": r"v\bar W_V\bar W^{[1]}\bar W^{[2]}",
        "ip_dWv_Wv": r"\langle\dot W_v,W_v\rangle",
        "ip_dW2_W2": r"\langle\dot W^{[2]},W^{[2]}\rangle",
        "P_3": r"W_vW^{[1]}W^{[1]\top}W^{[1]}W^{[2]}",
        "D1": "D_1",
        "D2": "D_2",
        "Tbar_star_lam": r"\bar T^{*}(\lambda\bar\theta_0)",
        "m_t0": "m(t_0)",
        "err": r"\mathrm{err}",
        "C_err": "C",
        "dQ_rel": r"\frac{\|W_Q(\bar t)-W_Q(0)\|_F}{\|W_Q(0)\|_F}",
        "C_Q": "C_Q",
        # condensation (theory/chen_luo/condensation*.py)
        "t_ass1": "t_{A}",
        "frac_ass1": r"\min\left(\tfrac{|A_1|}{d_m},\tfrac{|A_2|}{d_m^2}\right)",
        "cos_col": r"\cos\angle(W_V^{\,k},v^\top)",
        "W_vk": "W_{v,k}",
        "P_k_sq": r"\|((I-v^\top v)W_V(0))^{k}\|_2^2",
        "cos_xi": r"\cos\xi_{ij}",
        "W_vi": "W_{v,i}",
        "W_vj": "W_{v,j}",
        "K_ij": "K_{ij}",
        "K_ii": "K_{ii}",
        "K_jj": "K_{jj}",
        "cos_psi": r"\cos\psi_i",
        "cos_phi": r"\cos\varphi_i",
        "cos_zeta": r"\cos\zeta",
        "dW2_norm": r"\|\dot W^{[2]}\|_2",
        "sigma2_W1": r"\sigma_2(W^{[1]})",
        "sigma2_WV": r"\sigma_2(W_V)",
        "lam_max_K0": r"\lambda_{\max}\left(W^{[1]}(0)W^{[1]}(0)^\top-W_v(0)^\top W_v(0)\right)",
        "P_norm2": r"\|(I-v^\top v)W_V(0)\|_2",
        "srank_WV": r"\operatorname{srank}(W_V)",
        "srank_W1": r"\operatorname{srank}(W^{[1]})",
    },
    "gong-2025": {
        "gamma0": r"\gamma_0",
        "zeta": r"\zeta",
        "eta1": r"\eta_1",
        "eta2": r"\eta_2",
        "sigma0": r"\sigma_0",
        "eps_W": r"\epsilon_W",
        "eps_W1": r"\epsilon_{W,1}",
    },
}


PROVENANCE_LABEL = {
    "paper": "paper",
    "erratum": "erratum-corrected",
    "derived": "derived (not stated in the paper)",
    "reconstructed": "reconstructed (not retrievable; our best reconstruction)",
    "earlier-version": "quoted from an earlier version",
}


def symbol_names(expr: sp.Basic, paper: str) -> dict[sp.Symbol, str]:
    table = NOTATION.get(paper, {})
    return {s: table[s.name] for s in expr.free_symbols if isinstance(s, sp.Symbol) and s.name in table}


def to_latex(expr: sp.Basic, paper: str, order: Sequence[str] | None = None) -> str:
    """``expr`` in ``paper``'s notation; ``order`` lists symbol names in the paper's order (default:
    the order of the paper's notation map), which fixes the order of terms and factors."""
    hint = list(order or ()) + list(NOTATION.get(paper, {}))
    return paper_latex(expr, symbol_names(expr, paper), hint)


def claim_order(claim) -> list[str]:  # noqa: ANN001
    """Term-order hint of a claim: its ``latex_order`` extra, else its ``symbols`` in listed order."""
    explicit = claim.get("latex_order")
    if explicit:
        return [str(s) for s in explicit]
    return [name for name, _ in claim.symbols]


def claim_latex(claim) -> str:  # noqa: ANN001 (Claim; avoid an import cycle in doctests)
    """LaTeX of a claim's formula, or an empty string for claims without one."""
    if claim.formula is None:
        return ""
    return to_latex(claim.formula, claim.paper, claim_order(claim))


def claim_label(claim) -> str:  # noqa: ANN001
    """``chen-luo-2025 Thm 1, eq. (11) [paper]`` -- reference and provenance in one line of text."""
    prov = PROVENANCE_LABEL.get(claim.provenance.value, claim.provenance.value)
    return f"{claim.paper} {claim.ref} [{prov}]"


def render_claim(claim) -> str:  # noqa: ANN001
    """One claim: labelled paragraph (reference, provenance, id), statement, display, note."""
    prov = PROVENANCE_LABEL.get(claim.provenance.value, claim.provenance.value)
    lines = [f"% {claim.id}",
             rf"\paragraph{{{escape_text(claim.ref)}}} \textnormal{{[{escape_text(prov)}]}}"
             rf" \texttt{{\small {escape_text(claim.id)}}}\par",
             escape_text(statement_text(claim))]
    body = claim_latex(claim)
    if body:
        lines += [r"\[", body, r"\]"]
    if claim.note:
        what = "Corrected" if claim.provenance.value == "erratum" else "Note"
        lines.append(rf"\textit{{{what}: {escape_text(note_text(claim))}}}")
    return "\n".join(lines) + "\n"


def render_claims(claims) -> str:  # noqa: ANN001
    """A LaTeX fragment: one labelled display per claim, with reference and provenance, grouped by
    paper (``\\subsection*`` per paper)."""
    lines = ["% generated by `twostage latex` from the SymPy objects the verifier evaluates", ""]
    paper = None
    for c in claims:
        if c.paper != paper:
            paper = c.paper
            lines += [rf"\subsection*{{{escape_text(paper)}}}", ""]
        lines.append(render_claim(c))
    return "\n".join(lines)


_TEXT_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
_UNICODE = {
    "≥": r"\geq", "≤": r"\leq", "≠": r"\neq", "≈": r"\approx", "→": r"\to", "←": r"\leftarrow",
    "⇒": r"\Rightarrow", "∞": r"\infty", "∝": r"\propto", "·": r"\cdot", "×": r"\times", "−": "-",
    "‖": r"\|", "∈": r"\in", "∑": r"\sum", "√": r"\surd", "∂": r"\partial", "∇": r"\nabla",
    "±": r"\pm", "ε": r"\varepsilon", "ϵ": r"\epsilon", "θ": r"\theta", "ϑ": r"\vartheta", "φ": r"\varphi",
    "ϕ": r"\phi", "≡": r"\equiv", "⊥": r"\perp", "∘": r"\circ", "⊗": r"\otimes", "ℓ": r"\ell",
}


def _unicode(ch: str) -> str | None:
    if ch in _UNICODE:
        return _UNICODE[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        word = name.rsplit(" ", 1)[-1].lower()
        word = {"lamda": "lambda"}.get(word, word)
        if "CAPITAL" in name:
            word = word.capitalize()
            return "\\" + word if word in _CAPITAL_GREEK else word[0]
        return "\\" + word if word != "omicron" else "o"
    return None


_CAPITAL_GREEK = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}


def escape_text(text: str) -> str:
    """Plain text (with inline ``$...$`` math) to LaTeX that compiles with pdflatex.

    Outside math, LaTeX specials are escaped; unicode math symbols become ``\\ensuremath{...}``
    everywhere; other non-ASCII characters outside Latin-1 become ``?``.

    >>> escape_text("E(t) ≥ bound for t_esc & 5% of runs, $\\\\bar t_0$")
    'E(t) \\\\ensuremath{\\\\geq} bound for t\\\\_esc \\\\& 5\\\\% of runs, $\\\\bar t_0$'
    """
    out = []
    for k, seg in enumerate(_split_math(text)):
        in_math = k % 2 == 1
        chars = []
        for ch in seg:
            if ch == _DOLLAR:
                chars.append(r"\$")
            elif not in_math and ch in _TEXT_SPECIAL:
                chars.append(_TEXT_SPECIAL[ch])
            elif ord(ch) < 128:
                chars.append(ch)
            elif (m := _unicode(ch)) is not None:
                chars.append(rf"\ensuremath{{{m}}}" if not in_math else m + " ")
            elif ord(ch) < 256 and not in_math:
                chars.append(ch)
            else:
                chars.append("?")
        out.append(("$" + "".join(chars) + "$") if in_math else "".join(chars))
    return "".join(out)


def _escape(text: str) -> str:  # kept for callers of the first version
    return escape_text(text)
