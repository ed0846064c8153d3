"""Intersection tests the search relies on."""

from __future__ import annotations

import pytest

from local.emulator.planetary_computer.geometry import (
    GeometryError,
    intersects,
    shape_from_bbox,
    shape_from_geojson,
)

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ((4.5, 4.5, 5.5, 5.5), False),  # inside the hole
        ((3, 3, 7, 7), True),  # around the hole
        ((10, 10, 11, 11), True),  # touching a corner
        ((-5, -5, 15, 15), True),  # containing it
        ((1, 1, 2, 2), True),  # contained
        ((11, 0, 12, 1), False),  # beside it
    ],
)
def test_bbox_against_a_polygon_with_a_hole(bbox: tuple[float, ...], expected: bool) -> None:
    assert intersects(shape_from_geojson(SQUARE_WITH_HOLE), shape_from_bbox(bbox)) is expected


def test_points_and_lines() -> None:
    line = shape_from_geojson({"type": "LineString", "coordinates": [[0, 0], [2, 2]]})
    assert intersects(line, shape_from_geojson({"type": "Point", "coordinates": [1, 1]}))
    assert not intersects(line, shape_from_geojson({"type": "Point", "coordinates": [1, 1.5]}))
    assert intersects(line, shape_from_bbox((1.5, 0, 3, 1.6)))


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
        {"type": "Circle", "coordinates": [0, 0]},
        {"coordinates": [0, 0]},
    ],
)
def test_invalid_geometries_are_refused(geometry: dict[str, object]) -> None:
    with pytest.raises(GeometryError):
        shape_from_geojson(geometry)
