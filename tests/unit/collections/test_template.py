"""Stripping a template into a creatable collection, and finding its thumbnail."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from shared.collections.errors import TemplateUnusable
from shared.collections.template import (
    STORAGE_FIELDS,
    ThumbnailRef,
    creatable_collection,
    thumbnail_filename,
    thumbnail_media_type,
    thumbnail_of,
    validated_template,
)

DATA = Path(__file__).parent / "data"
PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"


def sentinel() -> dict:
    return json.loads((DATA / "sentinel-2-l2a.json").read_text())


# -- stripping -----------------------------------------------------------------------------------


def test_the_sentinel_template_loses_what_geocatalog_refuses_and_keeps_the_rest() -> None:
    template = sentinel()
    original = copy.deepcopy(template)
    collection = creatable_collection(template, collection_id="s2-copy", title="My copy")

    assert template == original  # the template is not modified
    assert collection["id"] == "s2-copy"
    assert collection["title"] == "My copy"
    assert "assets" not in collection
    for key in ("msft:storage_account", "msft:container", "msft:region"):
        assert key in template
        assert key not in collection
    assert collection["msft:short_description"] == template["msft:short_description"]
    for key in (
        "extent",
        "license",
        "description",
        "item_assets",
        "summaries",
        "providers",
        "keywords",
        "stac_extensions",
        "stac_version",
        "type",
    ):
        assert collection[key] == template[key]
    rels = {link["rel"] for link in collection["links"]}
    assert rels
    assert not rels & {"self", "root", "parent", "items"}
    assert {link["rel"] for link in template["links"]} >= rels


def test_server_managed_and_storage_fields_are_dropped() -> None:
    template = {
        "type": "Collection",
        "id": "x",
        "msft:_created": "2025",
        "msft:_updated": "2025",
        "msft:requires_account": True,
        "msft:group_id": "landsat",
        "links": [{"rel": "self", "href": "a"}, {"rel": "license", "href": "b"}, "junk"],
    }
    collection = creatable_collection(template, collection_id="y", title="y")
    assert set(collection) == {"type", "id", "title", "msft:group_id", "links"}
    assert collection["links"] == [{"rel": "license", "href": "b"}]
    assert {"msft:storage_account", "msft:container"} <= STORAGE_FIELDS


def test_validated_template_accepts_collections_only() -> None:
    assert validated_template(sentinel())["id"] == "sentinel-2-l2a"
    with pytest.raises(TemplateUnusable, match="STAC Catalog"):
        validated_template({"type": "Catalog", "id": "c", "description": "d", "links": []})
    with pytest.raises(TemplateUnusable, match="JSON object"):
        validated_template([1, 2])
    with pytest.raises(TemplateUnusable, match="without `extent`"):
        validated_template({"type": "Collection", "description": "d", "license": "x"})
    with pytest.raises(TemplateUnusable) as caught:
        validated_template({"type": "Feature"})
    assert caught.value.field == "templateUrl"


def test_thumbnail_reference_and_content_type() -> None:
    ref = thumbnail_of(sentinel())
    assert ref == ThumbnailRef(
        href="https://ai4edatasetspublicassets.blob.core.windows.net/assets/pc_thumbnails/sentinel-2.png",
        media_type="image/png",
        title="Sentinel 2 L2A",
    )
    assert thumbnail_of({"assets": {}}) is None
    assert thumbnail_media_type(ref, "image/webp") == "image/webp"
    assert thumbnail_media_type(ref, "application/octet-stream") == "image/png"
    jpg = ThumbnailRef("https://x.org/a/thumb.jpg", "image/jpg", "t")
    assert thumbnail_media_type(jpg, None) == "image/jpeg"
    untyped = ThumbnailRef("https://x.org/a/thumb.gif", None, "t")
    assert thumbnail_media_type(untyped, "text/plain") == "image/gif"
    assert thumbnail_filename(ref, "image/png") == "sentinel-2.png"
    assert (
        thumbnail_filename(ThumbnailRef("https://x.org/", None, "t"), "image/png")
        == "thumbnail.png"
    )
