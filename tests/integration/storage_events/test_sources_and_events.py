"""The watched containers' ingestion sources (created with a SAS the app signs, renewed by the
maintenance timer), the health of the routes, and event data in every shape publishers use."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from azure.storage.blob import ContainerSasPermissions, generate_container_sas

from local.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from shared.geocatalog.client import GeoCatalogClient
from shared.settings import CredentialMode, GeoCatalogSettings
from tests.integration.storage_events.conftest import BlobStack, stac_item


def test_the_maintenance_timer_renews_a_watched_containers_source(blob_stack: BlobStack) -> None:
    """stac-renew is used by no other test; its source, registered by hand with a SAS that
    expires in 10 minutes, is renewed in place with one the app signs."""
    assert blob_stack.stack.geocatalog is not None
    assert blob_stack.stack.host is not None
    container = f"{blob_stack.blob_endpoint}/stac-renew"
    now = datetime.now(UTC)
    short = generate_container_sas(
        ACCOUNT_NAME,
        "stac-renew",
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        start=now - timedelta(minutes=5),
        expiry=now + timedelta(minutes=10),
    )
    client = GeoCatalogClient(
        GeoCatalogSettings(url=blob_stack.stack.geocatalog.base_url, credential=CredentialMode.NONE)
    )
    try:
        created = client.create_ingestion_source(container, short)
    finally:
        client.close()
    mark = len(blob_stack.stack.host.invocations)
    response = blob_stack.http.post(
        f"{blob_stack.stack.base_url}/admin/functions/maintenance", json={"input": ""}
    )
    assert response.status_code == 202, response.text
    run = blob_stack.wait_for(
        "the maintenance run",
        lambda: next(
            (
                i
                for i in blob_stack.stack.host.invocations[mark:]  # type: ignore[union-attr]
                if i.function_name == "maintenance" and i.done
            ),
            None,
        ),
    )
    assert run.error is None, run.error
    renewed = blob_stack.sources()[container]
    assert renewed.id == created.id
    assert renewed.expiration > time.time() + 50 * 60
    # The renewed token really reads the container (Azurite checks the signature).
    blob_stack.put("stac-renew", "probe.tif", b"II*\x00")
    url = f"{container}/probe.tif?{renewed.sas_token}"
    assert blob_stack.http.get(url).status_code == 200


def test_a_cloudevent_with_base64_data_is_decoded(blob_stack: BlobStack) -> None:
    item_id = f"b64-{uuid.uuid4().hex[:8]}"
    name = f"items/{item_id}.json"
    blob_stack.put("stac-manual", name, stac_item(item_id, asset_href="https://example.com/a"))
    event = blob_stack.event("stac-manual", name, sequencer=7, cloud=True)
    event["data_base64"] = base64.b64encode(json.dumps(event.pop("data")).encode()).decode()
    blob_stack.deliver([event], cloud=True)
    job_id = blob_stack.job_id("manual", "blob-manual")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"


def test_an_event_grid_event_with_string_data_is_decoded(blob_stack: BlobStack) -> None:
    item_id = f"str-{uuid.uuid4().hex[:8]}"
    name = f"items/{item_id}.json"
    blob_stack.put("stac-manual", name, stac_item(item_id, asset_href="https://example.com/a"))
    event = blob_stack.event("stac-manual", name, sequencer=7)
    event["data"] = json.dumps(event["data"])
    blob_stack.deliver([event])
    job_id = blob_stack.job_id("manual", "blob-manual")
    assert blob_stack.wait_for_row(job_id, item_id)["state"] == "succeeded"


def test_health_reports_the_routes(blob_stack: BlobStack) -> None:
    body = blob_stack.http.get(f"{blob_stack.api}/health").json()
    check = body["checks"]["storageRoutes"]
    assert check["ok"] is True, check
    assert "5 storage route(s)" in check["detail"]
