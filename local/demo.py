"""`make demo`: the Planetary Computer Pro tutorial, end to end, through this service on the local
stack (Azurite, the GeoCatalog and Planetary Computer emulators, the local Functions host).

One POST /api/ingest does what the notebook does by hand in steps 1-7: create the collection from
the Planetary Computer's sentinel-2-l2a template (thumbnail, render options, mosaic), register a
SAS ingestion source for the asset container, search the Planetary Computer, post six items and
follow every operation. Then, as the notebook does: a signed search of the new collection, one
signed asset read back, and clean-up (items, then the collection).

The tutorial's own search (southern Iceland, February 2024) has no recorded data offline; the
demo searches the bundled real Sentinel-2 scenes over Svalbard (8 match, 6 are ingested).
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx
from rich.console import Console

from cli.client import Api
from cli.output import show_job
from cli.progress import exit_code_of, watch
from local.emulator.geocatalog import GeoCatalogConfig
from local.stack import LocalStack, StackConfig
from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.errors import redact
from shared.geocatalog.models import OperationStatus
from shared.settings import CredentialMode, GeoCatalogSettings

PC_COLLECTION = "sentinel-2-l2a"
BBOX = [8.0, 79.5, 16.0, 80.2]
DATETIME = "2024-05-10/2024-05-20"
MAX_ITEMS = 6


class DemoFailed(RuntimeError):
    pass


def say(text: str = "") -> None:
    print(text, flush=True)


def step(number: str, text: str) -> None:
    say(f"\n== {number} {text}")


def run(stack: LocalStack, collection_id: str, timeout: float) -> None:
    if stack.planetary_computer is None or stack.geocatalog is None:
        raise DemoFailed("the local stack is not running")
    pc = stack.planetary_computer.base_url
    api = httpx.Client(base_url=f"{stack.base_url}/api", timeout=60)
    geocatalog = GeoCatalogClient(
        GeoCatalogSettings(url=stack.geocatalog.base_url, credential=CredentialMode.NONE)
    )

    step("1-7", "POST /api/ingest: the tutorial's collection and ingestion, as one request")
    body = {
        "collection": collection_id,
        "source": {
            "type": "stac-search",
            "url": f"{pc}/api/stac/v1",
            "collections": [PC_COLLECTION],
            "bbox": BBOX,
            "datetime": DATETIME,
            "maxItems": MAX_ITEMS,
        },
        "createCollection": {"templateUrl": f"{pc}/api/stac/v1/collections/{PC_COLLECTION}"},
    }
    say(f"   search: {PC_COLLECTION}, bbox {BBOX}, {DATETIME}, at most {MAX_ITEMS} items")
    response = api.post("/ingest", json=body)
    if response.status_code != 202:
        raise DemoFailed(f"ingest refused: {response.status_code} {response.text}")
    job_id = response.json()["jobId"]
    say(f"   202 Accepted: job {job_id}")
    say(f"   status URL: {response.headers['Location']}")

    say(f"   the job page: {stack.base_url}/api/ui/jobs/{job_id}")
    say(f"   the CLI: geocatalog-ingest --url {stack.base_url} watch {job_id}")
    say()
    console = Console(highlight=False)
    with Api(stack.base_url) as cli_api:
        try:
            job = watch(cli_api, job_id, console, interval=0.5, timeout=timeout)
        except TimeoutError as error:
            raise DemoFailed(str(error)) from None
    say()
    show_job(console, job)
    if exit_code_of(job) != 0:
        raise DemoFailed(f"the job ended {job['state']}: {job['errors']}")

    step("2,7", "The collection the service bootstrapped from the template")
    collection = geocatalog.get_collection(collection_id)
    config = geocatalog.get_collection_configuration(collection_id)
    thumbnail = geocatalog.get_collection_thumbnail(collection_id)
    say(f"   {collection['id']}: {collection.get('title')}")
    say(f"   thumbnail asset: {len(thumbnail)} bytes ({collection['assets']['thumbnail']['type']})")
    options = config["mosaicInfo"]["renderOptions"]
    mosaics = config["mosaicInfo"]["mosaics"]
    say(f"   render options ({len(options)}): " + ", ".join(o["id"] for o in options))
    shown = [f"{m['name']!r}" for m in mosaics[:3]] + ["...", repr(mosaics[-1]["name"])]
    say(f"   mosaics ({len(mosaics)}): " + ", ".join(shown if len(mosaics) > 4 else shown[:-2]))
    say(f"   tile settings: {config['tileSettings']}")

    step("8", "Signed search of the new collection, and one signed asset read back")
    found = geocatalog.search({"collections": [collection_id], "bbox": BBOX}, sign=True)
    features = found["features"]
    say(f"   {len(features)} items found")
    if len(features) != MAX_ITEMS:
        raise DemoFailed(f"expected {MAX_ITEMS} items in the signed search, got {len(features)}")
    href = features[0]["assets"]["B09"]["href"]
    asset = httpx.get(href, timeout=30)
    say(f"   B09 of {features[0]['id']}:")
    say(f"   {redact(href)}")
    say(f"   GET -> {asset.status_code}, {len(asset.content)} bytes (signature redacted above)")
    if asset.status_code != 200:
        raise DemoFailed("the signed asset href could not be read")
    unsigned = httpx.get(href.split("?", 1)[0], timeout=30)
    say(f"   the same href without its SAS -> {unsigned.status_code}")

    step("9", "Clean up as the tutorial does: delete the items, then the collection")
    operations = [geocatalog.delete_item(collection_id, f["id"]).id for f in features]
    for operation_id in operations:
        wait(geocatalog, operation_id, timeout)
    remaining = geocatalog.search({"collections": [collection_id], "bbox": BBOX})["features"]
    say(f"   {len(operations)} items deleted; a search now finds {len(remaining)}")
    wait(geocatalog, geocatalog.delete_collection(collection_id).id, timeout)
    say(f"   collection {collection_id} deleted")
    calls = stack.geocatalog.stats()
    say(f"\nGeoCatalog calls spent by the whole run: {calls.get('total', calls)}")


def wait(client: GeoCatalogClient, operation_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        operation = client.get_operation(operation_id)
        if operation.is_terminal:
            if operation.status is not OperationStatus.SUCCEEDED:
                raise DemoFailed(f"operation {operation_id}: {operation.error_code}")
            return
        if time.monotonic() > deadline:
            raise DemoFailed(f"operation {operation_id} did not finish")
        time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__)
    parser.add_argument("--collection", default=f"{PC_COLLECTION}-tutorial-demo")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    say("Starting the local stack (Azurite, GeoCatalog and Planetary Computer emulators, host)...")
    config = StackConfig(
        # Realistic asynchronous operations, shortened from the real 1-5 s.
        geocatalog=GeoCatalogConfig(operation_duration_seconds=(0.5, 2.0)),
        settings_overrides={
            "INGEST_STATUS_INITIAL_DELAY_SECONDS": "1",
            "INGEST_STATUS_MAX_DELAY_SECONDS": "3",
        },
    )
    started = time.monotonic()
    try:
        with LocalStack(config) as stack:
            say(stack.describe())
            run(stack, args.collection, args.timeout)
    except DemoFailed as failure:
        say(f"\nDEMO FAILED: {failure}")
        return 1
    say(f"\nDemo finished in {time.monotonic() - started:.1f} s; the local stack is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
