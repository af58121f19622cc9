"""Statements and notes print as math: every markup fragment still occurs in its registered text, and no
ASCII math is left in the text (outside ``$...$``) of any registered claim or assumption -- the gong-2025
statements, written in ASCII, are marked in theory/latex_statements.py (issue 13)."""

import dataclasses
import re

import pytest

from twostage.theory import load_all
from twostage.theory.latex_statements import (
    MARKUP,
    NOTE_MARKUP,
    mark_math,
    note_text,
    split_math,
    statement_text,
)

ASCII_MATH = re.compile(r"\^|\b[A-Za-z]_[A-Za-z0-9]\b|_\{|<=|>=|\|\||->")
REG = load_all()
ITEMS = [*REG.claims(), *(a for p in ("chen-luo-2025", "gong-2025") for a in REG.assumptions(p))]


def ascii_math(text: str) -> list[str]:
    """ASCII math fragments in the text (not the ``$...$`` math) of ``text``."""
    return [m.group(0) for is_math, seg in split_math(text) if not is_math for m in ASCII_MATH.finditer(seg)]


def test_every_markup_names_a_registered_item():
    ids = {c.id for c in ITEMS}
    assert set(MARKUP) <= ids and set(NOTE_MARKUP) <= ids


@pytest.mark.parametrize("item", ITEMS, ids=lambda c: c.id)
def test_statement_and_note_have_no_ascii_math_left(item):
    assert ascii_math(statement_text(item)) == []  # also: no stale fragment (that raises)
    assert ascii_math(note_text(item)) == []


def test_the_check_sees_ascii_math_and_stale_markup():
    ordering = REG.get("gong-2025/stage/ordering")
    assert "<" not in ascii_math(statement_text(ordering)) and "T_P" in ascii_math(ordering.statement)
    reworded = ordering.statement.replace("T_P < T_Q", "T_P before T_Q")
    edited = dataclasses.replace(ordering, statement=reworded)
    with pytest.raises(ValueError, match="stale markup"):
        statement_text(edited)
    assert ascii_math("cost $x^2$ and e^eps, W_Q, a <= b, |x||y|, f -> g") == ["^", "W_Q", "<=", "||", "->"]
    assert mark_math(r"a \$5 fee, x^2", (("x^2", "$x^2$"),)) == r"a \$5 fee, $x^2$"
