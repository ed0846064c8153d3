"""Throttling, outages and failing operations: the job still ends with every item accounted for."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.e2e.conftest import (
    DEMO_SEARCH,
    E2E,
    ITEMS_ROUTE,
    MAX_DEQUEUE_COUNT,
    naip_items,
)

PIPELINE_FUNCTIONS = {"ingest_plan", "ingest_items", "ingest_status"}


def submit_as_a_client_would(e2e: E2E, body: dict[str, Any]) -> str:
    """POST /api/ingest, honouring a 503's Retry-After (the submit reads the collection)."""
    for _ in range(30):
        response = e2e.post_ingest(body)
        if response.status_code != 503:
            assert response.status_code == 202, response.text
            job_id: str = response.json()["jobId"]
            return job_id
        assert response.headers["content-type"] == "application/problem+json"
        time.sleep(int(response.headers["Retry-After"]))
    raise AssertionError("POST /api/ingest kept answering 503")


def test_a_429_storm_with_retry_after_costs_nothing(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    before = e2e.geocatalog_calls()
    mark = e2e.mark()
    # A tenth of the real budget; every 429 carries Retry-After (time until a slot frees).
    e2e.geocatalog.configure(budget_per_second=5, throttle_retry_after=True)
    job_id = submit_as_a_client_would(
        e2e,
        {
            "collection": collection_id,
            "source": {"type": "stac-search", "url": e2e.pc.stac_url, **DEMO_SEARCH},
        },
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == 8
    assert sum(n for key, n in calls.items() if key.endswith(" 429")) > 0, calls
    assert e2e.poisoned_since(mark) == []
    # Throttling is not a failure: no invocation raised, so no dequeue count was spent.
    assert failed_pipeline_runs(e2e, mark) == []
    assert all(r["attempts"] == 1 for r in rows)


def test_a_429_burst_without_retry_after(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(6)
    before = e2e.geocatalog_calls()
    mark = e2e.mark()
    # 429s without Retry-After on the batch's posts and on its operation reads: the service
    # backs off on its own (jittered, growing), without failing an invocation.
    for method, route in (("POST", ITEMS_ROUTE), ("GET", "/inma/operations/")):
        e2e.geocatalog.fault(status=429, count=3, method=method, route=route)
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == 6
    assert e2e.geocatalog.emulator.faults.pending() == []
    assert sum(n for key, n in calls.items() if key.endswith(" 429")) == 6
    assert e2e.poisoned_since(mark) == []
    assert failed_pipeline_runs(e2e, mark) == []
    assert all(r["attempts"] == 1 for r in rows)


def failed_pipeline_runs(e2e: E2E, mark: tuple[int, int]) -> list[Any]:
    return [i for i in e2e.failed_invocations_since(mark) if i.function_name in PIPELINE_FUNCTIONS]


def test_503s_on_item_posts_are_retried_by_the_host(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(4)
    before = e2e.geocatalog_calls()
    mark = e2e.mark()
    # Fewer 503s than maxDequeueCount: whichever messages they hit, none can be poisoned.
    e2e.geocatalog.fault(status=503, count=MAX_DEQUEUE_COUNT - 1, method="POST", route=ITEMS_ROUTE)
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == 4
    assert calls[f"POST {ITEMS_ROUTE} 503"] == MAX_DEQUEUE_COUNT - 1
    # The four items are one batch: one FeatureCollection, accepted once.
    assert calls[f"POST {ITEMS_ROUTE} 202"] == 1
    # Each 503 failed an invocation, and the host redelivered the message.
    retried = [i for i in e2e.failed_invocations_since(mark) if i.function_name == "ingest_items"]
    assert len(retried) == MAX_DEQUEUE_COUNT - 1
    assert e2e.poisoned_since(mark) == []
    # Nothing reached the catalog on a 503, so no attempt was spent either.
    assert all(r["attempts"] == 1 for r in rows)


def test_a_lost_response_after_the_post_took_effect(e2e: E2E, collection_id: str) -> None:
    """The POST is applied but the client sees a 503: the next delivery's search by ids finds
    the items there (or its re-post fails because they are), and they are ours: succeeded."""
    e2e.create_collection(collection_id)
    items = naip_items(3)
    e2e.geocatalog.fault(status=503, count=1, method="POST", route=ITEMS_ROUTE, phase="after")
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert job["counts"]["succeeded"] == job["counts"]["total"] == 3
    assert all("lastError" not in r for r in rows), rows
    assert e2e.geocatalog.emulator.faults.pending() == []
    assert set(e2e.catalog_items(collection_id)) == {i["id"] for i in items}


def test_operations_failing_transiently_are_reposted(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(3)
    # Every operation fails with InternalIntermitentError until the batch's first has failed.
    e2e.geocatalog.configure(transient_operation_failure_rate=1.0)
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for(
        "the batch's first operation failed",
        lambda: e2e.operations(collection_id)["AddItem Failed"] >= 1,
    )
    e2e.geocatalog.configure(transient_operation_failure_rate=0.0)
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    operations = e2e.operations(collection_id)
    # The whole batch was re-posted as one (a re-post may have failed too before the switch).
    assert operations["AddItem Succeeded"] == 1
    assert {r["attempts"] for r in rows} == {operations["AddItem Failed"] + 1}
    assert all("lastError" not in r for r in rows)


def test_a_message_that_keeps_failing_is_dead_lettered_then_redriven(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(2)
    mark = e2e.mark()
    # One item's message meets a 503 on every delivery the host allows; the other gets through.
    e2e.geocatalog.fault(status=503, count=MAX_DEQUEUE_COUNT, method="POST", route=ITEMS_ROUTE)
    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": items[:1]}}
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "failed"
    [row] = rows
    assert row["state"] == "deadLettered"
    assert row["lastError"]["code"] == "DeadLettered"
    assert "ServiceUnavailable" in row["lastError"]["message"]
    [poisoned] = e2e.poisoned_since(mark)
    assert poisoned.queue == "ingest-items"
    assert poisoned.destination == "ingest-items-poison"
    recorded = e2e.host.invocations_of("ingest_items_poison")
    assert recorded
    assert recorded[-1].error is None

    retried = e2e.http.post(f"{e2e.api}/jobs/{job_id}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["reposted"] == 1
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert job["errors"] == []
    assert [r["state"] for r in rows] == ["succeeded"]
    assert set(e2e.catalog_items(collection_id)) == {items[0]["id"]}
    # Nothing left to redrive.
    again = e2e.http.post(f"{e2e.api}/jobs/{job_id}/retry")
    assert again.status_code == 200, again.text
    assert again.json()["reposted"] == 0
