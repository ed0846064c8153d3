"""The tutorial notebook, replayed: its own sequence of `requests` calls (and its pystac-client
search), with the Planetary Computer URLs pointed at the Planetary Computer emulator and the
GeoCatalog URL at the GeoCatalog emulator, api-version `2025-04-30-preview` as in the notebook.

Where the notebook's code and the real API disagree, the replay does what the real API requires
and says so (marked DEVIATION below):
- Collection create answers 202 and an operation (the notebook tests for 201); the collection
  exists only once that operation has finished, so the replay waits for it before uploading the
  thumbnail (a notebook run cell by cell waits by accident).
- The notebook's polling loop counts only `Running`; an operation still `Pending` (queued) ends its
  loop early. The replay counts Pending as unfinished.
- The notebook's Iceland search (February 2024) has no recorded data; the replay uses the Planetary
  Computer emulator's demo search (Svalbard, May 2024: 8 items), of which the notebook's
  `param_max_items = 6` are ingested.
- The collection thumbnail lives in a public storage account on the internet and its bytes are not
  among the fixtures; the Planetary Computer emulator mirrors that container and serves a
  generated PNG at the same path, which the notebook's code downloads and uploads as it is.
- Before the notebook's find-or-create step the replay registers a source about to expire (as an
  earlier run would leave one), so the notebook's delete-and-recreate branch runs too.
- The notebook sleeps 5 s between polls; the replay sleeps less but stays, like the notebook,
  under the 50 calls/s budget, which the GeoCatalog emulator enforces here.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from pystac_client import Client

from local.emulator.geocatalog import GeoCatalogConfig, start_geocatalog_emulator
from local.emulator.planetary_computer import (
    PlanetaryComputerConfig,
    start_planetary_computer_emulator,
)

pytestmark = pytest.mark.integration

API_VERSION = "2025-04-30-preview"  # the notebook's
PC_COLLECTION = "sentinel-2-l2a"
BBOX_AOI = [8.0, 79.5, 16.0, 80.2]  # DEVIATION: the emulator's demo area (see module docstring)
DATE_RANGE = "2024-05-10/2024-05-20"
MAX_ITEMS = 6
TIMEOUT = 30
BEARER = {"Authorization": "Bearer tutorial-token"}  # stands in for AzureCliCredential's token


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    """(geocatalog_url, planetary computer base URL) on free loopback ports."""
    geocatalog = start_geocatalog_emulator(
        GeoCatalogConfig(seed=7, operation_duration_seconds=(0.1, 0.6), budget_per_second=50)
    )
    pc = start_planetary_computer_emulator(PlanetaryComputerConfig())
    try:
        yield geocatalog.base_url, pc.base_url
    finally:
        pc.stop()
        geocatalog.stop()


def get_bearer_token() -> dict[str, str]:
    return dict(BEARER)


def raise_for_status(response: requests.Response) -> None:
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError:
        print(json.dumps(response.json(), indent=2))
        raise


def wait_for_operation(location: str) -> dict[str, Any]:
    for _ in range(600):
        response = requests.get(location, headers=get_bearer_token(), timeout=TIMEOUT)
        raise_for_status(response)
        body: dict[str, Any] = response.json()
        if body["status"] in ("Succeeded", "Failed", "Canceled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"operation {location} did not finish")


def test_tutorial_notebook(urls: tuple[str, str]) -> None:
    geocatalog_url, pc_base = urls
    geocatalog_url = geocatalog_url.rstrip("/")
    pc_stac = f"{pc_base}/api/stac/v1"
    params = {"api-version": API_VERSION}

    # -- Define the STAC collection JSON from the Planetary Computer's template ----------------
    response = requests.get(f"{pc_stac}/collections/{PC_COLLECTION}", timeout=TIMEOUT)
    raise_for_status(response)
    stac_collection = response.json()
    collection_id = PC_COLLECTION + "-tutorial-" + str(random.randint(0, 1000))
    stac_collection["id"] = collection_id
    stac_collection["title"] = collection_id
    pc_storage_account = stac_collection.pop("msft:storage_account")
    pc_storage_container = stac_collection.pop("msft:container")
    pc_collection_asset_container = (
        f"https://{pc_storage_account}.blob.core.windows.net/{pc_storage_container}"
    )
    assert (
        pc_collection_asset_container == "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"
    )
    thumbnail_url = stac_collection["assets"]["thumbnail"]["href"]
    # DEVIATION: offline, the thumbnail is the PC emulator's mirror of the public-assets container.
    assert thumbnail_url.startswith(f"{pc_base}/_public-assets/")
    stac_collection.pop("assets")

    # -- Create the collection -----------------------------------------------------------------
    collections_endpoint = f"{geocatalog_url}/stac/collections"
    response = requests.post(
        collections_endpoint,
        json=stac_collection,
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    # DEVIATION: the notebook checks for 201; the real API answers 202 with an operation.
    assert response.status_code == 202, response.text
    assert response.json()["type"] == "AddCollection"
    assert wait_for_operation(response.headers["Location"])["status"] == "Succeeded"

    # -- Thumbnail -----------------------------------------------------------------------------
    thumbnail_response = requests.get(thumbnail_url, timeout=TIMEOUT)
    thumbnail_response.raise_for_status()
    thumbnail_content = thumbnail_response.content
    assert thumbnail_content.startswith(b"\x89PNG")
    collection_assets_endpoint = f"{geocatalog_url}/stac/collections/{collection_id}/assets"
    thumbnail = {"file": ("lulc.png", thumbnail_content)}
    asset = {
        "data": '{"key": "thumbnail", "href":"", "type": "image/png", '
        '"roles":  ["test_asset"], "title": "test_asset"}'
    }
    response = requests.post(
        collection_assets_endpoint,
        data=asset,
        files=thumbnail,
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text  # the notebook's own check

    # -- Read the collection back (the notebook sends a JSON body with its GET) ----------------
    collection_endpoint = f"{geocatalog_url}/stac/collections/{stac_collection['id']}"
    response = requests.get(
        collection_endpoint,
        json={"collection_id": stac_collection["id"]},
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.json()["assets"]["thumbnail"]["title"] == "test_asset"
    thumbnail_back = requests.get(
        f"{collection_endpoint}/thumbnail",
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    assert thumbnail_back.content == thumbnail_content

    # -- Ingestion sources ---------------------------------------------------------------------
    ingestion_sources_endpoint = f"{geocatalog_url}/inma/ingestion-sources"

    def ingestion_source_endpoint(source_id: str) -> str:
        return f"{geocatalog_url}/inma/ingestion-sources/{source_id}"

    def find_ingestion_source(container_url: str) -> dict[str, Any] | None:
        response = requests.get(
            ingestion_sources_endpoint, headers=get_bearer_token(), params=params, timeout=TIMEOUT
        )
        for source in response.json()["value"]:
            response = requests.get(
                ingestion_source_endpoint(source["id"]),
                headers=get_bearer_token(),
                params=params,
                timeout=TIMEOUT,
            )
            raise_for_status(response)
            found: dict[str, Any] = response.json()
            if found["connectionInfo"]["containerUrl"] == container_url:
                return found
        return None

    def create_ingestion_source(container_url: str, sas_token: str) -> None:
        response = requests.post(
            ingestion_sources_endpoint,
            json={
                "kind": "SasToken",
                "connectionInfo": {"containerUrl": container_url, "sasToken": sas_token},
            },
            headers=get_bearer_token(),
            params=params,
            timeout=TIMEOUT,
        )
        raise_for_status(response)

    def remove_ingestion_source(source_id: str) -> None:
        response = requests.delete(
            ingestion_source_endpoint(source_id),
            headers=get_bearer_token(),
            params=params,
            timeout=TIMEOUT,
        )
        raise_for_status(response)

    # -- Search the Planetary Computer with pystac-client ---------------------------------------
    catalog = Client.open(pc_stac)
    search = catalog.search(collections=[PC_COLLECTION], bbox=BBOX_AOI, datetime=DATE_RANGE)
    total_items = search.item_collection()
    items = total_items[:MAX_ITEMS]
    assert len(total_items) == 8
    assert len(items) == MAX_ITEMS

    # -- Register the ingestion source (find, else create; recreate when expiring soon) ----------
    pc_token = requests.get(f"{pc_base}/api/sas/v1/token/{PC_COLLECTION}", timeout=TIMEOUT).json()
    assert set(pc_token) >= {"msft:expiry", "token"}
    # A source left by an earlier run, about to expire: the notebook must replace it.
    stale_expiry = (datetime.now(tz=UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    create_ingestion_source(
        pc_collection_asset_container, f"sp=rl&sr=c&se={stale_expiry}&sig=stale-signature"
    )
    stale = find_ingestion_source(pc_collection_asset_container)
    assert stale is not None

    existing_ingestion_source = find_ingestion_source(pc_collection_asset_container)
    recreated = False
    if existing_ingestion_source:
        connection_info = existing_ingestion_source["connectionInfo"]
        expiration = datetime.fromisoformat(connection_info["expiration"].split(".")[0])
        expiration = expiration.replace(tzinfo=UTC)
        if expiration < datetime.now(tz=UTC) + timedelta(minutes=15):
            remove_ingestion_source(existing_ingestion_source["id"])
            create_ingestion_source(pc_collection_asset_container, pc_token["token"])
            recreated = True
    else:
        create_ingestion_source(pc_collection_asset_container, pc_token["token"])
    assert recreated
    current = find_ingestion_source(pc_collection_asset_container)
    assert current is not None
    assert current["id"] != stale["id"]
    renewed = datetime.fromisoformat(current["connectionInfo"]["expiration"].split(".")[0])
    assert renewed.replace(tzinfo=UTC) == datetime.fromisoformat(
        pc_token["msft:expiry"].replace("Z", "+00:00")
    ).replace(microsecond=0)
    # A second create for the same container is refused, as the notebook's find-first implies.
    duplicate = requests.post(
        ingestion_sources_endpoint,
        json={
            "kind": "SasToken",
            "connectionInfo": {
                "containerUrl": pc_collection_asset_container,
                "sasToken": pc_token["token"],
            },
        },
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    assert duplicate.status_code == 409

    # -- Ingest the items ------------------------------------------------------------------------
    items_endpoint = f"{geocatalog_url}/stac/collections/{collection_id}/items"
    operation_ids = []
    for item in items:
        item_json = item.to_dict()
        item_json["collection"] = collection_id
        del item_json["assets"]["rendered_preview"]
        del item_json["assets"]["preview"]
        del item_json["assets"]["tilejson"]
        response = requests.post(
            items_endpoint,
            json=item_json,
            headers=get_bearer_token(),
            params=params,
            timeout=TIMEOUT,
        )
        assert response.status_code == 202
        operation_ids.append(response.json()["id"])

    # -- Poll the operations ---------------------------------------------------------------------
    operations_endpoint = f"{geocatalog_url}/inma/operations"
    statuses: dict[str, str] = {}
    for _ in range(600):
        num_running = 0
        for operation_id in operation_ids:
            response = requests.get(
                f"{operations_endpoint}/{operation_id}",
                headers=get_bearer_token(),
                params=params,
                timeout=TIMEOUT,
            )
            raise_for_status(response)
            statuses[operation_id] = response.json()["status"]
            # DEVIATION: Pending counts as unfinished (the notebook counts only Running).
            num_running += statuses[operation_id] in ("Pending", "Running")
        if num_running == 0:
            break
        # The notebook sleeps 5 s between rounds; 0.5 s keeps the replay short and, like the
        # notebook, under the 50 calls/s budget the emulator enforces here.
        time.sleep(0.5)
    assert list(statuses.values()) == ["Succeeded"] * MAX_ITEMS

    # -- Render options from the Planetary Computer's mosaic info ---------------------------------
    render_json = requests.get(
        f"{pc_base}/api/data/v1/mosaic/info?collection={PC_COLLECTION}", timeout=TIMEOUT
    ).json()
    render_config_endpoint = (
        f"{geocatalog_url}/stac/collections/{collection_id}/configurations/render-options"
    )
    posted = []
    for render_option in render_json["renderOptions"]:
        render_option["id"] = (
            render_option["name"]
            .translate(str.maketrans("", "", string.punctuation))
            .lower()
            .replace(" ", "-")[:30]
        )
        response = requests.post(
            render_config_endpoint,
            json=render_option,
            headers=get_bearer_token(),
            params=params,
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, response.text  # the notebook does not check; we do
        posted.append(render_option["id"])
    stored = requests.get(
        render_config_endpoint, headers=get_bearer_token(), params=params, timeout=TIMEOUT
    ).json()
    assert [option["id"] for option in stored] == posted
    assert "natural-color" in posted

    # -- Mosaic definition -------------------------------------------------------------------------
    mosaics_config_endpoint = (
        f"{geocatalog_url}/stac/collections/{collection_id}/configurations/mosaics"
    )
    response = requests.post(
        mosaics_config_endpoint,
        json={
            "id": "mos1",
            "name": "Most recent available",
            "description": "Most recent available imagery in this collection",
            "cql": [],
        },
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    assert response.status_code == 201

    # -- Query the collection with sign=true and read a signed asset -----------------------------------
    stac_search_endpoint = f"{geocatalog_url}/stac/search"
    response = requests.post(
        stac_search_endpoint,
        json={"collections": [collection_id], "bbox": BBOX_AOI},
        headers=get_bearer_token(),
        params={"api-version": API_VERSION, "sign": "true"},
        timeout=TIMEOUT,
    )
    matching_items = response.json()["features"]
    assert sorted(i["id"] for i in matching_items) == sorted(i.id for i in items)
    asset_href = matching_items[0]["assets"]["B09"]["href"]
    assert "sig=" in asset_href
    response = requests.get(asset_href, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content.startswith(b"II*\x00")  # a TIFF, as B09 is

    # -- Delete the items, confirm, delete the collection -------------------------------------------
    for item in matching_items:
        response = requests.delete(
            f"{items_endpoint}/{item['id']}",
            headers=get_bearer_token(),
            params=params,
            timeout=TIMEOUT,
        )
        assert response.status_code == 202
    remaining = None
    for _ in range(600):
        response = requests.post(
            stac_search_endpoint,
            json={"collections": [stac_collection["id"]], "bbox": BBOX_AOI},
            headers=get_bearer_token(),
            params={"api-version": API_VERSION, "sign": "true"},
            timeout=TIMEOUT,
        )
        remaining = len(response.json()["features"])
        if remaining == 0:
            break
        time.sleep(0.2)
    assert remaining == 0

    response = requests.delete(
        f"{collections_endpoint}/{collection_id}",
        headers=get_bearer_token(),
        params=params,
        timeout=TIMEOUT,
    )
    raise_for_status(response)
    assert wait_for_operation(response.headers["Location"])["status"] == "Succeeded"
    gone = requests.get(
        collection_endpoint, headers=get_bearer_token(), params=params, timeout=TIMEOUT
    )
    assert gone.status_code == 404
