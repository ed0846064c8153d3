"""STORAGE_ROUTES: the forms it takes, the errors that name the field, and which blobs match."""

from __future__ import annotations

import json

import pytest

from shared.ingest_request import IngestMode
from shared.settings import SettingsError
from shared.storage_events.routes import RoutesError, parse_blob_url, parse_routes
from shared.storage_events.settings import StorageEventSettings

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
    "BlobEndpoint=http://127.0.0.1:41000/devstoreaccount1;"
)


def test_a_route_takes_defaults() -> None:
    routes = parse_routes(
        json.dumps([{"account": "StDrop", "container": "stac", "collection": "col"}])
    )
    (route,) = routes.routes
    assert route.name == "stdrop-stac"
    assert route.account == "stdrop"
    assert route.suffix == ".json"
    assert route.prefix == ""
    assert route.mode is IngestMode.UPSERT
    assert route.sync_deletes is False
    assert route.container_url == "https://stdrop.blob.core.windows.net/stac"


def test_a_single_object_and_the_item_collection_form() -> None:
    routes = parse_routes(
        '{"blobEndpoint": "https://stdrop.blob.core.windows.net", "container": "stac", '
        '"collection": "$item", "mode": "create", "syncDeletes": true, "suffix": ""}'
    )
    (route,) = routes.routes
    assert route.collection is None
    assert route.mode is IngestMode.CREATE
    assert route.sync_deletes
    assert route.suffix == ""


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"container": "stac", "collection": "col"}, "account"),
        ({"account": "x", "container": "stac", "collection": "col"}, "account"),
        ({"account": "stdrop", "container": "Bad_Name", "collection": "col"}, "container"),
        ({"account": "stdrop", "container": "stac"}, "collection"),
        ({"account": "stdrop", "container": "stac", "collection": "col", "mode": "merge"}, "mode"),
        ({"account": "stdrop", "container": "stac", "collection": "col", "syncDeletes": "y"}, "syncDeletes"),
        ({"account": "stdrop", "container": "stac", "collection": "col", "colection": 1}, "colection"),
        ({"account": "a1b", "blobEndpoint": "https://zzz.blob.core.windows.net", "container": "stac", "collection": "col"}, "different accounts"),
        ({"blobEndpoint": "http://[x/acct", "container": "stac", "collection": "col"}, "blobEndpoint is not a URL"),
        ({"blobEndpoint": "http://h:port/acct", "container": "stac", "collection": "col"}, "blobEndpoint is not a URL"),
    ],
)  # fmt: skip
def test_a_malformed_route_is_named(entry: dict[str, object], field: str) -> None:
    with pytest.raises(RoutesError, match=field):
        parse_routes(json.dumps([entry]))


@pytest.mark.parametrize("collection", ["a--b", "Sentinel-2", "c", "s2.copy", "x" * 33])
def test_a_route_collection_follows_the_one_collection_id_rule(collection: str) -> None:
    # The rule of POST /api/ingest and POST /api/collections; a route used to take any of these
    # and every item of it then failed in the GeoCatalog.
    entry = {"account": "stdrop", "container": "stac", "collection": collection}
    with pytest.raises(RoutesError, match=r"STORAGE_ROUTES\[0\]\.collection .*without '--'"):
        parse_routes(json.dumps([entry]))


def test_a_malformed_setting_is_reported_by_name_without_its_value() -> None:
    with pytest.raises(SettingsError) as caught:
        StorageEventSettings.from_env({"STORAGE_ROUTES": "[{secret-looking"})
    assert caught.value.name == "STORAGE_ROUTES"
    assert "secret-looking" not in str(caught.value)


def test_duplicate_route_names_are_refused() -> None:
    entry = {"name": "r", "account": "stdrop", "container": "stac", "collection": "col"}
    with pytest.raises(RoutesError, match="unique"):
        parse_routes(json.dumps([entry, entry]))


def test_both_url_forms_parse_and_match() -> None:
    settings = StorageEventSettings.from_env(
        {
            "STORAGE_ROUTES": json.dumps(
                [
                    {
                        "account": "stdrop",
                        "container": "stac",
                        "prefix": "items/",
                        "collection": "col-a",
                    },
                    {"account": "devstoreaccount1", "container": "local", "collection": "col-b"},
                ]
            ),
            "STORAGE_EVENTS_CONNECTION_STRING": AZURITE,
        }
    )
    routes = settings.routes
    cloud = parse_blob_url("https://stdrop.blob.core.windows.net/stac/items/a%20b.json")
    assert cloud is not None
    assert cloud.name == "items/a b.json"
    assert routes.match(cloud) is routes.routes[0]
    outside_prefix = parse_blob_url("https://stdrop.blob.core.windows.net/stac/other/a.json")
    assert outside_prefix is not None
    assert routes.match(outside_prefix) is None
    wrong_suffix = parse_blob_url("https://stdrop.blob.core.windows.net/stac/items/a.tif")
    assert wrong_suffix is not None
    assert routes.match(wrong_suffix) is None
    # Azurite's path style, on the endpoint of the local connection string.
    local_url = "http://127.0.0.1:41000/devstoreaccount1/local/x/item.json"
    assert parse_blob_url(local_url) is None  # an unknown endpoint is no blob storage
    local = parse_blob_url(local_url, routes.path_style_endpoints)
    assert local is not None
    assert (local.account, local.container, local.name) == (
        "devstoreaccount1",
        "local",
        "x/item.json",
    )
    assert routes.match(local) is routes.routes[1]
    assert routes.routes[1].container_url == "http://127.0.0.1:41000/devstoreaccount1/local"
    # Another Azurite's blob of the same names is not watched.
    other = parse_blob_url(
        "http://127.0.0.1:9/devstoreaccount1/local/x/item.json",
        ("http://127.0.0.1:9/devstoreaccount1",),
    )
    assert other is not None
    assert routes.match(other) is None


@pytest.mark.parametrize(
    "url",
    ["https://[acct.blob.core.windows.net/c/b.json", "http://127.0.0.1:port/acct/c/b.json", ""],
)
def test_an_event_url_that_is_no_url_is_no_blob(url: str) -> None:
    assert parse_blob_url(url, ("http://127.0.0.1:10000/acct",)) is None
