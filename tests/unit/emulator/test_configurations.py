"""Render option, mosaic and tile settings rules (docs/reference/geocatalog-api.md §9)."""

from __future__ import annotations

from typing import Any

import pytest

from local.emulator.geocatalog.configurations import (
    validate_config_id,
    validate_mosaic,
    validate_render_option,
    validate_tile_settings,
)
from local.emulator.geocatalog.errors import ApiError


@pytest.mark.parametrize(
    "good",
    ["a", "natural-color", "normalized-difference-veg-inde", "B04_B03", "x" * 30, "9"],
)
def test_valid_ids(good: str) -> None:
    assert validate_config_id(good, "Render option") == good


@pytest.mark.parametrize(
    "bad", ["", "-natural", "natural-", "_x", "x_", "x" * 31, "natural color", "ndvi(b8)", None, 7]
)
def test_invalid_ids_are_400(bad: Any) -> None:
    with pytest.raises(ApiError) as error:
        validate_config_id(bad, "Render option")
    assert error.value.status == 400


def test_tutorial_ids_fit_the_rules() -> None:
    # The tutorial derives ids from PC names: strip punctuation, lower-case, spaces -> '-', [:30].
    import string

    names = ["Natural color (pre Feb, 2022)", "Normalized Difference Veg. Index (NDVI)"]
    for name in names:
        derived = (
            name.translate(str.maketrans("", "", string.punctuation)).lower().replace(" ", "-")[:30]
        )
        assert validate_config_id(derived, "Render option") == derived


def test_render_option_defaults_and_limits() -> None:
    stored = validate_render_option({"id": "ndvi", "name": "NDVI", "minZoom": 9, "extra": 1})
    assert stored == {"id": "ndvi", "name": "NDVI", "type": "raster-tile", "minZoom": 9}
    for body in (
        {"id": "a", "name": "n" * 41},
        {"id": "a"},
        {"id": "a", "name": "n", "type": "raster"},
        {"id": "a", "name": "n", "minZoom": 25},
        {"id": "a", "name": "n", "conditions": [{"property": "p", "value": 3}]},
        {"id": "a", "name": "n", "vectorOptions": {"tilejsonKey": "k"}},
        {"id": "a", "name": "n", "legend": {"type": "rainbow"}},
    ):
        with pytest.raises(ApiError) as error:
            validate_render_option(body)
        assert error.value.status == 400


def test_mosaic_rules() -> None:
    assert validate_mosaic({"id": "mos1", "name": "Most recent available", "cql": []}) == {
        "id": "mos1",
        "name": "Most recent available",
        "cql": [],
    }
    for body in (
        {"id": "mos1", "name": "n" * 31, "cql": []},
        {"id": "mos1", "name": "n"},
        {"id": "-mos", "name": "n", "cql": []},
        {"id": "mos1", "name": "n", "cql": ["x"]},
    ):
        with pytest.raises(ApiError):
            validate_mosaic(body)


def test_tile_settings_rules() -> None:
    settings = validate_tile_settings(
        {
            "minZoom": 6,
            "maxItemsPerTile": 35,
            "defaultLocation": {"zoom": 10, "coordinates": [47.6, -122.3]},
        }
    )
    assert settings["defaultLocation"] == {"zoom": 10, "coordinates": [47.6, -122.3]}
    for body in (
        {"minZoom": 6},
        {"minZoom": 30, "maxItemsPerTile": 35},
        {
            "minZoom": 6,
            "maxItemsPerTile": 35,
            "defaultLocation": {"zoom": 24, "coordinates": [0, 0]},
        },
        {
            "minZoom": 6,
            "maxItemsPerTile": 35,
            "defaultLocation": {"zoom": 3, "coordinates": [100, 0]},
        },
    ):
        with pytest.raises(ApiError):
            validate_tile_settings(body)
