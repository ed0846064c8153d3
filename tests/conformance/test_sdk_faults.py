"""How the SDK meets throttling and faults (docs/reference/geocatalog-api.md §2): POST is retried
on 429 only with Retry-After, GET always; 5xx bursts are retried; the budget answers 429 by itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.planetarycomputer import PlanetaryComputerProClient

from local.emulator.geocatalog import GeoCatalogConfig, create_app
from local.emulator.geocatalog.clock import ManualClock
from local.server import ThreadedServer
from tests.conformance.conftest import HTTPS_OFF, Control, make_client
from tests.conformance.helpers import naip_item

SEARCH = "/stac/search"
COLLECTIONS = "/stac/collections"


def test_post_429_with_retry_after_is_retried(
    client: PlanetaryComputerProClient, collection_id: str, restore_config: Control
) -> None:
    before = restore_config.calls("POST", SEARCH)
    restore_config.fault(status=429, count=2, method="POST", route=SEARCH, retryAfter=0.01)
    result = client.stac.search(body={"collections": [collection_id]}, **HTTPS_OFF)
    assert result.features == []
    after = restore_config.calls("POST", SEARCH)
    assert after.get("429", 0) - before.get("429", 0) == 2
    assert after.get("200", 0) - before.get("200", 0) == 1


def test_post_429_without_retry_after_is_not_retried(
    client: PlanetaryComputerProClient, collection_id: str, restore_config: Control
) -> None:
    before = restore_config.calls("POST", SEARCH)
    restore_config.fault(status=429, count=1, method="POST", route=SEARCH)
    with pytest.raises(HttpResponseError) as throttled:
        client.stac.search(body={"collections": [collection_id]}, **HTTPS_OFF)
    assert throttled.value.status_code == 429
    assert throttled.value.error is not None
    assert throttled.value.error.code == "TooManyRequests"
    after = restore_config.calls("POST", SEARCH)
    assert after.get("429", 0) - before.get("429", 0) == 1
    assert after.get("200", 0) == before.get("200", 0)


def test_get_429_without_retry_after_is_retried(
    client: PlanetaryComputerProClient, restore_config: Control
) -> None:
    before = restore_config.calls("GET", COLLECTIONS)
    restore_config.fault(status=429, count=1, method="GET", route=COLLECTIONS)
    assert client.stac.get_collections(**HTTPS_OFF).collections is not None
    after = restore_config.calls("GET", COLLECTIONS)
    assert after.get("429", 0) - before.get("429", 0) == 1
    assert after.get("200", 0) - before.get("200", 0) == 1


def test_a_503_burst_on_item_creation_is_retried(
    client: PlanetaryComputerProClient, collection_id: str, restore_config: Control
) -> None:
    route = "/stac/collections/{collectionId}/items"
    restore_config.fault(status=503, count=2, method="POST", route=route)
    item = naip_item(0, collection_id)
    item["assets"] = {"readme": {"href": "https://example.com/readme.txt"}}
    client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF).result()
    assert client.stac.get_item(collection_id, item["id"], **HTTPS_OFF).id == item["id"]
    calls = restore_config.calls("POST", route)
    assert calls.get("503", 0) >= 2
    # Exactly one operation was created: the 503s never reached the service.
    adds = [
        op
        for op in client.ingestion.list_operations(collection_id=collection_id, **HTTPS_OFF)
        if op.type == "AddItem"
    ]
    assert len(adds) == 1


def test_a_long_503_outage_exhausts_the_sdks_status_retries(
    client: PlanetaryComputerProClient, restore_config: Control
) -> None:
    before = restore_config.calls("GET", "/inma/ingestion-sources")
    restore_config.fault(status=503, count=10, method="GET", route="/inma/ingestion-sources")
    with pytest.raises(HttpResponseError) as unavailable:
        list(client.ingestion.list_sources(**HTTPS_OFF))
    assert unavailable.value.status_code == 503
    after = restore_config.calls("GET", "/inma/ingestion-sources")
    assert after.get("503", 0) - before.get("503", 0) == 4  # 1 try + retry_status=3


class _FrozenCatalog:
    """An emulator whose clock stands still, so the budget window never moves by itself."""

    def __init__(self, **config: object) -> None:
        self.clock = ManualClock()
        self.app = create_app(GeoCatalogConfig(seed=1, **config), clock=self.clock)  # type: ignore[arg-type]
        self.server = ThreadedServer(self.app).start()
        self.control = Control(self.server.base_url)
        self.client = make_client(self.server.base_url)

    def close(self) -> None:
        self.control.close()
        self.server.stop()


@pytest.fixture
def frozen_budget() -> Iterator[_FrozenCatalog]:
    catalog = _FrozenCatalog(budget_per_second=2, throttle_retry_after_seconds=0.01)
    yield catalog
    catalog.close()


def test_budget_429s_are_retried_then_give_up(frozen_budget: _FrozenCatalog) -> None:
    client, control = frozen_budget.client, frozen_budget.control
    client.stac.get_collections(**HTTPS_OFF)
    client.stac.get_collections(**HTTPS_OFF)
    with pytest.raises(HttpResponseError) as throttled:
        client.stac.get_collections(**HTTPS_OFF)
    assert throttled.value.status_code == 429
    assert throttled.value.response.headers["Retry-After"] == "0.01"
    assert control.calls("GET", COLLECTIONS) == {"200": 2, "429": 4}
    frozen_budget.clock.advance(1.0)  # the window moves on
    assert client.stac.get_collections(**HTTPS_OFF).collections == []
    assert control.stats()["throttled"] == 4


def test_budget_429_without_retry_after_stops_a_post_at_once() -> None:
    catalog = _FrozenCatalog(budget_per_second=1, throttle_retry_after=False)
    try:
        catalog.client.stac.get_collections(**HTTPS_OFF)
        with pytest.raises(HttpResponseError) as throttled:
            catalog.client.stac.search(body={}, **HTTPS_OFF)
        assert throttled.value.status_code == 429
        assert "Retry-After" not in throttled.value.response.headers
        assert catalog.control.calls("POST", SEARCH) == {"429": 1}
    finally:
        catalog.close()
