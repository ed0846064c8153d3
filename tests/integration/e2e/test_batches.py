"""Batches end to end: what the GeoCatalog is sent and how each item's outcome is kept exact.

A source page's items are registered as batches of up to 99 items; a batch is searched by ids
once, then posted as ONE FeatureCollection. These tests read the GeoCatalog emulator's call
counters and operations (which hold each operation's item counts) to prove what went over the
wire, and end with every item in exactly one terminal state and the collection holding exactly
what the job says it holds. (Throttled, lost and transient batch posts, credential renewal of a
batch and a duplicate delivery of a batch message are in test_faults, test_credentials and
test_modes.)
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.e2e.conftest import (
    E2E,
    ITEM_ROUTE,
    ITEM_STATES,
    ITEMS_ROUTE,
    PAGE_SIZE,
    TERMINAL_ITEM_STATES,
    naip_items,
)
from tests.integration.source_server import document, source_server

BATCH_SIZE = 99  # INGEST_BATCH_SIZE's default, which the e2e stack keeps
SEARCH = "POST /stac/search"
OPERATION_GET = "GET /inma/operations/{operationId}"
OPERATION_LIST = "GET /inma/operations"


def small_items(count: int) -> list[dict[str, Any]]:
    """`count` distinct items made from the recorded NAIP items (their footprints, times and
    COG hrefs), pared down to what an item needs, so that over a hundred fit in one request."""
    base = naip_items(20)
    out = []
    for n in range(count):
        source = base[n % len(base)]
        out.append(
            {
                "type": "Feature",
                "stac_version": source["stac_version"],
                "id": f"{source['id']}-{n:03d}",
                "geometry": source["geometry"],
                "bbox": source["bbox"],
                "properties": {"datetime": source["properties"]["datetime"], "e2e:n": n},
                "assets": {"image": copy.deepcopy(source["assets"]["image"])},
            }
        )
    return out


def item_operations(e2e: E2E, collection_id: str) -> list[dict[str, Any]]:
    """The emulator's item operations on a collection, oldest first, as the API shows them."""
    emulator = e2e.geocatalog.emulator
    emulator.advance()
    with emulator.lock:
        return [
            op.to_json()
            for op in sorted(emulator.operations.all(), key=lambda o: o.seq)
            if op.collection_id == collection_id and op.type in ("AddItem", "UpdateItem")
        ]


def total_items(operation: dict[str, Any]) -> int:
    return int(operation["additionalInformation"]["TotalItems"])


def error_code(operation: dict[str, Any]) -> str | None:
    code: str | None = operation["statusHistory"][-1].get("errorCode")
    return code


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["itemId"]: row for row in rows}


def assert_catalog_holds_the_jobs_items(
    e2e: E2E, collection_id: str, rows: list[dict[str, Any]]
) -> None:
    """The collection holds exactly the items the job says succeeded and those it skipped
    because they were there already."""
    kept = {
        r["itemId"]
        for r in rows
        if r["state"] == "succeeded"
        or (r["state"] == "skipped" and r["lastError"]["code"] == "ItemAlreadyExistsInCollection")
    }
    assert set(e2e.catalog_items(collection_id)) == kept


def ingest(e2e: E2E, collection_id: str, items: list[dict[str, Any]], **extra: Any) -> str:
    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": items}, **extra}
    )
    e2e.wait_for_job(job_id)
    return job_id


def test_each_batch_is_one_search_and_one_post(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = small_items(BATCH_SIZE + 21)
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, items)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == len(items)
    assert all(r["attempts"] == 1 for r in rows)
    # One page, two batches: 99 items and the 21 after them, each one FeatureCollection.
    operations = item_operations(e2e, collection_id)
    assert sorted(total_items(op) for op in operations) == [21, BATCH_SIZE]
    assert {op["status"] for op in operations} == {"Succeeded"}
    assert calls[f"POST {ITEMS_ROUTE} 202"] == calls[f"POST {ITEMS_ROUTE}"] == 2
    assert calls[SEARCH] == 2
    assert calls[f"PUT {ITEM_ROUTE}"] == 0
    # Each item carries the operation of its batch: two operation ids among 120 rows.
    assert len({r["operationId"] for r in rows}) == 2
    # Everything the job cost the GeoCatalog (the submit's collection read, the ingestion
    # source, the searches, posts and status reads) is a small fraction of a call per item.
    spent = sum(n for key, n in calls.items() if key.count(" ") == 1)
    assert spent <= 0.15 * len(items), calls
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)


