"""Planar intersection of GeoJSON geometries and bounding boxes, in lon/lat degrees.

pgstac answers bbox and intersects with PostGIS st_intersects on the item geometry; this is the same
test for the shapes STAC items and searches use (points, lines, polygons with holes, their multi
forms), without a geometry library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

Point = tuple[float, float]
Ring = list[Point]


class GeometryError(ValueError):
    pass


@dataclass(frozen=True)
class Shape:
    """A geometry broken into what the intersection test needs."""

    points: tuple[Point, ...]
    segments: tuple[tuple[Point, Point], ...]
    polygons: tuple[tuple[Ring, ...], ...]  # each: exterior ring, then holes

    def vertices(self) -> list[Point]:
        found = list(self.points)
        for start, end in self.segments:
            found.extend((start, end))
        for polygon in self.polygons:
            for ring in polygon:
                found.extend(ring)
        return found

    def all_segments(self) -> list[tuple[Point, Point]]:
        found = list(self.segments)
        for polygon in self.polygons:
            for ring in polygon:
                found.extend(pairwise(ring))
        return found

    @cached_property
    def envelope(self) -> tuple[float, float, float, float] | None:
        """(min x, min y, max x, max y), None when empty: a search AOI of thousands of vertices
        is compared with every item, and most are nowhere near it."""
        vertices = self.vertices()
        if not vertices:
            return None
        xs = [x for x, _ in vertices]
        ys = [y for _, y in vertices]
        return min(xs), min(ys), max(xs), max(ys)


def shape_from_bbox(bbox: Sequence[float]) -> Shape:
    """A 2D or 3D bbox as a polygon; one crossing the antimeridian (minx > maxx) as two."""
    if len(bbox) == 6:
        west, south, _, east, north, _ = bbox
    elif len(bbox) == 4:
        west, south, east, north = bbox
    else:
        raise GeometryError("bbox must have 4 or 6 numbers")
    if south > north:
        raise GeometryError("bbox south is greater than north")
    if west <= east:
        return Shape((), (), (_box_ring(west, south, east, north),))
    return Shape(
        (), (), (_box_ring(west, south, 180.0, north), _box_ring(-180.0, south, east, north))
    )


def _box_ring(west: float, south: float, east: float, north: float) -> tuple[Ring]:
    return ([(west, south), (east, south), (east, north), (west, north), (west, south)],)


def shape_from_geojson(geometry: Any) -> Shape:
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise GeometryError("geometry must be a GeoJSON object with a type")
    kind = geometry["type"]
    if kind == "GeometryCollection":
        parts = [shape_from_geojson(g) for g in geometry.get("geometries", [])]
        return Shape(
            tuple(p for s in parts for p in s.points),
            tuple(g for s in parts for g in s.segments),
            tuple(g for s in parts for g in s.polygons),
        )
    coordinates: Any = geometry.get("coordinates")
    try:
        if kind == "Point":
            return Shape((_point(coordinates),), (), ())
        if kind == "MultiPoint":
            return Shape(tuple(_point(c) for c in coordinates), (), ())
        if kind == "LineString":
            return Shape((), tuple(_line_segments(coordinates)), ())
        if kind == "MultiLineString":
            return Shape((), tuple(s for line in coordinates for s in _line_segments(line)), ())
        if kind == "Polygon":
            return Shape((), (), (_polygon(coordinates),))
        if kind == "MultiPolygon":
            return Shape((), (), tuple(_polygon(p) for p in coordinates))
    except (TypeError, IndexError, ValueError) as exc:
        raise GeometryError(f"invalid {kind} coordinates") from exc
    raise GeometryError(f"unsupported geometry type {kind!r}")


def _point(coordinate: Any) -> Point:
    return (float(coordinate[0]), float(coordinate[1]))


def _line_segments(coordinates: Any) -> list[tuple[Point, Point]]:
    points = [_point(c) for c in coordinates]
    if len(points) < 2:
        raise ValueError("a line needs two points")
    return list(pairwise(points))


def _polygon(rings: Any) -> tuple[Ring, ...]:
    parsed = []
    for ring in rings:
        points = [_point(c) for c in ring]
        if len(points) < 4:
            raise ValueError("a ring needs four positions")
        if points[0] != points[-1]:
            points.append(points[0])
        parsed.append(points)
    if not parsed:
        raise ValueError("a polygon needs a ring")
    return tuple(parsed)


def intersects(a: Shape, b: Shape) -> bool:
    """True when the two shapes share at least one point (boundaries included)."""
    if a.envelope is None or b.envelope is None or not _overlap(a.envelope, b.envelope):
        return False
    # Only the parts of each within the other's envelope can meet it.
    a_segments = [s for s in a.all_segments() if _overlap(_segment_box(s), b.envelope)]
    b_segments = [s for s in b.all_segments() if _overlap(_segment_box(s), a.envelope)]
    for p1, p2 in a_segments:
        for q1, q2 in b_segments:
            if _segments_intersect(p1, p2, q1, q2):
                return True
    # No boundaries cross: either one lies inside the other, or they are apart.
    if any(_in_any_polygon(v, b.polygons) for v in a.vertices() if _within(v, b.envelope)):
        return True
    if any(_in_any_polygon(v, a.polygons) for v in b.vertices() if _within(v, a.envelope)):
        return True
    if a.points and b.points:
        return bool(set(a.points) & set(b.points))
    for point in a.points:
        if any(_on_segment(q1, point, q2) for q1, q2 in b_segments):
            return True
    return any(_on_segment(p1, point, p2) for point in b.points for p1, p2 in a_segments)


Box = tuple[float, float, float, float]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _within(point: Point, box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _segment_box(segment: tuple[Point, Point]) -> Box:
    (x1, y1), (x2, y2) = segment
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _in_any_polygon(point: Point, polygons: Sequence[tuple[Ring, ...]]) -> bool:
    return any(_in_polygon(point, polygon) for polygon in polygons)


def _in_polygon(point: Point, polygon: tuple[Ring, ...]) -> bool:
    exterior, *holes = polygon
    if not _in_ring(point, exterior):
        return False
    return not any(_in_ring(point, hole) and not _on_ring(point, hole) for hole in holes)


def _in_ring(point: Point, ring: Ring) -> bool:
    if _on_ring(point, ring):
        return True
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y):
            crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < crossing:
                inside = not inside
    return inside


def _on_ring(point: Point, ring: Ring) -> bool:
    return any(_on_segment(p, point, q) for p, q in pairwise(ring))


def _orientation(p: Point, q: Point, r: Point) -> int:
    value = (q[1] - p[1]) * (r[0] - q[0]) - (q[0] - p[0]) * (r[1] - q[1])
    if value == 0:
        return 0
    return 1 if value > 0 else 2


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    """q lies on the segment p-r."""
    if _orientation(p, q, r) != 0:
        return False
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def _segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    o1 = _orientation(p1, p2, q1)
    o2 = _orientation(p1, p2, q2)
    o3 = _orientation(q1, q2, p1)
    o4 = _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(p1, q1, p2))
        or (o2 == 0 and _on_segment(p1, q2, p2))
        or (o3 == 0 and _on_segment(q1, p1, q2))
        or (o4 == 0 and _on_segment(q1, p2, q2))
    )
