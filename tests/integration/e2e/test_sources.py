"""Every source type, from POST /api/ingest to every item accounted for."""

from __future__ import annotations

from typing import Any

import httpx

from shared.messages import PlanMessage
from tests.integration.e2e.conftest import (
    DEMO_SEARCH,
    E2E,
    ITEMS_ROUTE,
    NAIP_CONTAINER,
    PAGE_SIZE,
    SENTINEL_CONTAINER,
    naip_items,
)


def test_stac_search_demo_into_a_collection_created_from_the_template(
    e2e: E2E, collection_id: str
) -> None:
    """The tutorial: the demo search (maxItems 6) into a collection that does not exist yet,
    created from the Planetary Computer's sentinel-2-l2a (createCollection). The first plan
    message is delivered twice, as an event delivered twice does: both copies bootstrap."""
    template = f"{e2e.pc.stac_url}/collections/sentinel-2-l2a"
    job_id = e2e.submit(
        {
            "collection": collection_id,
            "createCollection": {"templateUrl": template},
            "source": {"type": "stac-search", "url": e2e.pc.stac_url, **DEMO_SEARCH, "maxItems": 6},
        }
    )
    e2e.queues().send(PlanMessage(job_id))
    e2e.wait_for_job(job_id)
    job, items = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert "planError" not in job
    assert job["createCollection"] == {"templateUrl": template}
    assert job["counts"]["succeeded"] == 6
    assert [c["containerUrl"] for c in job["containers"]] == [SENTINEL_CONTAINER]
    assert all(i["attempts"] == 1 and i["operationId"] for i in items)
    # The collection, its thumbnail, every render option of the template and the mosaic.
    emulator = e2e.geocatalog.emulator
    with emulator.lock:
        record = emulator.state.collections[collection_id]
        doc, assets = dict(record.doc), dict(record.assets)
        render_options = [o["name"] for o in record.render_options.values()]
        mosaics = [m["name"] for m in record.mosaics.values()]
    assert doc["title"] == collection_id
    assert "msft:storage_account" not in doc
    assert assets["thumbnail"]["roles"] == ["thumbnail"]
    info = httpx.get(
        f"{e2e.pc.base_url}/api/data/v1/mosaic/info",
        params={"collection": "sentinel-2-l2a"},
        timeout=30,
    ).json()
    assert sorted(render_options) == sorted(o["name"] for o in info["renderOptions"])
    assert "Most recent available" in mosaics
    # The items, targeted at the new collection, without the Planetary Computer's API assets.
    stored = e2e.catalog_items(collection_id)
    assert set(stored) == {i["itemId"] for i in items}
    for item in stored.values():
        assert item["collection"] == collection_id
        assert not {"rendered_preview", "preview", "tilejson"} & set(item["assets"])


def test_stac_search_over_several_plan_pages(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    mark = e2e.mark()
    # Sentinel-2 L2A in 2019 over the recorded area: the emulator holds 33 such items.
    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {
                "type": "stac-search",
                "url": e2e.pc.stac_url,
                "collections": ["sentinel-2-l2a"],
                "datetime": "2019-01-01/2019-12-31",
                "maxItems": 13,
            },
        }
    )
    e2e.wait_for_job(job_id)
    job, items = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded"
    assert len(items) == 13
    # 13 items at INGEST_SOURCE_PAGE_SIZE=5: three pages, each its own plan message.
    assert PAGE_SIZE == 5
    assert job["planning"] == {"done": True, "pages": 3}
    plan_runs = [i for i in e2e.host.invocations[mark[0] :] if i.function_name == "ingest_plan"]
    assert len(plan_runs) >= 3
    assert set(e2e.catalog_items(collection_id)) == {i["itemId"] for i in items}


def test_static_catalog(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {
                "type": "static-catalog",
                "url": f"{e2e.pc.base_url}/static/mpcpro-sample-naip-sea/catalog.json",
            },
        }
    )
    e2e.wait_for_job(job_id)
    job, items = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert len(items) == 24
    assert {c["containerUrl"] for c in job["containers"]} == {NAIP_CONTAINER}
    assert set(e2e.catalog_items(collection_id)) == {i["itemId"] for i in items}


def test_inline_items_as_a_list_and_as_a_feature_collection(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(7)
    as_list = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": items[:3]}}
    )
    as_collection = e2e.submit(
        {
            "collection": collection_id,
            "source": {
                "type": "items",
                "items": {"type": "FeatureCollection", "features": items[3:]},
            },
        }
    )
    for job_id, expected in ((as_list, items[:3]), (as_collection, items[3:])):
        e2e.wait_for_job(job_id)
        job, rows = e2e.assert_every_item_accounted(job_id)
        assert job["state"] == "succeeded", job["errors"]
        assert sorted(r["itemId"] for r in rows) == sorted(i["id"] for i in expected)
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in items}


def test_item_urls_with_one_missing(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    ids = [i["id"] for i in naip_items(4)]
    urls = [f"{e2e.pc.stac_url}/collections/naip/items/{item_id}" for item_id in ids]
    missing = f"{e2e.pc.stac_url}/collections/naip/items/no-such-item"
    before = e2e.geocatalog_calls()

    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "item-urls", "urls": [*urls, missing]}}
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "partially_succeeded"
    by_state: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_state.setdefault(row["state"], []).append(row)
    assert sorted(r["itemId"] for r in by_state["succeeded"]) == sorted(ids)
    [invalid] = by_state["invalid"]
    assert invalid["lastError"]["code"] == "ItemNotFound"
    assert "404" in invalid["lastError"]["message"]
    assert set(by_state) == {"succeeded", "invalid"}
    # The missing URL was never posted.
    posted = e2e.geocatalog_calls() - before
    assert posted[f"POST {ITEMS_ROUTE} 202"] == 1  # the good ones, as one batch
