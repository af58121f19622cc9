"""LaTeX text of ``paper/generated/``: macros, claim displays, verdict tables (``twostage paper``).

Every claim gets a letters-only key (:func:`macro_key`: ``chen-luo-2025/thm1/riccati-lower`` ->
``CLThmOneRiccatiLower``) and macros built from it:

* ``\\twBound<Key>``  -- the claim's formula in the paper's notation (math mode), printed from the
  very SymPy object the verifier evaluates (:func:`twostage.theory.latex.claim_latex`);
* ``\\twStatus<Key>``, ``\\twMargin<Key>``, ``\\twExamples<Key>`` -- from ``results/verdicts.json``
  (``never run`` / ``--`` when there is no verdict: nothing is made up);
* ``\\twMeasured<Key>``, ``\\twAtBound<Key>`` -- the worst case's measured value and bound, when
  the verdict recorded them.

``\\twclaim{<claim id>}{Status}`` reaches the same macros by claim id (``\\csname``).

A formula that is a conjunction has its relations joined by ``\\twand`` (``, \\qquad`` in running text);
the claims' displays use ``\\twdisplay``, which sets one relation per line and scales a line wider than
the text block down to its width, so no display runs off the page (:data:`DISPLAY_MACROS`). Statements
and notes are printed with their ASCII math marked as math (:mod:`twostage.theory.latex_statements`).

>>> macro_key("chen-luo-2025/thm1/riccati-lower")
'CLThmOneRiccatiLower'
>>> macro_key("gong-2025/stage/t_1-bound")
'GOStageTOneBound'
>>> fmt_number(-3.2e-5), fmt_number(0.25), fmt_number(None)
('\\\\ensuremath{-3.2\\\\times 10^{-5}}', '\\\\ensuremath{0.25}', '--')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from twostage.errors import MacroNameError
from twostage.theory.latex import PROVENANCE_LABEL, claim_latex, escape_text
from twostage.theory.latex_printer import AND_SEPARATOR
from twostage.theory.latex_statements import note_text, statement_text

PAPER_ABBR = {"chen-luo-2025": "CL", "gong-2025": "GO"}
PAPER_TITLE = {
    "chen-luo-2025": "Chen \\& Luo (2025): From Condensation to Rank Collapse",
    "gong-2025": "Gong, Li, Liu \\& Teng (2025): Disentangling Feature Structure",
}
_DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
FIELDS = ("Bound", "Status", "Margin", "Examples", "Measured", "AtBound")
NEVER_RUN = "never run"
DISPLAY_MACROS = (
    r"\providecommand{\twand}{,\qquad}",
    r"\ifdefined\twbox\else\newsavebox{\twbox}\fi",
    r"\providecommand{\twdisplay}[1]{\par\smallskip{\def\twand{,\\}%",
    r"  \sbox{\twbox}{$\displaystyle\begin{gathered}#1\end{gathered}$}\noindent\makebox[\linewidth]{%",
    r"  \ifdim\wd\twbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\twbox}}\else\usebox{\twbox}\fi}}%",
    r"  \par\smallskip}",
)


def _camel(text: str) -> str:
    out = []
    for chunk in re.findall(r"[A-Za-z]+|[0-9]+", text):
        if chunk.isdigit():
            out.extend(_DIGITS[int(c)] for c in chunk)
        else:
            out.append(chunk[0].upper() + chunk[1:])
    return "".join(out)


def macro_key(claim_id: str) -> str:
    """Deterministic letters-only key of a claim id (paper abbreviation + CamelCase of the rest)."""
    paper, _, rest = claim_id.partition("/")
    key = PAPER_ABBR.get(paper) or _camel(paper)
    key += _camel(rest)
    if not key.isalpha():  # pragma: no cover - _camel only emits letters
        raise MacroNameError(f"claim id {claim_id!r} gives a non-letter macro key {key!r}")
    return key


def macro_keys(claim_ids: Iterable[str]) -> dict[str, str]:
    """Keys of all ids; a collision is an error rather than a silent overwrite."""
    keys: dict[str, str] = {}
    seen: dict[str, str] = {}
    for cid in claim_ids:
        k = macro_key(cid)
        if k in seen and seen[k] != cid:
            raise MacroNameError(f"claims {seen[k]!r} and {cid!r} both map to macro key {k!r}; rename one")
        seen[k] = cid
        keys[cid] = k
    return keys


def fmt_number(x: Any, digits: int = 3) -> str:
    """A float as LaTeX with ``digits`` significant digits; ``--`` for none/non-finite."""
    if x is None or isinstance(x, bool):
        return "--"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "--"
    if not math.isfinite(v):
        return "--"
    s = f"{v:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}\\times 10^{{{int(exp)}}}"
    return f"\\ensuremath{{{s}}}"


def _csname_safe(claim_id: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9/_.:+-]+", claim_id) is not None


def macro_entries(claim: Any, key: str, verdict: Mapping[str, Any] | None) -> dict[str, str]:
    """Macro name -> body for one claim."""
    worst = (verdict or {}).get("worst") or {}
    body = {
        f"twBound{key}": (claim_latex(claim) or r"\text{(no formula)}").replace(AND_SEPARATOR, r"\twand "),
        f"twStatus{key}": rf"\twst{{{escape_text(str(verdict.get('status')) if verdict else NEVER_RUN)}}}",
        f"twMargin{key}": fmt_number(verdict.get("margin")) if verdict else "--",
        f"twExamples{key}": str(int(verdict.get("examples") or 0)) if verdict else "0",
    }
    if isinstance(worst, dict):
        if _is_number(worst.get("measured")):
            body[f"twMeasured{key}"] = fmt_number(worst["measured"], 6)
        if _is_number(worst.get("bound")):
            body[f"twAtBound{key}"] = fmt_number(worst["bound"], 6)
    return body


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def macros_tex(claims: list[Any], keys: Mapping[str, str], verdicts: Mapping[str, Any]) -> tuple[str, dict]:
    """``macros.tex`` and ``{macro name: claim id}`` of everything it defines."""
    lines = [
        "% generated by `twostage paper` -- do not edit; see provenance.json for where each macro comes from",
        r"\providecommand{\twst}[1]{\textsf{#1}}",
        r"\providecommand{\twclaim}[2]{\csname tw#2\csname twkey@#1\endcsname\endcsname}",
        *DISPLAY_MACROS,
        "",
    ]
    defined: dict[str, str] = {}
    for c in claims:
        key = keys[c.id]
        lines.append(f"% {c.id}")
        if _csname_safe(c.id):
            lines.append(rf"\expandafter\def\csname twkey@{c.id}\endcsname{{{key}}}")
        for name, body in macro_entries(c, key, verdicts.get(c.id)).items():
            lines.append(rf"\newcommand{{\{name}}}{{{body}}}")
            defined[name] = c.id
        lines.append("")
    return "\n".join(lines), defined


def claims_tex(claims: list[Any], keys: Mapping[str, str]) -> str:
    """Per claim: reference, provenance, id, statement, ``\\twBound`` display, note, verdict line."""
    lines = ["% generated by `twostage paper` -- do not edit", ""]
    for c in claims:
        key = keys[c.id]
        prov = PROVENANCE_LABEL.get(c.provenance.value, c.provenance.value)
        lines += [
            f"% {c.id}",
            rf"\paragraph{{{escape_text(c.ref)}}} \textnormal{{[{escape_text(prov)}; {c.kind.value}]}}\par",
            rf"\noindent{{\small\texttt{{{_breakable(c.id)}}}}}\par",
            escape_text(statement_text(c)),
        ]
        if c.formula is not None:
            lines.append(rf"\twdisplay{{\twBound{key}}}")
        if c.note:
            what = "Corrected" if c.provenance.value == "erratum" else "Note"
            lines.append(rf"\textit{{{what}: {escape_text(note_text(c))}}}\par")
        lines.append(rf"\noindent Verdict: \twStatus{key}; margin \twMargin{key};"
                     rf" examples \twExamples{key}.")
        if c.tolerance:
            lines.append(rf"\emph{{How it is decided:}} {_decided_text(c.tolerance)}")
        lines.append("")
    return "\n".join(lines)


_CODE_CHARS = set("^_|<>=*")


def _decided_text(text: str) -> str:
    r"""A tolerance text ("How it is decided") for the PDF: its ASCII formulas (words with ``^ _ | < > = *``,
    e.g. ``||W_v||^2`` or ``>=``) set in typewriter type, as code, breakable after ``/`` and ``,``; the rest
    as :func:`_breakable_text` (inline ``$...$`` math untouched).

    >>> _decided_text("E >= 1e6, ||W_v||^2/2 and $x^2$")
    'E \\texttt{>=} 1e6, \\texttt{||W\\_v||\\textasciicircum{}2/\\allowbreak{}2} and $x^2$'
    """
    out = []
    for k, part in enumerate(re.split(r"((?<!\\)\$[^$]*(?<!\\)\$)", text)):
        if k % 2:
            out.append(escape_text(part))
            continue
        words = []
        for w in re.split(r"(\s+)", part):
            if _CODE_CHARS & set(w):
                core, tail = (w[:-1], w[-1]) if w[-1] in ",.;:" else (w, "")
                body = re.sub(r"([/,])(?=\S)", r"\1\\allowbreak{}", escape_text(core))
                words.append(rf"\texttt{{{body}}}" + escape_text(tail))
            else:
                words.append(_breakable_text(w) if w.strip() else w)
        out.append("".join(words))
    return "".join(out)


def _breakable_text(text: str) -> str:
    """Prose with code-like words (``sigma_{k+1}/sigma_1(W_Q)``) that may break after ``/`` and ``,``
    (outside its inline ``$...$`` math, which is left as it is)."""
    parts = re.split(r"((?<!\\)\$[^$]*(?<!\\)\$)", escape_text(text))
    hint = r"\1\\allowbreak{}"
    return "".join(p if k % 2 else re.sub(r"([/,])(?=\S)", hint, p) for k, p in enumerate(parts))


def _breakable(claim_id: str) -> str:
    """A claim id for ``\\texttt`` that may break after each ``/``."""
    return escape_text(claim_id).replace("/", r"/\allowbreak ")


def table_tex(paper: str, claims: list[Any], keys: Mapping[str, str]) -> str:
    """A longtable of the paper's claims: id and reference, provenance, kind, status, margin."""
    lines = [
        "% generated by `twostage paper` -- do not edit",
        r"\begin{longtable}{p{0.36\textwidth}p{0.16\textwidth}p{0.1\textwidth}p{0.11\textwidth}r}",
        rf"\caption{{Claims of {escape_text(paper)}: last verdict and margin (smallest relative slack).}}\\",
        r"\toprule claim (reference) & provenance & kind & status & margin \\ \midrule \endfirsthead",
        r"\toprule claim (reference) & provenance & kind & status & margin \\ \midrule \endhead",
        r"\bottomrule \endfoot",
    ]
    for c in claims:
        key = keys[c.id]
        cid = _breakable(c.id)
        lines.append(rf"\texttt{{\footnotesize {cid}}} ({escape_text(c.ref)})"
                     rf" & {escape_text(c.provenance.value)} & {escape_text(c.kind.value)}"
                     rf" & \twStatus{key} & \twMargin{key} \\")
    if not claims:
        lines.append(r"\multicolumn{5}{l}{no claims registered} \\")
    lines.append(r"\end{longtable}")
    return "\n".join(lines) + "\n"


