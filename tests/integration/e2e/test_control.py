"""Cancel a running job; an item too big for a queue message; paging and filtering items."""

from __future__ import annotations

import json

from azure.storage.blob import BlobServiceClient

from shared.pipeline.views import encode_cursor
from tests.integration.e2e.conftest import E2E, OPEN_ITEM_STATES, naip_items


def test_cancel_a_running_job(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    # Slow operations and 20 items over four plan pages: the job is mid-way when canceled.
    e2e.geocatalog.configure(operation_duration_seconds=(20.0, 30.0))
    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(20)}}
    )
    e2e.wait_for("some items submitted", lambda: e2e.job(job_id)["counts"]["submitted"] >= 3)

    response = e2e.http.post(f"{e2e.api}/jobs/{job_id}/cancel")
    assert response.status_code == 202, response.text
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "canceled"
    assert job["counts"]["canceled"] >= 3
    assert {r["state"] for r in rows} <= {"canceled", "succeeded"}
    # The operations in flight were canceled at the GeoCatalog, not left to finish.
    operations = e2e.operations(collection_id)
    # One batch operation carries several items: at least one was in flight.
    assert operations["AddItem Canceled"] >= 1, operations
    assert operations["AddItem Running"] == operations["AddItem Pending"] == 0
    again = e2e.http.post(f"{e2e.api}/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert again.json()["field"] == "jobId"
    # A canceled job cannot be redriven.
    assert e2e.http.post(f"{e2e.api}/jobs/{job_id}/retry").status_code == 409


def test_an_item_larger_than_a_queue_message(e2e: E2E, collection_id: str) -> None:
    e2e.create_collection(collection_id)
    big, small = naip_items(2)
    big["properties"]["e2e:padding"] = "0123456789abcdef" * 5000  # 80,000 characters
    assert len(json.dumps(big)) > 64 * 1024
    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": [big, small]}}
    )
    e2e.wait_for_job(job_id)
    job, _ = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    stored = e2e.catalog_items(collection_id)
    assert stored[big["id"]]["properties"]["e2e:padding"] == big["properties"]["e2e:padding"]
    # Both live in their batch's blob (queue messages and table rows carry ids and states only).
    assert e2e.stack.azurite is not None
    blobs = BlobServiceClient.from_connection_string(e2e.stack.azurite.connection_string)
    [name] = [
        b.name
        for b in blobs.get_container_client("ingest-payloads").list_blobs(
            name_starts_with=f"jobs/{job_id}/batches/"
        )
    ]
    lines = blobs.get_blob_client("ingest-payloads", name).download_blob().readall().split(b"\n")
    assert [json.loads(line)["id"] for line in lines] == [big["id"], small["id"]]


def test_item_listing_pages_with_a_cursor_and_filters_by_state(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    items = naip_items(5)
    items[4]["id"] = "not a valid id"
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for_job(job_id)
    e2e.assert_every_item_accounted(job_id)

    first = e2e.http.get(f"{e2e.api}/jobs/{job_id}/items", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["nextCursor"]
    second = e2e.http.get(
        f"{e2e.api}/jobs/{job_id}/items", params={"limit": 2, "cursor": first["nextCursor"]}
    ).json()
    assert len(second["items"]) == 2
    assert not {i["itemId"] for i in first["items"]} & {i["itemId"] for i in second["items"]}
    paged = e2e.items(job_id, limit=2)
    whole = e2e.items(job_id, limit=1000)
    assert [i["itemId"] for i in paged] == [i["itemId"] for i in whole]
    assert len(whole) == 5
    [invalid] = e2e.items(job_id, state="invalid")
    assert invalid["itemId"] == "not a valid id"
    assert invalid["lastError"]["code"] == "InvalidItemId"
    assert len(e2e.items(job_id, state="succeeded", limit=1)) == 4
    assert all(e2e.items(job_id, state=s) == [] for s in OPEN_ITEM_STATES)
    listing = f"{e2e.api}/jobs/{job_id}/items"
    for params, field in (
        ({"state": "done"}, "state"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        # Well-formed, but not one the listing issued.
        ({"cursor": encode_cursor({"batch": "p00000000-000", "index": "-1"})}, "cursor"),
        ({"limit": "0"}, "limit"),
    ):
        response = e2e.http.get(listing, params=params)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
