"""Dependencies point the way docs/architecture.md says: read from the source with `ast`.

A small test rather than import-linter: the map's rules are "may import only these" for the inner
packages, which import-linter's forbidden and layers contracts do not say directly, and the
graph of a few hundred modules is a few dozen lines of `ast` (no dependency, milliseconds).
Every import counts, wherever it stands (inside a function, under TYPE_CHECKING); importing a
module runs its packages' `__init__` too, so those count as imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import pytest

REPO: Final = Path(__file__).resolve().parents[2]
TREES: Final = ("function_app.py", "functions", "shared", "cli", "local/host")

# The outer layers: the process, the pipeline and job store, and the HTTP edge.
OUTER: Final = frozenset(
    {
        "function_app",
        "functions",
        "shared.runtime",
        "shared.startup",
        "shared.pipeline",
        "shared.jobs",
        "shared.storage_events",
        "shared.ingest_request",
        "shared.api_responses",
        "shared.openapi",
        "shared.openapi_operator",
        "shared.health",
        "shared.ui",
    }
)
NOT_THE_SERVICE: Final = frozenset({"cli", "local", "bench", "tests"})

# What a part may import directly, besides the standard library and third-party packages.
MAY_IMPORT: Final[Mapping[str, frozenset[str]]] = {
    "shared.geocatalog": frozenset(
        {
            "shared.geocatalog",
            "shared.settings",
            "shared.ratelimit",
            "shared.log_redaction",
            "shared.outbound",
        }
    ),
    "shared.sources": frozenset(
        {
            "shared.sources",
            "shared.settings",
            "shared.contract",
            "shared.stac_values",
            "shared.json_values",
            "shared.log_redaction",
            "shared.outbound",
        }
    ),
    # The innermost room: what every fetcher and client builds on.
    "shared.outbound": frozenset({"shared.outbound", "shared.settings", "shared.log_redaction"}),
}

# What a part must never reach, directly or through the modules it imports.
NEVER_REACHES: Final[Mapping[str, frozenset[str]]] = {
    "shared.geocatalog": OUTER | {"shared.problems", "shared.sources", "shared.collections"},
    "shared.sources": OUTER | {"shared.problems", "shared.collections"},
    # Domain errors: the HTTP side maps them to problem JSON.
    "shared.collections": OUTER | {"shared.problems"},
    "shared.outbound": OUTER
    | {"shared.problems", "shared.sources", "shared.collections", "shared.geocatalog"},
    "shared": NOT_THE_SERVICE | {"function_app", "functions"},
    "functions": NOT_THE_SERVICE,
    # The CLI talks HTTP only; the local host runs any app, knowing nothing of this one.
    "cli": frozenset({"shared", "functions", "function_app", "local"}),
    "local.host": frozenset({"shared", "functions", "function_app", "cli"}),
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_tree(root: Path, trees: Iterable[str] = TREES) -> dict[str, str]:
    """Module name -> source text, for the project's own code (a package by its `__init__`)."""
    sources: dict[str, str] = {}
    for tree in trees:
        path = root / tree
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            name = module_name(file, root)
            sources[name + (".__init__" if file.name == "__init__.py" else "")] = file.read_text(
                encoding="utf-8"
            )
    return sources


