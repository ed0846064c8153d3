"""`POST /api/ingest` body parsing: every rule, valid and invalid, each bad field named."""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from shared.ingest_request import (
    DEFAULT_DROP_ASSETS,
    CreateCollection,
    IngestMode,
    IngestRequest,
    parse_ingest_request,
)
from shared.problems import InvalidRequest, PayloadTooLarge
from shared.settings import GeoCatalogSettings, PipelineSettings, Settings, StorageSettings
from shared.sources.specs import (
    InlineItemsSource,
    ItemUrlsSource,
    StacSearchSource,
    StaticCatalogSource,
    source_from_dict,
)

PC = "https://planetarycomputer.microsoft.com/api/stac/v1"
BLOB = "https://acct.blob.core.windows.net/catalogs/naip/catalog.json"
SAS = "sv=2024-05-04&se=2030-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig=not-a-real-signature"


def settings(**overrides: Any) -> Settings:
    pipeline = PipelineSettings(
        max_items_ceiling=overrides.pop("ceiling", 1000),
        inline_payload_max_bytes=overrides.pop("inline_max", 64 * 1024),
    )
    base: dict[str, Any] = {
        "geocatalog": GeoCatalogSettings(url="https://geo.example"),
        "storage": StorageSettings(connection_string="UseDevelopmentStorage=true"),
        "allowed_source_hosts": (
            "planetarycomputer.microsoft.com",
            ".blob.core.windows.net",
            "127.0.0.1:8701",
            "localhost",
        ),
        "pipeline": pipeline,
    }
    base.update(overrides)
    return Settings(**base)


SETTINGS = settings()


def search_body(**source: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "stac-search",
        "url": PC,
        "collections": ["sentinel-2-l2a"],
    }
    base.update(source)
    return {"collection": "s2-iceland", "source": {k: v for k, v in base.items() if v is not _DROP}}


_DROP = object()


def parse(body: object, s: Settings = SETTINGS) -> IngestRequest:
    return parse_ingest_request(body, s)


def refused(body: object, s: Settings = SETTINGS) -> dict[str, str]:
    """The field -> detail map of the refusal (fails the test when the body is accepted)."""
    with pytest.raises(InvalidRequest) as caught:
        parse_ingest_request(body, s)
    error = caught.value
    assert error.status == 400
    problem = error.to_problem().to_dict()
    assert problem["errors"], problem
    assert problem["field"] == problem["errors"][0]["field"]
    return {e["field"]: e["detail"] for e in problem["errors"]}


# --- the tutorial's request and defaults ---------------------------------------------------


def test_tutorial_search_with_defaults() -> None:
    request = parse(
        search_body(
            bbox=[-22.455626, 63.834083, -22.395201, 63.880750],
            datetime="2024-02-04T00:00:00Z/2024-02-11T23:59:59Z",
            maxItems=6,
        )
    )
    assert request == IngestRequest(
        collection="s2-iceland",
        source=StacSearchSource(
            url=PC,
            collections=("sentinel-2-l2a",),
            bbox=(-22.455626, 63.834083, -22.395201, 63.880750),
            datetime="2024-02-04T00:00:00Z/2024-02-11T23:59:59Z",
            max_items=6,
        ),
        create_collection=None,
        mode=IngestMode.CREATE,
        drop_assets=("rendered_preview", "preview", "tilejson"),
        dry_run=False,
    )
    assert request.source.type == "stac-search"


def test_every_option_set() -> None:
    body = search_body(
        query={"eo:cloud_cover": {"lt": 10}},
        filter={"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
    )
    body.update(
        createCollection={"templateUrl": f"{PC}/collections/sentinel-2-l2a"},
        mode="upsert",
        dropAssets=["preview", "preview", "tilejson"],
        dryRun=True,
    )
    request = parse(body)
    assert request.create_collection == CreateCollection(
        template_url=f"{PC}/collections/sentinel-2-l2a"
    )
    assert request.mode is IngestMode.UPSERT
    assert request.drop_assets == ("preview", "tilejson")
    assert request.dry_run is True
    assert isinstance(request.source, StacSearchSource)
    assert request.source.query == {"eo:cloud_cover": {"lt": 10}}
    assert request.source.filter == {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]}


def test_null_optional_fields_mean_defaults() -> None:
    body = search_body(bbox=None, datetime=None, maxItems=None)
    body.update(createCollection=None, mode=None, dropAssets=None, dryRun=None)
    request = parse(body)
    assert request.drop_assets == DEFAULT_DROP_ASSETS
    assert request.mode is IngestMode.CREATE
    assert request.dry_run is False


