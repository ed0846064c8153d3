"""Create then upsert, and a duplicate delivery, end to end."""

from __future__ import annotations

import threading

from shared.jobs.keys import batch_key
from shared.messages import BatchMessage
from tests.integration.e2e.conftest import (
    E2E,
    ITEM_ROUTE,
    ITEMS_ROUTE,
    JOB_TIMEOUT,
    naip_items,
)


def test_create_then_again_skips_and_upsert_replaces(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(4)
    body = {"collection": collection_id, "source": {"type": "items", "items": items}}
    first = e2e.submit(body)
    e2e.wait_for_job(first)
    job, _ = e2e.assert_every_item_accounted(first)
    assert job["state"] == "succeeded", job["errors"]

    before = e2e.geocatalog_calls()
    second = e2e.submit(body)
    e2e.wait_for_job(second)
    job, rows = e2e.assert_every_item_accounted(second)
    calls = e2e.geocatalog_calls() - before
    # Already there: skipped, each once, and not a failure of the job. One search by ids
    # found them all, so nothing was posted.
    assert job["state"] == "succeeded"
    assert job["counts"]["skipped"] == job["counts"]["total"] == 4
    assert {r["lastError"]["code"] for r in rows} == {"ItemAlreadyExistsInCollection"}
    assert calls[f"POST {ITEMS_ROUTE}"] == 0
    assert calls["POST /stac/search 200"] == 1
    assert "AddItem Failed" not in e2e.operations(collection_id)

    for item in items:
        item["properties"]["e2e:version"] = 2
    before = e2e.geocatalog_calls()
    third = e2e.submit({**body, "mode": "upsert", "source": {"type": "items", "items": items}})
    e2e.wait_for_job(third)
    job, rows = e2e.assert_every_item_accounted(third)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == 4
    assert calls[f"PUT {ITEM_ROUTE} 202"] == 4
    assert calls[f"POST {ITEMS_ROUTE}"] == 0
    assert e2e.operations(collection_id)["UpdateItem Succeeded"] == 4
    stored = e2e.catalog_items(collection_id)
    assert {i: stored[i]["properties"]["e2e:version"] for i in stored} == {
        i["id"]: 2 for i in items
    }


def test_a_duplicate_delivery_is_posted_once_and_counted_once(e2e: E2E, collection_id: str) -> None:
    """The batch's message is delivered four times: the original (throttled, so it comes back
    on its own), two concurrent runs through the admin API and a copy put on the queue."""
    e2e.create_collection(collection_id)
    items = naip_items(3)
    # The batch's first POST is throttled for a few seconds: its items wait, pending.
    e2e.geocatalog.fault(status=429, count=1, method="POST", route=ITEMS_ROUTE, retryAfter=2)
    before = e2e.geocatalog_calls()
    mark = e2e.mark()
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for(
        "the batch throttled once",
        lambda: (
            (e2e.geocatalog_calls() - before)[f"POST {ITEMS_ROUTE} 429"] == 1
            and len(e2e.items(job_id, state="pending")) == 3
        ),
    )

    queues = e2e.queues()
    admin = f"{e2e.stack.base_url}/admin/functions/ingest_items"
    answers: list[int] = []

    def run_now(body: str) -> None:
        answers.append(e2e.http.post(admin, json={"input": body}).status_code)

    message = BatchMessage(job_id, batch_key("p00000000", 0))
    queues.send(message)
    runs = [threading.Thread(target=run_now, args=(message.to_json(),)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert answers == [202] * 2
    e2e.wait_for_job(job_id)
    # Let every copy (and the throttled originals coming back) be delivered before counting.
    e2e.host.drain(timeout=JOB_TIMEOUT)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == job["counts"]["total"] == 3
    # One FeatureCollection of three items, posted once.
    assert calls[f"POST {ITEMS_ROUTE} 202"] == 1
    assert e2e.operations(collection_id) == {"AddItem Succeeded": 1}
    deliveries = [i for i in e2e.host.invocations[mark[0] :] if i.function_name == "ingest_items"]
    assert len(deliveries) >= 4
    assert sum(1 for i in deliveries if i.details.get("admin")) == 2
    assert all(r["attempts"] == 1 for r in rows)
