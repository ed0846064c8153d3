"""POST /api/collections on the local stack: the real function_app in the local Functions host,
the GeoCatalog emulator, the Planetary Computer emulator and Azurite, all over loopback HTTP.

The template is the Planetary Computer's `sentinel-2-l2a` as the PC emulator serves it. Its
thumbnail lives on ai4edatasetspublicassets.blob.core.windows.net, which is not reachable here: a
copy of the PC emulator's fixtures points the thumbnail at a loopback stand-in that serves a real
PNG at the same path (the only change to the recorded data).
"""

from __future__ import annotations

import copy
import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.azurite import Azurite
from local.emulator.geocatalog import GeoCatalogConfig, start_geocatalog_emulator
from local.emulator.geocatalog.emulator import RunningEmulator as GeoCatalogRunning
from local.emulator.planetary_computer import (
    PlanetaryComputerConfig,
    start_planetary_computer_emulator,
)
from local.emulator.planetary_computer.app import RunningEmulator as PlanetaryComputerRunning
from local.emulator.planetary_computer.config import DEFAULT_FIXTURES_DIR
from local.host import LocalHost
from local.ports import free_port
from local.server import ThreadedServer
from shared.runtime import reset

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "collections-test-function-key"
MASTER_KEY = "collections-test-master-key"
THUMBNAIL_PATH = "/assets/pc_thumbnails/sentinel-2.png"


def tiny_png(rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A valid 2x2 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()


@dataclass
class Stack:
    host: LocalHost
    geocatalog: GeoCatalogRunning
    planetary_computer: PlanetaryComputerRunning
    thumbnails: ThreadedServer

    @property
    def template_url(self) -> str:
        return f"{self.planetary_computer.stac_url}/collections/sentinel-2-l2a"

    def post(self, body: Any, *, key: str | None = FUNCTION_KEY) -> httpx.Response:
        headers = {"x-functions-key": key} if key else {}
        return httpx.post(
            f"{self.host.base_url}/api/collections", json=body, headers=headers, timeout=120
        )

    def catalog(self) -> dict[str, Any]:
        """Everything the GeoCatalog emulator holds about collections, for before/after checks."""
        state = self.geocatalog.emulator.state
        with self.geocatalog.emulator.lock:
            return copy.deepcopy(
                {
                    cid: {
                        "doc": record.doc,
                        "updated": record.updated,
                        "assets": record.assets,
                        "render_options": record.render_options,
                        "mosaics": record.mosaics,
                        "tile_settings": record.tile_settings,
                    }
                    for cid, record in state.collections.items()
                }
            )


def thumbnail_app() -> Starlette:
    async def thumbnail(request: Request) -> Response:
        return Response(PNG, media_type="image/png")

    async def not_json(request: Request) -> Response:
        return Response("<html><body>maintenance</body></html>", media_type="text/html")

    return Starlette(
        routes=[Route(THUMBNAIL_PATH, thumbnail), Route("/maintenance.json", not_json)]
    )


@pytest.fixture(scope="module")
def stack(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    thumbnails = ThreadedServer(thumbnail_app()).start()
    fixtures = tmp_path_factory.mktemp("pc-fixtures") / "fixtures"
    shutil.copytree(DEFAULT_FIXTURES_DIR, fixtures)
    collection_path = fixtures / "planetary-computer" / "collections" / "sentinel-2-l2a.json"
    collection = json.loads(collection_path.read_text())
    collection["assets"]["thumbnail"]["href"] = thumbnails.base_url + THUMBNAIL_PATH
    collection_path.write_text(json.dumps(collection))

    geocatalog = start_geocatalog_emulator(GeoCatalogConfig(operation_duration_seconds=(0.05, 0.2)))
    planetary_computer = start_planetary_computer_emulator(
        PlanetaryComputerConfig(fixtures_dir=fixtures)
    )
    reset()
    host = LocalHost(
        REPO,
        app_module="function_app",
        settings_path=REPO / "local.settings.example.json",
        settings_overrides={
            "AzureWebJobsStorage": azurite.connection_string,
            "GEOCATALOG_URL": geocatalog.base_url,
            "GEOCATALOG_CREDENTIAL": "none",
            "PLANETARY_COMPUTER_URL": planetary_computer.base_url,
            "SOURCE_ALLOWED_HOSTS": "127.0.0.1",
            "LOCAL_MODE": "true",
            "FUNCTIONS_LOCAL_FUNCTION_KEY": FUNCTION_KEY,
            "FUNCTIONS_LOCAL_MASTER_KEY": MASTER_KEY,
        },
        http_port=0,
        strict_auth=True,
    )
    host.start()
    try:
        yield Stack(host, geocatalog, planetary_computer, thumbnails)
    finally:
        host.stop()
        reset()
        planetary_computer.stop()
        geocatalog.stop()
        thumbnails.stop()


def mosaic_info(stack: Stack) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.planetary_computer.base_url}/api/data/v1/mosaic/info",
        params={"collection": "sentinel-2-l2a"},
        timeout=30,
    )
    response.raise_for_status()
    info: dict[str, Any] = response.json()
    return info