def test_create_skips_the_items_already_there_and_posts_only_the_rest(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(8)
    there = items[:3]
    first = ingest(e2e, collection_id, there)
    assert e2e.job(first)["state"] == "succeeded"

    changed = copy.deepcopy(items)
    for item in changed:
        item["properties"]["e2e:version"] = 2
    # Existing items among new ones, not at the front (the batch keeps source order).
    changed = changed[3:5] + changed[:3] + changed[5:]
    operations_before = len(item_operations(e2e, collection_id))
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, changed)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert (job["counts"]["succeeded"], job["counts"]["skipped"]) == (5, 3)
    states = by_id(rows)
    for item in there:
        row = states[item["id"]]
        assert row["state"] == "skipped"
        assert row["lastError"]["code"] == "ItemAlreadyExistsInCollection"
        # Never posted: no attempt spent, no operation followed.
        assert row["attempts"] == 0
        assert row["operationId"] is None
    # One search found the three; one FeatureCollection carried the other five.
    assert calls[SEARCH] == 1
    assert calls[f"POST {ITEMS_ROUTE} 202"] == calls[f"POST {ITEMS_ROUTE}"] == 1
    [operation] = item_operations(e2e, collection_id)[operations_before:]
    assert (operation["status"], total_items(operation)) == ("Succeeded", 5)
    stored = e2e.catalog_items(collection_id)
    # The skipped items kept what the first job put there.
    assert {i: "e2e:version" in stored[i]["properties"] for i in stored} == {
        i["id"]: i not in there for i in items
    }
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)


def test_upsert_puts_existing_items_one_by_one_and_posts_new_ones_as_a_batch(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(10)
    existing, new = items[:6], items[6:]
    first = ingest(e2e, collection_id, existing)
    assert e2e.job(first)["state"] == "succeeded"

    changed = copy.deepcopy(items)
    for item in changed:
        item["properties"]["e2e:version"] = 2
    operations_before = len(item_operations(e2e, collection_id))
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, changed, mode="upsert")
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == len(items)
    assert all(r["attempts"] == 1 for r in rows)
    assert calls[SEARCH] == 1
    assert calls[f"PUT {ITEM_ROUTE} 202"] == calls[f"PUT {ITEM_ROUTE}"] == len(existing)
    assert calls[f"POST {ITEMS_ROUTE} 202"] == calls[f"POST {ITEMS_ROUTE}"] == 1
    operations = item_operations(e2e, collection_id)[operations_before:]
    assert Counter((op["type"], total_items(op)) for op in operations) == {
        ("UpdateItem", 1): len(existing),
        ("AddItem", len(new)): 1,
    }
    # Seven operations carry the batch: they were settled by listing the collection's
    # operations by status, not read one by one.
    assert calls[OPERATION_GET] == 0, calls
    assert calls[f"{OPERATION_LIST} 200"] >= 1
    states = by_id(rows)
    put_ops = {op["id"] for op in operations if op["type"] == "UpdateItem"}
    assert {states[i["id"]]["operationId"] for i in existing} == put_ops
    stored = e2e.catalog_items(collection_id)
    assert {i: stored[i]["properties"].get("e2e:version") for i in stored} == {
        i["id"]: 2 for i in items
    }
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)


def refused_items(e2e: E2E, private_container: str) -> dict[str, dict[str, Any]]:
    """Items our preparation lets through (valid STAC, absolute http(s) hrefs) that the
    GeoCatalog refuses inside the operation, by the code it refuses each with."""
    expired_sas, managed, private = naip_items(3)
    href = expired_sas["assets"]["image"]["href"]
    # A SAS of the href's own (so no ingestion source is needed) that expired long ago.
    expired_sas["id"] = "batch-expired-href-sas"
    expired_sas["assets"] = {
        "image": {
            **expired_sas["assets"]["image"],
            "href": f"{href}?sv=2021-06-08&sr=b&sp=r&se=2020-01-01T00:00:00Z&sig=not-a-real-signature",
        }
    }
    # An href into the GeoCatalog's own managed storage, as read back from it.
    managed["id"] = "batch-managed-href"
    managed["assets"] = {
        "image": {
            **managed["assets"]["image"],
            "href": f"{e2e.geocatalog.base_url}/_managed/naip-0a1b2c3d/abc/x/x.tif",
        }
    }
    # A blob container no SAS provider serves and no ingestion source covers.
    private["id"] = "batch-private-container"
    private["assets"] = {
        "image": {
            **private["assets"]["image"],
            "href": f"{private_container}/tiles/x.tif",
        }
    }
    return {
        "IngestionAuthenticationFailed": expired_sas,
        "PublicAccessRestricted": managed,
        "IngestionResourceForbidden": private,
    }


