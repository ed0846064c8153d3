"""Collections, collection assets and configuration through the HTTP app."""

from __future__ import annotations

import json
from collections.abc import Callable

from .conftest import Api


def test_collection_appears_only_when_its_operation_finishes(api: Api) -> None:
    body = {"id": "s2-copy", "description": "d", "license": "proprietary", "extent": {}}
    accepted = api.post("/stac/collections", json=body)
    assert accepted.status_code == 202
    operation = accepted.json()
    assert operation["type"] == "AddCollection"
    assert operation["status"] == "Pending"
    assert accepted.headers["location"].endswith(
        f"/inma/operations/{operation['id']}?api-version=2026-04-15"
    )
    assert api.get("/stac/collections/s2-copy").status_code == 404  # still queued
    finished = api.finished(accepted)
    assert finished["status"] == "Succeeded"
    assert "startTime" not in finished
    collection = api.get("/stac/collections/s2-copy").json()
    assert collection["id"] == "s2-copy"
    assert collection["type"] == "Collection"
    assert {link["rel"] for link in collection["links"]} == {"items", "parent", "root", "self"}
    assert collection["msft:_created"].endswith("Z")


def test_collection_level_assets_and_storage_fields_are_refused_at_creation(api: Api) -> None:
    base = {"id": "refused-1", "description": "d", "license": "l", "extent": {}}
    with_assets = api.post(
        "/stac/collections", json={**base, "assets": {"thumbnail": {"href": "x"}}}
    )
    assert with_assets.status_code == 400
    assert "assets" in with_assets.json()["error"]["message"]
    with_storage = api.post("/stac/collections", json={**base, "msft:container": "c"})
    assert with_storage.status_code == 400
    assert api.post("/stac/collections", json={**base, "id": "x"}).status_code == 400  # too short
    assert api.post("/stac/collections", json={"id": "no-license"}).status_code == 400


def test_duplicate_collection_fails_inside_the_operation_by_default(api: Api) -> None:
    api.create_collection("dup-coll")
    again = api.finished(
        api.post(
            "/stac/collections",
            json={"id": "dup-coll", "description": "d", "license": "l", "extent": {}},
        )
    )
    assert again["status"] == "Failed"
    assert again["statusHistory"][-1]["errorCode"] == "CollectionAlreadyExists"


def test_duplicate_collection_can_be_a_synchronous_409(make_api: Callable[..., Api]) -> None:
    api = make_api(duplicate_collection="409")
    body = {"id": "dup-sync", "description": "d", "license": "l", "extent": {}}
    assert api.post("/stac/collections", json=body).status_code == 202
    # Refused even while the first creation is still queued.
    conflict = api.post("/stac/collections", json=body)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "CollectionAlreadyExists"


def test_replace_collection_is_synchronous_and_keeps_assets(api: Api) -> None:
    api.create_collection("replace-me")
    api.post(
        "/stac/collections/replace-me/assets",
        data={
            "data": json.dumps(
                {"key": "thumbnail", "type": "image/png", "roles": ["thumbnail"], "title": "t"}
            )
        },
        files={"file": ("t.png", b"PNG")},
    )
    replaced = api.put(
        "/stac/collections/replace-me",
        json={"id": "replace-me", "description": "new words", "license": "l", "extent": {}},
    )
    assert replaced.status_code == 200
    assert replaced.json()["description"] == "new words"
    assert "thumbnail" in replaced.json()["assets"]
    mismatch = api.put(
        "/stac/collections/replace-me",
        json={"id": "other-id", "description": "d", "license": "l", "extent": {}},
    )
    assert mismatch.status_code == 400
    assert (
        api.put(
            "/stac/collections/missing-1",
            json={"id": "missing-1", "description": "d", "license": "l", "extent": {}},
        ).status_code
        == 404
    )


