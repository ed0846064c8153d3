"""Bulk ingestion from a static catalog served over HTTP by the test, through the SDK."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF
from tests.conformance.helpers import NAIP_CONTAINER, sas_token, wait_until


def run_to_completion(
    client: PlanetaryComputerProClient, collection_id: str, ingestion_id: str
) -> m.IngestionRun:
    run = client.ingestion.create_run(collection_id, ingestion_id, **HTTPS_OFF)
    assert isinstance(run, m.IngestionRun)
    assert run.operation.status == "Pending"
    assert run.operation.total_items == 0  # integers here, strings in the operation

    def finished() -> m.IngestionRun | None:
        current = client.ingestion.get_run(collection_id, ingestion_id, run.id, **HTTPS_OFF)
        return current if current.operation.status in ("Succeeded", "Failed", "Canceled") else None

    done: m.IngestionRun = wait_until(finished)
    return done


def define(
    client: PlanetaryComputerProClient, collection_id: str, url: str, **extra: Any
) -> m.IngestionDefinition:
    body = {
        "importType": "StaticCatalog",
        "displayName": "conformance",
        "sourceCatalogUrl": url,
        **extra,
    }
    created = client.ingestion.create(collection_id, body=body, **HTTPS_OFF)
    assert isinstance(created, m.IngestionDefinition)
    uuid.UUID(created.id)
    assert created.status == "Ready"
    return created


def test_definition_lifecycle(
    client: PlanetaryComputerProClient, collection_id: str, static_catalog_url: str
) -> None:
    url = f"{static_catalog_url}/stac-spec-examples-1.0.0/catalog.json"
    created = define(client, collection_id, url, skipExistingItems=True, keepOriginalAssets=True)
    assert created.source_catalog_url == url
    assert created.skip_existing_items is True
    assert created.keep_original_assets is True
    assert created.creation_time is not None
    assert (
        client.ingestion.get(collection_id, created.id, **HTTPS_OFF).display_name == "conformance"
    )
    assert [d.id for d in client.ingestion.list(collection_id, **HTTPS_OFF)] == [created.id]
    updated = client.ingestion.update(
        collection_id, created.id, body={"displayName": "renamed"}, **HTTPS_OFF
    )
    assert updated.display_name == "renamed"
    client.ingestion.begin_delete(collection_id, created.id, **HTTPS_OFF).result()
    with pytest.raises(ResourceNotFoundError):
        client.ingestion.get(collection_id, created.id, **HTTPS_OFF)
    deletions = [
        op
        for op in client.ingestion.list_operations(collection_id=collection_id, **HTTPS_OFF)
        if op.type == "DeleteIngestion"
    ]
    assert deletions[0].additional_information == {"IngestionId": created.id}


def test_run_of_a_catalog_with_children(
    client: PlanetaryComputerProClient, collection_id: str, static_catalog_url: str
) -> None:
    definition = define(
        client, collection_id, f"{static_catalog_url}/stac-spec-examples-1.0.0/catalog.json"
    )
    run = run_to_completion(client, collection_id, definition.id)
    assert run.operation.status == "Succeeded"
    assert run.operation.total_items == 2
    assert run.operation.total_successful_items == 2
    assert run.operation.total_failed_items == 0
    operation = client.ingestion.get_operation(run.operation.id, **HTTPS_OFF)
    assert operation.type == "IngestionStaticCatalog"
    assert operation.additional_information["TotalSuccessfulItems"] == "2"
    # Items belong to the target collection whatever their own `collection` said.
    found = client.stac.search(body={"collections": [collection_id]}, **HTTPS_OFF)
    assert sorted(f.id for f in found.features) == ["CS3-20160503_132131_08", "proj-example"]
    assert all(f.collection == collection_id for f in found.features)
    runs = list(client.ingestion.list_runs(collection_id, definition.id, **HTTPS_OFF))
    assert [r.id for r in runs] == [run.id]


def test_duplicates_in_a_catalog_and_skip_existing_items(
    client: PlanetaryComputerProClient, collection_id: str, static_catalog_url: str
) -> None:
    # collection.json links three items that all carry the id 20201211_223832_CS2.
    url = f"{static_catalog_url}/stac-spec-examples-1.0.0/collection.json"
    strict = define(client, collection_id, url, skipExistingItems=False)
    run = run_to_completion(client, collection_id, strict.id)
    assert run.operation.status == "Failed"
    assert (run.operation.total_successful_items, run.operation.total_failed_items) == (1, 2)
    history = run.operation.status_history[-1]
    assert history.error_code == "ErrorsInBatchOperation"
    assert "ItemAlreadyExistsInCollection" in (history.error_message or "")

    lenient = define(client, collection_id, url, skipExistingItems=True)
    rerun = run_to_completion(client, collection_id, lenient.id)
    assert rerun.operation.status == "Succeeded"
    assert (rerun.operation.total_items, rerun.operation.total_successful_items) == (3, 3)


def test_blob_assets_in_a_catalog_need_an_ingestion_source(
    client: PlanetaryComputerProClient, collection_id: str, static_catalog_url: str
) -> None:
    definition = define(
        client,
        collection_id,
        f"{static_catalog_url}/mpcpro-sample-naip-sea-subset/catalog.json",
        skipExistingItems=True,
    )
    forbidden = run_to_completion(client, collection_id, definition.id)
    assert forbidden.operation.status == "Failed"
    assert forbidden.operation.total_failed_items == 2
    assert forbidden.operation.status_history[-1].error_code == "IngestionResourceForbidden"

    source = client.ingestion.create_source(
        body={
            "kind": "SasToken",
            "connectionInfo": {"containerUrl": NAIP_CONTAINER, "sasToken": sas_token()},
        },
        **HTTPS_OFF,
    )
    try:
        allowed = run_to_completion(client, collection_id, definition.id)
    finally:
        client.ingestion.delete_source(source.id, **HTTPS_OFF)
    assert allowed.operation.status == "Succeeded"
    assert allowed.operation.total_successful_items == 2
    item = client.stac.get_item(
        collection_id, "wa_m_4712238_nw_10_060_20231007_20240209", **HTTPS_OFF
    )
    assert "/_managed/" in item.assets["image"].href


def test_an_unreachable_catalog_fails_the_run(
    client: PlanetaryComputerProClient, collection_id: str, static_catalog_url: str
) -> None:
    definition = define(client, collection_id, f"{static_catalog_url}/no-such-catalog.json")
    run = run_to_completion(client, collection_id, definition.id)
    assert run.operation.status == "Failed"
    assert run.operation.status_history[-1].error_code == "IngestionResourceUriNotFound"
