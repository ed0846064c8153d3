"""Broken parts of a source, bad items among good ones, a source that matches nothing, and a retry
sent many times at once: every item still ends in exactly one recorded state, the job says what
happened, and the GeoCatalog holds exactly the items that succeeded.

The broken parts are served over real HTTP by a loopback server (`source_server`) in front of the
real planner; the items are real STAC: the NAIP sample catalog published for Planetary Computer Pro
(`local/fixtures/static-catalog/mpcpro-sample-naip-sea`) and recorded Planetary Computer items.
"""

from __future__ import annotations

import copy
import json
import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.integration.e2e.conftest import (
    DEMO_SEARCH,
    E2E,
    FIXTURES,
    MAX_DEQUEUE_COUNT,
    PAGE_SIZE,
    naip_items,
)
from tests.integration.source_server import document, html, source_server, status

NAIP_SEA = FIXTURES / "static-catalog" / "mpcpro-sample-naip-sea"
SECRET = "placeholder-signature-not-real"


def naip_sea_items(count: int) -> list[dict[str, Any]]:
    """Items of the NAIP sample catalog, in its link order."""
    root = json.loads((NAIP_SEA / "catalog.json").read_text())
    hrefs = [link["href"] for link in root["links"] if link["rel"] == "item"]
    return [json.loads((NAIP_SEA / Path(href)).read_text()) for href in hrefs[:count]]


def catalog(*links: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "Catalog",
        "id": "broken-links",
        "stac_version": "1.1.0",
        "description": "The NAIP sample's items under catalogs of which some cannot be read",
        "links": [{"rel": rel, "href": href} for rel, href in links],
    }


def by_state(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["state"], []).append(row)
    return grouped


