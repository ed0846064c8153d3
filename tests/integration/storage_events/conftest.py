"""The storage-event path on the local stack: item blobs written to Azurite reach the app as
real-schema BlobCreated/BlobDeleted events through the local Event Grid (local/blob_events.py)
and the host's real webhook, and become items in the GeoCatalog emulator.

Routes (STORAGE_ROUTES) used by the tests:
- `sync`   container `stac-sync`, collection `blob-sync`, upsert, deletes synced
- `keep`   container `stac-keep`, collection `blob-keep`, create, deletes ignored
- `own`    container `stac-own`, each item's own collection
- `manual` container `stac-manual`, collection `blob-manual`, upsert, deletes synced: not watched
  by the local source, so tests deliver hand-made events (duplicates, out of order) themselves
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings

from local.bare_collection import create_bare_collection
from local.emulator.geocatalog import GeoCatalogConfig
from local.stack import LocalStack, StackConfig
from shared.geocatalog.client import GeoCatalogClient
from shared.settings import CredentialMode, GeoCatalogSettings
from shared.storage_events.ingest import rolling_job_id

pytestmark = pytest.mark.integration

TIMEOUT = 90.0
WEBHOOK = "/runtime/webhooks/eventgrid?functionName=ingest_events"
ROUTES = [
    {"name": "sync", "account": "devstoreaccount1", "container": "stac-sync",
     "collection": "blob-sync", "mode": "upsert", "syncDeletes": True},
    {"name": "keep", "account": "devstoreaccount1", "container": "stac-keep",
     "collection": "blob-keep", "mode": "create"},
    {"name": "own", "account": "devstoreaccount1", "container": "stac-own",
     "collection": "$item"},
    {"name": "manual", "account": "devstoreaccount1", "container": "stac-manual",
     "prefix": "items/", "collection": "blob-manual", "mode": "upsert", "syncDeletes": True},
    {"name": "renew", "account": "devstoreaccount1", "container": "stac-renew",
     "collection": "blob-manual"},
]  # fmt: skip
COLLECTIONS = ("blob-sync", "blob-keep", "blob-manual", "blob-own-a", "blob-own-b")
WATCHED = ("stac-sync", "stac-keep", "stac-own")
MAX_BLOB_BYTES = 64 * 1024
TERMINAL_ITEM_STATES = {"succeeded", "failed", "skipped", "invalid", "deadLettered", "canceled"}


def stac_item(item_id: str, *, asset_href: str = "./data.tif", title: str = "v1") -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[10, 50], [11, 50], [11, 51], [10, 51], [10, 50]]],
        },
        "bbox": [10, 50, 11, 51],
        "properties": {"datetime": "2026-11-30T10:00:00Z", "title": title},
        "assets": {"data": {"href": asset_href, "type": "image/tiff; application=geotiff"}},
        "links": [],
    }


@dataclass
class BlobStack:
    stack: LocalStack
    http: httpx.Client

    @property
    def api(self) -> str:
        return f"{self.stack.base_url}/api"

    @property
    def blobs(self) -> BlobServiceClient:
        assert self.stack.azurite is not None
        return BlobServiceClient.from_connection_string(self.stack.azurite.connection_string)

    @property
    def blob_endpoint(self) -> str:
        assert self.stack.azurite is not None
        return f"http://127.0.0.1:{self.stack.azurite.blob_port}/devstoreaccount1"

    def put(self, container: str, name: str, data: bytes | dict[str, Any]) -> None:
        body = json.dumps(data).encode() if isinstance(data, dict) else data
        self.blobs.get_blob_client(container, name).upload_blob(
            body, overwrite=True, content_settings=ContentSettings(content_type="application/json")
        )

    def delete(self, container: str, name: str) -> None:
        self.blobs.get_blob_client(container, name).delete_blob()

    def url(self, container: str, name: str) -> str:
        return f"{self.blob_endpoint}/{container}/{quote(name)}"

    # ---- events by hand (the `manual` route) --------------------------------------------------

    def deliver(self, events: list[dict[str, Any]], *, cloud: bool = False) -> httpx.Response:
        content_type = "application/cloudevents-batch+json" if cloud else "application/json"
        response = self.http.post(
            self.stack.base_url + WEBHOOK,
            content=json.dumps(events),
            headers={"aeg-event-type": "Notification", "Content-Type": content_type},
        )
        assert response.status_code in (200, 202), response.text
        return response

    def event(
        self,
        container: str,
        name: str,
        *,
        sequencer: int,
        created: bool = True,
        cloud: bool = False,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        data = {
            "api": "PutBlob" if created else "DeleteBlob",
            "requestId": str(uuid.uuid4()),
            "contentType": "application/json",
            "blobType": "BlockBlob",
            "url": self.url(container, name),
            "sequencer": f"{sequencer:048x}",
        }
        kind = "Microsoft.Storage." + ("BlobCreated" if created else "BlobDeleted")
        subject = f"/blobServices/default/containers/{container}/blobs/{name}"
        source = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/devstoreaccount1"
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        eid = event_id or str(uuid.uuid4())
        if cloud:
            return {"specversion": "1.0", "id": eid, "type": kind, "source": source,
                    "subject": subject, "time": now, "data": data}  # fmt: skip
        return {"id": eid, "eventType": kind, "topic": source, "subject": subject,
                "eventTime": now, "data": data, "dataVersion": "", "metadataVersion": "1"}  # fmt: skip

    # ---- the service's view -------------------------------------------------------------------

    def job_id(self, route: str, collection: str, generation: int = 0) -> str:
        day = datetime.now(UTC).date().isoformat()
        return rolling_job_id(route, day, generation, collection)

    def job(self, job_id: str) -> dict[str, Any] | None:
        response = self.http.get(f"{self.api}/jobs/{job_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def items(self, job_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            response = self.http.get(f"{self.api}/jobs/{job_id}/items", params=params)
            assert response.status_code == 200, response.text
            found += response.json()["items"]
            cursor = response.json()["nextCursor"]
            if cursor is None:
                return found

    def item_row(self, job_id: str, item_id: str) -> dict[str, Any] | None:
        return next((i for i in self.items(job_id) if i["itemId"] == item_id), None)

    def wait_for(self, what: str, predicate: Any, timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
            time.sleep(0.1)

    def wait_for_row(self, job_id: str, item_id: str, *, states: set[str] | None = None) -> Any:
        wanted = states or TERMINAL_ITEM_STATES

        def row() -> dict[str, Any] | None:
            if self.job(job_id) is None:
                return None
            found = self.item_row(job_id, item_id)
            return found if found is not None and found["state"] in wanted else None

        return self.wait_for(f"item {item_id} of job {job_id} in {sorted(wanted)}", row)

    def assert_accounted(self, job_id: str) -> dict[str, Any]:
        """The rolling job's counts are its rows (once nothing is in flight)."""

        def settled() -> dict[str, Any] | None:
            job = self.job(job_id)
            if job is None:
                return None
            open_ = sum(job["counts"][s] for s in ("pending", "submitting", "submitted"))
            return job if open_ == 0 and job["completedAt"] else None

        job: dict[str, Any] = self.wait_for(f"job {job_id} settled", settled)
        rows = self.items(job_id)
        ids = [r["itemId"] for r in rows]
        assert len(ids) == len(set(ids))
        by_state = Counter(r["state"] for r in rows)
        assert job["counts"]["total"] == len(rows)
        for state, count in job["counts"].items():
            if state != "total":
                assert count == by_state.get(state, 0), (state, job["counts"], by_state)
        return job

    def catalog_item(self, collection: str, item_id: str) -> dict[str, Any] | None:
        assert self.stack.geocatalog is not None
        emulator = self.stack.geocatalog.emulator
        emulator.advance()
        with emulator.lock:
            record = emulator.state.collections.get(collection)
            item = record.items.get(item_id) if record is not None else None
            return json.loads(json.dumps(item)) if item is not None else None

    def wait_in_catalog(self, collection: str, item_id: str, title: str | None = None) -> Any:
        def found() -> dict[str, Any] | None:
            item = self.catalog_item(collection, item_id)
            if item is None or (title is not None and item["properties"].get("title") != title):
                return None
            return item

        return self.wait_for(f"{collection}/{item_id} in the GeoCatalog", found)

    def item_operations(self, collection: str) -> int:
        """Item operations (create or update) the GeoCatalog emulator ran on a collection, once
        the host has nothing left to do."""
        assert self.stack.host is not None
        assert self.stack.geocatalog is not None
        self.stack.host.drain(timeout=TIMEOUT)
        emulator = self.stack.geocatalog.emulator
        emulator.advance()
        with emulator.lock:
            return sum(
                1
                for op in emulator.operations.all()
                if op.collection_id == collection and op.type in ("AddItem", "UpdateItem")
            )

    def sources(self) -> dict[str, Any]:
        assert self.stack.geocatalog is not None
        emulator = self.stack.geocatalog.emulator
        with emulator.lock:
            return {s.container_url: s for s in emulator.state.sources.values()}


