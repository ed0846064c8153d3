"""The host loads the project's real function_app and serves GET /api/health over HTTP.

Health probes the configuration, the storage account and the GeoCatalog, so the test gives it
Azurite and the GeoCatalog emulator (in-process, on a free port).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.azurite import Azurite
from local.emulator.geocatalog.app import create_app
from local.host import LocalHost
from local.server import ThreadedServer
from shared.runtime import reset

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def geocatalog() -> Iterator[str]:
    with ThreadedServer(create_app()) as server:
        yield server.base_url


@pytest.fixture
def host(azurite: Azurite, geocatalog: str) -> Iterator[LocalHost]:
    # The app builds its settings and clients once per process; start and end with a clean slate.
    reset()
    instance = LocalHost(
        REPO,
        app_module="function_app",
        # The committed example, not a developer's own local.settings.json.
        settings_path=REPO / "local.settings.example.json",
        settings_overrides={
            "AzureWebJobsStorage": azurite.connection_string,
            "GEOCATALOG_URL": geocatalog,
            "GEOCATALOG_CREDENTIAL": "none",
        },
        http_port=0,
    )
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        reset()


def test_health_answers_200_over_http_with_azurite(host: LocalHost) -> None:
    assert "health" in host.functions
    response = httpx.get(f"{host.base_url}/api/health", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {"configuration", "storage"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    assert response.headers["content-type"].startswith("application/json")


def test_every_function_of_the_real_app_is_loaded(host: LocalHost) -> None:
    assert host.function_errors == {}
    assert host.loaded is not None
    assert set(host.functions) == set(host.loaded.functions) - set(host.disabled)