def test_empty_drop_assets_drops_nothing() -> None:
    body = search_body()
    body["dropAssets"] = []
    assert parse(body).drop_assets == ()


# --- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], "text", 3])
def test_body_must_be_an_object(body: object) -> None:
    assert refused(body) == {"body": "the request body must be a JSON object"}


def test_unknown_top_level_and_source_fields_named_with_hint() -> None:
    body = search_body(maxitems=5, colections=["x"])
    body["dryrun"] = True
    errors = refused(body)
    assert set(errors) == {"dryrun", "source.maxitems", "source.colections"}
    assert "did you mean 'dryRun'" in errors["dryrun"]
    assert "did you mean 'maxItems'" in errors["source.maxitems"]


def test_fields_of_another_source_type_are_unknown() -> None:
    errors = refused(
        {
            "collection": "abc",
            "source": {"type": "static-catalog", "url": BLOB, "bbox": [0, 0, 1, 1]},
        }
    )
    assert set(errors) == {"source.bbox"}


def test_collection_and_source_required() -> None:
    errors = refused({})
    assert errors == {"collection": "is required", "source": "is required"}


@pytest.mark.parametrize("kind", [None, "stac", "STAC-SEARCH", 3])
def test_unknown_source_type_lists_allowed(kind: object) -> None:
    source = {"url": PC} if kind is None else {"type": kind, "url": PC}
    errors = refused({"collection": "abc", "source": source})
    assert set(errors) == {"source.type"}
    for allowed in ("stac-search", "static-catalog", "items", "item-urls"):
        assert allowed in errors["source.type"]


def test_source_must_be_object() -> None:
    assert set(refused({"collection": "abc", "source": PC})) == {"source"}


def test_several_bad_fields_all_named() -> None:
    body = {
        "collection": "UPPER",
        "source": {
            "type": "stac-search",
            "url": "http://planetarycomputer.microsoft.com/api/stac/v1",
            "collections": [],
            "bbox": [0, 0, 200, 1],
            "datetime": "yesterday",
            "maxItems": "6",
        },
        "mode": "merge",
        "dropAssets": "preview",
        "dryRun": "true",
        "createCollection": {"templateUrl": "https://evil.example/c.json"},
    }
    errors = refused(body)
    assert set(errors) == {
        "collection",
        "source.url",
        "source.collections",
        "source.bbox",
        "source.datetime",
        "source.maxItems",
        "mode",
        "dropAssets",
        "dryRun",
        "createCollection.templateUrl",
    }
    with pytest.raises(InvalidRequest) as caught:
        parse(body)
    assert "10 problems" in caught.value.detail


# --- collection id -------------------------------------------------------------------------


@pytest.mark.parametrize("cid", ["abc", "s2-iceland", "naip_sea_2023", "a" * 32, "0ab", "a-b_c-1"])
def test_valid_collection_ids(cid: str) -> None:
    body = search_body()
    body["collection"] = cid
    assert parse(body).collection == cid


@pytest.mark.parametrize(
    "cid",
    [
        "ab",
        "a" * 33,
        "Sentinel2",
        "-abc",
        "abc-",
        "_abc",
        "a--b",
        "a.b",
        "a b",
        "abé",
        "",
        42,
        True,
    ],
)
def test_invalid_collection_ids(cid: object) -> None:
    body = search_body()
    body["collection"] = cid
    assert set(refused(body)) == {"collection"}


# --- URLs and the allow-list ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        PC,
        "https://PlanetaryComputer.Microsoft.com/api/stac/v1",
        "https://planetarycomputer.microsoft.com:443/api/stac/v1",
        f"{BLOB}?{SAS}",
        "https://127.0.0.1:8701/api/stac/v1",
        "https://localhost:9999/stac",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert isinstance(parse(search_body(url=url)).source, StacSearchSource)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://planetarycomputer.microsoft.com/api/stac/v1", "https"),
        ("ftp://planetarycomputer.microsoft.com/x", "https"),
        ("planetarycomputer.microsoft.com/api/stac/v1", "absolute"),
        ("/api/stac/v1", "absolute"),
        ("https://evil.example/api/stac/v1", "evil.example"),
        # suffix entries allow subdomains, not look-alikes or the bare domain
        ("https://acct.blob.core.windows.net.evil.example/c/x.json", "not in the allowed"),
        ("https://blob.core.windows.net/c/x.json", "not in the allowed"),
        ("https://evilplanetarycomputer.microsoft.com/x", "not in the allowed"),
        # an entry with a port allows that port only
        ("https://127.0.0.1:8702/api/stac/v1", "not in the allowed"),
        ("https://user:pw@planetarycomputer.microsoft.com/api/stac/v1", "credentials"),
        ("https://planetarycomputer.microsoft.com:99999/x", "valid URL"),
        ("https://planetarycomputer.microsoft.com/" + "a" * 2100, "2048"),
        ("", "URL"),
        (42, "URL"),
    ],
)
def test_refused_urls(url: object, fragment: str) -> None:
    errors = refused(search_body(url=url))
    assert set(errors) == {"source.url"}
    assert fragment in errors["source.url"]


