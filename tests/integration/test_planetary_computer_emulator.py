"""The Planetary Computer emulator over real HTTP: pystac-client unchanged, SAS, mosaic info, files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pystac_client import Client

from local.emulator.planetary_computer import (
    PlanetaryComputerConfig,
    RunningEmulator,
    SasSigner,
    start_planetary_computer_emulator,
    token_expiry,
)
from local.emulator.planetary_computer.config import DEFAULT_FIXTURES_DIR
from local.emulator.planetary_computer.data import PC_STAC_ROOT
from local.emulator.planetary_computer.public_assets import (
    PUBLIC_ASSETS_ORIGIN,
    mirror_asset_hrefs,
)
from local.emulator.planetary_computer.timeutil import parse_rfc3339

pytestmark = pytest.mark.integration

PC_DIR = DEFAULT_FIXTURES_DIR / "planetary-computer"
STATIC_DIR = DEFAULT_FIXTURES_DIR / "static-catalog"

# The demo's search: north-west Spitsbergen (Svalbard) in the week around 16 May 2024.
DEMO_BBOX = [8.0, 79.5, 16.0, 80.2]
DEMO_DATETIME = "2024-05-10/2024-05-20"
DEMO_IDS = [
    "S2B_MSIL2A_20240516T144749_R082_T33XWK_20240516T202124",
    "S2B_MSIL2A_20240516T144749_R082_T33XWJ_20240516T200928",
    "S2B_MSIL2A_20240516T144749_R082_T33XVK_20240516T201524",
    "S2B_MSIL2A_20240516T144749_R082_T33XVJ_20240516T201032",
    "S2B_MSIL2A_20240516T144749_R082_T31XFK_20240516T201524",
    "S2B_MSIL2A_20240516T144749_R082_T31XFJ_20240516T201034",
    "S2B_MSIL2A_20240516T144749_R082_T31XEK_20240516T201224",
    "S2B_MSIL2A_20240516T144749_R082_T31XEJ_20240516T201143",
]
LIFETIME = timedelta(minutes=45)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    running = start_planetary_computer_emulator(PlanetaryComputerConfig(sas_lifetime=LIFETIME))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def base(emulator: RunningEmulator) -> Iterator[str]:
    """The base URL, with the switches put back after each test."""
    initial = emulator.context.switches.current
    yield emulator.base_url
    emulator.set_switches(
        latency_seconds=initial.latency_seconds,
        rate_limit_per_second=initial.rate_limit_per_second,
        sas_lifetime=initial.sas_lifetime,
        sas_expired=initial.sas_expired,
    )


def recorded(*parts: str) -> Any:
    with PC_DIR.joinpath(*parts).open() as handle:
        return json.load(handle)


def on_emulator(document: Any, base: str) -> Any:
    """A recorded document as the emulator serves it: STAC API links moved to its base."""
    text = json.dumps(document).replace(f'"{PC_STAC_ROOT}', f'"{base}/api/stac/v1')
    return json.loads(text)


# --- STAC API through pystac-client --------------------------------------------------------------


def test_pystac_client_search_with_bbox_datetime_and_max_items(base: str) -> None:
    client = Client.open(f"{base}/api/stac/v1")
    everything = client.search(
        collections=["sentinel-2-l2a"], bbox=DEMO_BBOX, datetime=DEMO_DATETIME
    )
    assert [item.id for item in everything.items()] == DEMO_IDS
    capped = client.search(
        collections=["sentinel-2-l2a"], bbox=DEMO_BBOX, datetime=DEMO_DATETIME, max_items=6
    )
    items = list(capped.items())
    assert [item.id for item in items] == DEMO_IDS[:6]
    # The items are the recorded ones, links moved onto the emulator.
    page = recorded("items", "sentinel-2-l2a.search-post.page1.250-items.json")
    original = next(f for f in page["features"] if f["id"] == DEMO_IDS[0])
    assert items[0].geometry == original["geometry"]
    assert items[0].bbox == original["bbox"]
    assert {k: a.href for k, a in items[0].assets.items()} == {
        k: a["href"] for k, a in original["assets"].items()
    }
    assert items[0].get_self_href() == (
        f"{base}/api/stac/v1/collections/sentinel-2-l2a/items/{DEMO_IDS[0]}"
    )
    assert (
        items[0]
        .assets["B04"]
        .href.startswith("https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/")
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_pystac_client_iterates_every_page(
    emulator: RunningEmulator, base: str, method: str
) -> None:
    route = f"{method} /api/stac/v1/search"
    calls_before = emulator.context.stats.count(route, 200)
    search = Client.open(f"{base}/api/stac/v1").search(
        collections=["sentinel-2-l2a"], limit=100, method=method
    )
    ids = [item.id for item in search.items()]
    assert len(ids) == 290
    assert len(set(ids)) == 290
    assert emulator.context.stats.count(route, 200) - calls_before == 3
    datetimes = [item.datetime for item in search.items()]
    assert datetimes == sorted(datetimes, reverse=True)  # type: ignore[type-var]


def test_default_limit_is_250_and_max_items_stops_early(
    emulator: RunningEmulator, base: str
) -> None:
    search = Client.open(f"{base}/api/stac/v1").search(collections=["sentinel-2-l2a"])
    pages = [len(p["features"]) for p in search.pages_as_dicts()]
    assert pages == [250, 40]
    route = "POST /api/stac/v1/search"
    before = emulator.context.stats.count(route)
    capped = Client.open(f"{base}/api/stac/v1").search(collections=["sentinel-2-l2a"], max_items=3)
    assert len(list(capped.items())) == 3
    assert emulator.context.stats.count(route) - before == 1


# --- STAC API over raw HTTP ----------------------------------------------------------------------


def test_post_paging_reproduces_the_recorded_pages(base: str) -> None:
    body = {"limit": 10, "bbox": [-73.21, 43.99, -73.12, 44.05], "collections": ["naip"]}
    first = requests.post(f"{base}/api/stac/v1/search", json=body, timeout=10)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    assert first.json() == on_emulator(
        recorded("items", "naip.search-post.page1.10-items.json"), base
    )
    next_link = first.json()["links"][0]
    assert next_link["method"] == "POST"
    assert "merge" not in next_link
    second = requests.post(next_link["href"], json=next_link["body"], timeout=10).json()
    expected = on_emulator(recorded("items", "naip.search-post.page2.10-items.json"), base)
    assert second["features"] == expected["features"]
    # The recording went on to a third page; only these 20 items are recorded, so no next link.
    assert [link["rel"] for link in second["links"]] == ["previous", "root", "self"]
    assert second["links"] == [link for link in expected["links"] if link["rel"] != "next"]


def test_get_paging_appends_the_token_to_the_query(base: str) -> None:
    url = f"{base}/api/stac/v1/search?collections=sentinel-2-l2a&limit=100"
    seen: list[str] = []
    hrefs: list[str] = []
    while url:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        page = response.json()
        seen.extend(f["id"] for f in page["features"])
        link = next((lk for lk in page["links"] if lk["rel"] == "next"), None)
        url = link["href"] if link else ""
        if link:
            assert link["method"] == "GET"
            hrefs.append(link["href"])
    assert len(seen) == 290
    assert len(set(seen)) == 290
    assert hrefs[0] == (
        f"{base}/api/stac/v1/search?collections=sentinel-2-l2a&limit=100"
        f"&token=next:sentinel-2-l2a:{seen[99]}"
    )
    # A token already in the query is replaced, not repeated.
    assert hrefs[1].count("token=") == 1


def test_items_endpoint_matches_the_recorded_page(base: str) -> None:
    response = requests.get(
        f"{base}/api/stac/v1/collections/landsat-c2-l2/items?collections=landsat-c2-l2", timeout=10
    )
    assert response.status_code == 200
    assert response.json() == on_emulator(
        recorded("items", "landsat-c2-l2.items-get.page1.10-items.json"), base
    )


def test_single_item(base: str) -> None:
    item_id = "S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251"
    response = requests.get(
        f"{base}/api/stac/v1/collections/sentinel-2-l2a/items/{item_id}", timeout=10
    )
    assert response.status_code == 200
    assert response.json() == on_emulator(recorded("items", f"sentinel-2-l2a.{item_id}.json"), base)


@pytest.mark.parametrize("collection_id", ["sentinel-2-l2a", "landsat-c2-l2", "naip", "io-lulc"])
def test_collection_is_the_recorded_one(base: str, collection_id: str) -> None:
    response = requests.get(f"{base}/api/stac/v1/collections/{collection_id}", timeout=10)
    assert response.status_code == 200
    served = response.json()
    expected = on_emulator(recorded("collections", f"{collection_id}.json"), base)
    # Thumbnails on the public-assets host are served by the emulator (public_assets.py).
    assert served == mirror_asset_hrefs(expected, base)
    links = {link["rel"]: link["href"] for link in served["links"]}
    assert links["self"] == f"{base}/api/stac/v1/collections/{collection_id}"
    assert links["items"] == f"{base}/api/stac/v1/collections/{collection_id}/items"
    assert links["root"] == f"{base}/api/stac/v1/"


def test_collection_keeps_its_storage_fields(base: str) -> None:
    served = requests.get(f"{base}/api/stac/v1/collections/sentinel-2-l2a", timeout=10).json()
    assert served["msft:storage_account"] == "sentinel2l2a01"
    assert served["msft:container"] == "sentinel2-l2"
    assert served["assets"]["thumbnail"]["href"].endswith("sentinel-2.png")


def test_landing_conformance_collections_and_queryables(base: str) -> None:
    landing = requests.get(f"{base}/api/stac/v1", timeout=10).json()
    children = sorted(link["href"] for link in landing["links"] if link["rel"] == "child")
    assert children == [
        f"{base}/api/stac/v1/collections/{cid}"
        for cid in ("io-lulc", "landsat-c2-l2", "naip", "sentinel-2-l2a")
    ]
    assert all(not link["href"].startswith(PC_STAC_ROOT) for link in landing["links"])
    conformance = requests.get(f"{base}/api/stac/v1/conformance", timeout=10).json()
    assert conformance["conformsTo"] == recorded("stac-api-root.json")["conformsTo"]
    listing = requests.get(f"{base}/api/stac/v1/collections", timeout=10).json()
    assert sorted(c["id"] for c in listing["collections"]) == [
        "io-lulc",
        "landsat-c2-l2",
        "naip",
        "sentinel-2-l2a",
    ]
    queryables = requests.get(
        f"{base}/api/stac/v1/collections/landsat-c2-l2/queryables", timeout=10
    ).json()
    assert queryables["$id"] == f"{base}/api/stac/v1/collections/landsat-c2-l2/queryables"
    assert "eo:cloud_cover" in queryables["properties"]


@pytest.mark.parametrize(
    ("path", "description"),
    [
        ("/collections/no-such", "Collection no-such does not exist."),
        ("/collections/no-such/items", "Collection no-such does not exist."),
        ("/collections/naip/items/no-such", "Item no-such in Collection naip does not exist."),
    ],
)
def test_not_found_as_stac_fastapi_answers(base: str, path: str, description: str) -> None:
    response = requests.get(f"{base}/api/stac/v1{path}", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"code": "NotFoundError", "description": description}


def test_unrouted_paths_and_bad_searches(base: str) -> None:
    response = requests.get(f"{base}/api/stac/v2", timeout=10)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    bad = requests.post(f"{base}/api/stac/v1/search", json={"bbox": [1, 2, 3]}, timeout=10)
    assert bad.status_code == 400
    assert bad.json()["code"] == "RequestValidationError"
    bad_datetime = requests.get(f"{base}/api/stac/v1/search?datetime=soon", timeout=10)
    assert bad_datetime.status_code == 400
    assert bad_datetime.json()["code"] == "InvalidQueryParameter"


# --- SAS API -------------------------------------------------------------------------------------


def _assert_fresh(body: dict[str, Any], lifetime: timedelta) -> None:
    expiry = parse_rfc3339(body["msft:expiry"])
    now = datetime.now(UTC)
    # Expiry is issue time + lifetime, the issue time being within this test's own run.
    assert now - timedelta(minutes=1) < expiry - lifetime <= now


def test_sas_token_for_a_collection(emulator: RunningEmulator, base: str) -> None:
    response = requests.get(f"{base}/api/sas/v1/token/sentinel-2-l2a", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["msft:expiry", "token"]
    _assert_fresh(body, LIFETIME)
    token = body["token"]
    assert not token.startswith("?")
    fields = {k: v[0] for k, v in parse_qs(token).items()}
    assert (fields["sp"], fields["sr"]) == ("rl", "c")
    assert parse_rfc3339(fields["se"]) == parse_rfc3339(body["msft:expiry"])
    assert parse_rfc3339(fields["st"]) < datetime.now(UTC)
    assert SasSigner(emulator.context.config.sas_signing_key).verify(
        token, "sentinel2l2a01", "sentinel2-l2"
    )


@pytest.mark.parametrize(
    ("account", "container"),
    [("landsateuwest", "landsat-c2"), ("naipeuwest", "naip"), ("ai4edataeuwest", "io-lulc")],
)
def test_sas_token_for_a_container(
    emulator: RunningEmulator, base: str, account: str, container: str
) -> None:
    response = requests.get(f"{base}/api/sas/v1/token/{account}/{container}", timeout=10)
    assert response.status_code == 200
    _assert_fresh(response.json(), LIFETIME)
    signer = SasSigner(emulator.context.config.sas_signing_key)
    assert signer.verify(response.json()["token"], account, container)


def test_sas_lifetime_and_expired_switches(emulator: RunningEmulator, base: str) -> None:
    emulator.set_switches(sas_lifetime=timedelta(seconds=30))
    short = requests.get(f"{base}/api/sas/v1/token/naip", timeout=10).json()
    _assert_fresh(short, timedelta(seconds=30))
    patched = requests.patch(f"{base}/_emulator/switches", json={"sasExpired": True}, timeout=10)
    assert patched.status_code == 200
    assert patched.json()["sasExpired"] is True
    expired = requests.get(f"{base}/api/sas/v1/token/naip", timeout=10).json()
    assert parse_rfc3339(expired["msft:expiry"]) < datetime.now(UTC)
    assert token_expiry(expired["token"]) == parse_rfc3339(expired["msft:expiry"])


def test_sign_a_blob_href(emulator: RunningEmulator, base: str) -> None:
    href = (
        "https://naipeuwest.blob.core.windows.net/naip/v002/wa/2023/wa_060cm_2023/47122/"
        "m_4712238_se_10_060_20231007_20240209.tif"
    )
    response = requests.get(f"{base}/api/sas/v1/sign", params={"href": href}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["msft:expiry", "href"]
    unsigned, _, token = body["href"].partition("?")
    assert unsigned == href
    assert token_expiry(token) == parse_rfc3339(body["msft:expiry"])
    assert SasSigner(emulator.context.config.sas_signing_key).verify(token, "naipeuwest", "naip")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/sas/v1/token/no-such-collection", 404),
        ("/api/sas/v1/token/someaccount/somecontainer", 404),
        ("/api/sas/v1/sign?href=https://example.com/file.tif", 400),
        ("/api/sas/v1/sign?href=https://someaccount.blob.core.windows.net/c/file.tif", 404),
        ("/api/sas/v1/sign", 422),
    ],
)
def test_sas_refusals(base: str, path: str, status: int) -> None:
    response = requests.get(f"{base}{path}", timeout=10)
    assert response.status_code == status
    assert "detail" in response.json()


# --- mosaic info ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection_id", "first_option", "min_zoom"),
    [
        ("sentinel-2-l2a", "Natural color", 9),
        ("naip", "Natural color", 12),
        ("landsat-c2-l2", "Natural color", 8),
    ],
)
def test_mosaic_info_has_what_the_render_option_conversion_needs(
    base: str, collection_id: str, first_option: str, min_zoom: int
) -> None:
    response = requests.get(
        f"{base}/api/data/v1/mosaic/info", params={"collection": collection_id}, timeout=10
    )
    assert response.status_code == 200
    info = response.json()
    assert set(info) == {
        "mosaics",
        "renderOptions",
        "defaultLocation",
        "defaultCustomQuery",
        "animationHint",
    }
    options = info["renderOptions"]
    assert options[0]["name"] == first_option
    assert options[0]["minZoom"] == min_zoom
    names = [o["name"] for o in options]
    assert len(set(names)) == len(names)
    for option in options:
        assert isinstance(option["name"], str)
        assert option["name"]
        assert isinstance(option["options"], str)
        assert isinstance(option["minZoom"], int)
        assert option["type"] == "raster-tile"
        assert "legend" in option
        assert "conditions" in option
    assert info["mosaics"][0]["cql"] is not None
    assert any(m["cql"] == [] for m in info["mosaics"])
    assert set(info["defaultLocation"]) == {"zoom", "coordinates"}


def test_mosaic_info_legends_from_the_older_configs(base: str) -> None:
    info = requests.get(
        f"{base}/api/data/v1/mosaic/info", params={"collection": "jrc-gsw"}, timeout=10
    ).json()
    legend = info["renderOptions"][0]["legend"]
    assert legend["type"] == "continuous"
    assert legend["labels"] == ["Sometimes water", "Always water"]
    assert legend["trimStart"] == 1


def test_mosaic_info_unknown_collection_is_a_bare_string(base: str) -> None:
    response = requests.get(
        f"{base}/api/data/v1/mosaic/info", params={"collection": "no-such"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json() == "No mosaic info available for collection no-such"


# --- static catalogs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "mpcpro-sample-naip-sea/catalog.json",
        "mpcpro-sample-naip-sea/naip/collection.json",
        "mpcpro-sample-naip-sea/wa_m_4712238_se_10_060_20231007_20240209/"
        "wa_m_4712238_se_10_060_20231007_20240209.json",
        "stac-spec-examples-1.0.0/collection.json",
        "stac-spec-examples-1.0.0/extensions-collection/proj-example/proj-example.json",
        "mpcpro-sample-naip-config/render_config.json",
    ],
)
def test_static_files_are_served_byte_for_byte(base: str, path: str) -> None:
    response = requests.get(f"{base}/static/{path}", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (STATIC_DIR / path).read_bytes()


def test_every_item_link_of_the_static_catalog_resolves(base: str) -> None:
    root = f"{base}/static/mpcpro-sample-naip-sea/catalog.json"
    catalog = requests.get(root, timeout=10).json()
    item_links = [link["href"] for link in catalog["links"] if link["rel"] == "item"]
    assert len(item_links) == 24
    for href in item_links:
        url = requests.compat.urljoin(root, href)
        assert requests.get(url, timeout=10).status_code == 200, url


@pytest.mark.parametrize(
    "path",
    [
        # The quirk of the real catalog: items' root/parent `./catalog.json` is not beside them.
        "mpcpro-sample-naip-sea/wa_m_4712238_se_10_060_20231007_20240209/catalog.json",
        "mpcpro-sample-naip-sea/../planetary-computer/stac-api-root.json",
        "no-such-catalog/catalog.json",
    ],
)
def test_missing_static_files_answer_like_blob_storage(base: str, path: str) -> None:
    response = requests.get(f"{base}/static/{path}", timeout=10)
    assert response.status_code == 404
    assert response.headers["x-ms-error-code"] == "BlobNotFound"
    assert "<Code>BlobNotFound</Code>" in response.text


# --- switches and statistics ---------------------------------------------------------------------


def test_rate_limit_answers_429_like_the_real_service(emulator: RunningEmulator, base: str) -> None:
    emulator.set_switches(rate_limit_per_second=1)
    responses = [
        requests.get(f"{base}/api/stac/v1/collections/naip", timeout=10) for _ in range(20)
    ]
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled
    assert throttled[0].headers["retry-after"] == "1"
    assert throttled[0].json() == {"detail": "Too Many Requests"}
    # Static files are not the API: never throttled.
    static = [
        requests.get(f"{base}/static/mpcpro-sample-naip-sea/catalog.json", timeout=10)
        for _ in range(5)
    ]
    assert all(r.status_code == 200 for r in static)
    stats = requests.get(f"{base}/_emulator/stats", timeout=10).json()
    assert stats["calls"]["GET /api/stac/v1/collections/{collection_id}"]["429"] == len(throttled)


def test_switches_round_trip_and_refuse_bad_values(base: str) -> None:
    patched = requests.patch(
        f"{base}/_emulator/switches",
        json={"latencySeconds": 0.01, "rateLimitPerSecond": 50, "sasLifetimeSeconds": 60},
        timeout=10,
    )
    assert patched.status_code == 200
    current = requests.get(f"{base}/_emulator/switches", timeout=10).json()
    assert current == {
        "latencySeconds": 0.01,
        "rateLimitPerSecond": 50,
        "sasLifetimeSeconds": 60.0,
        "sasExpired": False,
    }
    for bad in ({"latencySeconds": -1}, {"rateLimitPerSecond": 0}, {"colour": "blue"}):
        assert requests.patch(f"{base}/_emulator/switches", json=bad, timeout=10).status_code == 400


def test_stats_count_calls_by_route_and_status(base: str) -> None:
    assert requests.delete(f"{base}/_emulator/stats", timeout=10).status_code == 204
    requests.get(f"{base}/api/stac/v1/collections/naip", timeout=10)
    requests.get(f"{base}/api/stac/v1/collections/naip", timeout=10)
    requests.get(f"{base}/api/stac/v1/collections/nope", timeout=10)
    stats = requests.get(f"{base}/_emulator/stats", timeout=10).json()
    assert stats["calls"]["GET /api/stac/v1/collections/{collection_id}"] == {"200": 2, "404": 1}
    assert stats["total"] == 3


def test_links_follow_the_host_the_client_used(emulator: RunningEmulator) -> None:
    host = urlsplit(emulator.base_url)
    via_localhost = f"http://localhost:{host.port}"
    served = requests.get(f"{via_localhost}/api/stac/v1/collections/naip", timeout=10).json()
    self_link = next(link["href"] for link in served["links"] if link["rel"] == "self")
    assert self_link == f"{via_localhost}/api/stac/v1/collections/naip"


def test_collection_thumbnails_are_mirrored_as_real_pngs_unless_switched_off() -> None:
    with start_planetary_computer_emulator() as pc:
        href = requests.get(f"{pc.stac_url}/collections/sentinel-2-l2a", timeout=10).json()[
            "assets"
        ]["thumbnail"]["href"]
        assert href.startswith(pc.base_url + "/_public-assets/")
        image = requests.get(href, timeout=10)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    with start_planetary_computer_emulator(
        PlanetaryComputerConfig(mirror_public_assets=False)
    ) as pc:
        href = requests.get(f"{pc.stac_url}/collections/sentinel-2-l2a", timeout=10).json()[
            "assets"
        ]["thumbnail"]["href"]
        assert href.startswith(PUBLIC_ASSETS_ORIGIN)
