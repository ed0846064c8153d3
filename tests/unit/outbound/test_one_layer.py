"""The outbound layer stays the inner room: it imports no consumer, and no one else builds sessions."""

from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
# What the layer may import from the service: its own modules, settings, the log redaction.
ALLOWED = ("shared.outbound", "shared.settings", "shared.log_redaction")


def imported_names(path: Path) -> set[str]:
    """Every dotted name `path` imports (`from a.b import c` is `a.b.c`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_layer_imports_none_of_its_users() -> None:
    files = sorted((SHARED / "outbound").glob("*.py"))
    assert files
    for path in files:
        ours = {name for name in imported_names(path) if name.startswith("shared.")}
        assert {name for name in ours if not name.startswith(ALLOWED)} == set(), path.name


def test_only_the_layer_builds_a_requests_session() -> None:
    builders = []
    for path in sorted(SHARED.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Session"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "requests"
            ):
                builders.append(path.relative_to(SHARED).as_posix())
    assert builders == ["outbound/session.py"]