def test_items_refused_inside_a_batch_get_their_own_codes_and_are_redriven(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    # A container of an account no other test uses: its ingestion source is made below.
    private_container = f"https://e2e{uuid.uuid4().hex[:12]}.blob.core.windows.net/private"
    refused = refused_items(e2e, private_container)
    good = naip_items(8)[3:]
    items = good[:2] + list(refused.values()) + good[2:]
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, items)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "partially_succeeded"
    states = by_id(rows)
    assert {i["id"]: states[i["id"]]["state"] for i in good} == {i["id"]: "succeeded" for i in good}
    # Each refused item failed with the GeoCatalog's own code for it, not the batch's.
    assert {
        code: (states[item["id"]]["state"], states[item["id"]]["lastError"]["code"])
        for code, item in refused.items()
    } == {code: ("failed", code) for code in refused}
    assert {e["itemId"]: e["code"] for e in job["errors"]} == {
        item["id"]: code for code, item in refused.items()
    }
    # The batch's operation failed as a whole (ErrorsInBatchOperation): one search by ids
    # found what had landed, and each of the rest was posted once more on its own.
    operations = item_operations(e2e, collection_id)
    assert [(total_items(op), error_code(op)) for op in operations[:1]] == [
        (len(items), "ErrorsInBatchOperation")
    ]
    assert sorted((total_items(op), error_code(op)) for op in operations[1:]) == sorted(
        (1, code) for code in refused
    )
    # Searches: before the batch and after its failure (the singles were just searched for).
    assert calls[SEARCH] == 2
    assert calls[f"POST {ITEMS_ROUTE} 202"] == calls[f"POST {ITEMS_ROUTE}"] == 1 + len(refused)
    assert {states[i["id"]]["attempts"] for i in refused.values()} == {2}
    assert {states[i["id"]]["attempts"] for i in good} == {1}
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)

    # The user gives the GeoCatalog access to the private container and redrives the job:
    # the failed items go back as one batch; the one that can now be read succeeds.
    client = e2e.geocatalog_client()
    expiry = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = client.create_ingestion_source(
        private_container, f"sv=2021-06-08&sr=c&sp=rl&se={expiry}&sig=not-a-real-signature"
    )
    try:
        operations_before = len(operations)
        before = e2e.geocatalog_calls()
        retried = e2e.http.post(f"{e2e.api}/jobs/{job_id}/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json()["reposted"] == len(refused)
        e2e.wait_for_job(job_id)
        job, rows = e2e.assert_every_item_accounted(job_id)
        calls = e2e.geocatalog_calls() - before
    finally:
        client.delete_ingestion_source(source.id)
        client.close()

    assert job["state"] == "partially_succeeded"
    assert (job["counts"]["succeeded"], job["counts"]["failed"]) == (len(good) + 1, 2)
    states = by_id(rows)
    fixed = refused.pop("IngestionResourceForbidden")
    assert (states[fixed["id"]]["state"], states[fixed["id"]]["attempts"]) == ("succeeded", 1)
    assert "lastError" not in states[fixed["id"]]
    assert {
        code: (states[item["id"]]["state"], states[item["id"]]["lastError"]["code"])
        for code, item in refused.items()
    } == {code: ("failed", code) for code in refused}
    # Redriven items start afresh: the batch of three, then each still refused on its own.
    assert {states[i["id"]]["attempts"] for i in refused.values()} == {2}
    redriven = item_operations(e2e, collection_id)[operations_before:]
    assert [(total_items(op), error_code(op)) for op in redriven[:1]] == [
        (3, "ErrorsInBatchOperation")
    ]
    assert sorted((total_items(op), error_code(op)) for op in redriven[1:]) == sorted(
        (1, code) for code in refused
    )
    assert calls[SEARCH] == 2
    assert calls[f"POST {ITEMS_ROUTE}"] == 1 + len(refused)
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)