def figures_tex(figures: list[tuple[str, str, str]],
                experiments: list[tuple[str, str, str]] = ()) -> str:
    """``figures.tex`` from ``(claim id, file name, caption)`` triples -- each claim's stored trajectories
    against its bound -- and ``(experiment, file name, caption)`` triples of the experiments' own figures
    (files under generated/; captions may hold inline ``$...$`` math)."""
    lines = ["% generated by `twostage paper` -- do not edit", ""]
    if not figures and not experiments:
        lines.append(r"No stored trajectories yet: run \texttt{twostage run EXPERIMENT} to produce them.")
    for cid, name, caption in figures:
        lines += [r"\begin{figure}[htbp]", r"\centering",
                  rf"\includegraphics[width=0.85\textwidth]{{\twgen/{name}}}",
                  _caption(rf"{escape_text(caption)} (\texttt{{\footnotesize {_breakable(cid)}}})"),
                  r"\end{figure}", ""]
    if experiments:
        lines += [r"\subsection*{Figures of the experiments}", ""]
    for exp, name, caption in experiments:
        lines += [r"\begin{figure}[htbp]", r"\centering",
                  rf"\includegraphics[width=\textwidth,height=0.55\textheight,keepaspectratio]"
                  rf"{{\twgen/{name}}}",
                  _caption(rf"\textbf{{{escape_text(exp)}.}} {_breakable_text(caption)}"),
                  r"\end{figure}", ""]
    return "\n".join(lines) + "\n"


def _caption(text: str) -> str:
    """``\\caption`` of ``text`` (a moving argument: its break hints are protected)."""
    protected = text.replace(r"\allowbreak", r"\protect\allowbreak")
    return rf"\caption{{{protected}}}"


def body_tex(papers: list[str], has_figures: bool) -> str:
    """``body.tex``: one section per paper (table, then claims), then the figures."""
    lines = ["% generated by `twostage paper` -- do not edit", ""]
    for p in papers:
        lines += [rf"\section{{{PAPER_TITLE.get(p, escape_text(p))}}}", rf"\input{{\twgen/table-{p}}}",
                  r"\subsection*{Statements and formulas}", rf"\input{{\twgen/claims-{p}}}", ""]
    lines += [r"\section{Figures}", r"\input{\twgen/figures}" if has_figures
              else r"No stored trajectories yet: run \texttt{twostage run EXPERIMENT} to produce them."]
    return "\n".join(lines) + "\n"