def create_collection(base_url: str, collection_id: str) -> None:
    client = GeoCatalogClient(GeoCatalogSettings(url=base_url, credential=CredentialMode.NONE))
    try:
        done = create_bare_collection(
            client,
            collection_id,
            f"storage-event test collection {collection_id}",
            timeout=TIMEOUT,
            poll_interval=0.05,
        )
    finally:
        client.close()
    assert done.succeeded, done


@pytest.fixture(scope="package")
def blob_stack() -> Iterator[BlobStack]:
    stack = LocalStack(
        StackConfig(
            geocatalog=GeoCatalogConfig(operation_duration_seconds=(0.05, 0.2)),
            settings_overrides={
                "STORAGE_ROUTES": json.dumps(ROUTES),
                "STORAGE_EVENTS_MAX_BLOB_BYTES": str(MAX_BLOB_BYTES),
                "STORAGE_EVENTS_SAS_HOURS": "1",
                # With the timer's 5-minute interval, a margin past the SAS's hour: every
                # maintenance run renews the routes' sources (test_sources).
                "SAS_RENEW_BEFORE_MINUTES": "56",
                "INGEST_STATUS_INITIAL_DELAY_SECONDS": "0.2",
                "INGEST_STATUS_MAX_DELAY_SECONDS": "1",
                "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.1",
            },
            blob_events_containers=WATCHED,
            blob_events_time_scale=0.01,
        )
    ).start()
    try:
        assert stack.geocatalog is not None
        for collection in COLLECTIONS:
            create_collection(stack.geocatalog.base_url, collection)
        service = BlobServiceClient.from_connection_string(stack.azurite.connection_string)  # type: ignore[union-attr]
        for container in (*WATCHED, "stac-manual", "stac-renew", "not-routed"):
            service.create_container(container)
        with httpx.Client(timeout=60) as http:
            yield BlobStack(stack, http)
    finally:
        stack.stop()
