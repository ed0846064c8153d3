"""Microsoft's SDK (`azure-planetarycomputer` 1.0.0) against the GeoCatalog emulator over real
HTTP on loopback. The SDK is used unchanged; every call passes `enforce_https=False`."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient

from local.emulator.geocatalog import GeoCatalogConfig, RunningEmulator, start_geocatalog_emulator

HTTPS_OFF: dict[str, Any] = {"enforce_https": False}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STATIC_CATALOGS = FIXTURES / "static-catalog"

# Short operations and polls keep the suite fast; the budget is off except where tested.
TEST_CONFIG = GeoCatalogConfig(
    seed=20260415,
    budget_per_second=0,
    operation_duration_seconds=(0.02, 0.1),
    cancel_delay_seconds=0.05,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.conformance)


class StaticTokenCredential:
    """Any TokenCredential will do: the emulator accepts any non-empty bearer token."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("emulator-token", int(time.time()) + 3600)


def make_client(base_url: str, **kwargs: Any) -> PlanetaryComputerProClient:
    options: dict[str, Any] = {"polling_interval": 0.02, "retry_backoff_factor": 0.01, **kwargs}
    return PlanetaryComputerProClient(
        endpoint=base_url, credential=StaticTokenCredential(), **options
    )


class Control:
    """The emulator's `/_emulator` routes (no auth, not counted)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get("/_emulator/stats").json()
        return body

    def calls(self, method: str, route: str) -> dict[str, int]:
        return dict(self.stats()["routes"].get(f"{method} {route}", {}))

    def fault(self, **spec: Any) -> None:
        self.http.post("/_emulator/faults", json=spec).raise_for_status()

    def configure(self, **changes: Any) -> None:
        self.http.put("/_emulator/config", json=changes).raise_for_status()

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def geocatalog() -> Iterator[RunningEmulator]:
    running = start_geocatalog_emulator(TEST_CONFIG)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def client(geocatalog: RunningEmulator) -> PlanetaryComputerProClient:
    return make_client(geocatalog.base_url)


@pytest.fixture(scope="session")
def control(geocatalog: RunningEmulator) -> Iterator[Control]:
    handle = Control(geocatalog.base_url)
    yield handle
    handle.close()


@pytest.fixture
def restore_config(geocatalog: RunningEmulator, control: Control) -> Iterator[Control]:
    """For tests that change switches of the shared emulator: put them back afterwards."""
    before = geocatalog.emulator.config.to_dict()
    yield control
    control.http.delete("/_emulator/faults")
    control.configure(**before)


def collection_body(collection_id: str) -> dict[str, Any]:
    return {
        "id": collection_id,
        "type": "Collection",
        "stac_version": "1.0.0",
        "title": collection_id,
        "description": "Conformance test collection",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2015-06-27T10:25:31Z", None]]},
        },
        "links": [],
    }


@pytest.fixture
def collection_id(client: PlanetaryComputerProClient) -> Iterator[str]:
    """A fresh collection created through the SDK's LRO; deleted afterwards."""
    new_id = f"conf-{uuid.uuid4().hex[:12]}"
    client.stac.begin_create_collection(body=collection_body(new_id), **HTTPS_OFF).result()
    yield new_id
    with contextlib.suppress(ResourceNotFoundError):  # the test may have deleted it already
        client.stac.begin_delete_collection(new_id, **HTTPS_OFF).result()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="session")
def static_catalog_url() -> Iterator[str]:
    """`tests/fixtures/static-catalog/` served over HTTP on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(STATIC_CATALOGS))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
