"""Ingestion sources through the SDK, and what an expired source does to an ingestion."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF
from tests.conformance.helpers import lro_error_code, naip_item, sas_token


def container_url() -> str:
    return f"https://conformance{uuid.uuid4().hex[:8]}.blob.core.windows.net/data"


def test_source_lifecycle(client: PlanetaryComputerProClient) -> None:
    url = container_url()
    body = {
        "kind": "SasToken",
        "connectionInfo": {"containerUrl": url, "sasToken": sas_token("2099-06-30T12:00:00Z")},
    }
    created = client.ingestion.create_source(body=body, **HTTPS_OFF)
    assert isinstance(created, m.SharedAccessSignatureTokenIngestionSource)
    uuid.UUID(created.id)
    assert created.connection_info.container_uri == url
    assert created.connection_info.expiration.isoformat() == "2099-06-30T12:00:00+00:00"
    assert created.connection_info.shared_access_signature_token is None  # never echoed
    assert created.created is not None

    summaries = {s.id: s for s in client.ingestion.list_sources(**HTTPS_OFF)}
    assert summaries[created.id].kind == "SasToken"
    assert "connectionInfo" not in summaries[created.id]

    fetched = client.ingestion.get_source(created.id, **HTTPS_OFF)
    assert fetched.connection_info.container_uri == url

    renewed = client.ingestion.replace_source(
        created.id,
        body={
            "id": created.id,
            "kind": "SasToken",
            "connectionInfo": {"containerUrl": url, "sasToken": sas_token("2100-01-01T00:00:00Z")},
        },
        **HTTPS_OFF,
    )
    assert renewed.connection_info.expiration.year == 2100

    with pytest.raises(ResourceExistsError) as conflict:
        client.ingestion.create_source(body=body, **HTTPS_OFF)
    assert conflict.value.error is not None
    assert (
        conflict.value.error.message
        == f"Container url {url} already contains a SAS token ingestion source with id {created.id}"
    )

    client.ingestion.delete_source(created.id, **HTTPS_OFF)
    with pytest.raises(ResourceNotFoundError):
        client.ingestion.get_source(created.id, **HTTPS_OFF)


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("https://acct.blob.core.windows.net/data/", sas_token()),
        ("https://acct.blob.core.windows.net", sas_token()),
        ("https://acct.blob.core.windows.net/data", "sp=rl&sr=c&sig=x"),
    ],
)
def test_invalid_sources_are_400(client: PlanetaryComputerProClient, url: str, token: str) -> None:
    with pytest.raises(HttpResponseError) as refused:
        client.ingestion.create_source(
            body={"kind": "SasToken", "connectionInfo": {"containerUrl": url, "sasToken": token}},
            **HTTPS_OFF,
        )
    assert refused.value.status_code == 400


def test_managed_identities(client: PlanetaryComputerProClient) -> None:
    identities = list(client.ingestion.list_managed_identities(**HTTPS_OFF))
    assert len(identities) == 1
    assert identities[0].resource_id.endswith(
        "/userAssignedIdentities/geocatalog-emulator-identity"
    )
    url = container_url()
    source = client.ingestion.create_source(
        body={
            "kind": "BlobManagedIdentity",
            "connectionInfo": {"containerUrl": url, "objectId": identities[0].object_id},
        },
        **HTTPS_OFF,
    )
    assert isinstance(source, m.ManagedIdentityIngestionSource)
    assert source.connection_info.object_id == identities[0].object_id
    client.ingestion.delete_source(source.id, **HTTPS_OFF)


def test_an_expired_source_fails_ingestion(
    client: PlanetaryComputerProClient, collection_id: str
) -> None:
    item = naip_item(0, collection_id)
    url = container_url()
    for asset in item["assets"].values():
        asset["href"] = asset["href"].replace("https://naipeuwest.blob.core.windows.net/naip", url)
    source = client.ingestion.create_source(
        body={
            "kind": "SasToken",
            "connectionInfo": {"containerUrl": url, "sasToken": sas_token("2020-01-01T00:00:00Z")},
        },
        **HTTPS_OFF,
    )
    try:
        with pytest.raises(HttpResponseError) as failed:
            client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF).result()
        assert lro_error_code(failed.value) == "IngestionAuthenticationFailed"
    finally:
        client.ingestion.delete_source(source.id, **HTTPS_OFF)
