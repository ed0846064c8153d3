"""Search semantics: datetime intervals, bounding boxes, query, CQL2, sorting."""

from __future__ import annotations

import math
from typing import Any

import pytest

from local.emulator.geocatalog.clock import parse_timestamp
from local.emulator.geocatalog.filters import (
    SearchFilter,
    bbox_intersects,
    cql2_matches,
    geometry_bbox,
    item_interval,
    parse_bbox,
    parse_datetime_interval,
    parse_sortby,
    query_matches,
    sort_key,
)


def ts(text: str) -> float:
    return parse_timestamp(text)


def item(item_id: str, when: str | None, bbox: list[float], **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"datetime": when, **props}
    return {"id": item_id, "collection": "c", "bbox": bbox, "properties": properties}


class TestDatetimeIntervals:
    def test_instant(self) -> None:
        start, end = parse_datetime_interval("2024-02-05T10:00:00Z")
        assert start == end == ts("2024-02-05T10:00:00Z")

    def test_closed_interval(self) -> None:
        assert parse_datetime_interval("2024-02-04T00:00:00Z/2024-02-11T23:59:59Z") == (
            ts("2024-02-04T00:00:00Z"),
            ts("2024-02-11T23:59:59Z"),
        )

    @pytest.mark.parametrize("text", ["../2024-02-11T00:00:00Z", "/2024-02-11T00:00:00Z"])
    def test_open_start(self, text: str) -> None:
        assert parse_datetime_interval(text) == (-math.inf, ts("2024-02-11T00:00:00Z"))

    @pytest.mark.parametrize("text", ["2024-02-04T00:00:00Z/..", "2024-02-04T00:00:00Z/"])
    def test_open_end(self, text: str) -> None:
        assert parse_datetime_interval(text) == (ts("2024-02-04T00:00:00Z"), math.inf)

    def test_a_bare_end_date_covers_that_day(self) -> None:
        # The tutorial's "2024-02-04/2024-02-11" must include items of February 11th.
        start, end = parse_datetime_interval("2024-02-04/2024-02-11")
        assert start == ts("2024-02-04T00:00:00Z")
        assert end > ts("2024-02-11T23:59:59Z")
        assert end < ts("2024-02-12T00:00:00Z")

    @pytest.mark.parametrize(
        "text", ["", "../..", "2024-02-11T00:00:00Z/2024-02-04T00:00:00Z", "a/b/c", "soon"]
    )
    def test_invalid(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"."):
            parse_datetime_interval(text)

    def test_item_interval_uses_start_and_end_without_datetime(self) -> None:
        ranged = {
            "properties": {
                "datetime": None,
                "start_datetime": "2020-01-01T00:00:00Z",
                "end_datetime": "2020-12-31T00:00:00Z",
            }
        }
        assert item_interval(ranged) == (ts("2020-01-01T00:00:00Z"), ts("2020-12-31T00:00:00Z"))
        assert item_interval({"properties": {}}) is None


class TestBoxes:
    def test_overlap_touch_and_disjoint(self) -> None:
        assert bbox_intersects((0, 0, 10, 10), (5, 5, 15, 15))
        assert bbox_intersects((0, 0, 10, 10), (10, 10, 20, 20))  # closed boxes touch
        assert not bbox_intersects((0, 0, 10, 10), (11, 0, 20, 10))
        assert not bbox_intersects((0, 0, 10, 10), (0, 11, 10, 20))

    def test_antimeridian(self) -> None:
        crossing = (170.0, -10.0, -170.0, 10.0)
        assert bbox_intersects(crossing, (175, 0, 176, 1))
        assert bbox_intersects(crossing, (-175, 0, -174, 1))
        assert not bbox_intersects(crossing, (0, 0, 1, 1))

    def test_parse_bbox(self) -> None:
        assert parse_bbox([1, 2, 3, 4]) == (1, 2, 3, 4)
        assert parse_bbox([1, 2, 0, 3, 4, 9]) == (1, 2, 3, 4)
        for bad in ([1, 2, 3], [1, 5, 3, 4], ["a", 2, 3, 4]):
            with pytest.raises(ValueError, match=r"."):
                parse_bbox(bad)

    def test_geometry_bbox(self) -> None:
        assert geometry_bbox({"type": "Point", "coordinates": [3, 4]}) == (3, 4, 3, 4)
        polygon = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 3], [0, 3], [0, 0]]]}
        assert geometry_bbox(polygon) == (0, 0, 2, 3)
        multi = {
            "type": "MultiPolygon",
            "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 7], [5, 5]]]],
        }
        assert geometry_bbox(multi) == (0, 0, 6, 7)
        collection = {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [-1, -2]}, polygon],
        }
        assert geometry_bbox(collection) == (-1, -2, 2, 3)
        assert geometry_bbox(None) is None


