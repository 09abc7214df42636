"""The packages import downwards only: callbridge -> triggers | adengine -> models (docs/relay.md, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "callbridge": {"callbridge", "triggers", "adengine", "models"},
    "triggers": {"triggers", "models"},
    "adengine": {"adengine", "models"},
    "models": {"models"},
}
OURS = set(ALLOWED) | {"tests", "bench"}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sorted((ROOT / package).rglob("*.py"))
        if (bad := imported_packages(path) - ALLOWED[package])
    }
    assert wrong == {}, f"{package} imports across or up the layers: {wrong}"


def test_callbridge_has_at_most_eight_modules_at_its_top_level() -> None:
    top = sorted(p.name for p in (ROOT / "callbridge").glob("*.py"))
    assert len(top) <= 8, f"callbridge/ top level: {top}; put new modules in its subpackages"
