"""Every render configuration in the fixtures converts into what GeoCatalog accepts
(docs/reference/geocatalog-api.md §9, §13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.collections.render_config import (
    MOST_RECENT_AVAILABLE,
    convert_mosaic_info,
    mosaic_info_of,
    normalized_mosaic,
    normalized_render_option,
    normalized_tile_settings,
    slug,
    unique_id,
    unique_name,
)

RENDER = Path(__file__).parents[2] / "fixtures" / "render"
ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def sources() -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, mosaic-info-like document) for every render configuration in the fixtures."""
    apis = json.loads((RENDER / "pc-apis.collection_config.json").read_text())
    for collection_id, config in apis.items():
        yield f"pc-apis:{collection_id}", config["mosaic_info"]
    for path in sorted(RENDER.glob("pctasks.*.config.json")):
        yield path.name, json.loads(path.read_text())
    sample = RENDER / "mpcpro-sample-naip-config"
    yield (
        "mpcpro-sample-naip-config",
        {
            "renderOptions": json.loads((sample / "render_config.json").read_text()),
            "mosaics": json.loads((sample / "mosaic_config.json").read_text()),
        },
    )


SOURCES = dict(sources())


def assert_valid_id(value: object, *, what: str) -> None:
    # §9 written out independently of the module's own pattern.
    assert isinstance(value, str), what
    assert 1 <= len(value) <= 30, (what, value)
    assert set(value) <= ID_CHARS, (what, value)
    assert value[0] not in "-_", (what, value)
    assert value[-1] not in "-_", (what, value)


def test_the_fixture_set_is_complete() -> None:
    # 22 PC API collections, 4 pctasks configs, the MPC Pro sample.
    assert len(SOURCES) == 27


@pytest.mark.parametrize("label", sorted(SOURCES))
def test_every_render_option_satisfies_the_geocatalog_rules(label: str) -> None:
    info = mosaic_info_of(SOURCES[label])
    result = convert_mosaic_info(SOURCES[label])
    originals = info.get("renderOptions", [])

    assert result.warnings == ()
    assert len(result.render_options) == len(originals)  # nothing dropped
    ids = [o["id"] for o in result.render_options]
    names = [o["name"] for o in result.render_options]
    assert len(set(ids)) == len(ids), ids
    assert len(set(names)) == len(names), names
    for option, original in zip(result.render_options, originals, strict=True):
        assert_valid_id(option["id"], what=original["name"])
        assert 1 <= len(option["name"]) <= 40, option["name"]
        if len(original["name"]) <= 40:
            assert option["name"] == original["name"]
        assert option.get("type", "raster-tile") in {"raster-tile", "vt-polygon", "vt-line"}
        if original.get("minZoom") is not None:
            assert option["minZoom"] == original["minZoom"]
            assert isinstance(option["minZoom"], int)
            assert option["minZoom"] <= 24
        assert option.get("options") == original.get("options")
        if original.get("legend"):
            assert option["legend"] == original["legend"]
        for condition in option.get("conditions", []):
            assert isinstance(condition["property"], str)
            assert isinstance(condition.get("value", ""), str)
        for item in option.get("vectorOptions", {}).get("filter", []):
            assert isinstance(item, str)
        assert set(option) <= {
            "id",
            "name",
            "description",
            "type",
            "options",
            "vectorOptions",
            "minZoom",
            "legend",
            "conditions",
        }


@pytest.mark.parametrize("label", sorted(SOURCES))
def test_every_mosaic_satisfies_the_geocatalog_rules(label: str) -> None:
    info = mosaic_info_of(SOURCES[label])
    result = convert_mosaic_info(SOURCES[label])
    originals = info.get("mosaics", [])

    ids = [m["id"] for m in result.mosaics]
    names = [m["name"] for m in result.mosaics]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    for mosaic in result.mosaics:
        assert_valid_id(mosaic["id"], what=mosaic["name"])
        assert 1 <= len(mosaic["name"]) <= 30
        assert isinstance(mosaic["cql"], list)
    # The source's mosaics come first, in order, with their CQL untouched.
    for mosaic, original in zip(result.mosaics, originals, strict=False):
        assert mosaic["cql"] == original["cql"]
    most_recent = [m for m in result.mosaics if m["name"] == "Most recent available"]
    assert len(most_recent) == 1
    assert most_recent[0]["cql"] == []
    extra = 0 if any(o["name"] == "Most recent available" for o in originals) else 1
    assert len(result.mosaics) == len(originals) + extra