def test_plain_http_only_in_local_mode() -> None:
    local = settings(local_mode=True, allowed_source_hosts=("127.0.0.1",))
    body = search_body(url="http://127.0.0.1:8701/api/stac/v1")
    assert isinstance(parse(body, local).source, StacSearchSource)
    assert set(refused(body, settings(allowed_source_hosts=("127.0.0.1",)))) == {"source.url"}


def test_url_is_required() -> None:
    assert refused(search_body(url=_DROP)) == {"source.url": "is required"}


# --- bbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bbox",
    [
        [-22.455626, 63.834083, -22.395201, 63.880750],
        [170, -10, -170, 10],  # crosses the antimeridian: valid per STAC
        [-180, -90, 180, 90],
        [0, 0, 0, 0],
        [1, 2, -100, 3, 4, 500],  # 3D: w, s, zmin, e, n, zmax
        [179.5, 0, -5000, -179.5, 1, 0],  # 3D across the antimeridian
    ],
)
def test_valid_bbox(bbox: list[float]) -> None:
    source = parse(search_body(bbox=bbox)).source
    assert isinstance(source, StacSearchSource)
    assert source.bbox == tuple(float(v) for v in bbox)


@pytest.mark.parametrize(
    ("bbox", "fragment"),
    [
        ([0, 0, 1], "4 numbers"),
        ([0, 0, 1, 1, 1], "4 numbers"),
        ([], "4 numbers"),
        ("0,0,1,1", "4 numbers"),
        ({"w": 0}, "4 numbers"),
        (["0", "0", "1", "1"], "numbers"),
        ([True, 0, 1, 1], "numbers"),
        ([0, 0, None, 1], "numbers"),
        ([-181, 0, 1, 1], "longitudes"),
        ([0, 0, 180.5, 1], "longitudes"),
        ([0, -91, 1, 1], "latitudes"),
        ([0, 0, 1, 90.1], "latitudes"),
        ([0, 10, 1, 5], "south"),
        ([0, 0, 10, 1, 1, 5], "elevation"),
    ],
)
def test_invalid_bbox(bbox: object, fragment: str) -> None:
    errors = refused(search_body(bbox=bbox))
    assert set(errors) == {"source.bbox"}
    assert fragment in errors["source.bbox"]


def test_nan_and_infinity_bbox_refused() -> None:
    # Python's json module decodes the non-standard NaN / Infinity tokens a client might send.
    body = json.loads(json.dumps(search_body(bbox=[float("nan"), 0, 1, 1])))
    assert set(refused(body)) == {"source.bbox"}
    body = json.loads(json.dumps(search_body(bbox=[0, 0, float("inf"), 1])))
    assert set(refused(body)) == {"source.bbox"}


