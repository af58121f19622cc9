"""How to read a claim and its verdict, given where the claim comes from (its provenance).

A verdict on a RECONSTRUCTED or EARLIER-VERSION claim is a verdict on the companion's reconstruction or on a
quoted predecessor, not a finding about the paper; the terminal tables (``twostage claims``/``verify``) and
the ``--json`` records and the HTML report say so (issue 11, "Presentation"):

* :func:`paper_note`: the line that opens a paper's output where the paper's own text is not available
  (gong-2025: only the abstract and the opening of the introduction, ``docs/papers/gong_2025.md`` "What is
  known and what is not"), with what the provenance tags mean;
* :func:`reading`: one sentence per verdict saying how to read it, e.g. "our reconstruction does not
  reproduce what the paper reports" for a reconstructed claim that fails; :func:`needs_reading`: where it
  is shown beside the verdict (any verdict but ``holds`` on a claim that is not the paper's own statement).

The HTML report (:mod:`twostage.publish.report`) opens each such paper's section with the same line and
shows the reading in every claim's section.

>>> from twostage.theory.claims import Provenance
>>> reading(Provenance.RECONSTRUCTED, "violated")[:68]
'our reconstruction does not reproduce what the paper reports: this i'
>>> reading(Provenance.PAPER, "holds")
"the paper's statement holds on every case checked"
>>> paper_note("chen-luo-2025") is None, paper_note("gong-2025")[:46]
(True, "gong-2025: the paper's body is not available (")
"""

from __future__ import annotations

from typing import Any

# papers whose body is not available to the companion: the line that opens their output
PAPER_NOTES = {
    "gong-2025": "gong-2025: the paper's body is not available (only its abstract, keywords and the first "
                 "sentences of its introduction; the rest comes from reviews, the ICLR 2025 predecessor and "
                 "the official code). RECONSTRUCTED = our best reconstruction of a statement the available "
                 "text does not give; EARLIER-VERSION = quoted from the ICLR 2025 predecessor. Their "
                 "verdicts are about our reconstruction or that version, not findings about the paper.",
}

_PAPER = {
    "holds": "the paper's statement holds on every case checked",
    "violated": "the paper's statement fails on a case inside its assumptions (see worst)",
    "undecided": "the checks could not decide the paper's statement at this profile",
}
_ERRATUM = {
    "holds": "the paper's statement, with the correction in the note, holds on every case checked",
    "violated": "the paper's statement fails even with the correction in the note (see worst)",
    "undecided": "the checks could not decide the corrected statement at this profile",
}
_DERIVED = {
    "holds": "the companion's derivation (not stated in the paper) holds on every case checked",
    "violated": "the companion's derivation (not stated in the paper) fails: an error of the companion, "
                "not of the paper",
    "undecided": "the checks could not decide the companion's derivation at this profile",
}
_RECONSTRUCTED = {
    "holds": "our reconstruction shows what the paper reports; the paper's own statement is not available, "
             "so this is not a finding about the paper",
    "violated": "our reconstruction does not reproduce what the paper reports: this is a finding about the "
                "reconstruction, not about the paper",
    "undecided": "our reconstruction neither reproduces nor contradicts what the paper reports at this "
                 "profile; this says nothing about the paper",
}
_EARLIER = {
    "holds": "the statement quoted from the ICLR 2025 predecessor holds on every case checked; the current "
             "paper may state it differently",
    "violated": "the statement quoted from the ICLR 2025 predecessor fails: a finding about that version, "
                "not about the current paper",
    "undecided": "the checks could not decide the statement quoted from the ICLR 2025 predecessor",
}
_BY_PROVENANCE = {"paper": _PAPER, "erratum": _ERRATUM, "derived": _DERIVED, "reconstructed": _RECONSTRUCTED,
                  "earlier-version": _EARLIER}
_SUBJECT = {"paper": "the paper's statement", "erratum": "the corrected statement",
            "derived": "the companion's derivation", "reconstructed": "our reconstruction",
            "earlier-version": "the statement quoted from the ICLR 2025 predecessor"}


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def reading(provenance: Any, status: Any) -> str:
    """One sentence: how to read a verdict ``status`` on a claim of this ``provenance`` (enum or value)."""
    prov, st = _value(provenance), _value(status)
    sentence = _BY_PROVENANCE.get(prov, {}).get(st)
    if sentence is not None:
        return sentence
    subject = _SUBJECT.get(prov, "the claim")
    if st == "numerical-failure":
        return f"no verdict on {subject}: the computation produced a non-finite value (see worst)"
    if st == "not-applicable":
        return f"no verdict on {subject}: no checked case lay inside its assumptions"
    return f"no verdict on {subject} ({st})"


def needs_reading(provenance: Any, status: Any) -> bool:
    """Whether the reading is shown beside the verdict (terminal note lines, the report's claims table): a
    verdict other than ``holds`` on a claim that is not the paper's own statement (or its correction)."""
    return _value(provenance) not in ("paper", "erratum") and _value(status) != "holds"


def paper_note(paper: str) -> str | None:
    """The opening line for ``paper``'s output, or ``None`` when its text is available."""
    return PAPER_NOTES.get(paper)


def paper_notes(claims: Any) -> list[str]:
    """The opening lines of the papers of ``claims`` (in order of first appearance) that have one."""
    papers = dict.fromkeys(c.paper for c in claims)
    return [PAPER_NOTES[p] for p in papers if p in PAPER_NOTES]
