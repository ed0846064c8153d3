"""GET /api/jobs and GET /api/jobs/{id}/errors on the local stack, over real HTTP with keys."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from shared.pipeline.events import INGEST_REQUESTED, job_id_for_event
from tests.integration.e2e.conftest import E2E, ITEMS_ROUTE, MAX_DEQUEUE_COUNT, naip_items
from tests.integration.operator.conftest import MASTER_KEY

WEBHOOK = "/runtime/webhooks/eventgrid?functionName=ingest_events"


def listing(op: E2E, **params: Any) -> list[dict[str, Any]]:
    """Every job the listing answers, following nextCursor."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        response = op.http.get(f"{op.api}/jobs", params={**params, "cursor": cursor or ""})
        assert response.status_code == 200, response.text
        page = response.json()
        if "limit" in params:
            assert len(page["jobs"]) <= int(params["limit"])
        found += page["jobs"]
        cursor = page["nextCursor"]
        if cursor is None:
            return found
    raise AssertionError("GET /api/jobs kept answering a nextCursor")


def test_many_jobs_newest_first_paged_and_filtered(op: E2E, collection_id: str) -> None:
    other = collection_id + "-b"
    op.create_collection(collection_id)
    op.create_collection(other)
    items = naip_items(2)
    submitted: list[str] = []
    for n in range(12):
        body: dict[str, Any] = {
            "collection": collection_id if n % 3 else other,
            "source": {"type": "items", "items": items[:1]},
        }
        if n == 5:
            bad = {**items[1], "id": "not a valid id"}
            body["source"]["items"] = [bad]
        submitted.append(op.submit(body))
    for job_id in submitted:
        op.wait_for_job(job_id)

    mine = listing(op, collection=collection_id, limit=3)
    expected = [j for n, j in enumerate(submitted) if n % 3][::-1]
    assert [j["jobId"] for j in mine] == expected
    created = [j["createdAt"] for j in mine]
    assert created == sorted(created, reverse=True)
    assert [j["jobId"] for j in listing(op, collection=other)] == submitted[::3][::-1]
    by_id = {j["jobId"]: j for j in mine}
    assert by_id[submitted[5]]["state"] == "failed"
    assert by_id[submitted[5]]["counts"]["invalid"] == 1
    assert by_id[submitted[1]]["state"] == "succeeded"
    assert by_id[submitted[1]]["counts"] == op.job(submitted[1])["counts"]
    assert by_id[submitted[1]]["sourceType"] == "items"
    assert by_id[submitted[1]]["links"]["self"].endswith(f"/api/jobs/{submitted[1]}")

    failed = listing(op, collection=collection_id, state="failed")
    assert [j["jobId"] for j in failed] == [submitted[5]]
    # `since` is inclusive: from the 8th job on.
    since = op.job(submitted[7])["createdAt"]
    recent = listing(op, collection=collection_id, since=since, limit=2)
    assert [j["jobId"] for j in recent] == [j for n, j in enumerate(submitted) if n % 3 and n >= 7][
        ::-1
    ]
    # Every job of the stack is in the unfiltered listing too, once.
    everything = [j["jobId"] for j in listing(op, limit=100)]
    assert len(everything) == len(set(everything))
    assert set(submitted) <= set(everything)


def test_bad_listing_parameters_name_the_field(op: E2E) -> None:
    for params, field in (
        ({"state": "done"}, "state"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"since": "yesterday"}, "since"),
    ):
        response = op.http.get(f"{op.api}/jobs", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
    assert httpx.get(f"{op.api}/jobs", timeout=30).status_code == 401


def test_an_event_driven_job_is_listed(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    event_id = uuid.uuid4().hex
    event = {
        "id": event_id,
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.EventGrid/topics/ingest",
        "subject": "/pipelines/nightly",
        "eventType": INGEST_REQUESTED,
        "eventTime": "2026-11-24T06:00:00.0000000Z",
        "data": {"collection": collection_id, "source": {"type": "items", "items": naip_items(1)}},
        "dataVersion": "1",
        "metadataVersion": "1",
    }
    response = httpx.post(
        f"{op.stack.base_url}{WEBHOOK}&code={MASTER_KEY}",
        content=json.dumps([event]),
        headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code in (200, 202), response.text
    job_id = job_id_for_event(event_id)
    op.wait_for_job(job_id)
    [listed] = listing(op, collection=collection_id)
    assert listed["jobId"] == job_id
    assert listed["state"] == "succeeded"


def test_failures_grouped_by_code(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    items = naip_items(6)
    for n in (0, 1, 2):
        items[n]["id"] = f"bad id {n}"
    private = items[3]
    private["id"] = "private-asset-item"
    private["assets"] = {
        "image": {
            "href": "https://someoneelse.blob.core.windows.net/private/x.tif",
            "type": "image/tiff; application=geotiff",
            "roles": ["data"],
        }
    }
    job_id = op.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    job = op.wait_for_job(job_id)
    assert job["state"] == "partially_succeeded"

    response = op.http.get(f"{op.api}/jobs/{job_id}/errors", params={"examples": 2})
    assert response.status_code == 200, response.text
    errors = response.json()
    assert errors["jobId"] == job_id
    assert errors["total"] == 4
    assert [(g["code"], g["count"], g["states"]) for g in errors["groups"]] == [
        ("InvalidItemId", 3, {"invalid": 3}),
        ("IngestionResourceForbidden", 1, {"failed": 1}),
    ]
    assert errors["groups"][0]["exampleItemIds"] == ["bad id 0", "bad id 1"]
    assert errors["groups"][1]["exampleItemIds"] == ["private-asset-item"]
    assert errors["groups"][1]["message"]
    # What the groups count is what the job's counts say.
    counts = job["counts"]
    assert errors["total"] == counts["failed"] + counts["invalid"] + counts["deadLettered"]

    unknown = op.http.get(f"{op.api}/jobs/{uuid.uuid4().hex}/errors")
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "jobId"
    bad = op.http.get(f"{op.api}/jobs/{job_id}/errors", params={"examples": "x"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "examples"


def test_dead_lettered_items_are_grouped_too(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    op.geocatalog.fault(status=503, count=MAX_DEQUEUE_COUNT, method="POST", route=ITEMS_ROUTE)
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(1)}}
    )
    op.wait_for_job(job_id)
    errors = op.http.get(f"{op.api}/jobs/{job_id}/errors").json()
    assert [(g["code"], g["states"]) for g in errors["groups"]] == [
        ("DeadLettered", {"deadLettered": 1})
    ]