# --- datetime ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("2024-02-04T10:00:00Z", "2024-02-04T10:00:00Z"),
        ("2024-02-04t10:00:00.123z", "2024-02-04T10:00:00.123Z"),
        ("2024-02-04T10:00:00+01:00", "2024-02-04T10:00:00+01:00"),
        ("2024-02-04T00:00:00Z/2024-02-11T23:59:59Z", "2024-02-04T00:00:00Z/2024-02-11T23:59:59Z"),
        ("../2024-02-11T00:00:00Z", "../2024-02-11T00:00:00Z"),
        ("/2024-02-11T00:00:00Z", "../2024-02-11T00:00:00Z"),
        ("2024-02-04T00:00:00Z/..", "2024-02-04T00:00:00Z/.."),
        ("2024-02-04T00:00:00Z/", "2024-02-04T00:00:00Z/.."),
        ("2024-02-04T00:00:00Z/2024-02-04T00:00:00Z", "2024-02-04T00:00:00Z/2024-02-04T00:00:00Z"),
        # an instant in another zone that is still before the end
        (
            "2024-02-04T01:00:00+02:00/2024-02-04T00:00:00Z",
            "2024-02-04T01:00:00+02:00/2024-02-04T00:00:00Z",
        ),
        # the tutorial's full dates, expanded to whole days
        ("2024-02-04/2024-02-11", "2024-02-04T00:00:00Z/2024-02-11T23:59:59.999999Z"),
        ("2024-02-04", "2024-02-04T00:00:00Z/2024-02-04T23:59:59.999999Z"),
        ("../2024-02-11", "../2024-02-11T23:59:59.999999Z"),
    ],
)
def test_valid_datetime(value: str, normalised: str) -> None:
    source = parse(search_body(datetime=value)).source
    assert isinstance(source, StacSearchSource)
    assert source.datetime == normalised


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("yesterday", "RFC 3339"),
        ("2024-02-04T10:00:00", "RFC 3339"),  # no zone
        ("2024-02-04 10:00:00Z", "RFC 3339"),
        ("2024-02-30T00:00:00Z", "RFC 3339"),
        ("2024-02", "RFC 3339"),
        ("2024-02-30", "valid date"),
        ("../..", "both ends"),
        ("/", "both ends"),
        ("..", "RFC 3339"),
        ("a/b/c", "exactly one"),
        ("2024-02-11T00:00:00Z/2024-02-04T00:00:00Z", "after"),
        ("2024-02-04T01:00:00Z/2024-02-04T02:00:00+02:00", "after"),
        ("2024-02-11/2024-02-04", "after"),
        ("2024-02-04T00:00:00Z/junk", "interval end"),
        # `$` also matched before a trailing newline, `\d` other scripts' digits
        ("2024-02-04T00:00:00Z\n", "RFC 3339"),
        ("2024-02-04\n", "RFC 3339"),
        ("2024-02-04T00:00:00Z/2024-02-11T00:00:00Z\n", "interval end"),
        ("\u0662\u0660\u0662\u0664-02-04T00:00:00Z", "RFC 3339"),
        ("\u0662\u0660\u0662\u0664-02-04", "RFC 3339"),
    ],
)
def test_invalid_datetime(value: str, fragment: str) -> None:
    errors = refused(search_body(datetime=value))
    assert set(errors) == {"source.datetime"}
    assert fragment in errors["source.datetime"]


def test_datetime_must_be_a_string() -> None:
    assert refused(search_body(datetime=1707000000)) == {"source.datetime": "must be a string"}


# --- numbers, booleans, strings ------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 6, 1000])
def test_max_items_valid(value: int) -> None:
    source = parse(search_body(maxItems=value)).source
    assert isinstance(source, StacSearchSource)
    assert source.max_items == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("6", "not a string"),
        (True, "not a boolean"),
        (0, "positive"),
        (-3, "positive"),
        (2.5, "positive whole"),
        (6.0, "positive whole"),
        ([6], "positive whole"),
        (1001, "at most 1000"),
    ],
)
def test_max_items_invalid(value: object, fragment: str) -> None:
    errors = refused(search_body(maxItems=value))
    assert set(errors) == {"source.maxItems"}
    assert fragment in errors["source.maxItems"]


def test_max_items_error_says_the_configured_ceiling() -> None:
    errors = refused(search_body(maxItems=51), settings(ceiling=50))
    assert "50" in errors["source.maxItems"]


@pytest.mark.parametrize("value", ["true", 1, 0, "yes", [True]])
def test_dry_run_must_be_boolean(value: object) -> None:
    body = search_body()
    body["dryRun"] = value
    assert refused(body) == {"dryRun": "must be true or false"}


@pytest.mark.parametrize("value", ["CREATE", "merge", 1, True, ["create"]])
def test_mode_invalid(value: object) -> None:
    body = search_body()
    body["mode"] = value
    errors = refused(body)
    assert set(errors) == {"mode"}
    assert "create, upsert" in errors["mode"]


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("preview", {"dropAssets"}),
        ({"preview": True}, {"dropAssets"}),
        (["preview", 3, ""], {"dropAssets[1]", "dropAssets[2]"}),
    ],
)
def test_drop_assets_invalid(value: object, fields: set[str]) -> None:
    body = search_body()
    body["dropAssets"] = value
    assert set(refused(body)) == fields


@pytest.mark.parametrize(
    ("collections", "fields"),
    [
        ([], {"source.collections"}),
        ("sentinel-2-l2a", {"source.collections"}),
        (["ok", "", 3], {"source.collections[1]", "source.collections[2]"}),
    ],
)
def test_collections_invalid(collections: object, fields: set[str]) -> None:
    assert set(refused(search_body(collections=collections))) == fields


def test_query_and_filter_must_be_objects() -> None:
    # A string filter is CQL2 text (tested below); a number is neither form of CQL2.
    errors = refused(search_body(query="eo:cloud_cover<10", filter=10))
    assert set(errors) == {"source.query", "source.filter"}
    errors = refused(search_body(filter={"args": []}))
    assert "op" in errors["source.filter"]


