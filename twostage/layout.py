"""Where the package's modules live in a source checkout: the one list is ``pyproject.toml``.

The distribution maps import names to folders (``[tool.setuptools] package-dir``: ``twostage.theory`` ->
``theory/``, ...). Tools that start from a file -- pytest collecting doctests, the code version of a sweep --
ask this module for the file's import name instead of keeping a second list of folders.

>>> from twostage.layout import ROOT, module_name
>>> module_name(ROOT / "theory" / "claims.py")
'twostage.theory.claims'
>>> module_name(ROOT / "verify" / "checks" / "__init__.py")
'twostage.verify.checks'
>>> module_name(ROOT / "tests" / "conftest.py") is None
True
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _read_package_dir(text: str) -> dict[str, str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: the inline table is one line (ruff keeps it so)
        line = re.search(r"^package-dir\s*=\s*\{(.*)\}\s*$", text, re.M)
        pairs = re.findall(r'"([\w.]+)"\s*=\s*"([\w./]+)"', line.group(1)) if line else []
        return dict(pairs)
    return dict(tomllib.loads(text).get("tool", {}).get("setuptools", {}).get("package-dir", {}))


@functools.lru_cache(maxsize=1)
def package_dirs() -> dict[str, Path]:
    """Import name -> folder of every mapped package; empty outside a source checkout."""
    try:
        text = (ROOT / "pyproject.toml").read_text()
    except OSError:
        return {}
    return {name: (ROOT / folder).resolve() for name, folder in _read_package_dir(text).items()}


def module_name(path: Path) -> str | None:
    """The one import name of the module at ``path`` (``None`` when it is not part of the package)."""
    path = Path(path).resolve()
    best: tuple[int, str] | None = None
    for name, folder in package_dirs().items():
        if folder in path.parents and (best is None or len(folder.parts) > best[0]):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            best = (len(folder.parts), ".".join([name, *parts]))
    return None if best is None else best[1]


def claim_files(claim, check=None) -> dict[str, str | None]:
    """Repo-relative paths of a claim's formula, numerics and checker (``twostage claims --json`` ``files``).

    The rule: ``theory/<package>/<topic>.py`` registers the claim, ``numerics/<package>/<topic>.py`` holds the
    computation it is judged on (``None`` for a topic proven symbolically, whose checker uses no numerics of
    the paper), ``verify/checks/<package>/<topic>.py`` (or a package of that name) holds its checker.
    """
    import inspect

    from twostage.theory.claims import PAPER_PACKAGES

    pkg = PAPER_PACKAGES[claim.paper]
    numerics = ROOT / "numerics" / pkg / f"{claim.topic}.py"
    checker = None
    if check is not None:
        src = inspect.getsourcefile(check.judge)
        checker = Path(src).resolve().relative_to(ROOT).as_posix() if src else None
    return {"theory": f"theory/{pkg}/{claim.topic}.py",
            "numerics": f"numerics/{pkg}/{claim.topic}.py" if numerics.is_file() else None,
            "checker": checker}
