"""The static-catalog crawler on the real fixture catalogs (read from disk, not HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.emulator.geocatalog.bulk_ingestion import CatalogRead, FetchError, crawl
from local.emulator.geocatalog.ingest import Failure

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "static-catalog"
BASE = "http://catalog.test/"


def fetch_from_disk(url: str) -> Any:
    path = FIXTURES / urlsplit(url).path.lstrip("/")
    if not path.is_file():
        raise FetchError(Failure("IngestionResourceUriNotFound", f"'{url}' was not found."))
    return json.loads(path.read_text())


def test_catalog_root_follows_children_and_items() -> None:
    read = CatalogRead()
    crawl(f"{BASE}stac-spec-examples-1.0.0/catalog.json", fetch_from_disk, read)
    assert read.fatal is None
    assert read.failures == []
    found = sorted(item["id"] for _, item in read.items)
    assert found == ["CS3-20160503_132131_08", "proj-example"]
    urls = {url for url, _ in read.items}
    assert (
        f"{BASE}stac-spec-examples-1.0.0/extensions-collection/proj-example/proj-example.json"
        in urls
    )


def test_collection_root_with_duplicate_ids() -> None:
    read = CatalogRead()
    crawl(f"{BASE}stac-spec-examples-1.0.0/collection.json", fetch_from_disk, read)
    assert [item["id"] for _, item in read.items] == ["20201211_223832_CS2"] * 3


def test_missing_item_documents_are_item_failures_and_a_missing_root_is_fatal() -> None:
    read = CatalogRead()
    crawl(f"{BASE}nowhere/catalog.json", fetch_from_disk, read)
    assert read.fatal is not None
    assert read.fatal.code == "IngestionResourceUriNotFound"

    def with_a_hole(url: str) -> Any:
        if url.endswith("simple-item.json"):
            raise FetchError(Failure("IngestionResourceUriNotFound", "gone"))
        return fetch_from_disk(url)

    holed = CatalogRead()
    crawl(f"{BASE}stac-spec-examples-1.0.0/collection.json", with_a_hole, holed)
    assert len(holed.items) == 2
    assert [failure.code for _, failure in holed.failures] == ["IngestionResourceUriNotFound"]


@pytest.mark.parametrize("document", [{"type": "Feature"}, ["not", "a", "catalog"]])
def test_a_root_that_is_not_a_catalog_is_fatal(document: Any) -> None:
    read = CatalogRead()
    crawl("http://x/root.json", lambda url: document, read)
    assert read.fatal is not None
    assert read.fatal.code == "InvalidStacCatalog"