# --- createCollection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("https://planetarycomputer.microsoft.com/x", {"createCollection"}),
        ({}, {"createCollection.templateUrl"}),
        ({"templateUrl": "https://evil.example/c"}, {"createCollection.templateUrl"}),
        (
            {"templateUrl": "http://planetarycomputer.microsoft.com/c"},
            {"createCollection.templateUrl"},
        ),
        ({"templateUrl": f"{PC}/collections/naip", "title": "x"}, {"createCollection.title"}),
    ],
)
def test_create_collection_invalid(value: object, fields: set[str]) -> None:
    body = search_body()
    body["createCollection"] = value
    assert set(refused(body)) == fields


# --- static catalog ------------------------------------------------------------------------


def test_static_catalog() -> None:
    request = parse(
        {
            "collection": "naip-sea",
            "source": {"type": "static-catalog", "url": BLOB, "maxItems": 24},
        }
    )
    assert request.source == StaticCatalogSource(url=BLOB, max_items=24)
    assert request.source.type == "static-catalog"


def test_static_catalog_refusals() -> None:
    errors = refused(
        {"collection": "naip-sea", "source": {"type": "static-catalog", "maxItems": 0}}
    )
    assert set(errors) == {"source.url", "source.maxItems"}


# --- inline items --------------------------------------------------------------------------


def item(i: int) -> dict[str, Any]:
    return {"type": "Feature", "stac_version": "1.0.0", "id": f"item-{i}", "properties": {}}


def test_inline_items_list_and_feature_collection() -> None:
    items = [item(i) for i in range(3)]
    as_list = parse({"collection": "abc", "source": {"type": "items", "items": items}})
    as_fc = parse(
        {
            "collection": "abc",
            "source": {
                "type": "items",
                "items": {"type": "FeatureCollection", "features": items, "links": []},
            },
        }
    )
    assert as_list.source == as_fc.source == InlineItemsSource(items=tuple(items))
    assert as_list.source.type == "items"


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        (_DROP, {"source.items"}),
        ([], {"source.items"}),
        ({"type": "FeatureCollection", "features": []}, {"source.items.features"}),
        ({"type": "FeatureCollection"}, {"source.items.features"}),
        ({"type": "Feature", "id": "x"}, {"source.items"}),
        ([item(0), "item-1", item(2), 3], {"source.items[1]", "source.items[3]"}),
        ({"type": "FeatureCollection", "features": [item(0), None]}, {"source.items.features[1]"}),
    ],
)
def test_inline_items_invalid(items: object, fields: set[str]) -> None:
    source: dict[str, Any] = {"type": "items"}
    if items is not _DROP:
        source["items"] = items
    assert set(refused({"collection": "abc", "source": source})) == fields


def test_inline_items_above_ceiling() -> None:
    body = {"collection": "abc", "source": {"type": "items", "items": [item(i) for i in range(4)]}}
    errors = refused(body, settings(ceiling=3))
    assert "at most 3" in errors["source.items"]


def test_many_bad_elements_are_capped() -> None:
    body = {"collection": "abc", "source": {"type": "items", "items": list(range(100))}}
    errors = refused(body)
    assert len(errors) == 21
    assert "80 more" in errors["source.items"]


def test_inline_payload_too_large_names_source_items() -> None:
    items = [dict(item(i), properties={"pad": "x" * 1000}) for i in range(10)]
    limit = len(json.dumps(items, separators=(",", ":"))) - 1
    body = {"collection": "abc", "source": {"type": "items", "items": items}}
    with pytest.raises(PayloadTooLarge) as caught:
        parse(body, settings(inline_max=limit))
    error = caught.value
    assert error.status == 413
    assert error.field == "source.items"
    assert error.extra["maxBytes"] == limit
    # exactly at the limit is accepted
    assert isinstance(parse(body, settings(inline_max=limit + 1)).source, InlineItemsSource)


def test_payload_size_counts_utf8_bytes() -> None:
    items = [dict(item(0), properties={"name": "é" * 600})]
    size = len(json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode())
    body = {"collection": "abc", "source": {"type": "items", "items": items}}
    with pytest.raises(PayloadTooLarge):
        parse(body, settings(inline_max=size - 1))
    parse(body, settings(inline_max=size))


# --- item urls -----------------------------------------------------------------------------


def test_item_urls() -> None:
    urls = [f"{PC}/collections/naip/items/a", f"{BLOB}?{SAS}"]
    request = parse({"collection": "abc", "source": {"type": "item-urls", "urls": urls}})
    assert request.source == ItemUrlsSource(urls=tuple(urls))
    assert request.source.type == "item-urls"