def test_a_batch_too_large_for_the_geocatalog_is_split(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(10)
    # The first FeatureCollection is refused at once (413); the halves are accepted but refused
    # inside their operations (more than 3 items a request); thirds of those go through.
    e2e.geocatalog.configure(max_items_per_request=3)
    e2e.geocatalog.fault(status=413, count=1, method="POST", route=ITEMS_ROUTE)
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, items)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == len(items)
    assert all("lastError" not in r for r in rows), rows
    assert calls[f"POST {ITEMS_ROUTE} 413"] == 1
    operations = item_operations(e2e, collection_id)
    failed = [op for op in operations if op["status"] == "Failed"]
    succeeded = [op for op in operations if op["status"] == "Succeeded"]
    assert len(failed) + len(succeeded) == len(operations)
    assert sorted(total_items(op) for op in failed) == [5, 5]
    assert {error_code(op) for op in failed} == {"PostItemCollectionSizeExceeded"}
    # No item lost, none posted twice: the accepted pieces hold each item once.
    assert all(total_items(op) <= 3 for op in succeeded)
    assert sum(total_items(op) for op in succeeded) == len(items)
    assert calls[f"POST {ITEMS_ROUTE} 202"] == len(operations)
    assert len({r["operationId"] for r in rows}) == len(succeeded)
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)


