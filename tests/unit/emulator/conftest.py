"""In-process access to the GeoCatalog emulator with a manual clock: operations move only when
a test advances time, so every transition is observed deterministically and without sleeps."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x nudges towards `httpx2`; the pinned httpx 0.28 works and is what we ship.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from local.emulator.geocatalog import GeoCatalogConfig, GeoCatalogEmulator, create_app
from local.emulator.geocatalog.clock import ManualClock

API_VERSION = "2026-04-15"
BASE = "http://geocatalog.test"
DEFAULTS: dict[str, Any] = {
    "seed": 1,
    "budget_per_second": 0.0,
    "operation_duration_seconds": (1.0, 2.0),
}


class Api:
    """Thin helpers over a TestClient: api-version and a bearer token on every call."""

    def __init__(self, client: TestClient, clock: ManualClock, emulator: GeoCatalogEmulator):
        self.client = client
        self.clock = clock
        self.emulator = emulator
        self.headers = {"Authorization": "Bearer test-token"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {"api-version": API_VERSION, **kwargs.pop("params", {})}
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, path, params=params, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)

    def settle(self) -> None:
        """Let every queued operation finish (they are at most 2 s long here)."""
        self.clock.advance(10.0)

    def operation(self, accepted: httpx.Response) -> dict[str, Any]:
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["operation-location"]
        assert location == accepted.headers["location"]
        response = self.client.get(location, headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def finished(self, accepted: httpx.Response) -> dict[str, Any]:
        self.settle()
        return self.operation(accepted)

    def create_collection(self, collection_id: str, **extra: Any) -> dict[str, Any]:
        body = {
            "id": collection_id,
            "type": "Collection",
            "stac_version": "1.0.0",
            "description": f"{collection_id} for tests",
            "license": "CC-BY-4.0",
            "extent": {
                "spatial": {"bbox": [[-180, -90, 180, 90]]},
                "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
            },
            "links": [],
            **extra,
        }
        operation = self.finished(self.post("/stac/collections", json=body))
        assert operation["status"] == "Succeeded", operation
        return operation


def make_item(
    item_id: str,
    collection_id: str,
    *,
    when: str = "2024-02-05T12:00:00Z",
    bbox: tuple[float, float, float, float] = (-22.45, 63.84, -22.40, 63.87),
    hrefs: dict[str, str] | None = None,
    **properties: Any,
) -> dict[str, Any]:
    west, south, east, north = bbox
    assets = hrefs or {"data": "https://example.com/public/data.tif"}
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": collection_id,
        "bbox": list(bbox),
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[west, south], [east, south], [east, north], [west, north], [west, south]]
            ],
        },
        "properties": {"datetime": when, **properties},
        "links": [],
        "assets": {
            key: {"href": href, "type": "image/tiff; application=geotiff", "roles": ["data"]}
            for key, href in assets.items()
        },
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_api(clock: ManualClock) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        app = create_app(GeoCatalogConfig(**{**DEFAULTS, **overrides}), clock=clock)
        client = TestClient(app, base_url=BASE)
        clients.append(client)
        return Api(client, clock, app.state.emulator)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
