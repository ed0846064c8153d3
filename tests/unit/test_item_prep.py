"""Item preparation on real Planetary Computer items (tests/fixtures/items, see its README)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shared.item_prep import (
    MAX_RECORDED_ID_CHARS,
    InvalidItem,
    PreparedItem,
    blob_container_of,
    parse_rfc3339,
    prepare_item,
    recorded_item_id,
)
from shared.jobs.keys import escape
from shared.sources.base import ItemReadCode, RawItem

ITEMS = Path(__file__).parent.parent / "fixtures" / "items"
NAIP_SEA = (
    Path(__file__).parent.parent.parent
    / "local"
    / "fixtures"
    / "static-catalog"
    / "mpcpro-sample-naip-sea"
)
DROP = ("rendered_preview", "preview", "tilejson")

S2 = "sentinel-2-l2a.S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251.json"
LANDSAT = "landsat-c2-l2.LC08_L2SP_202033_20220327_02_T1.json"
NAIP = "naip.pa_m_4108053_se_17_1_20150725_20151201.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ITEMS / name).read_text())
    return data


def first_feature(name: str) -> dict[str, Any]:
    feature: dict[str, Any] = load(name)["features"][0]
    return feature


def prepared(raw: object, **kwargs: Any) -> PreparedItem:
    result = prepare_item(raw, collection="my-target", drop_assets=DROP, **kwargs)
    assert isinstance(result, PreparedItem), result
    return result


def invalid(raw: object, drop: tuple[str, ...] = DROP) -> InvalidItem:
    result = prepare_item(raw, collection="my-target", drop_assets=drop)
    assert isinstance(result, InvalidItem), result
    return result


@pytest.mark.parametrize(
    ("name", "containers"),
    [
        (S2, {"https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"}),
        (
            "sentinel-2-l2a.items-get.limit1.json",
            {"https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"},
        ),
        (LANDSAT, {"https://landsateuwest.blob.core.windows.net/landsat-c2"}),
        (NAIP, {"https://naipeuwest.blob.core.windows.net/naip"}),
        ("io-lulc.items-get.limit1.json", {"https://ai4edataeuwest.blob.core.windows.net/io-lulc"}),
    ],
)
def test_real_pc_items_prepare_with_their_containers(name: str, containers: set[str]) -> None:
    data = load(name)
    raw = data["features"][0] if data.get("type") == "FeatureCollection" else data
    original = copy.deepcopy(raw)

    result = prepared(raw)

    assert result.item_id == raw["id"]
    assert result.containers == containers
    assert result.item["collection"] == "my-target"
    assert not set(DROP) & set(result.item["assets"])
    # everything else of the item survives
    assert set(result.item["assets"]) == set(raw["assets"]) - set(DROP)
    assert result.item["properties"] == raw["properties"]
    assert result.item["geometry"] == raw["geometry"]
    # the raw item is left as it was (deep copy)
    assert raw == original
    compact = json.dumps(result.item, separators=(",", ":"), ensure_ascii=False).encode()
    assert result.item_size_bytes == len(compact)


def test_sentinel2_drops_exactly_the_api_link_assets() -> None:
    raw = load(S2)
    present = {key for key in DROP if key in raw["assets"]}
    assert present == {"rendered_preview", "preview", "tilejson"}  # the fixture has all three

    result = prepared(raw)

    assert len(result.item["assets"]) == len(raw["assets"]) - 3
    assert "B04" in result.item["assets"]
    assert "visual" in result.item["assets"]


def test_inferred_links_removed_other_links_kept() -> None:
    raw = load(LANDSAT)
    rels = [link["rel"] for link in raw["links"]]
    assert {"self", "root", "parent", "collection"} <= set(rels)

    result = prepared(raw)

    kept = [link["rel"] for link in result.item["links"]]
    assert kept == [r for r in rels if r not in {"self", "root", "parent", "collection"}]
    assert "cite-as" in kept


def test_naip_static_catalog_item_broken_root_links_are_dropped() -> None:
    path = next(NAIP_SEA.glob("wa_m_4712238_ne_10_060_20191011_20191218/*.json"))
    raw = json.loads(path.read_text())
    assert any(link["href"] == "./catalog.json" for link in raw["links"])

    result = prepared(raw)

    assert result.item["links"] == []
    assert result.containers == {"https://naipeuwest.blob.core.windows.net/naip"}


def test_custom_drop_assets() -> None:
    raw = load(NAIP)
    result = prepare_item(raw, collection="c-1", drop_assets=["thumbnail"])
    assert isinstance(result, PreparedItem)
    assert "thumbnail" not in result.item["assets"]
    assert "tilejson" in result.item["assets"]
    assert result.item["collection"] == "c-1"


def test_nothing_to_drop_is_fine() -> None:
    raw = load(NAIP)
    result = prepare_item(raw, collection="c-1", drop_assets=())
    assert isinstance(result, PreparedItem)
    assert set(result.item["assets"]) == set(raw["assets"])


@pytest.mark.parametrize(
    ("href", "container"),
    [
        (
            "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/10/S/DG/2022/B04.tif",
            "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2",
        ),
        # account lowercased, no trailing slash
        (
            "https://MyAccount.blob.core.windows.net/data/a/b.tif",
            "https://myaccount.blob.core.windows.net/data",
        ),
        # http blob URLs map to the https container URL GeoCatalog sources use
        ("http://acct.blob.core.windows.net/data/x.tif", "https://acct.blob.core.windows.net/data"),
        # a blob directly under the account lives in $root
        ("https://acct.blob.core.windows.net/x.tif", "https://acct.blob.core.windows.net/$root"),
        # sovereign cloud
        (
            "https://acct.blob.core.usgovcloudapi.net/data/x.tif",
            "https://acct.blob.core.usgovcloudapi.net/data",
        ),
        # the href carries its own SAS: no ingestion source needed
        (
            "https://acct.blob.core.windows.net/data/x.tif?sv=2024-05-04&se=2030-01-01&sp=r&sig=abc%3D",
            None,
        ),
        # a query string without a signature still needs the container
        (
            "https://acct.blob.core.windows.net/data/x.tif?version=2",
            "https://acct.blob.core.windows.net/data",
        ),
        # not blob storage
        ("https://planetarycomputer.microsoft.com/api/data/v1/item/preview.png?x=1", None),
        ("https://storage.googleapis.com/open-cogs/x.tif", None),
        # Azurite path style
        (
            "http://127.0.0.1:10000/devstoreaccount1/stac-data/a/b.tif",
            "http://127.0.0.1:10000/devstoreaccount1/stac-data",
        ),
        (
            "http://localhost:10000/devstoreaccount1/Stac/b.tif",
            "http://localhost:10000/devstoreaccount1/stac",
        ),
        ("http://127.0.0.1:10000/devstoreaccount1/stac-data/b.tif?sig=x", None),
        # another loopback service is not Azurite
        ("http://127.0.0.1:8701/api/data/v1/item/preview.png", None),
    ],
)
def test_blob_container_of(href: str, container: str | None) -> None:
    assert blob_container_of(href) == container


def test_path_style_endpoint_is_configurable() -> None:
    href = "http://127.0.0.1:41234/devstoreaccount1/c1/x.tif"
    assert blob_container_of(href) is None
    assert (
        blob_container_of(href, ["http://127.0.0.1:41234/"])
        == "http://127.0.0.1:41234/devstoreaccount1/c1"
    )


def test_containers_across_several_accounts_and_sas_hrefs() -> None:
    raw = load(NAIP)
    raw["assets"]["extra"] = {"href": "https://other.blob.core.windows.net/more/x.tif"}
    raw["assets"]["signed"] = {
        "href": "https://third.blob.core.windows.net/c/x.tif?sp=r&sig=secret"
    }
    raw["assets"]["public"] = {"href": "https://example.com/x.tif"}
    result = prepared(raw)
    assert result.containers == {
        "https://naipeuwest.blob.core.windows.net/naip",
        "https://other.blob.core.windows.net/more",
    }


# --- invalid items -------------------------------------------------------------------------


def mutate(**changes: Any) -> dict[str, Any]:
    raw = load(NAIP)
    for key, value in changes.items():
        if value is _DELETE:
            del raw[key]
        else:
            raw[key] = value
    return raw


_DELETE = object()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ([1, 2], "InvalidStacItem"),
        ("a string", "InvalidStacItem"),
        (None, "InvalidStacItem"),
        (mutate(type="FeatureCollection"), "InvalidStacItem"),
        (mutate(type=_DELETE), "InvalidStacItem"),
        (mutate(stac_version=_DELETE), "InvalidStacItem"),
        (mutate(stac_version=1.0), "InvalidStacItem"),
        (mutate(id=_DELETE), "InvalidItemId"),
        (mutate(id=42), "InvalidItemId"),
        (mutate(id=""), "InvalidItemId"),
        (mutate(id="a" * 65), "InvalidItemId"),
        (mutate(id="has space"), "InvalidItemId"),
        (mutate(id="slash/inside"), "InvalidItemId"),
        (mutate(id="plus+sign"), "InvalidItemId"),
        (mutate(id=".."), "InvalidItemId"),
        (mutate(geometry=_DELETE), "InvalidGeometry"),
        (mutate(geometry={"type": "Circle", "coordinates": [0, 0]}), "InvalidGeometry"),
        (mutate(geometry={"type": "Polygon"}), "InvalidGeometry"),
        (mutate(geometry="POINT(0 0)"), "InvalidGeometry"),
        (mutate(bbox=_DELETE), "InvalidBbox"),
        (mutate(bbox=[0, 0, 1]), "InvalidBbox"),
        (mutate(bbox=[0, 95, 1, 96]), "InvalidBbox"),
        (mutate(bbox=["0", 0, 1, 1]), "InvalidBbox"),
        (mutate(bbox=[0, 10, 1, 5]), "InvalidBbox"),
        (mutate(properties=_DELETE), "InvalidStacItem"),
        (mutate(properties=[]), "InvalidStacItem"),
        (mutate(assets=_DELETE), "InvalidStacItem"),
        (mutate(assets=[]), "InvalidStacItem"),
        (mutate(assets={"data": {"type": "image/tiff"}}), "InvalidAsset"),
        (mutate(assets={"data": "https://x.example/a.tif"}), "InvalidAsset"),
        (mutate(assets={"data": {"href": "./relative.tif"}}), "InvalidAssetHref"),
        (mutate(assets={"data": {"href": "/abs/path.tif"}}), "InvalidAssetHref"),
        (mutate(assets={"data": {"href": "s3://bucket/a.tif"}}), "InvalidAssetHref"),
        (mutate(links={"rel": "self"}), "InvalidStacItem"),
        (mutate(links=[{"rel": "self"}]), "InvalidStacItem"),
        (mutate(stac_extensions="eo"), "InvalidStacItem"),
    ],
)
def test_invalid_items(raw: object, code: str) -> None:
    result = invalid(raw)
    assert result.code == code
    assert result.message
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        assert result.item_id == raw["id"]


def test_null_geometry_needs_no_bbox() -> None:
    raw = mutate(geometry=None, bbox=_DELETE)
    assert prepared(raw).item["geometry"] is None


def test_relative_href_on_a_dropped_asset_does_not_matter() -> None:
    raw = load(NAIP)
    raw["assets"]["tilejson"]["href"] = "relative/tile.json"
    assert isinstance(prepare_item(raw, collection="c-1", drop_assets=DROP), PreparedItem)


@pytest.mark.parametrize(
    "assets",
    [{}, {"tilejson": {"href": "https://x.example/t.json"}}],
    ids=["no-assets", "none-left-after-dropping"],
)
def test_an_item_without_assets_is_valid_stac_and_is_posted(assets: dict[str, Any]) -> None:
    # item.json requires an `assets` object, not that it holds anything; the GeoCatalog's docs
    # name no such rule either.
    result = prepared(mutate(assets=assets))
    assert result.item["assets"] == {}
    assert result.containers == frozenset()


def test_start_after_end_is_left_to_the_geocatalog() -> None:
    # Neither item.json nor datetime.json orders them; the GeoCatalog's verdict is recorded.
    prepared(
        datetime_item(
            datetime=None,
            start_datetime="2020-02-01T00:00:00Z",
            end_datetime="2020-01-01T00:00:00Z",
        )
    )


@pytest.mark.parametrize(
    "item_id",
    [
        "a" * 1_000,
        "a" * 100_000,
        "é" * 300,
        "\U0001f6f0" * 200,
        "/" * 500,
    ],
    ids=["1000-ascii", "100000-ascii", "300-accented", "200-emoji", "500-slashes"],
)
def test_an_over_long_id_is_invalid_and_recorded_under_a_bounded_key(item_id: str) -> None:
    result = invalid(mutate(id=item_id))
    assert result.code == "InvalidItemId"
    assert f"this one: {len(item_id)} characters" in result.message
    recorded = result.item_id
    assert recorded is not None
    assert recorded != item_id
    assert len(escape(recorded)) <= MAX_RECORDED_ID_CHARS
    # Far within a Table property (32 K UTF-16 characters) and a key (1 KiB), with room left.
    assert len(recorded.encode("utf-16-le")) < 1024
    assert recorded == recorded_item_id(item_id)  # the same id, the same record
    assert recorded.startswith(item_id[:4])


def test_distinct_over_long_ids_are_recorded_apart() -> None:
    first, second = "a" * 999 + "1", "a" * 999 + "2"
    assert recorded_item_id(first) != recorded_item_id(second)


def test_ids_that_fit_a_key_are_recorded_as_they_are() -> None:
    for item_id in ("S2B_MSIL2A_x", "has space", "a" * 65, "é" * 30):
        assert recorded_item_id(item_id) == item_id


def datetime_item(**properties: Any) -> dict[str, Any]:
    raw = load(NAIP)
    raw["properties"] = {k: v for k, v in properties.items() if v is not _DELETE}
    return raw


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({}, "MissingDatetime"),
        ({"datetime": None}, "MissingDatetime"),
        ({"datetime": None, "start_datetime": "2020-01-01T00:00:00Z"}, "MissingDatetime"),
        ({"datetime": "2020-01-01"}, "InvalidDatetime"),
        ({"datetime": "2020-01-01T00:00:00"}, "InvalidDatetime"),
        ({"datetime": "2020-13-01T00:00:00Z"}, "InvalidDatetime"),
        ({"datetime": 1577836800}, "InvalidDatetime"),
    ],
)
def test_invalid_datetimes(properties: dict[str, Any], code: str) -> None:
    assert invalid(datetime_item(**properties)).code == code


@pytest.mark.parametrize(
    "properties",
    [
        {"datetime": "2020-01-01T00:00:00Z"},
        {"datetime": "2020-01-01t00:00:00.123456789z"},
        {"datetime": "2020-01-01T00:00:00+05:30"},
        {"datetime": "2016-12-31T23:59:60Z"},
        {
            "datetime": None,
            "start_datetime": "2020-01-01T00:00:00Z",
            "end_datetime": "2020-12-31T23:59:59Z",
        },
    ],
)
def test_valid_datetimes(properties: dict[str, Any]) -> None:
    prepared(datetime_item(**properties))


def test_parse_rfc3339_offsets() -> None:
    utc = parse_rfc3339("2020-01-01T00:00:00Z")
    east = parse_rfc3339("2020-01-01T05:30:00+05:30")
    assert utc is not None
    assert utc == east
    assert parse_rfc3339("2020-01-01T00:00:00+24:00") is None
    assert parse_rfc3339("2020-02-30T00:00:00Z") is None


@pytest.mark.parametrize(
    "value",
    ["2020-01-01T00:00:00Z\n", "\u0662\u0660\u0662\u0660-01-01T00:00:00Z", " 2020-01-01T00:00:00Z"],
)
def test_parse_rfc3339_is_strict(value: str) -> None:
    assert parse_rfc3339(value) is None


def test_an_id_with_a_trailing_newline_is_invalid() -> None:
    assert invalid(mutate(id="S2B-item\n")).code == "InvalidItemId"


def test_raw_item_from_a_source() -> None:
    ok = RawItem(item=load(NAIP), url="https://example.com/naip.json")
    assert prepared(ok).item_id == "pa_m_4108053_se_17_1_20150725_20151201"

    failed = RawItem.failed(
        "https://example.com/gone.json",
        ItemReadCode.NOT_FOUND,
        "https://example.com/gone.json: HTTP 404",
    )
    result = invalid(failed)
    assert result == InvalidItem(None, "ItemNotFound", "https://example.com/gone.json: HTTP 404")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda item: item["properties"].__setitem__("eo:cloud_cover", float("nan")), "eo:cloud"),
        (lambda item: item["bbox"].__setitem__(0, float("-inf")), "bbox[0]"),
        (
            lambda item: item["geometry"]["coordinates"][0][1].__setitem__(0, float("inf")),
            "geometry.coordinates[0][1][0]",
        ),
        (
            lambda item: next(iter(item["assets"].values())).__setitem__("gsd", float("nan")),
            ".gsd",
        ),
    ],
    ids=["property", "bbox", "geometry", "asset"],
)
def test_nan_or_infinity_anywhere_makes_the_item_invalid(where: Any, path: str) -> None:
    """NaN and the infinities are not JSON (Python's decoder accepts them): no GeoCatalog can be
    sent such an item, so it is `invalid` before posting, not `failed` by a client error after."""
    # As a source or an inline request delivers it: decoded by Python's permissive decoder.
    item = load(S2)
    where(item)
    raw = json.loads(json.dumps(item))
    result = invalid(raw)
    assert result.code == "InvalidNumber"
    assert result.item_id == item["id"]
    assert path in result.message