@pytest.mark.parametrize(
    ("urls", "fields"),
    [
        (_DROP, {"source.urls"}),
        ([], {"source.urls"}),
        (PC, {"source.urls"}),
        ([PC, "https://evil.example/i.json", 3, PC], {"source.urls[1]", "source.urls[2]"}),
    ],
)
def test_item_urls_invalid(urls: object, fields: set[str]) -> None:
    source: dict[str, Any] = {"type": "item-urls"}
    if urls is not _DROP:
        source["urls"] = urls
    assert set(refused({"collection": "abc", "source": source})) == fields


# --- records: safe to store and show -------------------------------------------------------


def test_record_redacts_sas_signature_and_omits_inline_items() -> None:
    body = {
        "collection": "naip-sea",
        "source": {"type": "static-catalog", "url": f"{BLOB}?{SAS}"},
        "createCollection": {"templateUrl": f"https://acct.blob.core.windows.net/t/c.json?{SAS}"},
    }
    record = parse(body).to_record()
    text = json.dumps(record)
    assert "sig=" not in text
    assert "not-a-real-signature" not in text
    assert record["source"]["url"].startswith(BLOB + "?")
    assert "se=2030-01-01" in record["source"]["url"]  # the expiry stays visible
    assert record == json.loads(text)

    inline = parse({"collection": "abc", "source": {"type": "items", "items": [item(1), item(2)]}})
    assert inline.to_record()["source"] == {"type": "items", "count": 2}

    urls = [f"{BLOB}?{SAS}"] + [f"{PC}/collections/naip/items/{i}" for i in range(9)]
    by_url = parse({"collection": "abc", "source": {"type": "item-urls", "urls": urls}}).to_record()
    assert by_url["source"]["count"] == 10
    assert len(by_url["source"]["firstUrls"]) == 5
    assert "sig=" not in json.dumps(by_url)


def test_record_of_search() -> None:
    record = parse(search_body(bbox=[1, 2, 3, 4], maxItems=6)).to_record()
    assert record == {
        "collection": "s2-iceland",
        "source": {
            "type": "stac-search",
            "url": PC,
            "collections": ["sentinel-2-l2a"],
            "bbox": [1.0, 2.0, 3.0, 4.0],
            "maxItems": 6,
        },
        "createCollection": None,
        "mode": "create",
        "dropAssets": ["rendered_preview", "preview", "tilejson"],
        "dryRun": False,
    }


@pytest.mark.parametrize(
    "body",
    [
        search_body(bbox=[170, -10, -170, 10], datetime="2024-02-04", maxItems=3, query={"a": 1}),
        {"collection": "abc", "source": {"type": "static-catalog", "url": f"{BLOB}?{SAS}"}},
        {"collection": "abc", "source": {"type": "items", "items": [item(1)]}},
        {"collection": "abc", "source": {"type": "item-urls", "urls": [PC + "/x"]}},
    ],
)
def test_source_dict_round_trip(body: dict[str, Any]) -> None:
    source = parse(body).source
    assert source_from_dict(json.loads(json.dumps(source.to_dict()))) == source


# --- the whole STAC item-search body ---------------------------------------------------------


