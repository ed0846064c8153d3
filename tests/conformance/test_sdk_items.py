"""Items through the SDK: LROs, business failures inside operations, signing, search."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF
from tests.conformance.helpers import NAIP_CONTAINER, lro_error_code, naip_item, sas_token


@pytest.fixture
def naip_source(client: PlanetaryComputerProClient) -> Iterator[str]:
    """A SAS ingestion source for the NAIP container, as the tutorial registers one."""
    source = client.ingestion.create_source(
        body={
            "kind": "SasToken",
            "connectionInfo": {"containerUrl": NAIP_CONTAINER, "sasToken": sas_token()},
        },
        **HTTPS_OFF,
    )
    yield source.id
    client.ingestion.delete_source(source.id, **HTTPS_OFF)


def test_create_get_replace_patch_delete_item(
    client: PlanetaryComputerProClient, collection_id: str, naip_source: str
) -> None:
    item = naip_item(0, collection_id)
    poller = client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF)
    assert poller.result() is None
    assert poller.status() == "Succeeded"

    stored = client.stac.get_item(collection_id, item["id"], **HTTPS_OFF)
    assert isinstance(stored, m.StacItem)
    assert stored.id == item["id"]
    assert stored.collection == collection_id
    assert stored.e_tag
    assert stored.timestamp is not None
    assert [link.rel for link in stored.links][:4] == ["collection", "parent", "root", "self"]
    image = stored.assets["image"].href
    assert image.startswith(f"{client._config.endpoint}/_managed/{collection_id}-")
    assert image.endswith(f"/{item['id']}/m_4712238_ne_10_060_20191011.tif")
    assert stored.properties["naip:state"] == "wa"

    item["properties"]["naip:year"] = "2099"
    client.stac.begin_replace_item(collection_id, item["id"], body=item, **HTTPS_OFF).result()
    replaced = client.stac.get_item(collection_id, item["id"], **HTTPS_OFF)
    assert replaced.properties["naip:year"] == "2099"
    assert replaced.e_tag != stored.e_tag

    client.stac.begin_update_item(
        collection_id, item["id"], body={"properties": {"gsd": 0.5}}, **HTTPS_OFF
    ).result()
    patched = client.stac.get_item(collection_id, item["id"], **HTTPS_OFF)
    assert patched.properties["gsd"] == 0.5
    assert patched.properties["naip:year"] == "2099"

    client.stac.begin_delete_item(collection_id, item["id"], **HTTPS_OFF).result()
    with pytest.raises(ResourceNotFoundError):
        client.stac.get_item(collection_id, item["id"], **HTTPS_OFF)
    with pytest.raises(HttpResponseError) as missing:
        client.stac.begin_delete_item(collection_id, item["id"], **HTTPS_OFF).result()
    assert lro_error_code(missing.value) == "NoRecordsToDelete"


def test_duplicate_item_fails_inside_its_operation(
    client: PlanetaryComputerProClient, collection_id: str, naip_source: str
) -> None:
    item = naip_item(0, collection_id)
    client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF).result()
    poller = client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF)
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    # The doubly nested operation error is not something azure-core can parse
    # (docs/reference/geocatalog-api.md §2).
    assert failed.value.error is None
    body = failed.value.response.json()
    assert body["status"] == "Failed"
    assert body["statusHistory"][-1]["errorCode"] == "ItemAlreadyExistsInCollection"
    assert body["error"]["error"]["code"] == "ItemAlreadyExistsInCollection"
    assert body["additionalInformation"]["TotalFailedItems"] == "1"


def test_feature_collection_is_one_operation(
    client: PlanetaryComputerProClient, collection_id: str, naip_source: str
) -> None:
    features = [naip_item(0, collection_id), naip_item(1, collection_id)]
    client.stac.begin_create_item(
        collection_id, body={"type": "FeatureCollection", "features": features}, **HTTPS_OFF
    ).result()
    operations = list(client.ingestion.list_operations(collection_id=collection_id, **HTTPS_OFF))
    adds = [op for op in operations if op.type == "AddItem"]
    assert len(adds) == 1
    assert adds[0].additional_information == {
        "TotalItems": "2",
        "TotalPendingItems": "0",
        "TotalSuccessfulItems": "2",
        "TotalFailedItems": "0",
    }
    page = client.stac.get_item_collection(collection_id, limit=1, **HTTPS_OFF)
    assert len(page.features) == 1
    next_links = [link for link in page.links if link.rel == "next"]
    assert len(next_links) == 1
    token = next_links[0].href.split("token=")[1].split("&")[0]
    second = client.stac.get_item_collection(collection_id, limit=1, token=token, **HTTPS_OFF)
    assert {page.features[0].id, second.features[0].id} == {f["id"] for f in features}


def test_assets_without_an_ingestion_source_are_forbidden(
    client: PlanetaryComputerProClient, collection_id: str
) -> None:
    item = naip_item(1, collection_id)
    item["assets"]["image"]["href"] = item["assets"]["image"]["href"].replace(
        "/naip/", "/naip-private/"
    )
    with pytest.raises(HttpResponseError) as failed:
        client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF).result()
    assert lro_error_code(failed.value) == "IngestionResourceForbidden"


def test_signed_hrefs_can_be_read_and_unsigned_cannot(
    client: PlanetaryComputerProClient, collection_id: str, naip_source: str
) -> None:
    item = naip_item(0, collection_id)
    client.stac.begin_create_item(collection_id, body=item, **HTTPS_OFF).result()

    unsigned = client.stac.get_item(collection_id, item["id"], **HTTPS_OFF).assets["image"].href
    signed = (
        client.stac.get_item(collection_id, item["id"], sign="true", **HTTPS_OFF)
        .assets["image"]
        .href
    )
    assert signed.startswith(unsigned + "?")
    read = httpx.get(signed)
    assert read.status_code == 200
    assert read.headers["content-type"].startswith("image/tiff")
    assert read.content.startswith(b"II*\x00")
    denied = httpx.get(unsigned)
    assert denied.status_code == 403
    assert "<Code>NoAuthenticationInformation</Code>" in denied.content.decode("utf-8-sig")

    results = client.stac.search(
        body={"collections": [collection_id], "bbox": [-122.4, 47.5, -122.3, 47.6]},
        sign="true",
        **HTTPS_OFF,
    )
    assert [feature.id for feature in results.features] == [item["id"]]
    found = results.features[0].assets["image"].href
    assert "sig=" in found
    assert httpx.get(found).status_code == 200
    assert results.context is not None
    assert results.context.matched == 1

    nothing = client.stac.search(
        body={"collections": [collection_id], "datetime": "2000-01-01/2000-12-31"}, **HTTPS_OFF
    )
    assert nothing.features == []