def test_cancel_with_batches_in_flight(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = small_items(BATCH_SIZE + 21)
    e2e.geocatalog.configure(operation_duration_seconds=(20.0, 30.0))
    before = e2e.geocatalog_calls()
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for(
        "both batches posted", lambda: e2e.job(job_id)["counts"]["submitted"] == len(items)
    )

    response = e2e.http.post(f"{e2e.api}/jobs/{job_id}/cancel")
    assert response.status_code == 202, response.text
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "canceled"
    assert job["counts"]["canceled"] == len(items)
    # Both batches' operations were canceled at the GeoCatalog, each settling all its items.
    operations = item_operations(e2e, collection_id)
    assert sorted((op["status"], total_items(op)) for op in operations) == [
        ("Canceled", 21),
        ("Canceled", BATCH_SIZE),
    ]
    assert calls["DELETE /inma/operations/{operationId} 204"] == 2
    assert len({r["operationId"] for r in rows}) == 2
    assert_catalog_holds_the_jobs_items(e2e, collection_id, rows)
    assert e2e.catalog_items(collection_id) == {}


def assert_accounted_with_copies(
    e2e: E2E, job_id: str, items: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """assert_every_item_accounted for a job whose source repeats ids: a row per copy, in
    source order, each in one terminal state, and the counts are the rows."""
    job = e2e.job(job_id)
    rows = e2e.items(job_id, limit=3)
    assert [r["itemId"] for r in rows] == [i["id"] for i in items]
    assert all(r["state"] in TERMINAL_ITEM_STATES for r in rows), rows
    states = Counter(r["state"] for r in rows)
    assert job["counts"]["total"] == len(rows)
    assert {s: job["counts"][s] for s in ITEM_STATES} == {s: states.get(s, 0) for s in ITEM_STATES}
    for state, count in states.items():
        assert len(e2e.items(job_id, state=state)) == count
    return job, rows


def copies(item: dict[str, Any], versions: list[int]) -> list[dict[str, Any]]:
    out = []
    for version in versions:
        copied = copy.deepcopy(item)
        copied["properties"]["e2e:copy"] = version
        out.append(copied)
    return out


def test_duplicate_ids_in_one_page_create_posts_the_first_copy(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    a, b, c = naip_items(3)
    a1, a2, a3 = copies(a, [1, 2, 3])
    items = [a1, b, a2, c, a3]
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, items)
    job, rows = assert_accounted_with_copies(e2e, job_id, items)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert (job["counts"]["succeeded"], job["counts"]["skipped"]) == (3, 2)
    assert [r["state"] for r in rows] == [
        "succeeded",
        "succeeded",
        "skipped",
        "succeeded",
        "skipped",
    ]
    assert {rows[i]["lastError"]["code"] for i in (2, 4)} == {"DuplicateInJob"}
    assert {rows[i]["attempts"] for i in (2, 4)} == {0}
    [operation] = item_operations(e2e, collection_id)
    assert (operation["status"], total_items(operation)) == ("Succeeded", 3)
    assert calls[f"POST {ITEMS_ROUTE}"] == 1
    stored = e2e.catalog_items(collection_id)
    assert set(stored) == {a["id"], b["id"], c["id"]}
    assert stored[a["id"]]["properties"]["e2e:copy"] == 1


def test_duplicate_ids_in_one_page_upsert_ends_with_the_last_copy(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    a, b, d = naip_items(3)
    first = ingest(e2e, collection_id, [a, b])
    assert e2e.job(first)["state"] == "succeeded"

    # `a` exists (replaced with its last copy); `d` is new (posted as its last copy).
    a1, a2, a3 = copies(a, [1, 2, 3])
    d1, d2 = copies(d, [1, 2])
    [b2] = copies(b, [2])
    items = [a1, b2, a2, d1, a3, d2]
    operations_before = len(item_operations(e2e, collection_id))
    before = e2e.geocatalog_calls()
    job_id = ingest(e2e, collection_id, items, mode="upsert")
    job, rows = assert_accounted_with_copies(e2e, job_id, items)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert [r["state"] for r in rows] == [
        "skipped",
        "succeeded",
        "skipped",
        "skipped",
        "succeeded",
        "succeeded",
    ]
    assert {rows[i]["lastError"]["code"] for i in (0, 2, 3)} == {"DuplicateInJob"}
    operations = item_operations(e2e, collection_id)[operations_before:]
    assert Counter((op["type"], op["status"], total_items(op)) for op in operations) == {
        ("UpdateItem", "Succeeded", 1): 2,
        ("AddItem", "Succeeded", 1): 1,
    }
    assert calls[f"PUT {ITEM_ROUTE}"] == 2
    assert calls[f"POST {ITEMS_ROUTE}"] == 1
    stored = e2e.catalog_items(collection_id)
    assert {i: stored[i]["properties"]["e2e:copy"] for i in stored} == {
        a["id"]: 3,
        b["id"]: 2,
        d["id"]: 2,
    }


def ingest_urls(e2e: E2E, collection_id: str, items: list[dict[str, Any]], mode: str) -> str:
    """An item-urls job over `items` (pages of PAGE_SIZE), served by a local web server."""
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        urls = [web.url(f"/items/{n}.json") for n in range(len(items))]
        job_id = e2e.submit(
            {
                "collection": collection_id,
                "mode": mode,
                "source": {"type": "item-urls", "urls": urls},
            }
        )
        e2e.wait_for_job(job_id)
    return job_id


def test_duplicate_ids_across_pages_in_both_modes(e2e: E2E, collection_id: str) -> None:
    assert PAGE_SIZE == 5
    a, b, c, d, e, f, g = naip_items(7)
    # Pages of 5: `a` on all three pages, `e` on pages 1 and 2.
    items = [
        *copies(a, [1]), b, c, d, *copies(e, [1]),
        *copies(a, [2]), f, g, *copies(e, [2]), *copies(b, [2]),
        *copies(a, [3]),
    ]  # fmt: skip
    e2e.create_collection(collection_id)

    created = ingest_urls(e2e, collection_id, items, "create")
    job, rows = assert_accounted_with_copies(e2e, created, items)
    assert job["state"] == "succeeded", job["errors"]
    duplicates = [n for n, r in enumerate(rows) if r["state"] == "skipped"]
    assert duplicates == [5, 8, 9, 10]
    assert {rows[n]["lastError"]["code"] for n in duplicates} == {"DuplicateInJob"}
    stored = e2e.catalog_items(collection_id)
    assert set(stored) == {i["id"] for i in items}
    assert stored[a["id"]]["properties"]["e2e:copy"] == 1
    assert stored[e["id"]]["properties"]["e2e:copy"] == 1

    upserted = ingest_urls(e2e, collection_id, items, "upsert")
    job, rows = assert_accounted_with_copies(e2e, upserted, items)
    assert job["state"] == "succeeded", job["errors"]
    assert {r["state"] for r in rows} <= {"succeeded", "skipped"}
    assert all(rows[n]["state"] == "succeeded" for n in (2, 3, 6, 7, 8, 9, 10))
    stored = e2e.catalog_items(collection_id)
    assert {i: stored[i]["properties"].get("e2e:copy") for i in (a["id"], b["id"], e["id"])} == {
        a["id"]: 3,
        b["id"]: 2,
        e["id"]: 2,
    }
