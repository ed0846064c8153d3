"""GET /api/health: the storage routes are well formed and their target collections exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shared.geocatalog.errors import NotFoundError
from shared.storage_events.routes import Routes


class CollectionReader(Protocol):
    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]: ...


class RouteProblem(RuntimeError):
    pass


def routes_probe(
    load_routes: Callable[[], Routes], catalog: Callable[[], CollectionReader]
) -> Callable[[], str]:
    """A health probe: raises naming every route whose collection does not exist."""

    def probe() -> str:
        routes = load_routes()
        if not routes:
            return "no storage routes configured"
        missing = []
        for route in routes.routes:
            if route.collection is None:
                continue
            try:
                catalog().get_collection(route.collection)
            except NotFoundError:
                missing.append(
                    f"route {route.name}: collection '{route.collection}' does not exist"
                )
        if missing:
            raise RouteProblem("; ".join(missing))
        return f"{len(routes.routes)} storage route(s); their collections exist"

    return probe
