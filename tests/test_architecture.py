"""The architecture rules of DESIGN.md, enforced.

* Dependencies point one way: ``twostage app -> verify -> numerics -> theory``. theory never imports torch,
  numerics, verify or the application; numerics never imports verify or the application; verify never
  imports the application. Every layer may import :mod:`twostage.errors` (a leaf: it imports nothing).
* Every module is small (at most 400 lines).
* Every package module is imported under one name only (``twostage.*``), in a test run too.
"""

import ast
import sys
from pathlib import Path

import pytest

from twostage.layout import ROOT, module_name, package_dirs

LAYERS = ("theory", "numerics", "verify")
APP_EXEMPT = {"twostage.errors"}  # leaves every layer may import
FORBIDDEN = {
    "theory": ("torch", "twostage.numerics", "twostage.verify", "APP"),
    "numerics": ("twostage.verify", "APP"),
    "verify": ("APP",),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module.startswith("twostage"):  # from twostage.pkg import module
                names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def is_app(mod: str) -> bool:
    """The application: ``twostage`` and ``twostage.<anything but a layer or a leaf>``."""
    if any(mod == e or mod.startswith(e + ".") for e in APP_EXEMPT):
        return False
    if not (mod == "twostage" or mod.startswith("twostage.")):
        return False
    parts = mod.split(".")
    return len(parts) == 1 or parts[1] not in LAYERS


def source_files(folder: str):
    return [p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts]


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_does_not_import_upwards(layer):
    bad = []
    for path in source_files(layer):
        for mod in imported_modules(path):
            for f in FORBIDDEN[layer]:
                if (f == "APP" and is_app(mod)) or (f != "APP" and (mod == f or mod.startswith(f + "."))):
                    bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_errors_module_is_a_leaf():
    assert not [m for m in imported_modules(ROOT / "twostage" / "errors.py") if m.startswith("twostage")]


def test_the_app_rule_itself():
    assert is_app("twostage.cli") and is_app("twostage.runs.store") and is_app("twostage")
    assert not is_app("twostage.errors") and not is_app("twostage.verify.judge") and not is_app("torch")


def test_modules_are_small():
    big = []
    for folder in (*LAYERS, "twostage"):
        for path in source_files(folder):
            n = len(path.read_text().splitlines())
            if n > 400:
                big.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not big, "\n".join(big)


def test_every_package_module_is_imported_under_one_name():
    """After collection (doctests of every source module included), no source file is loaded twice, and
    each is loaded as ``twostage.*`` (``module_name``), never as ``verify.verdict`` or a path alias."""
    import twostage.cli  # noqa: F401  (the whole application, so the check sees more than this file's imports)

    dirs = list(package_dirs().values())
    seen: dict[Path, list[str]] = {}
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if not f:
            continue
        path = Path(f).resolve()
        if any(d == path.parent or d in path.parents for d in dirs):
            seen.setdefault(path, []).append(name)
    assert seen, "no package module found in sys.modules"
    twice = {str(p): n for p, n in seen.items() if len(n) > 1}
    wrong = {str(p): n[0] for p, n in seen.items() if n[0] != module_name(p)}
    assert not twice and not wrong, (twice, wrong)


def test_topic_mirror_one_name_per_topic_across_the_layers():
    """A claim id leads to its formula, numerics and checker by path alone (``claim_files``): the theory
    module that registers it, ``numerics/<package>/<topic>.py`` and ``verify/checks/<package>/<topic>[.py|/]``
    share the topic name; a checker that uses the paper's numerics imports them from the topic's module."""
    from twostage.layout import claim_files
    from twostage.theory.claims import PAPER_PACKAGES, load_all
    from twostage.verify.checks import load_checkers

    checkers, bad = load_checkers(), []
    for c in load_all().claims():
        pkg, f = PAPER_PACKAGES[c.paper], claim_files(c, checkers.get(c.id))
        registered_in = sys.modules[f"twostage.theory.{pkg}.{c.topic}"]
        if Path(registered_in.__file__).resolve() != ROOT / f["theory"]:
            bad.append(f"{c.id}: theory file {f['theory']} is not where it is registered")
        chk = f["checker"] or ""
        here = f"verify/checks/{pkg}/{c.topic}"
        if not (chk == f"{here}.py" or chk.startswith(f"{here}/")):
            bad.append(f"{c.id}: checker {chk!r} is not verify/checks/{pkg}/{c.topic}[.py|/]")
            continue
        imports = imported_modules(ROOT / chk) if chk.endswith(f"{c.topic}.py") else set().union(
            *(imported_modules(p) for p in (ROOT / chk).parent.glob("*.py")))
        paper_numerics = {m for m in imports if m.startswith(f"twostage.numerics.{pkg}.")}
        if paper_numerics and f"twostage.numerics.{pkg}.{c.topic}" not in paper_numerics:
            bad.append(f"{c.id}: checker uses {sorted(paper_numerics)} but not numerics/{pkg}/{c.topic}.py")
    assert not bad, "\n".join(bad)


def test_every_check_is_written_the_one_way():
    """Every claim's check is a :class:`~twostage.verify.check.Check` with draws, a judge of
    ``(claim, draw, data)`` and (optionally) a simulation: no checker that takes only a context."""
    import inspect

    from twostage.verify.checks import load_checkers

    legacy = [cid for cid, chk in load_checkers().items()
              if chk.draws is None or list(inspect.signature(chk.judge).parameters)[:1] == ["ctx"]]
    assert not legacy, "\n".join(sorted(legacy))


PUBLIC = ["twostage.theory", "twostage.numerics", "twostage.numerics.integrate", "twostage.verify",
          "twostage.runs", "twostage.publish", "twostage.bench"]


@pytest.mark.parametrize("package", PUBLIC)
def test_each_layer_names_its_public_surface(package):
    """Each layer's ``__init__`` says what it exports (``__all__``), and every exported name resolves."""
    import importlib

    mod = importlib.import_module(package)
    assert getattr(mod, "__all__", None), f"{package} has no __all__"
    for name in mod.__all__:
        found = hasattr(mod, name) or importlib.util.find_spec(f"{package}.{name}") is not None
        assert found, (package, name)
