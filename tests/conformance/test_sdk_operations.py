"""Operations through the SDK: get, list (paged), cancel one, cancel all."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF, Control
from tests.conformance.helpers import naip_item


def public_item(index: int, collection_id: str, item_id: str) -> dict[str, object]:
    item = naip_item(index, collection_id)
    item["id"] = item_id
    item["assets"] = {"readme": {"href": "https://example.com/readme.txt", "type": "text/plain"}}
    return item


def test_get_and_list_operations(client: PlanetaryComputerProClient, collection_id: str) -> None:
    for index in range(3):
        client.stac.begin_create_item(
            collection_id, body=public_item(0, collection_id, f"op-{index}"), **HTTPS_OFF
        ).result()
    listed = list(client.ingestion.list_operations(collection_id=collection_id, top=2, **HTTPS_OFF))
    # ItemPaged followed nextLink: all four operations of this collection, newest first.
    assert [op.type for op in listed] == ["AddItem", "AddItem", "AddItem", "AddCollection"]
    assert listed == sorted(listed, key=lambda op: op.creation_time, reverse=True)
    newest = client.ingestion.get_operation(listed[0].id, **HTTPS_OFF)
    assert isinstance(newest, m.Operation)
    assert newest.status == "Succeeded"
    assert [entry.status for entry in newest.status_history] == ["Pending", "Running", "Finished"]
    assert newest.start_time == newest.creation_time
    assert newest.finish_time is not None
    assert newest.collection_id == collection_id
    succeeded = list(
        client.ingestion.list_operations(
            collection_id=collection_id, status="Succeeded", **HTTPS_OFF
        )
    )
    assert len(succeeded) == 4
    with pytest.raises(ResourceNotFoundError):
        client.ingestion.get_operation("00000000-0000-0000-0000-000000000000", **HTTPS_OFF)


def test_cancel_operations(
    client: PlanetaryComputerProClient, collection_id: str, restore_config: Control
) -> None:
    restore_config.configure(operation_duration_seconds=[30, 30])
    for index in range(3):
        poller = client.stac.begin_create_item(
            collection_id,
            body=public_item(1, collection_id, f"cancel-{index}"),
            polling=False,
            **HTTPS_OFF,
        )
        assert poller.done()
    pending = list(
        client.ingestion.list_operations(collection_id=collection_id, status="Pending", **HTTPS_OFF)
    )
    assert len(pending) == 3

    assert client.ingestion.cancel_operation(pending[0].id, **HTTPS_OFF) is None
    canceled = client.ingestion.get_operation(pending[0].id, **HTTPS_OFF)
    assert canceled.status == "Canceled"
    assert canceled.status_history[-1].error_code == "CanceledOperation"
    assert canceled.start_time is None  # canceled while Pending: only finishTime
    assert canceled.finish_time is not None

    assert client.ingestion.cancel_all_operations(**HTTPS_OFF) is None
    left = list(
        client.ingestion.list_operations(collection_id=collection_id, status="Pending", **HTTPS_OFF)
    )
    assert left == []
    restore_config.configure(operation_duration_seconds=[0.02, 0.1])
    with pytest.raises(ResourceNotFoundError):
        client.stac.get_item(collection_id, "cancel-1", **HTTPS_OFF)


def test_a_transient_failure_surfaces_as_a_failed_operation(
    client: PlanetaryComputerProClient, collection_id: str, restore_config: Control
) -> None:
    restore_config.configure(transient_operation_failure_rate=1.0)
    with pytest.raises(HttpResponseError) as failed:
        client.stac.begin_create_item(
            collection_id, body=public_item(0, collection_id, "flaky"), **HTTPS_OFF
        ).result()
    assert (
        failed.value.response.json()["statusHistory"][-1]["errorCode"] == "InternalIntermitentError"
    )