def aoi_polygon(vertices: int) -> dict[str, Any]:
    """A closed ring of `vertices` points around Iceland (a detailed AOI, as users draw them)."""
    import math

    ring = [
        [
            round(-19.0 + 4.0 * math.cos(2 * math.pi * i / vertices), 6),
            round(64.9 + 1.5 * math.sin(2 * math.pi * i / vertices), 6),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def pystac_client_parameters(**arguments: Any) -> dict[str, Any]:
    """What `ItemSearch(...).get_parameters()` returns, as a user would paste it (JSON)."""
    from pystac_client.item_search import ItemSearch

    search = ItemSearch(f"{PC}/search", method="POST", **arguments)
    pasted: dict[str, Any] = json.loads(json.dumps(search.get_parameters()))
    return pasted


@pytest.mark.parametrize(
    "arguments",
    [
        {"collections": ["sentinel-2-l2a"], "bbox": [-22.5, 63.8, -22.3, 63.9], "limit": 50},
        {
            "collections": "sentinel-2-l2a",
            "intersects": {"type": "Point", "coordinates": [-22.4, 63.85]},
            "datetime": "2024-02",
            "sortby": "-properties.datetime,+id",
            "max_items": 6,
        },
        {"ids": ["S2B_a", "S2B_b"], "collections": ["sentinel-2-l2a", "landsat-c2-l2"]},
        {
            "collections": ["sentinel-2-l2a"],
            "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
            "query": {"s2:mgrs_tile": {"eq": "27VVL"}},
        },
        {
            "collections": ["sentinel-2-l2a"],
            "filter": "eo:cloud_cover < 10 AND s2:mgrs_tile = '27VVL'",
            "filter_lang": "cql2-text",
        },
        {"intersects": aoi_polygon(3000)},
    ],
    ids=[
        "bbox-limit",
        "intersects-sortby",
        "ids",
        "cql2-json-query",
        "cql2-text",
        "no-collections",
    ],
)
def test_pystac_client_parameters_are_a_source_as_they_are(arguments: dict[str, Any]) -> None:
    parameters = pystac_client_parameters(**arguments)
    body = {"collection": "s2-iceland", "source": {"type": "stac-search", "url": PC, **parameters}}
    source = parse(body).source
    assert isinstance(source, StacSearchSource)
    # Every member pystac-client wrote is kept, in the form it wrote it.
    assert {k: v for k, v in source.to_dict().items() if k not in ("type", "url")} == parameters


def test_the_fields_extension_is_refused_with_its_reason() -> None:
    errors = refused(search_body(fields={"include": ["id"], "exclude": []}))
    assert set(errors) == {"source.fields"}
    assert "strips" in errors["source.fields"]
    assert "unknown" not in errors["source.fields"]


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        (
            {"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}},
            "source.intersects",
            "bbox",
        ),
        ({"intersects": {"type": "Circle", "coordinates": [0, 0]}}, "source.intersects", "GeoJSON"),
        ({"intersects": {"type": "Polygon"}}, "source.intersects", "coordinates"),
        # found by schemathesis: an unhashable geometry type was a 500
        ({"intersects": {"type": {}}}, "source.intersects", "GeoJSON"),
        ({"intersects": {"type": ["Point"]}}, "source.intersects", "GeoJSON"),
        ({"intersects": [0, 0]}, "source.intersects", "GeoJSON"),
        ({"ids": []}, "source.ids", "non-empty"),
        ({"ids": "a,b"}, "source.ids", "array"),
        ({"ids": ["a", " "]}, "source.ids[1]", "non-empty"),
        ({"filter": "eo:cloud_cover <"}, "source.filter", "CQL2 text"),
        ({"filter": {"op": "<", "args": 3}}, "source.filter", "CQL2-JSON"),
        (
            {"filter": {"op": "=", "args": [{"property": "a"}, 1]}, "filter-lang": "cql2-text"},
            "source.filter",
            "cql2-text",
        ),
        ({"filter": "a = 1", "filter-lang": "cql2-json"}, "source.filter", "cql2-json"),
        ({"filter-lang": "cql2-json"}, "source.filter-lang", "needs a filter"),
        ({"filter": "a = 1", "filter-lang": "ecql"}, "source.filter-lang", "cql2-json"),
        ({"filter": "a = 1", "filter-crs": "EPSG:3857"}, "source.filter-crs", "CRS84"),
        ({"sortby": "-datetime"}, "source.sortby", "array"),
        ({"sortby": [{"field": "datetime", "direction": "down"}]}, "source.sortby[0]", "asc"),
        ({"sortby": [{"direction": "asc"}]}, "source.sortby[0]", "field"),
        ({"limit": 0}, "source.limit", "positive"),
        ({"limit": 10_001}, "source.limit", "10000"),
        ({"limit": "10"}, "source.limit", "positive"),
    ],
)
def test_search_members_refused_naming_the_member(
    changes: dict[str, Any], field: str, fragment: str
) -> None:
    errors = refused(search_body(**changes))
    assert set(errors) == {field}, errors
    assert fragment in errors[field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"query": {"eo:cloud_cover": {"lt": float("nan")}}}, "source.query.eo:cloud_cover.lt"),
        (
            {"filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, float("inf")]}},
            "source.filter.args[1]",
        ),
        (
            {"intersects": {"type": "Point", "coordinates": [float("-inf"), 0]}},
            "source.intersects.coordinates[0]",
        ),
        ({"maxItems": float("nan")}, "source.maxItems"),
        ({"limit": float("inf")}, "source.limit"),
    ],
)
def test_nan_and_infinity_in_a_request_are_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    # As the service decodes them: Python's decoder accepts the non-JSON NaN / Infinity tokens.
    body = json.loads(json.dumps(search_body(**changes)))
    assert set(refused(body)) == {field}


def test_nan_in_inline_items_is_left_to_item_preparation() -> None:
    """Inside an item it makes that item `invalid` (item_prep), not the whole request."""
    bad = dict(item(1), properties={"eo:cloud_cover": float("nan")})
    body = json.loads(
        json.dumps({"collection": "abc", "source": {"type": "items", "items": [bad]}})
    )
    assert isinstance(parse(body).source, InlineItemsSource)


