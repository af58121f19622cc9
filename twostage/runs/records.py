"""The one JSON record of a verdict: ``twostage verify --json`` entries, ``results/verdicts.json`` and the
verdict file of a sweep task are all :func:`verdict_record`; all are read back by :func:`read_record`.

A record is :meth:`Verdict.to_json <twostage.verify.verdict.Verdict.to_json>` (id, status, margin, examples,
worst, tolerance, seconds), plus, when the claim is given, what a reviewer needs to read it without the tool
(paper, ref, provenance, kind, the LaTeX of the claim's formula, and ``reading``: one sentence on how to read
the verdict given the claim's provenance, :func:`twostage.publish.reading.reading`), plus the run it came
from (profile, seed, device, git SHA, time) when given.
"""

from __future__ import annotations

from typing import Any

from twostage.theory.claims import Claim
from twostage.verify.verdict import Verdict


def verdict_record(v: Verdict, claim: Claim | None = None,
                   run: dict[str, Any] | None = None) -> dict[str, Any]:
    d = v.to_json()
    if claim is not None:
        from twostage.publish.reading import reading
        from twostage.theory.latex import claim_latex

        d.update(paper=claim.paper, ref=claim.ref, provenance=claim.provenance.value, kind=claim.kind.value,
                 latex=claim_latex(claim), tolerance=claim.tolerance,
                 reading=reading(claim.provenance, v.status))
    if run:
        d.update(run)
    return d


def read_record(d: dict[str, Any]) -> Verdict:
    """The verdict of a record (``KeyError``/``ValueError``/``TypeError`` when it is malformed)."""
    return Verdict.from_json(d)
