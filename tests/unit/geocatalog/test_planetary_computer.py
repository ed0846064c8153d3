"""The Planetary Computer helper over mocked HTTP, with the real fixture shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from responses import matchers

from shared.geocatalog.errors import NotFoundError, PermanentError, ThrottledError, TransientError
from shared.planetary_computer import PlanetaryComputer

PC = "https://planetarycomputer.microsoft.com"
FIXTURES = Path(__file__).parents[2] / "fixtures"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def pc() -> PlanetaryComputer:
    return PlanetaryComputer(PC + "/", timeout=7.0)


def test_urls(pc: PlanetaryComputer) -> None:
    assert pc.stac_api_url == f"{PC}/api/stac/v1"
    assert pc.collection_id_for(f"{PC}/api/stac/v1/collections/sentinel-2-l2a") == "sentinel-2-l2a"
    assert pc.collection_id_for(f"{PC}/api/stac/v1/collections/naip/") == "naip"
    assert pc.collection_id_for(f"{PC}/api/stac/v1/collections/naip/items") is None
    assert pc.collection_id_for("https://example.org/api/stac/v1/collections/naip") is None
    assert pc.collection_id_for(f"{PC}/api/stac/v1/search") is None


def test_collection_and_mosaic_info(pc: PlanetaryComputer, rsps: responses.RequestsMock) -> None:
    render = json.loads((FIXTURES / "render" / "pc-apis.collection_config.json").read_text())
    info = render["sentinel-2-l2a"]["mosaic_info"]
    rsps.get(f"{PC}/api/stac/v1/collections/sentinel-2-l2a", json={"id": "sentinel-2-l2a"})
    rsps.get(
        f"{PC}/api/data/v1/mosaic/info",
        json=info,
        match=[matchers.query_param_matcher({"collection": "sentinel-2-l2a"})],
    )
    assert pc.get_collection("sentinel-2-l2a")["id"] == "sentinel-2-l2a"
    assert pc.get_mosaic_info("sentinel-2-l2a")["renderOptions"][0]["name"] == "Natural color"
    assert rsps.calls[0].request.req_kwargs["timeout"] == 7.0


def test_sas_tokens(pc: PlanetaryComputer, rsps: responses.RequestsMock) -> None:
    body = {
        "msft:expiry": "2021-04-08T18:49:29Z",
        "token": "se=2021-04-08T18%3A49%3A29Z&sp=rl&sv=2020-02-10&sr=c&sig=bbbb%3D",
    }
    rsps.get(f"{PC}/api/sas/v1/token/naip", json=body)
    rsps.get(f"{PC}/api/sas/v1/token/naipeuwest/naip", json=body)
    assert pc.get_collection_sas_token("naip").token == body["token"]
    assert pc.get_container_sas_token("naipeuwest", "naip").expires_at.hour == 18


def test_unknown_collection_mosaic_info_is_not_found(
    pc: PlanetaryComputer, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{PC}/api/data/v1/mosaic/info", status=404, json="No collection with id 'nope'")
    with pytest.raises(NotFoundError) as caught:
        pc.get_mosaic_info("nope")
    assert caught.value.service == "Planetary Computer"
    assert "No collection with id 'nope'" in caught.value.message


def test_throttling_and_failures_map_onto_the_same_errors(
    pc: PlanetaryComputer, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{PC}/api/stac/v1/collections/a",
        status=429,
        headers={"Retry-After": "1"},
        json={"detail": "Too Many Requests"},
    )
    rsps.get(f"{PC}/api/stac/v1/collections/b", status=503, body="unavailable")
    rsps.get(f"{PC}/api/stac/v1/collections/c", body="not json")
    rsps.get(f"{PC}/api/sas/v1/token/d", json={"token": "no expiry"})
    with pytest.raises(ThrottledError) as throttled:
        pc.get_collection("a")
    assert throttled.value.retry_after == 1.0
    with pytest.raises(TransientError):
        pc.get_collection("b")
    with pytest.raises(PermanentError, match="not JSON"):
        pc.get_collection("c")
    with pytest.raises(PermanentError, match="unusable token"):
        pc.get_collection_sas_token("d")
