"""Item blobs written to Azurite become items in the GeoCatalog emulator through the local
event source and the host's real Event Grid webhook; every outcome is a row of a rolling job."""

from __future__ import annotations

import uuid

from tests.integration.storage_events.conftest import BlobStack, stac_item


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
    job = blob_stack.assert_accounted(job_id)
    assert job["source"]["type"] == "storage-events"
    assert job["source"]["route"] == "sync"
    assert any(c["containerUrl"] == container for c in job["containers"])