@pytest.mark.parametrize("label", sorted(SOURCES))
def test_tile_settings_come_from_the_default_location(label: str) -> None:
    info = mosaic_info_of(SOURCES[label])
    settings = convert_mosaic_info(SOURCES[label]).tile_settings
    assert settings["maxItemsPerTile"] == 35
    assert isinstance(settings["minZoom"], int)
    assert 0 <= settings["minZoom"] <= 24
    location = info.get("defaultLocation")
    if location:
        assert settings["defaultLocation"] == {
            "zoom": location["zoom"],
            "coordinates": [float(c) for c in location["coordinates"]],
        }
        assert settings["defaultLocation"]["zoom"] < 24
        assert settings["minZoom"] <= location["zoom"]
    else:
        assert "defaultLocation" not in settings


def test_sentinel_ids_are_the_tutorials_as_the_real_service_holds_them() -> None:
    # Ids of the GeoCatalog spec example StacCollectionRenderOptions_GetAll (2025-04-30-preview),
    # which the tutorial produced from this very configuration.
    result = convert_mosaic_info(SOURCES["pctasks.sentinel-2-l2a.config.json"])
    assert [o["id"] for o in result.render_options] == [
        "natural-color",
        "natural-color-pre-feb-2022",
        "color-infrared",
        "short-wave-infrared",
        "agriculture",
        "normalized-difference-veg-inde",
        "moisture-index-ndwi",
        "atmospheric-penetration",
    ]


def test_the_pctasks_snake_case_is_read() -> None:
    result = convert_mosaic_info(SOURCES["pctasks.sentinel-2-l2a.config.json"])
    first = result.render_options[0]
    assert first["minZoom"] == 9
    assert "vector_options" not in first
    assert "min_zoom" not in first
    assert result.tile_settings["defaultLocation"] == {
        "zoom": 9,
        "coordinates": [-16.494, 124.0274],
    }


def test_ids_given_by_a_geocatalog_shaped_config_are_kept() -> None:
    result = convert_mosaic_info(SOURCES["mpcpro-sample-naip-config"])
    assert [o["id"] for o in result.render_options] == [
        "natural-color",
        "color-infrared",
        "normalized-difference-veg-inde",
    ]
    assert [m["id"] for m in result.mosaics] == ["mos1"]


def test_names_that_collide_when_cut_stay_apart_and_keep_what_tells_them_apart() -> None:
    result = convert_mosaic_info(SOURCES["pc-apis:gnatsgo-rasters"])
    names = [o["name"] for o in result.render_options if o["name"].startswith("Available")]
    assert len(names) == 7
    assert all(n.endswith("(mm)") for n in names), names
    ids = [o["id"] for o in result.render_options if o["id"].startswith("available")]
    assert len(set(ids)) == 7


def test_conditions_and_vector_filters_become_strings() -> None:
    info = {
        "renderOptions": [
            {
                "name": "Buildings",
                "type": "vt-polygon",
                "minZoom": 30,
                "vector_options": {
                    "tilejson_key": "buildings",
                    "source_layer": "footprints",
                    "fill_color": "#f00",
                    "filter": ["==", ["get", "height"], 10],
                },
                "conditions": [
                    {"property": "eo:cloud_cover", "value": 10},
                    {"property": "landsat:collection", "value": True},
                    {"property": "ratio", "value": 0.5},
                    {"property": "tags", "value": ["a", "b"]},
                    {"property": "platform", "value": "landsat-8"},
                    {"property": "any"},
                    {"value": "no property"},
                ],
                "legend": {"type": "classmap", "trim_start": 1, "labels": [1, "two"]},
            }
        ]
    }
    option = convert_mosaic_info(info).render_options[0]
    assert option["conditions"] == [
        {"property": "eo:cloud_cover", "value": "10"},
        {"property": "landsat:collection", "value": "true"},
        {"property": "ratio", "value": "0.5"},
        {"property": "tags", "value": '["a","b"]'},
        {"property": "platform", "value": "landsat-8"},
        {"property": "any"},
    ]
    assert option["vectorOptions"] == {
        "tilejsonKey": "buildings",
        "sourceLayer": "footprints",
        "fillColor": "#f00",
        "filter": ["==", '["get","height"]', "10"],
    }
    assert option["minZoom"] == 24
    assert option["legend"] == {"type": "classmap", "trimStart": 1, "labels": ["1", "two"]}


