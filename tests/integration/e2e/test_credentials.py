"""Ingestion sources end to end: a container nobody can sign for, expired SAS tokens renewed
before and after a failed ingestion, and the maintenance timer renewing ahead of expiry."""

from __future__ import annotations

import copy
import json
import time
from datetime import timedelta
from typing import Any

from local.emulator.geocatalog.store import SourceRecord
from shared.planetary_computer import PlanetaryComputer
from tests.integration.e2e.conftest import (
    E2E,
    PC_ITEMS,
    SENTINEL_CONTAINER,
    naip_items,
)

LANDSAT_CONTAINER = "https://landsateuwest.blob.core.windows.net/landsat-c2"
IO_LULC_CONTAINER = "https://ai4edataeuwest.blob.core.windows.net/io-lulc"
SOURCES_ROUTE = "/inma/ingestion-sources/{id}"


def recorded(name: str) -> list[dict[str, Any]]:
    data = json.loads((PC_ITEMS / name).read_text())
    items: list[dict[str, Any]] = data["features"] if isinstance(data, dict) else data
    return copy.deepcopy(items)


def source_of(e2e: E2E, container_url: str) -> SourceRecord | None:
    emulator = e2e.geocatalog.emulator
    with emulator.lock:
        found = emulator.state.source_for_container(container_url)
        return copy.copy(found) if found is not None else None


def pc_token(e2e: E2E, container_url: str) -> str:
    account = container_url.split("//", 1)[1].split(".", 1)[0]
    container = container_url.rsplit("/", 1)[1]
    return PlanetaryComputer(e2e.pc.base_url).get_container_sas_token(account, container).token


