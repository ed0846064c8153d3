"""The sources against the Planetary Computer emulator over real HTTP: search paging through
serialised cursors, static catalogs served like a blob container, item URLs."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pystac_client import Client

from local.emulator.planetary_computer import (
    PlanetaryComputerConfig,
    RunningEmulator,
    start_planetary_computer_emulator,
)
from shared.ingest_request import parse_ingest_request
from shared.item_prep import PreparedItem, prepare_item
from shared.settings import GeoCatalogSettings, Settings, StorageSettings
from shared.sources import ItemReadCode, SourcePage, open_reader
from shared.sources.base import cursor_size
from shared.sources.specs import StacSearchSource

pytestmark = pytest.mark.integration

# The emulator's demo search (its README): north-west Spitsbergen around 16 May 2024, 8 items.
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
S2_CONTAINER = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"
NAIP_CONTAINER = "https://naipeuwest.blob.core.windows.net/naip"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    running = start_planetary_computer_emulator(PlanetaryComputerConfig())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def settings(emulator: RunningEmulator) -> Settings:
    host = emulator.base_url.split("://", 1)[1]
    return Settings(
        geocatalog=GeoCatalogSettings(url="http://127.0.0.1:1"),
        storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
        allowed_source_hosts=(host,),
        local_mode=True,
    )


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def calls(emulator: RunningEmulator) -> int:
    total: int = emulator.stats()["total"]
    return total


def walk(
    source: Any,
    limit: int,
    session: requests.Session,
    settings: Settings,
    emulator: RunningEmulator,
    cursor: dict[str, Any] | None = None,
) -> tuple[list[SourcePage], list[int]]:
    """All pages, each read by a fresh reader from the cursor as a queue message carries it;
    also the number of HTTP requests each page cost."""
    pages: list[SourcePage] = []
    costs: list[int] = []
    for _ in range(100):
        before = calls(emulator)
        reader = open_reader(source, session=session, settings=settings)
        page = reader.read_page(json.loads(json.dumps(cursor)), limit)
        costs.append(calls(emulator) - before)
        pages.append(page)
        if page.next_cursor is None:
            return pages, costs
        cursor = page.next_cursor
    raise AssertionError("the source did not end")


def ids(pages: list[SourcePage]) -> list[str]:
    return [raw.item["id"] for page in pages for raw in page.items]  # type: ignore[index]


def test_search_pages_through_post_next_links(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    # the request as the HTTP API receives it, with the tutorial's date format
    request = parse_ingest_request(
        {
            "collection": "s2-svalbard",
            "source": {
                "type": "stac-search",
                "url": emulator.stac_url,
                "collections": ["sentinel-2-l2a"],
                "bbox": DEMO_BBOX,
                "datetime": DEMO_DATETIME,
            },
        },
        settings,
    )

    pages, costs = walk(request.source, 3, session, settings, emulator)

    assert [len(p.items) for p in pages] == [3, 3, 2]
    assert ids(pages) == DEMO_IDS
    assert costs[0] == 2  # landing page and the search
    assert costs[1:] == [1, 1]  # each later page: exactly one request, no re-walking
    for page in pages[:-1]:
        assert page.next_cursor is not None
        assert page.next_cursor["method"] == "POST"
        assert set(page.next_cursor["body"]) == {"token"}
        assert cursor_size(page.next_cursor) < 300

    prepared = [
        prepare_item(raw, collection="s2-svalbard", drop_assets=request.drop_assets)
        for page in pages
        for raw in page.items
    ]
    assert all(isinstance(p, PreparedItem) for p in prepared)
    assert {c for p in prepared if isinstance(p, PreparedItem) for c in p.containers} == {
        S2_CONTAINER
    }


def test_search_with_a_filter_and_the_max_items_limit(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    source = StacSearchSource(
        url=emulator.stac_url,
        collections=("sentinel-2-l2a",),
        bbox=tuple(DEMO_BBOX),
        datetime="2024-05-10T00:00:00Z/2024-05-20T23:59:59Z",
        filter={"op": "like", "args": [{"property": "id"}, "%T33X%"]},
    )
    pages, _ = walk(source, 10, session, settings, emulator)
    assert ids(pages) == [i for i in DEMO_IDS if "_T33X" in i]

    # the planner passes what maxItems leaves: the request asks for no more
    reader = open_reader(source, session=session, settings=settings)
    assert len(reader.read_page(None, 2).items) == 2


def test_search_resumes_from_get_next_links(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    # Resuming from a GET-style next link (a URL whose query carries the search), the emulator
    # answers with GET-style next links (`&token=next:...`), which are followed from there on.
    source = StacSearchSource(url=emulator.stac_url, collections=("sentinel-2-l2a",))
    query = "collections=sentinel-2-l2a&bbox=8.0,79.5,16.0,80.2&datetime=2024-05-10T00:00:00Z/2024-05-20T23:59:59Z&limit=3"
    start = {"href": f"{emulator.stac_url}/search?{query}", "method": "GET"}

    pages, costs = walk(source, 3, session, settings, emulator, cursor=start)

    assert ids(pages) == DEMO_IDS
    assert costs == [1, 1, 1]
    for page in pages[:-1]:
        assert page.next_cursor is not None
        assert page.next_cursor["method"] == "GET"
        assert "token=next:sentinel-2-l2a:" in page.next_cursor["href"]


def test_static_naip_catalog_page_by_page(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    emulator_stats_before = emulator.stats()["calls"].get("GET /static/{path:path}", {})
    url = f"{emulator.base_url}/static/mpcpro-sample-naip-sea/catalog.json"
    request = parse_ingest_request(
        {"collection": "naip-sea", "source": {"type": "static-catalog", "url": url}}, settings
    )

    pages, costs = walk(request.source, 5, session, settings, emulator)

    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 4]
    found = ids(pages)
    assert len(found) == len(set(found)) == 24
    assert all(found_id.startswith("wa_m_4712238_") for found_id in found)
    assert costs == [1 + 5, 1 + 5, 1 + 5, 1 + 5, 1 + 4]  # the root again, then the items
    static = emulator.stats()["calls"]["GET /static/{path:path}"]
    # the items' broken root/parent links (./catalog.json beside each item) were never followed
    assert static.get("404", 0) == emulator_stats_before.get("404", 0)

    prepared = [
        prepare_item(raw, collection="naip-sea", drop_assets=request.drop_assets)
        for page in pages
        for raw in page.items
    ]
    assert all(isinstance(p, PreparedItem) for p in prepared)
    for p in prepared:
        assert isinstance(p, PreparedItem)
        assert p.containers == {NAIP_CONTAINER}
        assert p.item["links"] == []
        assert not {"tilejson", "rendered_preview"} & set(p.item["assets"])


def test_static_stac_spec_examples_nested_children(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    url = f"{emulator.base_url}/static/stac-spec-examples-1.0.0/catalog.json"
    pages, _ = walk(
        parse_ingest_request(
            {"collection": "examples", "source": {"type": "static-catalog", "url": url}}, settings
        ).source,
        1,
        session,
        settings,
        emulator,
    )
    items = [raw for page in pages for raw in page.items]
    # child extensions-collection/collection.json holds proj-example; the two collection-only
    # children hold none; then the root's own item
    assert [raw.item["id"] for raw in items] == [  # type: ignore[index]
        "proj-example",
        "CS3-20160503_132131_08",
    ]
    assert items[0].url == (
        f"{emulator.base_url}/static/stac-spec-examples-1.0.0/"
        "extensions-collection/proj-example/proj-example.json"
    )
    # relative links resolved against the item's own URL
    parent = next(link for link in items[0].item["links"] if link["rel"] == "parent")  # type: ignore[index]
    assert parent["href"] == (
        f"{emulator.base_url}/static/stac-spec-examples-1.0.0/extensions-collection/collection.json"
    )


def test_item_urls_with_one_missing(
    emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    items_url = f"{emulator.stac_url}/collections/sentinel-2-l2a/items"
    urls = [
        f"{items_url}/{DEMO_IDS[0]}",
        f"{items_url}/S2B_DOES_NOT_EXIST",
        f"{items_url}/{DEMO_IDS[1]}",
    ]
    request = parse_ingest_request(
        {"collection": "abc", "source": {"type": "item-urls", "urls": urls}}, settings
    )
    pages, costs = walk(request.source, 2, session, settings, emulator)
    entries = [raw for page in pages for raw in page.items]
    assert [raw.error_code for raw in entries] == [None, ItemReadCode.NOT_FOUND, None]
    assert costs == [2, 1]
    outcomes = [prepare_item(raw, collection="abc", drop_assets=()) for raw in entries]
    assert [type(o).__name__ for o in outcomes] == ["PreparedItem", "InvalidItem", "PreparedItem"]


# --- the whole item-search body, with pystac-client as the reference client -----------------


def aoi_polygon(vertices: int, lon: float, lat: float, dlon: float, dlat: float) -> dict[str, Any]:
    ring = [
        [
            round(lon + dlon * math.cos(2 * math.pi * i / vertices), 6),
            round(lat + dlat * math.sin(2 * math.pi * i / vertices), 6),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


SVALBARD = aoi_polygon(3000, 12.0, 79.85, 4.0, 0.35)
SEARCHES: dict[str, dict[str, Any]] = {
    "ids-across-collections": {"ids": DEMO_IDS[:3]},
    "ids-and-collections": {"collections": ["sentinel-2-l2a", "naip"], "ids": DEMO_IDS[2:5]},
    "intersects-point": {
        "collections": ["sentinel-2-l2a"],
        "intersects": {"type": "Point", "coordinates": [12.0, 79.9]},
        "datetime": DEMO_DATETIME,
    },
    "intersects-3000-vertices": {
        "collections": ["sentinel-2-l2a"],
        "intersects": SVALBARD,
        "datetime": DEMO_DATETIME,
    },
    "sortby-cloud-cover": {
        "collections": ["sentinel-2-l2a"],
        "bbox": DEMO_BBOX,
        "datetime": DEMO_DATETIME,
        "sortby": "+properties.eo:cloud_cover,-id",
    },
    "cql2-json": {
        "collections": ["sentinel-2-l2a"],
        "filter": {
            "op": "and",
            "args": [
                {"op": "s_intersects", "args": [{"property": "geometry"}, SVALBARD]},
                {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 50]},
            ],
        },
        "datetime": DEMO_DATETIME,
    },
    "cql2-text": {
        "collections": ["sentinel-2-l2a"],
        "filter": "eo:cloud_cover <= 50 AND s2:mgrs_tile IN ('33XWK', '33XVJ', '31XEK')",
        "filter_lang": "cql2-text",
    },
    "query-and-limit-hint": {
        "collections": ["sentinel-2-l2a"],
        "bbox": DEMO_BBOX,
        "query": {"eo:cloud_cover": {"lt": 60}},
        "datetime": DEMO_DATETIME,
        "limit": 2,
    },
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_pasted_pystac_client_parameters_find_what_pystac_client_finds(
    name: str, emulator: RunningEmulator, session: requests.Session, settings: Settings
) -> None:
    """`ItemSearch(...).get_parameters()` pasted into a source unchanged finds, page by page
    through the service's reader, exactly the items pystac-client's own search finds."""
    arguments = SEARCHES[name]
    client = Client.open(emulator.stac_url)
    reference = [item.id for item in client.search(**arguments).items()]
    assert reference, "the emulator's recordings should match this search"

    parameters = json.loads(json.dumps(client.search(**arguments).get_parameters()))
    request = parse_ingest_request(
        {
            "collection": "pasted",
            "source": {"type": "stac-search", "url": emulator.stac_url, **parameters},
        },
        settings,
    )
    pages, costs = walk(request.source, 2, session, settings, emulator)
    found = ids(pages)
    if "sortby" in arguments:
        assert found == reference
    else:
        assert sorted(found) == sorted(reference)
    assert len(found) == len(set(found))
    # One request per page after the first (landing page + search).
    assert costs[0] == 2
    assert all(cost == 1 for cost in costs[1:])
    assert request.to_record()["source"]["type"] == "stac-search"