def test_unusable_entries_are_skipped_with_a_warning() -> None:
    info = {
        "renderOptions": [{"name": "3D", "type": "mesh"}, {"description": "no name"}],
        "mosaics": [{"name": "Bad", "cql": "not a list"}],
    }
    result = convert_mosaic_info(info)
    assert result.render_options == ()
    assert len(result.warnings) == 3
    assert "mesh" in result.warnings[0]


def test_no_info_gives_the_most_recent_mosaic_and_default_tile_settings() -> None:
    result = convert_mosaic_info(None)
    assert result.render_options == ()
    assert result.mosaics == (MOST_RECENT_AVAILABLE,)
    assert result.tile_settings == {"minZoom": 12, "maxItemsPerTile": 35}


def test_bad_default_locations_are_left_out() -> None:
    for location in (
        {"zoom": 9, "coordinates": [124.0, -16.4]},  # lon/lat swapped: latitude out of range
        {"zoom": 9, "coordinates": [1.0]},
        {"zoom": "9", "coordinates": [1.0, 2.0]},
        None,
    ):
        assert (
            "defaultLocation"
            not in convert_mosaic_info({"defaultLocation": location}).tile_settings
        )
    assert convert_mosaic_info(
        {"defaultLocation": {"zoom": 30, "coordinates": [1, 2]}}
    ).tile_settings["defaultLocation"] == {"zoom": 23, "coordinates": [1.0, 2.0]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Natural color (pre Feb, 2022)", "natural-color-pre-feb-2022"),
        ("Dec \u2013 Feb, 2023 (low cloud)", "dec-feb-2023-low-cloud"),
        ("Élévation  (terrain)", "elevation-terrain"),
        ("Protection-weighted range-size", "protectionweighted-rangesize"),
        ("!!!", ""),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_unique_id_falls_back_to_numbers_and_names() -> None:
    taken: set[str] = set()
    first = unique_id("", taken, fallback="render-option")
    taken.add(first)
    second = unique_id("", taken, fallback="render-option")
    assert (first, second) == ("render-option", "render-option-2")
    taken = {"abc"}
    assert unique_id("abc", taken, fallback="x") == "abc-2"
    long = "a" * 40
    taken = {"a" * 30}
    assert unique_id(long, taken, fallback="x") == "a" * 28 + "-2"


def test_unique_name_numbers_exact_duplicates() -> None:
    assert unique_name("Natural color", {"Natural color"}, limit=40) == "Natural color (2)"
    assert unique_name("  spaced   out ", set(), limit=40) == "spaced out"


def test_conversion_is_deterministic() -> None:
    for document in SOURCES.values():
        assert convert_mosaic_info(document) == convert_mosaic_info(document)


def test_normalization_treats_service_defaults_and_nulls_as_equal() -> None:
    ours = {"id": "a", "name": "A", "options": "x=1"}
    theirs = {
        "id": "a",
        "name": "A",
        "options": "x=1",
        "type": "raster-tile",
        "minZoom": 12,
        "vectorOptions": None,
        "legend": None,
        "conditions": None,
        "description": "",
    }
    assert normalized_render_option(ours) == normalized_render_option(theirs)
    assert normalized_render_option(ours) != normalized_render_option({**theirs, "minZoom": 9})
    assert normalized_mosaic({"id": "m", "name": "M", "description": "", "cql": []}) == (
        normalized_mosaic({"id": "m", "name": "M", "cql": None})
    )
    assert normalized_tile_settings(
        {"minZoom": 6, "maxItemsPerTile": 35, "defaultLocation": None}
    ) == normalized_tile_settings({"minZoom": 6, "maxItemsPerTile": 35})