def test_an_asset_container_without_sas_provider_fails_forbidden(
    e2e: E2E, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    good, private = naip_items(2)
    private["id"] = "private-asset-item"
    private["assets"] = {
        "image": {
            "href": "https://someoneelse.blob.core.windows.net/private/x.tif",
            "type": "image/tiff; application=geotiff",
            "roles": ["data"],
        }
    }
    job_id = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": [good, private]}}
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "partially_succeeded"
    states = {r["itemId"]: r for r in rows}
    assert states[good["id"]]["state"] == "succeeded"
    failed = states["private-asset-item"]
    assert failed["state"] == "failed"
    assert failed["lastError"]["code"] == "IngestionResourceForbidden"
    containers = {c["containerUrl"]: c["ingestionSource"] for c in job["containers"]}
    assert containers["https://someoneelse.blob.core.windows.net/private"] == "no-sas-provider"
    assert [e["code"] for e in job["errors"]] == ["IngestionResourceForbidden"]
    assert source_of(e2e, "https://someoneelse.blob.core.windows.net/private") is None


def test_a_source_registered_with_an_expired_token_is_renewed_before_posting(
    e2e: E2E, collection_id: str
) -> None:
    """Landsat's container is used by no other test: the service meets the source first here."""
    e2e.create_collection(collection_id)
    e2e.pc.set_switches(sas_expired=True)
    client = e2e.geocatalog_client()
    try:
        client.create_ingestion_source(LANDSAT_CONTAINER, pc_token(e2e, LANDSAT_CONTAINER))
    finally:
        client.close()
    e2e.pc.set_switches(sas_expired=False)
    expired = source_of(e2e, LANDSAT_CONTAINER)
    assert expired is not None
    assert expired.expiration is not None
    assert expired.expiration < time.time()

    items = recorded("landsat-c2-l2.items-get.page1.10-items.json")[:2]
    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert job["containers"] == [{"containerUrl": LANDSAT_CONTAINER, "ingestionSource": "renewed"}]
    renewed = source_of(e2e, LANDSAT_CONTAINER)
    assert renewed is not None
    assert renewed.id == expired.id  # renewed in place (PUT), never deleted
    assert renewed.expiration is not None
    assert renewed.expiration > time.time() + 30 * 60
    assert all(r["attempts"] == 1 for r in rows)


def test_an_ingestion_refused_for_an_expired_sas_renews_the_source_and_reposts(
    e2e: E2E, collection_id: str
) -> None:
    """The service holds the Sentinel-2 source as valid; behind its back the source's SAS is
    replaced by an expired one (as if revoked). The GeoCatalog then refuses to read the assets
    (IngestionAuthenticationFailed): the service renews the source and posts the item again."""
    e2e.create_collection(collection_id)
    first, *rest = recorded("sentinel-2-l2a.4-items-array.2024-04-19.json")
    warm_up = e2e.submit(
        {"collection": collection_id, "source": {"type": "items", "items": [first]}}
    )
    assert e2e.wait_for_job(warm_up)["state"] == "succeeded"
    source = source_of(e2e, SENTINEL_CONTAINER)
    assert source is not None

    e2e.pc.set_switches(sas_expired=True)
    client = e2e.geocatalog_client()
    try:
        client.replace_ingestion_source(
            source.id, SENTINEL_CONTAINER, pc_token(e2e, SENTINEL_CONTAINER)
        )
    finally:
        client.close()
    e2e.pc.set_switches(sas_expired=False)
    stale = source_of(e2e, SENTINEL_CONTAINER)
    assert stale is not None
    assert stale.expiration is not None
    assert stale.expiration < time.time()
    before = e2e.geocatalog_calls()

    job_id = e2e.submit({"collection": collection_id, "source": {"type": "items", "items": rest}})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    calls = e2e.geocatalog_calls() - before

    assert job["state"] == "succeeded", job["errors"]
    assert job["containers"] == [
        {"containerUrl": SENTINEL_CONTAINER, "ingestionSource": "existing"}
    ]
    assert e2e.operations(collection_id)["AddItem Failed"] >= 1
    assert calls[f"PUT {SOURCES_ROUTE} 200"] >= 1
    assert all(r["attempts"] == 2 for r in rows), rows
    renewed = source_of(e2e, SENTINEL_CONTAINER)
    assert renewed is not None
    assert renewed.id == source.id
    assert renewed.expiration is not None
    assert renewed.expiration > time.time() + 30 * 60


def test_the_maintenance_timer_renews_a_source_about_to_expire(e2e: E2E) -> None:
    """io-lulc's container is used by no other test. Its source expires in 10 minutes: inside
    the renewal margin (15 minutes plus the timer's 5-minute interval)."""
    e2e.pc.set_switches(sas_lifetime=timedelta(minutes=10))
    client = e2e.geocatalog_client()
    try:
        client.create_ingestion_source(IO_LULC_CONTAINER, pc_token(e2e, IO_LULC_CONTAINER))
    finally:
        client.close()
    e2e.pc.set_switches(sas_lifetime=timedelta(minutes=45))
    expiring = source_of(e2e, IO_LULC_CONTAINER)
    assert expiring is not None
    assert expiring.expiration is not None
    assert expiring.expiration < time.time() + 11 * 60
    before = e2e.geocatalog_calls()
    mark = e2e.mark()

    response = e2e.http.post(
        f"{e2e.stack.base_url}/admin/functions/maintenance", json={"input": ""}
    )
    assert response.status_code == 202, response.text
    run = e2e.wait_for(
        "the maintenance run asked for",
        lambda: next(
            (
                i
                for i in e2e.host.invocations[mark[0] :]
                if i.function_name == "maintenance" and i.details.get("admin") and i.done
            ),
            None,
        ),
    )
    calls = e2e.geocatalog_calls() - before

    assert run.error is None, run.error
    renewed = source_of(e2e, IO_LULC_CONTAINER)
    assert renewed is not None
    assert renewed.id == expiring.id
    assert renewed.expiration is not None
    assert renewed.expiration > time.time() + 40 * 60
    assert calls[f"PUT {SOURCES_ROUTE} 200"] == 1