def test_a_request_nested_too_deeply_is_refused_as_a_whole() -> None:
    nested: Any = 1
    for _ in range(150):
        nested = {"op": "not", "args": [nested]}
    errors = refused(search_body(filter=nested))
    assert set(errors) == {"body"}


def test_a_huge_aoi_is_accepted_and_recorded_by_its_size() -> None:
    """A 3,000-vertex polygon (~100 KB of CQL2) is valid; the job record (one Table entity)
    shows it by its size, while the source itself keeps it whole for planning."""
    polygon = aoi_polygon(3000)
    search_filter = {"op": "s_intersects", "args": [{"property": "geometry"}, polygon]}
    request = parse(search_body(filter=search_filter, query={"eo:cloud_cover": {"lt": 20}}))
    source = request.source
    assert isinstance(source, StacSearchSource)
    assert source.filter == search_filter
    record = request.to_record()["source"]
    assert "filter" not in record
    full = len(json.dumps(search_filter, separators=(",", ":")))
    assert record["omitted"] == {"filter": full}
    assert record["query"] == {"eo:cloud_cover": {"lt": 20}}  # small members stay
    assert len(json.dumps(request.to_record())) < 32_000
    assert source_from_dict(source.to_dict()) == source


def test_drop_assets_is_bounded_to_fit_the_job_record() -> None:
    body = search_body()
    body["dropAssets"] = [f"asset-{i:05d}-" + "x" * 100 for i in range(100)]
    errors = refused(body)
    assert set(errors) == {"dropAssets"}
    assert "8192" in errors["dropAssets"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["type", "op", "args", "field", "x"]), children, max_size=4
        )
    ),
    max_leaves=12,
)
MEMBERS = [
    "url",
    "collections",
    "ids",
    "bbox",
    "intersects",
    "datetime",
    "query",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "limit",
    "maxItems",
    "fields",
]


@hypothesis.settings(max_examples=300, derandomize=True, database=None, deadline=None)
@hypothesis.given(
    members=st.dictionaries(st.sampled_from(MEMBERS), JSON_VALUES, max_size=6),
    kind=st.sampled_from(["stac-search", "static-catalog", "items", "item-urls"]),
    top=st.dictionaries(
        st.sampled_from(["collection", "createCollection", "mode", "dropAssets", "dryRun"]),
        JSON_VALUES,
        max_size=3,
    ),
)
def test_any_json_is_accepted_or_refused_naming_fields_never_an_error(
    members: dict[str, Any], kind: str, top: dict[str, Any]
) -> None:
    body = {"collection": "abc", **top, "source": {"type": kind, **members}}
    refusal: InvalidRequest | None = None
    try:
        parse(body)
    except InvalidRequest as refused_request:
        refusal = refused_request
    except PayloadTooLarge:
        return
    if refusal is not None:
        assert refusal.errors
        assert all(e.field and e.detail for e in refusal.errors)


def test_a_huge_query_is_recorded_by_its_size_too() -> None:
    tiles = [
        f"{zone:02d}{band}{square}"
        for zone in range(1, 61)
        for band in "CDEFGHJK"
        for square in ("AA", "AB", "AC", "AD", "AE", "AF", "AG")
    ]
    query = {"s2:mgrs_tile": {"in": tiles}}
    request = parse(search_body(query=query))
    record = request.to_record()["source"]
    assert "query" not in record
    assert record["omitted"] == {"query": len(json.dumps(query, separators=(",", ":")))}
    assert isinstance(request.source, StacSearchSource)
    assert request.source.query == query


def test_a_bbox_integer_too_large_for_a_float_is_refused_not_a_500() -> None:
    assert refused(search_body(bbox=[10**400, 0, 1, 1])) == {
        "source.bbox": "must contain only finite numbers"
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(" * 2000 + "a=1" + ")" * 2000, "parentheses deeper than"),
        (" AND ".join(["a=1"] * 20000), "AND/OR/NOT operators"),
        ("NOT " * 1500 + "a=1", "AND/OR/NOT operators"),
    ],
)
def test_cql2_text_that_would_overflow_the_parser_is_refused_before_it_parses(
    text: str, fragment: str
) -> None:
    # Unbounded, these kill the process (the parser's recursion overflows the C stack).
    errors = refused(search_body(filter=text, **{"filter-lang": "cql2-text"}))
    assert set(errors) == {"source.filter"}
    assert fragment in errors["source.filter"]


def test_cql2_text_within_the_bounds_still_parses() -> None:
    text = " OR ".join(f"(eo:cloud_cover < {n} AND NOT platform = 'x')" for n in range(300))
    request = parse(search_body(filter=text, **{"filter-lang": "cql2-text"}))
    assert request.source.filter == text  # type: ignore[union-attr]
