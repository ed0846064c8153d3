"""Render options, mosaics, tile settings and the collection configuration through the SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient
from azure.planetarycomputer import models as m

from tests.conformance.conftest import HTTPS_OFF


def test_render_options(client: PlanetaryComputerProClient, collection_id: str) -> None:
    option = m.RenderOption(
        id="natural-color",
        name="Natural color",
        description="True color composite of visible bands (B04, B03, B02)",
        options="assets=B04&assets=B03&assets=B02&nodata=0",
        min_zoom=9,
    )
    created = client.stac.create_render_option(collection_id, body=option, **HTTPS_OFF)
    assert isinstance(created, m.RenderOption)
    assert created.id == "natural-color"
    assert created.type == "raster-tile"  # the service's default
    assert created.min_zoom == 9

    with pytest.raises(ResourceExistsError):
        client.stac.create_render_option(collection_id, body=option, **HTTPS_OFF)
    with pytest.raises(HttpResponseError) as bad_id:
        client.stac.create_render_option(
            collection_id, body={"id": "natural color!", "name": "Natural color"}, **HTTPS_OFF
        )
    assert bad_id.value.status_code == 400
    with pytest.raises(HttpResponseError) as too_long:
        client.stac.create_render_option(
            collection_id, body={"id": "a" * 31, "name": "x"}, **HTTPS_OFF
        )
    assert too_long.value.status_code == 400

    listed = client.stac.get_render_options(collection_id, **HTTPS_OFF)
    assert [o.id for o in listed] == ["natural-color"]
    replaced = client.stac.replace_render_option(
        collection_id,
        "natural-color",
        body={**option.as_dict(), "name": "Natural colour"},
        **HTTPS_OFF,
    )
    assert replaced.name == "Natural colour"
    assert (
        client.stac.get_render_option(collection_id, "natural-color", **HTTPS_OFF).name
        == "Natural colour"
    )
    assert client.stac.delete_render_option(collection_id, "natural-color", **HTTPS_OFF) is None
    with pytest.raises(ResourceNotFoundError):
        client.stac.get_render_option(collection_id, "natural-color", **HTTPS_OFF)


def test_mosaics(client: PlanetaryComputerProClient, collection_id: str) -> None:
    mosaic = m.StacMosaic(
        id="mos1", name="Most recent available", description="Most recent", cql=[]
    )
    created = client.stac.add_mosaic(collection_id, body=mosaic, **HTTPS_OFF)
    assert created.id == "mos1"
    assert created.cql == []
    with pytest.raises(ResourceExistsError):
        client.stac.add_mosaic(collection_id, body=mosaic, **HTTPS_OFF)
    cloudy = {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]}
    replaced = client.stac.replace_mosaic(
        collection_id,
        "mos1",
        body={"id": "mos1", "name": "Low cloud", "cql": [cloudy]},
        **HTTPS_OFF,
    )
    assert replaced.cql == [cloudy]
    assert [x.id for x in client.stac.get_mosaics(collection_id, **HTTPS_OFF)] == [
        "default",
        "mos1",
    ]
    assert client.stac.get_mosaic(collection_id, "mos1", **HTTPS_OFF).name == "Low cloud"
    assert client.stac.delete_mosaic(collection_id, "mos1", **HTTPS_OFF) is None
    with pytest.raises(ResourceNotFoundError):
        client.stac.get_mosaic(collection_id, "mos1", **HTTPS_OFF)


def test_tile_settings_and_configuration(
    client: PlanetaryComputerProClient, collection_id: str
) -> None:
    defaults = client.stac.get_tile_settings(collection_id, **HTTPS_OFF)
    assert defaults.max_items_per_tile == 35
    settings = m.TileSettings(
        min_zoom=6,
        max_items_per_tile=35,
        default_location=m.DefaultLocation(zoom=10, coordinates=[63.85, -22.42]),
    )
    replaced = client.stac.replace_tile_settings(collection_id, body=settings, **HTTPS_OFF)
    assert replaced.min_zoom == 6
    assert replaced.default_location.coordinates == [63.85, -22.42]
    with pytest.raises(HttpResponseError) as bad:
        client.stac.replace_tile_settings(
            collection_id, body={"minZoom": 99, "maxItemsPerTile": 35}, **HTTPS_OFF
        )
    assert bad.value.status_code == 400

    client.stac.create_render_option(
        collection_id, body={"id": "ndvi", "name": "NDVI", "minZoom": 9}, **HTTPS_OFF
    )
    configuration = client.stac.get_collection_configuration(collection_id, **HTTPS_OFF)
    assert isinstance(configuration, m.UserCollectionSettings)
    assert configuration.tile_settings.min_zoom == 6
    assert [o.id for o in configuration.mosaic_configuration.render_options] == ["ndvi"]
    assert [x.id for x in configuration.mosaic_configuration.mosaics] == ["default"]
    assert configuration.mosaic_configuration.default_location.zoom == 10


def test_partition_type(client: PlanetaryComputerProClient, collection_id: str) -> None:
    assert client.stac.get_partition_type(collection_id, **HTTPS_OFF).scheme == "none"
    client.stac.replace_partition_type(collection_id, body={"scheme": "year"}, **HTTPS_OFF)
    assert client.stac.get_partition_type(collection_id, **HTTPS_OFF).scheme == "year"
