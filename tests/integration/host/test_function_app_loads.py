"""The host loads the project's real function_app and serves GET /api/health over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.azurite import Azurite
from local.host import LocalHost
from shared.settings import current_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def host(azurite: Azurite) -> Iterator[LocalHost]:
    # The app reads its settings once per process; start and end with a clean slate.
    current_settings.cache_clear()
    instance = LocalHost(
        REPO,
        app_module="function_app",
        settings_overrides={
            "AzureWebJobsStorage": azurite.connection_string,
            "GEOCATALOG_URL": "http://127.0.0.1:8700",
        },
        http_port=0,
    )
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        current_settings.cache_clear()


def test_health_answers_200_over_http_with_azurite(host: LocalHost) -> None:
    assert "health" in host.functions
    response = httpx.get(f"{host.base_url}/api/health", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["storage"]["ok"] is True
    assert body["checks"]["configuration"]["ok"] is True
    assert response.headers["content-type"].startswith("application/json")


def test_every_function_of_the_real_app_is_loaded(host: LocalHost) -> None:
    assert host.function_errors == {}
    assert host.loaded is not None
    assert set(host.functions) == set(host.loaded.functions) - set(host.disabled)
