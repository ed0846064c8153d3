"""Managed-storage modes and the public URL switch."""

from __future__ import annotations

from collections.abc import Callable

from .conftest import Api, make_item


def test_blob_style_hrefs(make_api: Callable[..., Api]) -> None:
    api = make_api(managed_storage="blob", storage_account="contosogc")
    api.create_collection("blobby")
    api.finished(api.post("/stac/collections/blobby/items", json=make_item("b1", "blobby")))
    href = api.get("/stac/collections/blobby/items/b1").json()["assets"]["data"]["href"]
    assert href.startswith("https://contosogc.blob.core.windows.net/blobby-")
    assert href.endswith("/b1/data.tif")
    signed = api.get("/stac/collections/blobby/items/b1", params={"sign": "true"}).json()
    assert signed["assets"]["data"]["href"].startswith(href + "?")
    assert api.get("/sas/sign", params={"href": href}).json()["href"].startswith(href + "?")
    # Managed hrefs, blob-style or not, cannot be ingested again.
    again = make_item("b2", "blobby", hrefs={"data": href})
    failed = api.finished(api.post("/stac/collections/blobby/items", json=again))
    assert failed["statusHistory"][-1]["errorCode"] == "PublicAccessRestricted"


def test_public_url_is_used_in_links_and_hrefs(make_api: Callable[..., Api]) -> None:
    api = make_api(public_url="https://geocatalog.example.net/")
    accepted = api.post(
        "/stac/collections",
        json={"id": "pub-url", "description": "d", "license": "l", "extent": {}},
    )
    assert accepted.headers["location"].startswith(
        "https://geocatalog.example.net/inma/operations/"
    )
    api.settle()
    api.finished(api.post("/stac/collections/pub-url/items", json=make_item("p1", "pub-url")))
    item = api.get("/stac/collections/pub-url/items/p1").json()
    assert (
        item["links"][3]["href"]
        == "https://geocatalog.example.net/stac/collections/pub-url/items/p1"
    )
    assert item["assets"]["data"]["href"].startswith(
        "https://geocatalog.example.net/_managed/pub-url-"
    )