def closed_port_url(path: str) -> str:
    """A loopback URL nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_static_catalog_with_broken_child_links_among_good_ones(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_sea_items(8)
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        web.serve(
            "/good-1/catalog.json",
            document(
                catalog(
                    ("item", "../items/1.json"),
                    ("item", "gone.json"),  # an item link answering 404: one invalid item
                    ("item", "../items/2.json"),
                    ("item", "../items/3.json"),
                )
            ),
        )
        web.serve("/forbidden/catalog.json", status(403))
        web.serve("/moved/catalog.json", html())
        web.serve("/down/catalog.json", status(503))
        web.serve(
            "/good-2/catalog.json",
            document(catalog(*[("item", f"../items/{n}.json") for n in range(4, 8)])),
        )
        broken = {
            "/dead/catalog.json": ("SourceLinkBroken", "HTTP 404"),
            "/forbidden/catalog.json": ("SourceLinkBroken", "HTTP 403"),
            "/moved/catalog.json": ("SourceLinkBroken", "not JSON"),
            "/down/catalog.json": ("SourceLinkUnavailable", "HTTP 503 (3 tries)"),
        }
        web.serve(
            "/catalog.json",
            document(
                catalog(
                    ("item", "items/0.json"),
                    ("child", "good-1/catalog.json"),
                    ("child", "dead/catalog.json"),
                    ("child", "forbidden/catalog.json"),
                    ("child", "moved/catalog.json"),
                    ("child", "down/catalog.json"),
                    ("child", "good-2/catalog.json"),
                )
            ),
        )
        # The root URL carries a (fake) SAS, as a private container's would: it is added to
        # every fetch on that host and must not reach the job record.
        root = web.url(f"/catalog.json?sv=2024-05-04&sp=rl&sig={SECRET}")
        job_id = e2e.submit(
            {"collection": collection_id, "source": {"type": "static-catalog", "url": root}}
        )
        e2e.wait_for_job(job_id)
        down_hits = web.hits_of("/down/catalog.json")

    job, rows = e2e.assert_every_item_accounted(job_id)
    states = by_state(rows)
    assert set(states) == {"succeeded", "invalid"}
    assert sorted(r["itemId"] for r in states["succeeded"]) == sorted(i["id"] for i in items)
    [gone] = states["invalid"]
    assert gone["lastError"]["code"] == "ItemNotFound"
    assert web.url("/good-1/gone.json") in gone["lastError"]["message"]
    assert job["state"] == "partially_succeeded"
    assert job["planning"]["pages"] > 1  # the broken links were met over several plan pages
    assert {w["url"]: w["code"] for w in job["warnings"]} == {
        web.url(path): code for path, (code, _said) in broken.items()
    }
    for warning in job["warnings"]:
        said = broken[warning["url"][len(web.base_url) :]][1]
        assert said in warning["message"]
    assert down_hits == 3
    assert SECRET not in json.dumps(job)
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in items}


def test_over_long_ids_among_good_items(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    good = naip_items(4)
    long_ids = ["x" * 1500, "\u00e9" * 400, "\U0001f6f0" * 300, "a/b" * 400]
    bad = []
    for n, item_id in enumerate(long_ids):
        item = copy.deepcopy(good[n])
        item["id"] = item_id
        bad.append(item)
    # Bad and good interleaved, over two plan pages.
    source = [item for pair in zip(good, bad, strict=True) for item in pair]
    assert len(source) > PAGE_SIZE

    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": source}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    states = by_state(rows)
    assert set(states) == {"succeeded", "invalid"}
    assert sorted(r["itemId"] for r in states["succeeded"]) == sorted(i["id"] for i in good)
    invalid = states["invalid"]
    assert len(invalid) == len(long_ids)
    assert {r["lastError"]["code"] for r in invalid} == {"InvalidItemId"}
    for row in invalid:
        # Recorded under a bounded id that still shows how it began.
        assert len(row["itemId"]) < 300
        assert any(row["itemId"].startswith(item_id[:3]) for item_id in long_ids)
    assert job["state"] == "partially_succeeded"
    assert "planError" not in job
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in good}


def test_an_item_without_assets_is_posted(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(3)
    items[0]["assets"] = {}
    only_api_links = {k: v for k, v in items[1]["assets"].items() if k in ("tilejson",)}
    assert only_api_links
    items[1]["assets"] = only_api_links  # nothing left once the API links are dropped

    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {"type": "items", "items": items},
            "dropAssets": ["rendered_preview", "preview", "tilejson"],
        }
    )
    e2e.wait_for_job(job_id)
    job, _rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    stored = e2e.catalog_items(collection_id)
    assert set(stored) == {i["id"] for i in items}
    assert stored[items[0]["id"]]["assets"] == {}
    assert stored[items[1]["id"]]["assets"] == {}


def test_item_urls_with_unreachable_and_always_failing_urls(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(5)
    with source_server() as web:
        web.serve("/down.json", status(503))
        flaky_body = json.dumps(items[4]).encode()
        web.serve(
            "/flaky.json",
            lambda n: (
                (503, "application/json", b"{}")
                if n == 0
                else (200, "application/json", flaky_body)
            ),
        )
        urls = [f"{e2e.pc.stac_url}/collections/naip/items/{i['id']}" for i in items[:4]]
        refused = closed_port_url("/refused.json")
        urls[1:1] = [web.url("/down.json"), refused]
        urls.append(web.url("/flaky.json"))
        job_id = e2e.submit(
            {"collection": collection_id, "source": {"type": "item-urls", "urls": urls}}
        )
        e2e.wait_for_job(job_id)
        hits = (web.hits_of("/down.json"), web.hits_of("/flaky.json"))

    job, rows = e2e.assert_every_item_accounted(job_id)
    states = by_state(rows)
    assert set(states) == {"succeeded", "invalid"}
    assert sorted(r["itemId"] for r in states["succeeded"]) == sorted(i["id"] for i in items)
    unreadable = states["invalid"]
    assert [r["lastError"]["code"] for r in unreadable] == ["ItemUnreadable"] * 2
    messages = sorted(r["lastError"]["message"] for r in unreadable)
    assert any(web.url("/down.json") in m and "HTTP 503 (3 tries)" in m for m in messages)
    assert any(refused in m and "ConnectionError (3 tries)" in m for m in messages)
    assert hits == (3, 2)
    assert job["state"] == "partially_succeeded"
    assert "planError" not in job
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in items}


def test_a_search_that_matches_nothing_says_so(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {
                "type": "stac-search",
                "url": e2e.pc.stac_url,
                **DEMO_SEARCH,
                "datetime": "1999-01-01/1999-12-31",  # long before Sentinel-2
            },
        }
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert rows == []
    assert job["state"] == "succeeded"
    assert job["counts"]["total"] == 0
    [warning] = job["warnings"]
    assert warning["code"] == "NoItemsFound"
    assert e2e.catalog_items(collection_id) == {}


def test_twenty_concurrent_retries_redrive_a_dead_plan_page_once(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_sea_items(8)
    root_up = False
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        root = document(catalog(*[("item", f"items/{n}.json") for n in range(len(items))]))
        web.serve(
            "/catalog.json",
            lambda n: root(n) if root_up else (503, "application/json", b"{}"),
        )
        mark = e2e.mark()
        job_id = e2e.submit(
            {
                "collection": collection_id,
                "source": {"type": "static-catalog", "url": web.url("/catalog.json")},
            }
        )
        dead = e2e.wait_for_job(job_id)
        assert dead["state"] == "failed"
        assert dead["planError"]["code"] == "SourceUnavailable"
        assert [e.queue for e in e2e.poisoned_since(mark)] == ["ingest-plan"]
        assert web.hits_of("/catalog.json") == 3 * MAX_DEQUEUE_COUNT

        root_up = True
        mark = e2e.mark()

        def retry(_n: int) -> dict[str, Any]:
            with httpx.Client(timeout=60) as client:
                response = client.post(f"{e2e.api}/jobs/{job_id}/retry")
            assert response.status_code in (200, 202), response.text
            body: dict[str, Any] = response.json()
            return body

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(retry, range(20)))
        e2e.wait_for_job(job_id)
        root_reads = web.hits_of("/catalog.json") - 3 * MAX_DEQUEUE_COUNT

    assert Counter(a["planningRedriven"] for a in answers) == {True: 1, False: 19}
    job, rows = e2e.assert_every_item_accounted(job_id)
    assert job["state"] == "succeeded", (job["errors"], job.get("planError"))
    assert sorted(r["itemId"] for r in rows) == sorted(i["id"] for i in items)
    # One redrive: 8 items at 5 a page are two plan pages, each reading the root once.
    plan_runs = [i for i in e2e.host.invocations[mark[0] :] if i.function_name == "ingest_plan"]
    assert len(plan_runs) == 2
    assert root_reads == 2
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in items}
    # One post of each plan page's batch: a second redrive would have posted them again (and,
    # in create mode, seen them fail as already in the collection).
    assert e2e.operations(collection_id) == {"AddItem Succeeded": 2}