def test_thumbnail_upload_as_the_tutorial_posts_it(api: Api) -> None:
    api.create_collection("thumbs")
    # The tutorial: `data` as a form field, `file` as a file part, href "" and no description.
    created = api.post(
        "/stac/collections/thumbs/assets",
        data={
            "data": '{"key": "thumbnail", "href":"", "type": "image/png", "roles":  ["test_asset"], "title": "test_asset"}'
        },
        files={"file": ("lulc.png", b"\x89PNG-bytes")},
    )
    assert created.status_code == 201, created.text
    asset = created.json()["assets"]["thumbnail"]
    assert asset["roles"] == ["test_asset"]
    assert asset["type"] == "image/png"
    assert "/collection-assets/thumbnail/lulc.png" in asset["href"]
    thumbnail = api.get("/stac/collections/thumbs/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.content == b"\x89PNG-bytes"
    assert thumbnail.headers["content-type"] == "image/png"
    # The stored copy is private: unsigned reads fail, signed reads succeed.
    assert api.client.get(asset["href"]).status_code == 403
    signed = api.get("/stac/collections/thumbs", params={"sign": "true"}).json()["assets"][
        "thumbnail"
    ]["href"]
    assert api.client.get(signed).content == b"\x89PNG-bytes"
    # A second POST of the same key conflicts; PUT replaces; DELETE removes.
    meta = {
        "data": json.dumps(
            {"key": "thumbnail", "type": "image/png", "roles": ["thumbnail"], "title": "v2"}
        )
    }
    assert (
        api.post(
            "/stac/collections/thumbs/assets", data=meta, files={"file": ("v2.png", b"2")}
        ).status_code
        == 409
    )
    replaced = api.put(
        "/stac/collections/thumbs/assets/thumbnail", data=meta, files={"file": ("v2.png", b"2")}
    )
    assert replaced.status_code == 200
    assert replaced.json()["assets"]["thumbnail"]["title"] == "v2"
    assert api.get("/stac/collections/thumbs/thumbnail").content == b"2"
    deleted = api.delete("/stac/collections/thumbs/assets/thumbnail")
    assert deleted.status_code == 200
    assert "assets" not in deleted.json()
    assert api.get("/stac/collections/thumbs/thumbnail").status_code == 404


def test_asset_upload_needs_key_and_file(api: Api) -> None:
    api.create_collection("bad-assets")
    no_file = api.post("/stac/collections/bad-assets/assets", data={"data": '{"key": "k"}'})
    assert no_file.status_code == 400
    no_key = api.post(
        "/stac/collections/bad-assets/assets", data={"data": "{}"}, files={"file": ("a", b"a")}
    )
    assert no_key.status_code == 400
    not_multipart = api.post("/stac/collections/bad-assets/assets", json={"key": "k"})
    assert not_multipart.status_code == 400


def test_delete_collection_is_an_operation(api: Api) -> None:
    api.create_collection("to-delete")
    accepted = api.delete("/stac/collections/to-delete")
    assert accepted.json()["type"] == "DeleteCollection"
    assert api.get("/stac/collections/to-delete").status_code == 200  # not yet
    assert api.finished(accepted)["status"] == "Succeeded"
    assert api.get("/stac/collections/to-delete").status_code == 404
    assert api.delete("/stac/collections/to-delete").status_code == 404


def test_render_options_mosaics_and_tile_settings(api: Api) -> None:
    api.create_collection("configured")
    base = "/stac/collections/configured/configurations"
    option = {
        "id": "natural-color",
        "name": "Natural color",
        "options": "assets=visual",
        "minZoom": 9,
    }
    created = api.post(f"{base}/render-options", json=option)
    assert created.status_code == 201
    assert created.json() == {**option, "type": "raster-tile"}
    assert api.post(f"{base}/render-options", json=option).status_code == 409
    assert api.post(f"{base}/render-options", json={**option, "id": "-bad"}).status_code == 400
    assert api.get(f"{base}/render-options").json() == [created.json()]
    replaced = api.put(f"{base}/render-options/natural-color", json={**option, "name": "Natural"})
    assert replaced.status_code == 200
    assert api.get(f"{base}/render-options/natural-color").json()["name"] == "Natural"
    removed = api.delete(f"{base}/render-options/natural-color")
    assert removed.status_code == 200
    assert removed.content == b""
    assert api.get(f"{base}/render-options/natural-color").status_code == 404

    assert [m["id"] for m in api.get(f"{base}/mosaics").json()] == ["default"]
    mosaic = {"id": "mos1", "name": "Most recent available", "description": "d", "cql": []}
    assert api.post(f"{base}/mosaics", json=mosaic).status_code == 201
    assert api.get(f"{base}/mosaics/mos1").json() == mosaic
    assert api.delete(f"{base}/mosaics/mos1").content == b""

    assert api.get(f"{base}/tile-settings").json() == {
        "minZoom": 12,
        "maxItemsPerTile": 35,
        "defaultLocation": None,
    }
    settings = {
        "minZoom": 6,
        "maxItemsPerTile": 35,
        "defaultLocation": {"zoom": 10, "coordinates": [63.85, -22.42]},
    }
    assert api.put(f"{base}/tile-settings", json=settings).json() == settings
    configuration = api.get(base).json()
    assert configuration["tileSettings"] == settings
    assert configuration["mosaicInfo"]["defaultLocation"] == settings["defaultLocation"]
    assert [m["id"] for m in configuration["mosaicInfo"]["mosaics"]] == ["default"]


def test_partition_type_only_before_items(api: Api) -> None:
    api.create_collection("partitioned")
    base = "/stac/collections/partitioned/configurations/partition-type"
    assert api.get(base).json() == {"scheme": "none"}
    assert api.put(base, json={"scheme": "year"}).status_code == 200
    assert api.get(base).json() == {"scheme": "year"}
    from .conftest import make_item

    api.finished(
        api.post("/stac/collections/partitioned/items", json=make_item("p1", "partitioned"))
    )
    assert api.put(base, json={"scheme": "month"}).status_code == 400