def within(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def direct_imports(module: str, source: str) -> set[str]:
    """Every module name `module` (a package written `name.__init__`) imports, made absolute;
    `from x import y` also gives `x.y`, which may be a submodule."""
    package = module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


class Graph:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self.modules = frozenset(m.removesuffix(".__init__") for m in sources)
        self.imports: dict[str, set[str]] = {}
        for written, source in sources.items():
            module = written.removesuffix(".__init__")
            targets: set[str] = set()
            for name in direct_imports(written, source):
                targets.update(self._loaded(name))
            targets.discard(module)
            self.imports[module] = targets

    def _loaded(self, name: str) -> set[str]:
        """The project's modules that importing `name` runs: it (or the package it names a
        member of) and every package above it."""
        parts = name.split(".")
        return {
            ".".join(parts[:n]) for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in self
        }

    def __contains__(self, module: object) -> bool:
        return module in self.modules

    def reached_from(self, module: str) -> dict[str, str]:
        """Every module `module` reaches -> the module that imports it on the way."""
        via: dict[str, str] = {}
        todo = [module]
        while todo:
            current = todo.pop()
            for target in self.imports.get(current, ()):
                if target not in via and target != module:
                    via[target] = current
                    todo.append(target)
        return via

    def chain(self, start: str, end: str, via: Mapping[str, str]) -> str:
        steps = [end]
        while steps[-1] != start:
            steps.append(via[steps[-1]])
        return " -> ".join(reversed(steps))


def violations(graph: Graph) -> list[str]:
    """Each broken rule once: a direct import per module, a reached part per part (the first
    chain found)."""
    found: list[str] = []
    for module in sorted(graph.modules):
        for part, allowed in MAY_IMPORT.items():
            if within(module, part):
                found.extend(
                    f"{module} imports {target} (may import only {sorted(allowed)})"
                    for target in sorted(graph.imports[module])
                    # `shared` itself is an empty package: importing anything in it runs it.
                    if within(target, "shared")
                    and target != "shared"
                    and not any(within(target, a) for a in allowed)
                )
    for part, banned in NEVER_REACHES.items():
        reported: set[str] = set()
        for module in sorted(m for m in graph.modules if within(m, part)):
            via = graph.reached_from(module)
            for target in sorted(via):
                hit = next((b for b in sorted(banned) if within(target, b)), None)
                if hit is None or hit in reported or within(target, part):
                    continue
                reported.add(hit)
                found.append(f"{part} reaches {hit}: {graph.chain(module, target, via)}")
    return found


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph(read_tree(REPO))


def test_dependencies_point_the_way_the_map_says(graph: Graph) -> None:
    assert violations(graph) == []


def test_the_rules_name_parts_that_exist(graph: Graph) -> None:
    # Every part a rule names must exist, or its rule would hold for nothing.
    named = {*MAY_IMPORT, *NEVER_REACHES, *(a for v in MAY_IMPORT.values() for a in v)}
    for part in sorted(named):
        assert any(within(m, part) for m in graph.modules), part


def test_a_module_that_breaks_a_rule_is_named_with_its_chain() -> None:
    graph = Graph(
        {
            "shared.__init__": "",
            "shared.settings": "",
            "shared.geocatalog.__init__": "from shared.geocatalog import client\n",
            "shared.geocatalog.client": "from shared import settings, helpers\n",
            "shared.helpers": "def f():\n    import shared.pipeline.plan\n",
            "shared.pipeline.__init__": "",
            "shared.pipeline.plan": "from shared.sources.specs import X\n",
            "shared.sources.__init__": "from . import specs\n",
            "shared.sources.specs": "from ..problems import FieldError\n",
            "shared.problems": "",
            "functions.__init__": "",
            "functions.api": "import shared.geocatalog\n",
        }
    )
    assert graph.imports["shared.geocatalog.client"] == {
        "shared",
        "shared.settings",
        "shared.helpers",
    }
    assert graph.imports["shared.sources"] == {"shared", "shared.sources.specs"}
    assert graph.imports["shared.sources.specs"] == {"shared", "shared.problems"}
    assert violations(graph) == [
        "shared.geocatalog.client imports shared.helpers (may import only "
        "['shared.geocatalog', 'shared.log_redaction', 'shared.outbound', 'shared.ratelimit', "
        "'shared.settings'])",
        "shared.sources.specs imports shared.problems (may import only ['shared.contract', "
        "'shared.json_values', 'shared.log_redaction', 'shared.outbound', 'shared.settings', "
        "'shared.sources', 'shared.stac_values'])",
        "shared.geocatalog reaches shared.pipeline: shared.geocatalog -> "
        "shared.geocatalog.client -> shared.helpers -> shared.pipeline",
        "shared.geocatalog reaches shared.problems: shared.geocatalog -> "
        "shared.geocatalog.client -> shared.helpers -> shared.pipeline.plan -> "
        "shared.sources.specs -> shared.problems",
        "shared.geocatalog reaches shared.sources: shared.geocatalog -> "
        "shared.geocatalog.client -> shared.helpers -> shared.pipeline.plan -> shared.sources",
        "shared.sources reaches shared.problems: shared.sources -> shared.sources.specs -> "
        "shared.problems",
    ]
    # functions -> shared is the way: functions.api importing shared.geocatalog breaks nothing.
