"""Mosaic info documents converted from the recorded PC render configs."""

from __future__ import annotations

from typing import Any

from local.emulator.planetary_computer.data import FixtureData
from local.emulator.planetary_computer.mosaic import mosaic_info_document
from tests.unit.emulator_pc.recordings import recorded

RENDER_OPTION_KEYS = [
    "name",
    "description",
    "type",
    "options",
    "vectorOptions",
    "minZoom",
    "legend",
    "conditions",
]


def test_pctasks_config_becomes_the_camel_case_model_dump(data: FixtureData) -> None:
    document = mosaic_info_document(data.mosaic_info_sources["sentinel-2-l2a"])
    source = recorded("render", "pctasks.sentinel-2-l2a.config.json")["mosaic_info"]
    assert list(document) == [
        "mosaics",
        "renderOptions",
        "defaultLocation",
        "defaultCustomQuery",
        "animationHint",
    ]
    assert [list(o) for o in document["renderOptions"]] == [RENDER_OPTION_KEYS] * len(
        source["render_options"]
    )
    first = document["renderOptions"][0]
    assert first["name"] == "Natural color"
    assert first["minZoom"] == source["render_options"][0]["min_zoom"] == 9
    assert first["options"] == source["render_options"][0]["options"]
    assert (first["legend"], first["conditions"], first["vectorOptions"]) == (None, None, None)
    # Free JSON is passed through: CQL keeps its own keys.
    assert [m["cql"] for m in document["mosaics"]] == [m["cql"] for m in source["mosaics"]]
    assert document["defaultLocation"] == {"zoom": 9, "coordinates": [-16.494, 124.0274]}


def test_omit_nulls_drops_only_null_fields(data: FixtureData) -> None:
    document = mosaic_info_document(data.mosaic_info_sources["naip"], omit_nulls=True)
    assert "animationHint" not in document
    assert document["defaultCustomQuery"] == {"op": "args"}
    for option in document["renderOptions"]:
        assert set(option) == {"name", "description", "type", "options", "minZoom"}


def test_older_camel_case_configs_get_every_field_and_nested_legends(data: FixtureData) -> None:
    document = mosaic_info_document(data.mosaic_info_sources["jrc-gsw"])
    legends: list[Any] = [o["legend"] for o in document["renderOptions"] if o["legend"]]
    assert legends
    assert all(
        list(legend) == ["type", "labels", "trimStart", "trimEnd", "scaleFactor"]
        for legend in legends
    )
    assert all(o["type"] == "raster-tile" for o in document["renderOptions"])


def test_pctasks_wins_over_the_older_config(data: FixtureData) -> None:
    older = recorded("render", "pc-apis.collection_config.json")["naip"]["mosaic_info"]
    served = mosaic_info_document(data.mosaic_info_sources["naip"])
    assert [m["name"] for m in served["mosaics"]] != [m["name"] for m in older["mosaics"]]
    assert served["mosaics"][1]["name"] == "2023"
