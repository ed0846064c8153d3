"""The collections package has no HTTP in it: it imports neither the HTTP edge nor functions/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "shared" / "collections"
# The HTTP edge: problem types, request contracts and parsers, the OpenAPI document, triggers.
HTTP_EDGE = (
    "azure.functions",
    "functions",
    "shared.problems",
    "shared.contract",
    "shared.collection_request",
    "shared.ingest_request",
    "shared.api_responses",
    "shared.openapi",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_a_collections_module_imports_nothing_of_the_http_edge(path: Path) -> None:
    edge = {
        name
        for name in imported_modules(path)
        for prefix in HTTP_EDGE
        if name == prefix or name.startswith(prefix + ".")
    }
    assert edge == set()


def test_the_check_sees_the_modules() -> None:
    assert {"bootstrap.py", "errors.py", "template_fetch.py"} <= {
        p.name for p in PACKAGE.glob("*.py")
    }
