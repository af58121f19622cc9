"""Dependencies point one way (DESIGN.md): verify -> numerics -> theory; theory never imports torch.

Also: every module stays small (<= 450 lines, the ~400-line style rule with a little slack).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "theory": ("torch", "twostage.numerics", "twostage.verify"),
    "numerics": ("twostage.verify",),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upwards(layer):
    bad = []
    for path in (ROOT / layer).rglob("*.py"):
        for mod in imported_modules(path):
            if any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_modules_are_small():
    big = []
    for layer in ("theory", "numerics", "verify"):
        for path in (ROOT / layer).rglob("*.py"):
            n = len(path.read_text().splitlines())
            if n > 450:
                big.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not big, "\n".join(big)
