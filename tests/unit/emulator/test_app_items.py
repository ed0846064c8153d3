"""Item operations: business failures inside the operation, counters, asset access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.emulator.geocatalog.clock import format_seconds

from .conftest import Api, make_item

BLOB = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"


def add_source(api: Api, container_url: str = BLOB, expires_in: float = 3600) -> dict[str, Any]:
    expiry = format_seconds(api.clock() + expires_in)
    response = api.post(
        "/inma/ingestion-sources",
        json={
            "kind": "SasToken",
            "connectionInfo": {
                "containerUrl": container_url,
                "sasToken": f"sp=rl&sr=c&se={expiry}&sig=x",
            },
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_add_item_lifecycle_and_stored_shape(api: Api) -> None:
    api.create_collection("items-a")
    accepted = api.post("/stac/collections/items-a/items", json=make_item("i-1", "items-a"))
    operation = accepted.json()
    assert operation["type"] == "AddItem"
    assert operation["additionalInformation"] == {
        "TotalItems": "1",
        "TotalPendingItems": "1",
        "TotalSuccessfulItems": "0",
        "TotalFailedItems": "0",
    }
    assert api.get("/stac/collections/items-a/items/i-1").status_code == 404
    finished = api.finished(accepted)
    assert finished["status"] == "Succeeded"
    assert finished["additionalInformation"]["TotalSuccessfulItems"] == "1"
    assert finished["statusHistory"][-1]["status"] == "Finished"
    stored = api.get("/stac/collections/items-a/items/i-1").json()
    assert [link["rel"] for link in stored["links"]] == ["collection", "parent", "root", "self"]
    assert stored["links"][3]["href"] == "http://geocatalog.test/stac/collections/items-a/items/i-1"
    assert stored["_msft:etag"]
    assert stored["_msft:ts"].endswith("Z")
    href = stored["assets"]["data"]["href"]
    assert href.startswith("http://geocatalog.test/_managed/items-a-")
    assert href.endswith("/i-1/data.tif")


def test_duplicate_post_fails_inside_the_operation(api: Api) -> None:
    api.create_collection("items-b")
    api.finished(api.post("/stac/collections/items-b/items", json=make_item("dup", "items-b")))
    again = api.post("/stac/collections/items-b/items", json=make_item("dup", "items-b"))
    assert again.status_code == 202
    failed = api.finished(again)
    assert failed["status"] == "Failed"
    assert failed["statusHistory"][-1]["errorCode"] == "ItemAlreadyExistsInCollection"
    assert (
        failed["statusHistory"][-1]["errorMessage"]
        == "Item 'dup' already exists in collection 'items-b'"
    )
    assert failed["error"]["error"]["code"] == "ItemAlreadyExistsInCollection"


def test_feature_collection_is_one_operation_with_counters(api: Api) -> None:
    api.create_collection("items-c")
    api.finished(api.post("/stac/collections/items-c/items", json=make_item("old", "items-c")))
    batch = {
        "type": "FeatureCollection",
        "features": [
            make_item("new-1", "items-c"),
            make_item("old", "items-c"),
            make_item("new-2", "items-c"),
            {**make_item("bad", "items-c"), "properties": {}},
        ],
    }
    accepted = api.post("/stac/collections/items-c/items", json=batch)
    assert accepted.json()["additionalInformation"]["TotalItems"] == "4"
    failed = api.finished(accepted)
    assert failed["status"] == "Failed"
    assert failed["additionalInformation"] == {
        "TotalItems": "4",
        "TotalPendingItems": "0",
        "TotalSuccessfulItems": "2",
        "TotalFailedItems": "2",
    }
    last = failed["statusHistory"][-1]
    assert last["errorCode"] == "ErrorsInBatchOperation"
    assert "old: ItemAlreadyExistsInCollection" in last["errorMessage"]
    assert "bad: StacValidationFailed" in last["errorMessage"]
    assert api.get("/stac/collections/items-c/items/new-2").status_code == 200

    all_dupes = api.finished(
        api.post(
            "/stac/collections/items-c/items",
            json={
                "type": "FeatureCollection",
                "features": [make_item("new-1", "items-c"), make_item("new-2", "items-c")],
            },
        )
    )
    assert all_dupes["statusHistory"][-1]["errorCode"] == "ItemAlreadyExistsInCollection"


def test_body_must_be_item_or_feature_collection(api: Api) -> None:
    api.create_collection("items-d")
    assert api.post("/stac/collections/items-d/items", json={"type": "Catalog"}).status_code == 400
    assert (
        api.post(
            "/stac/collections/items-d/items", json={"type": "FeatureCollection", "features": []}
        ).status_code
        == 400
    )


def test_collection_field_must_match(api: Api) -> None:
    api.create_collection("items-e")
    item = make_item("x1", "items-e")
    item["collection"] = "sentinel-2-l2a"
    failed = api.finished(api.post("/stac/collections/items-e/items", json=item))
    assert failed["statusHistory"][-1]["errorCode"] == "InvalidInputData"


def test_missing_collection_fails_in_the_operation_or_404(make_api: Callable[..., Api]) -> None:
    in_op = make_api()
    failed = in_op.finished(
        in_op.post("/stac/collections/ghost-1/items", json=make_item("a", "ghost-1"))
    )
    assert failed["statusHistory"][-1]["errorCode"] == "CollectionDoesNotExist"
    assert failed["additionalInformation"]["TotalFailedItems"] == "1"
    sync = make_api(missing_collection_items="404")
    response = sync.post("/stac/collections/ghost-1/items", json=make_item("a", "ghost-1"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"


def test_items_posted_before_their_collection_exists_race_it(api: Api) -> None:
    create = api.post(
        "/stac/collections", json={"id": "racing", "description": "d", "license": "l", "extent": {}}
    )
    item_op = api.post("/stac/collections/racing/items", json=make_item("r1", "racing"))
    api.settle()
    collection_op, item_result = api.operation(create), api.operation(item_op)
    collection_done = collection_op["statusHistory"][-1]["timestamp"]
    item_done = item_result["statusHistory"][-1]["timestamp"]
    # Whichever finished first decides: the item needs the collection to exist when it runs.
    expected = "Succeeded" if collection_done < item_done else "Failed"
    assert item_result["status"] == expected


def test_put_replaces_and_missing_item_is_switchable(make_api: Callable[..., Api]) -> None:
    api = make_api()
    api.create_collection("items-f")
    api.finished(
        api.post("/stac/collections/items-f/items", json=make_item("p1", "items-f", cloud=5))
    )
    replaced = api.put(
        "/stac/collections/items-f/items/p1", json=make_item("p1", "items-f", cloud=50)
    )
    assert replaced.json()["type"] == "UpdateItem"
    assert api.finished(replaced)["status"] == "Succeeded"
    assert api.get("/stac/collections/items-f/items/p1").json()["properties"]["cloud"] == 50
    created = api.finished(
        api.put("/stac/collections/items-f/items/p2", json=make_item("p2", "items-f"))
    )
    assert created["status"] == "Succeeded"  # default: PUT creates
    mismatch = api.finished(
        api.put("/stac/collections/items-f/items/p3", json=make_item("p4", "items-f"))
    )
    assert mismatch["statusHistory"][-1]["errorCode"] == "InvalidInputData"

    strict = make_api(put_missing_item="fail")
    strict.create_collection("items-g")
    failed = strict.finished(
        strict.put("/stac/collections/items-g/items/nope", json=make_item("nope", "items-g"))
    )
    assert failed["statusHistory"][-1]["errorCode"] == "NoRecordsToUpdate"


def test_patch_merges_and_reads_only_patched_assets(api: Api) -> None:
    api.create_collection("items-h")
    api.finished(
        api.post(
            "/stac/collections/items-h/items",
            json=make_item("m1", "items-h", platform="a", extra=1),
        )
    )
    before = api.get("/stac/collections/items-h/items/m1").json()
    patched = api.patch(
        "/stac/collections/items-h/items/m1",
        json={"properties": {"platform": "b", "extra": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["type"] == "UpdateItem"
    assert api.finished(patched)["status"] == "Succeeded"
    after = api.get("/stac/collections/items-h/items/m1").json()
    assert after["properties"]["platform"] == "b"
    assert "extra" not in after["properties"]
    assert after["assets"]["data"]["href"] == before["assets"]["data"]["href"]
    assert after["_msft:etag"] != before["_msft:etag"]
    # Re-submitting a managed-storage href (read back from the catalog) is refused.
    resubmitted = api.finished(
        api.patch(
            "/stac/collections/items-h/items/m1",
            json={"assets": {"data": {"href": before["assets"]["data"]["href"]}}},
        )
    )
    assert resubmitted["statusHistory"][-1]["errorCode"] == "PublicAccessRestricted"
    missing = api.finished(
        api.patch("/stac/collections/items-h/items/none", json={"properties": {"a": 1}})
    )
    assert missing["statusHistory"][-1]["errorCode"] == "NoRecordsToPatch"


def test_delete_item_and_delete_missing(api: Api) -> None:
    api.create_collection("items-i")
    api.finished(api.post("/stac/collections/items-i/items", json=make_item("d1", "items-i")))
    href = api.get("/stac/collections/items-i/items/d1", params={"sign": "true"}).json()["assets"][
        "data"
    ]["href"]
    assert api.client.get(href).status_code == 200
    deleted = api.delete("/stac/collections/items-i/items/d1")
    assert deleted.json()["type"] == "DeleteItem"
    assert api.finished(deleted)["status"] == "Succeeded"
    assert api.get("/stac/collections/items-i/items/d1").status_code == 404
    assert api.client.get(href).status_code == 404  # its managed copy is gone too
    missing = api.finished(api.delete("/stac/collections/items-i/items/d1"))
    assert missing["status"] == "Failed"
    assert missing["statusHistory"][-1]["errorCode"] == "NoRecordsToDelete"
    assert (
        missing["statusHistory"][-1]["errorMessage"]
        == "Item 'd1' does not exist in collection 'items-i' to delete"
    )


def test_blob_assets_need_an_ingestion_source(api: Api) -> None:
    api.create_collection("items-j")
    item = make_item("b1", "items-j", hrefs={"B09": f"{BLOB}/T47/B09.tif"})
    forbidden = api.finished(api.post("/stac/collections/items-j/items", json=item))
    assert forbidden["statusHistory"][-1]["errorCode"] == "IngestionResourceForbidden"
    add_source(api)
    allowed = api.finished(api.post("/stac/collections/items-j/items", json=item))
    assert allowed["status"] == "Succeeded"


def test_a_source_that_expires_before_the_operation_runs_fails_it(api: Api) -> None:
    api.create_collection("items-k")
    add_source(api, expires_in=1.0)
    # The SAS is valid when the item is posted, but the operation runs after it expired.
    accepted = api.post(
        "/stac/collections/items-k/items",
        json=make_item("e1", "items-k", hrefs={"a": f"{BLOB}/a.tif"}),
    )
    failed = api.finished(accepted)
    assert failed["statusHistory"][-1]["errorCode"] == "IngestionAuthenticationFailed"


def test_hrefs_with_their_own_sas_and_public_hrefs(api: Api) -> None:
    api.create_collection("items-l")
    valid = f"{BLOB}/a.tif?sp=r&se={format_seconds(api.clock() + 3600)}&sig=x"
    expired = f"{BLOB}/a.tif?sp=r&se=2020-01-01T00:00:00Z&sig=x"
    ok = api.finished(
        api.post(
            "/stac/collections/items-l/items", json=make_item("s1", "items-l", hrefs={"a": valid})
        )
    )
    assert ok["status"] == "Succeeded"
    old = api.finished(
        api.post(
            "/stac/collections/items-l/items", json=make_item("s2", "items-l", hrefs={"a": expired})
        )
    )
    assert old["statusHistory"][-1]["errorCode"] == "IngestionAuthenticationFailed"
    loopback = make_item("s3", "items-l", hrefs={"a": "http://127.0.0.1:9/data/a.tif"})
    assert (
        api.finished(api.post("/stac/collections/items-l/items", json=loopback))["status"]
        == "Succeeded"
    )
    relative = make_item("s4", "items-l", hrefs={"a": "./a.tif"})
    failed = api.finished(api.post("/stac/collections/items-l/items", json=relative))
    assert failed["statusHistory"][-1]["errorCode"] == "InvalidAssetHref"


def test_items_per_request_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(max_items_per_request=2)
    api.create_collection("items-m")
    batch = {
        "type": "FeatureCollection",
        "features": [make_item(f"n{i}", "items-m") for i in range(3)],
    }
    failed = api.finished(api.post("/stac/collections/items-m/items", json=batch))
    assert failed["statusHistory"][-1]["errorCode"] == "PostItemCollectionSizeExceeded"
    assert failed["additionalInformation"]["TotalFailedItems"] == "3"