def test_the_sentinel_template_is_created_then_left_alone(stack: Stack) -> None:
    first = stack.post({"id": "s2-tutorial", "templateUrl": stack.template_url})

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["collectionId"] == "s2-tutorial"
    assert body["created"] is True
    assert body["changed"] is True
    assert body["warnings"] == []

    record = stack.geocatalog.emulator.state.collections["s2-tutorial"]
    assert record.doc["title"] == "s2-tutorial"
    assert "msft:storage_account" not in record.doc
    assert "msft:container" not in record.doc
    assert record.doc["description"].startswith("The [Sentinel-2]")
    # The thumbnail: an asset of the collection, and its bytes served back by the catalog.
    assert record.assets["thumbnail"]["roles"] == ["thumbnail"]
    assert record.assets["thumbnail"]["type"] == "image/png"
    served = httpx.get(
        f"{stack.geocatalog.base_url}/stac/collections/s2-tutorial/thumbnail",
        params={"api-version": "2026-04-15"},
        headers={"Authorization": "Bearer local"},
        timeout=30,
    )
    assert served.status_code == 200
    assert served.content == PNG
    # Every render option of the PC's mosaic info, under a name the catalog accepted.
    info = mosaic_info(stack)
    stored_names = sorted(o["name"] for o in record.render_options.values())
    assert stored_names == sorted(o["name"] for o in info["renderOptions"])
    assert record.render_options["natural-color"]["minZoom"] == 9
    # The mosaic the tutorial posts, next to the PC's own.
    most_recent = [m for m in record.mosaics.values() if m["name"] == "Most recent available"]
    assert len(most_recent) == 1
    assert most_recent[0]["cql"] == []
    assert {m["name"] for m in info["mosaics"]} <= {m["name"] for m in record.mosaics.values()}
    assert record.tile_settings["defaultLocation"] == info["defaultLocation"]

    before = stack.catalog()
    second = stack.post({"id": "s2-tutorial", "templateUrl": stack.template_url})

    assert second.status_code == 200, second.text
    again = second.json()
    assert again["created"] is False
    assert again["changed"] is False
    assert again["summary"]["created"] == 0
    assert again["summary"]["updated"] == 0
    assert again["summary"]["unchanged"] == len(again["changes"])
    assert stack.catalog() == before


@pytest.mark.parametrize(
    ("body", "status", "field", "problem_type"),
    [
        ({"templateUrl": "TEMPLATE"}, 400, "id", "invalid-request"),
        ({"id": "Not Valid!", "templateUrl": "TEMPLATE"}, 400, "id", "invalid-request"),
        ({"id": "s2-bad"}, 400, "templateUrl", "invalid-request"),
        (
            {"id": "s2-bad", "templateUrl": "https://planetarycomputer.example.org/c.json"},
            400,
            "templateUrl",
            "invalid-request",
        ),
        ({"id": "s2-bad", "templateUrl": "UNREACHABLE"}, 502, "templateUrl", "upstream-refused"),
        ({"id": "s2-bad", "templateUrl": "NOT_JSON"}, 422, "templateUrl", "unprocessable-content"),
        ({"id": "s2-bad", "templateUrl": "CATALOG"}, 422, "templateUrl", "unprocessable-content"),
    ],
)
def test_bad_input_gets_problem_json_and_leaves_the_catalog_unchanged(
    stack: Stack, body: dict[str, Any], status: int, field: str, problem_type: str
) -> None:
    urls = {
        "TEMPLATE": stack.template_url,
        "UNREACHABLE": f"http://127.0.0.1:{free_port()}/collection.json",
        "NOT_JSON": f"{stack.thumbnails.base_url}/maintenance.json",
        "CATALOG": stack.planetary_computer.stac_url,
    }
    if "templateUrl" in body:
        body = {**body, "templateUrl": urls.get(body["templateUrl"], body["templateUrl"])}
    before = stack.catalog()

    response = stack.post(body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["field"] == field
    assert problem["type"] == f"urn:geocatalog-ingest:problem:{problem_type}"
    assert problem["instance"] == "/api/collections"
    assert stack.catalog() == before


def test_a_geocatalog_refusal_is_passed_on_with_its_code(stack: Stack) -> None:
    before = stack.catalog()
    stack.geocatalog.emulator.update_config({"auth_token": "a-token-the-service-does-not-have"})
    try:
        response = stack.post({"id": "s2-refused", "templateUrl": stack.template_url})
    finally:
        stack.geocatalog.emulator.update_config({"auth_token": None})

    assert response.status_code == 502, response.text
    problem = response.json()
    assert problem["type"] == "urn:geocatalog-ingest:problem:upstream-refused"
    assert problem["geocatalogCode"] == "Unauthorized"
    assert problem["upstreamStatus"] == 401
    assert stack.catalog() == before


def test_the_function_key_is_required(stack: Stack) -> None:
    before = stack.catalog()
    response = stack.post({"id": "s2-nokey", "templateUrl": stack.template_url}, key=None)
    assert response.status_code == 401
    assert stack.catalog() == before


def test_health_says_the_geocatalog_answers(stack: Stack) -> None:
    response = httpx.get(f"{stack.host.base_url}/api/health", timeout=30)
    check = response.json()["checks"]["geocatalog"]
    assert check["ok"] is True, check
    assert check["detail"].startswith("GeoCatalog answers")
