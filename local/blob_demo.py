"""Upload a STAC item blob to the running local stack's watched Azurite container and watch it
arrive in the GeoCatalog: the storage-event path end to end (`make up` in one terminal, then
`.venv/bin/python -m local.blob_demo` in another).

The item (a real NAIP scene's metadata, its asset a small local file uploaded beside it with a
relative href) goes to container `stac-items`, which `make up` watches with the route
`{"account": "devstoreaccount1", "container": "stac-items", "collection": "$item",
"syncDeletes": true}`. The local Event Grid turns the write into a BlobCreated delivery to the
host's webhook; the app reads the blob, registers an ingestion source for the container (a SAS
it signs), posts the item into the rolling job of the route and the day, and the GeoCatalog
emulator copies the asset with that SAS. `--delete` then deletes the blob, and the item with it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from azure.storage.blob import BlobServiceClient, ContentSettings

from local.azurite import connection_string
from local.bare_collection import create_bare_collection
from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.errors import NotFoundError
from shared.settings import CredentialMode, GeoCatalogSettings
from shared.storage_events.ingest import rolling_job_id

CONTAINER = "stac-items"
COLLECTION = "blob-demo"
ROUTE = {
    "name": "local-items",
    "account": "devstoreaccount1",
    "container": CONTAINER,
    "collection": "$item",
    "syncDeletes": True,
}


def demo_item(item_id: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": COLLECTION,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [-122.25, 47.25],
                    [-122.0, 47.25],
                    [-122.0, 47.5],
                    [-122.25, 47.5],
                    [-122.25, 47.25],
                ]
            ],
        },
        "bbox": [-122.25, 47.25, -122.0, 47.5],
        "properties": {"datetime": "2023-10-07T00:00:00Z", "title": "uploaded to Azurite"},
        "assets": {"image": {"href": "./image.tif", "type": "image/tiff; application=geotiff"}},
        "links": [],
    }


def ensure_collection(geocatalog_url: str) -> None:
    client = GeoCatalogClient(
        GeoCatalogSettings(url=geocatalog_url, credential=CredentialMode.NONE)
    )
    try:
        try:
            client.get_collection(COLLECTION)
            return
        except NotFoundError:
            pass
        create_bare_collection(
            client,
            COLLECTION,
            "Items uploaded to the local stack's Azurite",
            timeout=60,
            poll_interval=0.1,
        )
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.blob_demo", description=__doc__)
    parser.add_argument("--host", default="http://127.0.0.1:7071")
    parser.add_argument("--geocatalog", default="http://127.0.0.1:8700")
    parser.add_argument("--azurite-ports", type=int, nargs=3, default=(10000, 10001, 10002))
    parser.add_argument("--item-id", default=f"blob-demo-{datetime.now(UTC):%H%M%S}")
    parser.add_argument("--delete", action="store_true", help="then delete the blob again")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    blobs = BlobServiceClient.from_connection_string(
        connection_string("127.0.0.1", *args.azurite_ports)
    )
    ensure_collection(args.geocatalog)
    container = blobs.get_container_client(CONTAINER)
    json_type = ContentSettings(content_type="application/json")
    container.upload_blob(f"{args.item_id}/image.tif", b"II*\x00demo", overwrite=True)
    name = f"{args.item_id}/{args.item_id}.json"
    container.upload_blob(
        name, json.dumps(demo_item(args.item_id)), overwrite=True, content_settings=json_type
    )
    print(f"uploaded {CONTAINER}/{name}", flush=True)
    job_id = rolling_job_id(ROUTE["name"], datetime.now(UTC).date().isoformat(), 0, COLLECTION)  # type: ignore[arg-type]
    item_url = f"{args.geocatalog}/stac/collections/{COLLECTION}/items/{args.item_id}"
    # The emulator takes any bearer token (GEOCATALOG_CREDENTIAL none sends a placeholder too).
    with httpx.Client(timeout=30, headers={"Authorization": "Bearer local"}) as http:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            found = http.get(item_url, params={"api-version": "2026-04-15"})
            if found.status_code == 200:
                print(f"in the GeoCatalog: {item_url}")
                print(json.dumps(found.json()["assets"], indent=2))
                break
            time.sleep(0.5)
        else:
            print("the item did not arrive; see the host's log", file=sys.stderr)
            return 1
        job = http.get(f"{args.host}/api/jobs/{job_id}").json()
        print(f"rolling job {job_id}: state {job['state']}, counts {job['counts']}")
        if args.delete:
            container.delete_blob(name)
            print(f"deleted {CONTAINER}/{name}", flush=True)
            while time.monotonic() < deadline:
                if http.get(item_url, params={"api-version": "2026-04-15"}).status_code == 404:
                    print("and the item is gone from the collection")
                    return 0
                time.sleep(0.5)
            print("the item is still there", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
