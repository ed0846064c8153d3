"""The whole STAC item-search body and non-JSON numbers, end to end on the local stack."""

from __future__ import annotations

import json
import math
from typing import Any

from pystac_client import Client

from tests.integration.e2e.conftest import DEMO_SEARCH, E2E, PAGE_SIZE, naip_items


def aoi_polygon(vertices: int) -> dict[str, Any]:
    """A detailed AOI around north-west Spitsbergen (the demo search's area), as users draw."""
    ring = [
        [
            round(12.0 + 4.0 * math.cos(2 * math.pi * i / vertices), 6),
            round(79.85 + 0.35 * math.sin(2 * math.pi * i / vertices), 6),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_pystac_client_parameters_with_a_3000_vertex_aoi(e2e: E2E, collection_id: str) -> None:
    """`ItemSearch(...).get_parameters()` pasted as the source: a CQL2 filter on a 3,000-vertex
    polygon (~100 KB, more than a Table property holds), a sort and a page-size hint. Accepted,
    planned over several pages, every item accounted for; the job shows the filter by its size."""
    e2e.create_collection(collection_id)
    polygon = aoi_polygon(3000)
    search_filter = {
        "op": "and",
        "args": [
            {"op": "s_intersects", "args": [{"property": "geometry"}, polygon]},
            {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 80]},
        ],
    }
    arguments: dict[str, Any] = {
        "collections": DEMO_SEARCH["collections"],
        "datetime": DEMO_SEARCH["datetime"],
        "filter": search_filter,
        "sortby": "+properties.eo:cloud_cover",
        "limit": 3,
    }
    client = Client.open(e2e.pc.stac_url)
    reference = [item.id for item in client.search(**arguments).items()]
    assert len(reference) > PAGE_SIZE  # several plan pages
    parameters = json.loads(json.dumps(client.search(**arguments).get_parameters()))
    assert len(json.dumps(parameters)) > 64 * 1024

    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {"type": "stac-search", "url": e2e.pc.stac_url, **parameters},
        }
    )
    e2e.wait_for_job(job_id)
    job, items = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert sorted(i["itemId"] for i in items) == sorted(reference)
    assert set(e2e.catalog_items(collection_id)) == set(reference)
    source = job["source"]
    assert "filter" not in source
    assert source["omitted"]["filter"] == len(json.dumps(search_filter, separators=(",", ":")))
    assert source["sortby"] == [{"field": "properties.eo:cloud_cover", "direction": "asc"}]
    assert source["limit"] == 3
    assert source["filter-lang"] == "cql2-json"


def test_a_cql2_text_filter_and_no_collections(e2e: E2E, collection_id: str) -> None:
    """CQL2 text with filter-lang, ids across every collection (no `collections`)."""
    e2e.create_collection(collection_id)
    client = Client.open(e2e.pc.stac_url)
    wanted = [item.id for item in client.search(**DEMO_SEARCH).items()][:4]
    listed = ", ".join(f"'{i}'" for i in wanted)
    arguments = {"filter": f"id IN ({listed}) AND eo:cloud_cover >= 0", "filter_lang": "cql2-text"}
    reference = [item.id for item in client.search(**arguments).items()]
    assert sorted(reference) == sorted(wanted)
    parameters = json.loads(json.dumps(client.search(**arguments).get_parameters()))
    assert parameters["filter-lang"] == "cql2-text"
    assert "collections" not in parameters

    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {"type": "stac-search", "url": e2e.pc.stac_url, **parameters},
        }
    )
    e2e.wait_for_job(job_id)
    job, items = e2e.assert_every_item_accounted(job_id)
    assert job["state"] == "succeeded", job["errors"]
    assert sorted(i["itemId"] for i in items) == sorted(wanted)
    assert job["source"]["filter"] == arguments["filter"]


def test_an_inline_item_holding_nan_is_invalid_and_the_others_succeed(
    e2e: E2E, collection_id: str
) -> None:
    """NaN and the infinities are not JSON; inside an item they make that item `invalid`, before
    anything is posted, and the job view stays valid JSON."""
    e2e.create_collection(collection_id)
    items = naip_items(4)
    items[1]["properties"]["eo:cloud_cover"] = float("nan")
    items[2]["bbox"][0] = float("-inf")
    # Python writes the non-JSON tokens NaN and -Infinity, as a careless client would.
    raw = json.dumps({"collection": collection_id, "source": {"type": "items", "items": items}})
    assert "NaN" in raw
    assert "-Infinity" in raw
    response = e2e.http.post(
        f"{e2e.api}/ingest", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "partially_succeeded"
    states = {row["itemId"]: row["state"] for row in rows}
    assert states == {
        items[0]["id"]: "succeeded",
        items[1]["id"]: "invalid",
        items[2]["id"]: "invalid",
        items[3]["id"]: "succeeded",
    }
    codes = {error["itemId"]: error["code"] for error in job["errors"]}
    assert codes == {items[1]["id"]: "InvalidNumber", items[2]["id"]: "InvalidNumber"}
    assert set(e2e.catalog_items(collection_id)) == {items[0]["id"], items[3]["id"]}
    # Every answer of the API is strict JSON.
    for path in (f"jobs/{job_id}", f"jobs/{job_id}/items"):
        text = e2e.http.get(f"{e2e.api}/{path}").text
        json.loads(text, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(token)))
