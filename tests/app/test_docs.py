"""The companion is self-contained: the reference text it relies on lives in ``docs/papers/`` and nothing in
the project points outside it (``shared/``, ``../shared``), which a clone does not have."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = (".py", ".md", ".tex", ".toml", ".cfg", ".txt", ".sh")
SKIP = {".git", ".venv", "results", "build", "generated", "__pycache__", ".hypothesis", ".pytest_cache"}
OUTSIDE = re.compile(r"(?<![\w/.-])(\.\./)*shared/(papers|DESIGN)")
CITED = re.compile(r"docs/papers/[\w.-]+\.md")


def _files():
    for top, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.endswith(".egg-info")]
        for name in names:
            path = Path(top) / name
            if path.suffix in TEXT:
                yield path.relative_to(ROOT), path.read_text(errors="replace")


def outside_pointers(files) -> list[str]:
    """``path:line`` of every mention of a ``shared/`` reference file."""
    return [f"{rel}:{n}" for rel, text in files for n, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line) and rel.name != "test_docs.py"]


def test_nothing_points_outside_the_project():
    assert outside_pointers(_files()) == []
    planted = [(Path("README.md"), "see ../shared/DESIGN.md"),
               (Path("x.py"), "``shared/papers/gong_2025.md``")]
    assert outside_pointers(planted) == ["README.md:1", "x.py:1"]  # the scan can fail


def test_every_cited_summary_exists_and_each_paper_has_one():
    from twostage import PAPERS

    cited = {m for _, text in _files() for m in CITED.findall(text)}
    missing = sorted(c for c in cited if not (ROOT / c).is_file())
    assert cited and missing == [], missing
    for paper in PAPERS:
        summary = ROOT / "docs" / "papers" / (paper.replace("-", "_") + ".md")
        assert summary.is_file() and len(summary.read_text()) > 2000, summary
