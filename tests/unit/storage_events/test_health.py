"""GET /api/health names a route whose collection does not exist."""

from __future__ import annotations

from typing import Any

import pytest

from shared.geocatalog.errors import NotFoundError
from shared.health import run_probes
from shared.storage_events.health import routes_probe
from shared.storage_events.routes import Routes, parse_routes


class Collections:
    def __init__(self, *existing: str) -> None:
        self.existing = set(existing)

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        if collection_id not in self.existing:
            raise NotFoundError(f"collection {collection_id} not found", status=404)
        return {"id": collection_id}


ROUTES = parse_routes(
    '[{"name": "a", "account": "stdrop", "container": "one", "collection": "there"},'
    ' {"name": "b", "account": "stdrop", "container": "two", "collection": "missing"},'
    ' {"name": "c", "account": "stdrop", "container": "three", "collection": "$item"}]'
)


def test_a_route_to_a_missing_collection_makes_health_fail() -> None:
    catalog = Collections("there")
    report = run_probes({"storageRoutes": routes_probe(lambda: ROUTES, lambda: catalog)})
    check = report.to_dict()["checks"]["storageRoutes"]
    assert not report.ok
    assert "route b: collection 'missing' does not exist" in check["detail"]
    assert "route a" not in check["detail"]


@pytest.mark.parametrize("routes", [Routes(), ROUTES])
def test_routes_whose_collections_exist_are_healthy(routes: Routes) -> None:
    catalog = Collections("there", "missing")
    report = run_probes({"storageRoutes": routes_probe(lambda: routes, lambda: catalog)})
    assert report.ok
