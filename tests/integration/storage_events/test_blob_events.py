"""Item blobs written to Azurite become items in the GeoCatalog emulator through the local
event source and the host's real Event Grid webhook; every outcome is a row of a rolling job."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema_rs

from tests.integration.storage_events.conftest import MAX_BLOB_BYTES, BlobStack, stac_item


def assert_valid_job(document: dict[str, Any], job: dict[str, Any]) -> None:
    schema = {**document["components"]["schemas"]["Job"], "components": document["components"]}
    jsonschema_rs.Draft202012Validator(schema).validate(job)


def test_an_item_blob_becomes_an_item_with_its_relative_asset_readable(
    blob_stack: BlobStack,
) -> None:
    item_id = f"sync-{uuid.uuid4().hex[:8]}"
    blob_stack.put("stac-sync", f"scenes/{item_id}/data.tif", b"II*\x00fake-cog")
    blob_stack.put("stac-sync", f"scenes/{item_id}/{item_id}.json", stac_item(item_id))
    job_id = blob_stack.job_id("sync", "blob-sync")
    row = blob_stack.wait_for_row(job_id, item_id)
    assert row["state"] == "succeeded", row
    item = blob_stack.wait_in_catalog("blob-sync", item_id)
    # The relative href was resolved against the blob's URL before the item was posted, and the
    # GeoCatalog (emulator) read the asset from Azurite with the container's ingestion source.
    container = f"{blob_stack.blob_endpoint}/stac-sync"
    source = blob_stack.sources()[container]
    assert source.kind == "SasToken"
    assert item["assets"]["data"]["href"]
    # The item says where it came from.
    blob_url = blob_stack.url("stac-sync", f"scenes/{item_id}/{item_id}.json")
    assert {"rel": "via", "href": blob_url, "type": "application/json"} in item["links"]
    job = blob_stack.assert_accounted(job_id)
    # The rolling job is a job like any other, as the API document describes it.
    assert_valid_job(blob_stack.http.get(f"{blob_stack.api}/openapi.json").json(), job)
    assert job["source"]["type"] == "storage-events"
    assert job["source"]["route"] == "sync"
    # ... and listed with the others.
    listed = blob_stack.http.get(f"{blob_stack.api}/jobs", params={"collection": "blob-sync"})
    assert listed.status_code == 200, listed.text
    [summary] = [j for j in listed.json()["jobs"] if j["jobId"] == job_id]
    assert summary["sourceType"] == "storage-events"
    assert any(c["containerUrl"] == container for c in job["containers"])


def test_a_feature_collection_blob_becomes_its_items(blob_stack: BlobStack) -> None:
    ids = [f"fc-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    absolute = f"{blob_stack.blob_endpoint}/stac-keep/shared/data.tif"
    blob_stack.put("stac-keep", "shared/data.tif", b"II*\x00cog")
    features = [stac_item(i, asset_href=absolute) for i in ids]
    blob_stack.put(
        "stac-keep", f"batches/{ids[0]}.json", {"type": "FeatureCollection", "features": features}
    )
    job_id = blob_stack.job_id("keep", "blob-keep")
    for item_id in ids:
        assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
        assert blob_stack.catalog_item("blob-keep", item_id) is not None
    job = blob_stack.assert_accounted(job_id)
    assert job["mode"] == "create"


def test_items_go_to_the_collection_they_name_on_a_route_that_says_so(
    blob_stack: BlobStack,
) -> None:
    first, second, orphan, misnamed = (f"own-{uuid.uuid4().hex[:8]}" for _ in range(4))
    blob_stack.put("stac-own", "x/data.tif", b"II*\x00cog")
    items = [
        {**stac_item(first, asset_href="data.tif"), "collection": "blob-own-a"},
        {**stac_item(second, asset_href="data.tif"), "collection": "blob-own-b"},
        stac_item(orphan, asset_href="data.tif"),
        # Not a collection id (the GeoCatalog names a container after it, and `--` is no
        # container name): refused with the one collection-id rule, not sent to fail there.
        {**stac_item(misnamed, asset_href="data.tif"), "collection": "blob--own"},
    ]
    blob_stack.put("stac-own", f"x/{first}.json", {"type": "FeatureCollection", "features": items})
    job_a = blob_stack.job_id("own", "blob-own-a")
    job_b = blob_stack.job_id("own", "blob-own-b")
    job_none = blob_stack.job_id("own", "$item")
    assert blob_stack.wait_for_row(job_a, first)["state"] == "succeeded"
    assert blob_stack.wait_for_row(job_b, second)["state"] == "succeeded"
    orphan_row = blob_stack.wait_for_row(job_none, orphan)
    assert orphan_row["state"] == "invalid"
    assert orphan_row["lastError"]["code"] == "ItemCollectionMissing"
    misnamed_row = blob_stack.wait_for_row(job_none, misnamed)
    assert misnamed_row["state"] == "invalid"
    assert misnamed_row["lastError"]["code"] == "ItemCollectionInvalid"
    assert "without '--'" in misnamed_row["lastError"]["message"]
    assert blob_stack.catalog_item("blob-own-a", first) is not None
    assert blob_stack.catalog_item("blob-own-b", second) is not None
    for job_id in (job_a, job_b, job_none):
        blob_stack.assert_accounted(job_id)


def test_bad_blobs_are_recorded_invalid_with_the_reason(blob_stack: BlobStack) -> None:
    tag = uuid.uuid4().hex[:8]
    no_datetime = stac_item(f"bad-{tag}", asset_href="https://example.com/a.tif")
    del no_datetime["properties"]["datetime"]
    big = stac_item(f"big-{tag}", asset_href="https://example.com/a.tif")
    big["properties"]["padding"] = "x" * (MAX_BLOB_BYTES + 1)
    cases = {
        f"bad/{tag}-text.json": (b"this is not JSON", "BlobNotJson"),
        f"bad/{tag}-list.json": (b"[1, 2, 3]", "BlobNotStacItem"),
        f"bad/{tag}-catalog.json": (b'{"type": "Catalog", "id": "c"}', "BlobNotStacItem"),
        f"bad/{tag}-invalid.json": (no_datetime, "MissingDatetime"),
        f"bad/{tag}-large.json": (big, "BlobTooLarge"),
    }
    for name, (body, _) in cases.items():
        blob_stack.put("stac-keep", name, body)
    job_id = blob_stack.job_id("keep", "blob-keep")
    for name, (body, code) in cases.items():
        row_id = body["id"] if isinstance(body, dict) and code == "MissingDatetime" else name
        row = blob_stack.wait_for_row(job_id, row_id)
        assert row["state"] == "invalid", row
        assert row["lastError"]["code"] == code, row
        assert blob_stack.url("stac-keep", name) in row["lastError"]["message"]
    job = blob_stack.assert_accounted(job_id)
    codes = {e["code"] for e in job["errors"]}
    assert {"BlobNotJson", "BlobNotStacItem", "BlobTooLarge"} <= codes


def test_a_blob_outside_every_route_is_ignored(blob_stack: BlobStack) -> None:
    item_id = f"out-{uuid.uuid4().hex[:8]}"
    item = stac_item(item_id, asset_href="https://example.com/a.tif")
    job_id = blob_stack.job_id("manual", "blob-manual")
    outside = [
        ("not-routed", f"items/{item_id}.json"),  # no route for the container
        ("stac-manual", f"elsewhere/{item_id}.json"),  # outside the route's prefix
        ("stac-manual", f"items/{item_id}.txt"),  # outside the route's suffix
    ]
    for container, name in outside:
        blob_stack.put(container, name, item)
        blob_stack.deliver([blob_stack.event(container, name, sequencer=1)])
    # The webhook answers after the function ran: nothing was recorded or posted.
    job = blob_stack.job(job_id)
    if job is not None:
        assert blob_stack.item_row(job_id, item_id) is None
        assert all(
            not r["itemId"].startswith(("elsewhere/", "not-routed"))
            for r in blob_stack.items(job_id)
        )
    assert blob_stack.catalog_item("blob-manual", item_id) is None


def test_a_duplicated_event_ingests_the_item_once(blob_stack: BlobStack) -> None:
    item_id = f"dup-{uuid.uuid4().hex[:8]}"
    name = f"items/{item_id}.json"
    blob_stack.put("stac-manual", name, stac_item(item_id, asset_href="https://example.com/a"))
    event = blob_stack.event("stac-manual", name, sequencer=5, cloud=True)
    before = blob_stack.item_operations("blob-manual")
    blob_stack.deliver([event], cloud=True)
    job_id = blob_stack.job_id("manual", "blob-manual")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
    blob_stack.deliver([event], cloud=True)  # Event Grid delivers at least once
    blob_stack.deliver([event, event], cloud=True)
    blob_stack.assert_accounted(job_id)
    assert blob_stack.item_operations("blob-manual") == before + 1


def test_an_older_version_arriving_after_a_newer_one_changes_nothing(
    blob_stack: BlobStack,
) -> None:
    item_id = f"seq-{uuid.uuid4().hex[:8]}"
    name = f"items/{item_id}.json"
    href = "https://example.com/a.tif"
    blob_stack.put("stac-manual", name, stac_item(item_id, asset_href=href, title="v2"))
    job_id = blob_stack.job_id("manual", "blob-manual")
    before = blob_stack.item_operations("blob-manual")
    blob_stack.deliver([blob_stack.event("stac-manual", name, sequencer=20)])
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
    blob_stack.wait_in_catalog("blob-manual", item_id, title="v2")

    older = blob_stack.event("stac-manual", name, sequencer=10)
    blob_stack.deliver([older])
    stale = blob_stack.wait_for_row(job_id, f"{name}@{older['data']['sequencer']}")
    assert stale["state"] == "skipped"
    assert stale["lastError"]["code"] == "OlderBlobVersion"
    assert blob_stack.item_operations("blob-manual") == before + 1
    assert blob_stack.catalog_item("blob-manual", item_id)["properties"]["title"] == "v2"  # type: ignore[index]
    blob_stack.assert_accounted(job_id)

    # A newer version the same day is tracked in the day's next generation of the job.
    blob_stack.put("stac-manual", name, stac_item(item_id, asset_href=href, title="v3"))
    blob_stack.deliver([blob_stack.event("stac-manual", name, sequencer=30)])
    next_job = blob_stack.job_id("manual", "blob-manual", generation=1)
    assert blob_stack.wait_for_row(next_job, item_id)["state"] == "succeeded"
    blob_stack.wait_in_catalog("blob-manual", item_id, title="v3")
    blob_stack.assert_accounted(next_job)


def test_a_deleted_blob_deletes_its_item_on_a_route_that_syncs_deletes(
    blob_stack: BlobStack,
) -> None:
    item_id = f"del-{uuid.uuid4().hex[:8]}"
    name = f"gone/{item_id}.json"
    blob_stack.put("stac-sync", name, stac_item(item_id, asset_href="https://example.com/a"))
    job_id = blob_stack.job_id("sync", "blob-sync")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
    blob_stack.wait_in_catalog("blob-sync", item_id)
    blob_stack.delete("stac-sync", name)
    blob_stack.wait_for(
        f"{item_id} deleted from blob-sync",
        lambda: blob_stack.catalog_item("blob-sync", item_id) is None,
    )
    blob_stack.assert_accounted(job_id)


def test_a_deleted_blob_leaves_its_item_on_a_route_that_does_not(blob_stack: BlobStack) -> None:
    item_id = f"keep-{uuid.uuid4().hex[:8]}"
    name = f"kept/{item_id}.json"
    blob_stack.put("stac-keep", name, stac_item(item_id, asset_href="https://example.com/a"))
    job_id = blob_stack.job_id("keep", "blob-keep")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
    before = len(blob_stack.stack.blob_events.delivered)  # type: ignore[union-attr]
    blob_stack.delete("stac-keep", name)
    blob_stack.wait_for(
        "the BlobDeleted event delivered",
        lambda: any(
            e["eventType"] == "Microsoft.Storage.BlobDeleted" and e["data"]["url"].endswith(name)
            for e in blob_stack.stack.blob_events.delivered[before:]  # type: ignore[union-attr]
        ),
    )
    assert blob_stack.catalog_item("blob-keep", item_id) is not None
    blob_stack.assert_accounted(job_id)


def test_a_delete_the_geocatalog_refuses_at_first_is_redelivered_until_done(
    blob_stack: BlobStack,
) -> None:
    assert blob_stack.stack.geocatalog is not None
    assert blob_stack.stack.blob_events is not None
    item_id = f"redel-{uuid.uuid4().hex[:8]}"
    name = f"gone/{item_id}.json"
    blob_stack.put("stac-sync", name, stac_item(item_id, asset_href="https://example.com/a"))
    job_id = blob_stack.job_id("sync", "blob-sync")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"
    statuses: list[int] = []
    blob_stack.stack.blob_events.on_delivery = lambda status, count: statuses.append(status)
    try:
        blob_stack.stack.geocatalog.fault(
            status=503,
            count=2,
            method="DELETE",
            route="/stac/collections/{collectionId}/items/{itemId}",
        )
        blob_stack.delete("stac-sync", name)
        blob_stack.wait_for(
            f"{item_id} deleted from blob-sync",
            lambda: blob_stack.catalog_item("blob-sync", item_id) is None,
        )
        blob_stack.wait_for("a delivery accepted", lambda: 202 in statuses)
    finally:
        blob_stack.stack.blob_events.on_delivery = None
        blob_stack.stack.geocatalog.emulator.faults.clear()
    # The first deliveries failed (the host answered 500) and Event Grid's retry finished the job.
    assert statuses[:2] == [500, 500]
    assert statuses[2] == 202
