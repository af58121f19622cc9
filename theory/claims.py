"""Claim / Assumption / Provenance types and the registry.

A :class:`Claim` is one checkable statement of a paper (or one derived by the companion). It carries
the SymPy object that is *both* printed (``twostage latex``) and evaluated (``twostage verify``), the
reference into the paper, and exactly one provenance tag (``docs/papers/README.md``).

>>> from twostage.theory.claims import Claim, Kind, Provenance, Registry
>>> import sympy as sp
>>> E, E0, t = sp.symbols("E E_0 t")
>>> reg = Registry()
>>> c = reg.add(Claim(id="chen-luo-2025/demo/riccati", paper="chen-luo-2025", ref="Thm 1, eq. (11)",
...     provenance=Provenance.PAPER, kind=Kind.BOUND, statement="E(t) >= (E0^(-1/3)-t)^(-3)",
...     formula=sp.GreaterThan(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)))
>>> reg.get("chen-luo-2025/demo/riccati").ref
'Thm 1, eq. (11)'
>>> reg.get("chen-luo-2025/demo/nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
twostage.errors.UnknownClaimError: unknown claim '...nope' (did you mean chen-luo-2025/demo/riccati?)
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sympy as sp

from twostage.errors import UnknownClaimError, UnknownPaperError

PAPERS = ("chen-luo-2025", "gong-2025")
# the folder of each paper in theory/, numerics/ and verify/checks/ (``<layer>/<package>/<topic>.py``)
PAPER_PACKAGES = {"chen-luo-2025": "chen_luo", "gong-2025": "gong"}


class Provenance(str, Enum):
    """Where a formula comes from (``docs/papers/README.md``, *Provenance tags*)."""

    PAPER = "paper"  # stated in the paper, with statement/equation number
    ERRATUM = "erratum"  # a paper formula with a misprint repaired; `note` says what
    DERIVED = "derived"  # worked out by the companion, not stated in the paper
    RECONSTRUCTED = "reconstructed"  # the paper's version is not retrievable; our best guess
    EARLIER_VERSION = "earlier-version"  # quoted from an earlier version (gong-2025's ICLR 2025 predecessor)


class Kind(str, Enum):
    """Kinds of check; each has a judge in :mod:`twostage.verify.judge`."""

    IDENTITY = "identity"
    BOUND = "bound"
    LIMIT = "limit"
    SCALING = "scaling"
    ORDERING = "ordering"
    ALMOST_SURE = "almost-sure"
    WHP = "w.h.p."
    EMPIRICAL = "empirical"  # a finding the paper reads off its experiments (e.g. chen-luo-2025 §5)


@dataclass(frozen=True)
class Assumption:
    """A hypothesis of a theorem, with its symbolic predicate where one exists.

    ``predicate`` is a SymPy boolean in the claim's symbols (e.g. ``E0 > 0``); ``None`` means the
    assumption is structural (e.g. "Z != 0") and is enforced by the configuration constructors.
    """

    id: str
    paper: str
    ref: str
    statement: str
    provenance: Provenance
    predicate: sp.Basic | None = None

    def holds_at(self, values: dict[Any, Any]) -> bool:
        if self.predicate is None:
            return True
        return bool(self.predicate.subs(values))


@dataclass(frozen=True)
class Claim:
    """One checkable statement.

    ``formula`` is a SymPy relational (``Eq``, ``Ge``, ``Le``, ...) or expression; it is the object
    printed to LaTeX and the one whose sides the checker evaluates. ``symbols`` documents each free
    symbol in the paper's words. ``note`` explains an erratum or a reconstruction.
    """

    id: str
    paper: str
    ref: str
    provenance: Provenance
    kind: Kind
    statement: str
    formula: sp.Basic | None = None
    assumptions: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    symbols: tuple[tuple[str, str], ...] = ()
    note: str = ""
    tolerance: str = ""  # how the verdict is decided (stated tolerance / level), shown in reports
    extra: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    # the topic: ``theory/<package>/<topic>.py`` registers the claim, ``numerics/<package>/<topic>.py`` and
    # ``verify/checks/<package>/<topic>[.py|/]`` hold its computation and checker; set by :func:`register`
    topic: str = ""

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"claim {self.id!r}: unknown paper {self.paper!r}")
        if not self.id.startswith(self.paper + "/"):
            raise ValueError(f"claim id {self.id!r} must start with '{self.paper}/'")
        if not isinstance(self.provenance, Provenance) or not isinstance(self.kind, Kind):
            raise TypeError(f"claim {self.id!r}: provenance/kind must be enum members")
        if self.provenance is Provenance.ERRATUM and not self.note:
            raise ValueError(f"claim {self.id!r}: an erratum-corrected formula must say what was corrected")

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


class Registry:
    """Claims and assumptions by id; ids are unique, lookups give one-line errors."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}
        self._assumptions: dict[str, Assumption] = {}

    def add(self, claim: Claim) -> Claim:
        if claim.id in self._claims and self._claims[claim.id] != claim:
            raise ValueError(f"duplicate claim id {claim.id!r}")
        self._claims[claim.id] = claim
        return claim

    def add_assumption(self, a: Assumption) -> Assumption:
        if a.id in self._assumptions and self._assumptions[a.id] != a:
            raise ValueError(f"duplicate assumption id {a.id!r}")
        self._assumptions[a.id] = a
        return a

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            close = difflib.get_close_matches(claim_id, list(self._claims), n=3)
            known = "known: " + ", ".join(sorted(self._claims)[:6])
            hint = f"did you mean {', '.join(close)}?" if close else known
            raise UnknownClaimError(f"unknown claim {claim_id!r} ({hint})") from None

    def assumption(self, aid: str) -> Assumption:
        try:
            return self._assumptions[aid]
        except KeyError:
            raise UnknownClaimError(f"unknown assumption {aid!r}") from None

    def claims(self, paper: str | None = None) -> list[Claim]:
        if paper is not None and paper not in PAPERS:
            raise UnknownPaperError(f"unknown paper {paper!r} (known: {', '.join(PAPERS)})")
        return [c for c in self._claims.values() if paper is None or c.paper == paper]

    def assumptions(self, paper: str | None = None) -> list[Assumption]:
        return [a for a in self._assumptions.values() if paper is None or a.paper == paper]

    def ids(self) -> set[str]:
        return set(self._claims) | set(self._assumptions)

    def check_graph(self) -> list[str]:
        """Problems in the ``uses``/``assumptions`` graph: dangling ids and cycles (empty when sound)."""
        problems = []
        known = self.ids()
        for c in self._claims.values():
            for u in c.uses + c.assumptions:
                if u not in known:
                    problems.append(f"{c.id}: uses unknown id {u!r}")
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            c = self._claims.get(node)
            for u in (c.uses if c else ()):
                if state.get(u) == 1:
                    problems.append("cycle: " + " -> ".join(path + [u]))
                elif u in self._claims and state.get(u) is None:
                    visit(u, path + [u])
            state[node] = 2

        for cid in self._claims:
            if state.get(cid) is None:
                visit(cid, [cid])
        return problems


REGISTRY = Registry()


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the global registry (used at import time by theory modules).

    The claim's ``topic`` is the name of the theory module that registers it (``theory/<package>/<topic>.py``)
    unless given.
    """
    if not claim.topic:
        module = sys._getframe(1).f_globals.get("__name__", "")
        claim = dataclasses.replace(claim, topic=module.rsplit(".", 1)[-1])
    return REGISTRY.add(claim)


def register_assumption(a: Assumption) -> Assumption:
    return REGISTRY.add_assumption(a)


def load_all() -> Registry:
    """Import every theory module that registers claims and return the global registry."""
    from twostage.theory import chen_luo, gong  # noqa: F401  (imports register)

    return REGISTRY
