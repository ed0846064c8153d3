"""Collections, collection assets and the thumbnail through the SDK."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF, collection_body
from tests.conformance.helpers import lro_error_code

PNG = b"\x89PNG\r\n\x1a\n-thumbnail-bytes"


def test_collection_lifecycle(client: PlanetaryComputerProClient) -> None:
    collection_id = f"life-{uuid.uuid4().hex[:10]}"
    poller = client.stac.begin_create_collection(body=collection_body(collection_id), **HTTPS_OFF)
    assert poller.result() is None
    assert poller.status() == "Succeeded"

    collection = client.stac.get_collection(collection_id, **HTTPS_OFF)
    assert isinstance(collection, m.StacCollection)
    assert collection.id == collection_id
    assert collection.title == collection_id
    assert collection.license == "CC-BY-4.0"
    assert collection.created_on is not None
    assert {link.rel for link in collection.links} >= {"self", "root", "items"}
    listed = client.stac.get_collections(**HTTPS_OFF)
    assert collection_id in {c.id for c in listed.collections}

    body = {**collection_body(collection_id), "description": "replaced description"}
    replaced = client.stac.replace_collection(collection_id, body=body, **HTTPS_OFF)
    assert replaced.description == "replaced description"
    assert (
        client.stac.get_collection(collection_id, **HTTPS_OFF).description == "replaced description"
    )

    client.stac.begin_delete_collection(collection_id, **HTTPS_OFF).result()
    with pytest.raises(ResourceNotFoundError) as missing:
        client.stac.get_collection(collection_id, **HTTPS_OFF)
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound"
    assert f"Collection '{collection_id}' not found" in str(missing.value.message)


def test_collection_with_assets_is_refused(client: PlanetaryComputerProClient) -> None:
    body = {
        **collection_body(f"assets-{uuid.uuid4().hex[:8]}"),
        "assets": {"thumbnail": {"href": "https://x/t.png"}},
    }
    with pytest.raises(HttpResponseError) as refused:
        client.stac.begin_create_collection(body=body, **HTTPS_OFF)
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "InvalidCollection"


def test_duplicate_collection_fails_in_its_operation(
    client: PlanetaryComputerProClient, collection_id: str
) -> None:
    with pytest.raises(HttpResponseError) as failed:
        client.stac.begin_create_collection(
            body=collection_body(collection_id), **HTTPS_OFF
        ).result()
    assert lro_error_code(failed.value) == "CollectionAlreadyExists"


def test_thumbnail_upload_get_replace_delete(
    client: PlanetaryComputerProClient, collection_id: str
) -> None:
    metadata = {
        "key": "thumbnail",
        "type": "image/png",
        "roles": ["thumbnail"],
        "title": "Thumbnail",
        "description": "preview",
    }
    updated = client.stac.create_collection_asset(
        collection_id, body={"data": metadata, "file": ("thumbnail.png", PNG)}, **HTTPS_OFF
    )
    assert isinstance(updated, m.StacCollection)
    asset = updated.assets["thumbnail"]
    assert asset.title == "Thumbnail"
    assert asset.roles == ["thumbnail"]
    assert asset.href.endswith("/collection-assets/thumbnail/thumbnail.png")
    assert b"".join(client.stac.get_collection_thumbnail(collection_id, **HTTPS_OFF)) == PNG

    replaced = client.stac.replace_collection_asset(
        collection_id,
        "thumbnail",
        body={"data": {**metadata, "title": "Second"}, "file": ("second.png", PNG + b"2")},
        **HTTPS_OFF,
    )
    assert replaced.assets["thumbnail"].title == "Second"
    assert b"".join(client.stac.get_collection_thumbnail(collection_id, **HTTPS_OFF)) == PNG + b"2"

    after_delete = client.stac.delete_collection_asset(collection_id, "thumbnail", **HTTPS_OFF)
    assert not after_delete.get("assets")
    with pytest.raises(ResourceNotFoundError):
        b"".join(client.stac.get_collection_thumbnail(collection_id, **HTTPS_OFF))


def test_landing_page_and_conformance(client: PlanetaryComputerProClient) -> None:
    landing = client.stac.get_landing_page(**HTTPS_OFF)
    assert landing.type == "Catalog"
    conformance = client.stac.get_conformance_classes(**HTTPS_OFF)
    assert "https://api.stacspec.org/v1.0.0/core" in conformance.conforms_to