class TestSearchFilter:
    def test_filters_combine(self) -> None:
        inside = item("a", "2024-02-05T10:00:00Z", [-22.5, 63.8, -22.3, 63.9])
        outside = item("b", "2024-02-05T10:00:00Z", [10, 10, 11, 11])
        late = item("c", "2024-03-01T00:00:00Z", [-22.5, 63.8, -22.3, 63.9])
        search = SearchFilter(
            collections=frozenset({"c"}),
            bbox=(-22.455626, 63.834083, -22.395201, 63.880750),
            datetime=parse_datetime_interval("2024-02-04/2024-02-11"),
        )
        assert [i["id"] for i in (inside, outside, late) if search.matches(i)] == ["a"]
        assert not SearchFilter(collections=frozenset({"other"})).matches(inside)
        assert SearchFilter(ids=frozenset({"b"})).matches(outside)

    def test_item_without_bbox_uses_its_geometry(self) -> None:
        point_item = {
            "id": "p",
            "collection": "c",
            "geometry": {"type": "Point", "coordinates": [1, 1]},
            "properties": {"datetime": "2020-01-01T00:00:00Z"},
        }
        assert SearchFilter(bbox=(0, 0, 2, 2)).matches(point_item)
        assert not SearchFilter(bbox=(3, 3, 4, 4)).matches(point_item)

    def test_query_extension(self) -> None:
        cloudy = item("a", "2020-01-01T00:00:00Z", [0, 0, 1, 1], **{"eo:cloud_cover": 50})
        assert query_matches(cloudy, {"eo:cloud_cover": {"gte": 50, "lt": 60}})
        assert not query_matches(cloudy, {"eo:cloud_cover": {"lt": 10}})
        assert query_matches(cloudy, {"id": {"startsWith": "a"}})
        with pytest.raises(ValueError, match="unsupported"):
            query_matches(cloudy, {"eo:cloud_cover": {"near": 1}})

    def test_cql2_json(self) -> None:
        clear = item("a", "2021-10-01T00:00:00Z", [0, 0, 1, 1], **{"eo:cloud_cover": 5})
        low_cloud_autumn = {
            "op": "and",
            "args": [
                {
                    "op": "anyinteracts",
                    "args": [
                        {"property": "datetime"},
                        {"interval": ["2021-09-01", "2021-11-30T23:59:59Z"]},
                    ],
                },
                {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]},
            ],
        }
        assert cql2_matches(clear, low_cloud_autumn)
        assert not cql2_matches(clear, {"op": "not", "args": [low_cloud_autumn]})
        assert cql2_matches(clear, {"op": "like", "args": [{"property": "id"}, "a%"]})
        assert cql2_matches(
            clear,
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [0.5, 0.5]}],
            },
        )
        with pytest.raises(ValueError, match="unsupported"):
            cql2_matches(clear, {"op": "t_during", "args": []})


class TestSorting:
    def test_default_is_newest_first(self) -> None:
        items = [
            item("a", "2020-01-01T00:00:00Z", [0, 0, 1, 1]),
            item("b", "2022-01-01T00:00:00Z", [0, 0, 1, 1]),
            item("c", None, [0, 0, 1, 1]),
        ]
        ordered = sorted(items, key=sort_key(parse_sortby(None)))
        assert [i["id"] for i in ordered] == ["b", "a", "c"]  # missing datetime last

    def test_get_and_post_forms(self) -> None:
        items = [
            item("x", "2020-01-01T00:00:00Z", [0, 0, 1, 1], **{"eo:cloud_cover": 3}),
            item("y", "2020-01-01T00:00:00Z", [0, 0, 1, 1], **{"eo:cloud_cover": 1}),
            item("z", "2020-01-01T00:00:00Z", [0, 0, 1, 1], **{"eo:cloud_cover": 2}),
        ]
        by_cloud = parse_sortby([{"field": "properties.eo:cloud_cover", "direction": "asc"}])
        assert [i["id"] for i in sorted(items, key=sort_key(by_cloud))] == ["y", "z", "x"]
        by_id_desc = parse_sortby("-id")
        assert [i["id"] for i in sorted(items, key=sort_key(by_id_desc))] == ["z", "y", "x"]
        with pytest.raises(ValueError, match="direction"):
            parse_sortby([{"field": "id", "direction": "up"}])
