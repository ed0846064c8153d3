"""STAC API search semantics: datetime intervals, bbox/geometry intersection, query, CQL2, sorting.

Geometry tests are bounding-box tests (an item matches `intersects` when the bounding boxes
overlap); everything else is exact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from local.emulator.geocatalog.clock import parse_timestamp

BBox = tuple[float, float, float, float]
Interval = tuple[float, float]  # inclusive; -inf/+inf for open ends


def parse_datetime_interval(value: str) -> Interval:
    """`instant`, `start/end`, `../end`, `start/..`, `/end`, `start/` as an inclusive interval.

    A bare date as the end of an interval means the whole day (what pystac-client sends for
    `2024-02-04/2024-02-11` is already expanded, but hand-written requests are not).
    """
    text = value.strip()
    if not text:
        raise ValueError("empty datetime")
    if "/" not in text:
        start = parse_timestamp(text)
        end = parse_timestamp(text, end_of_day=True) if "T" not in text.upper() else start
        return (start, end)
    parts = text.split("/")
    if len(parts) != 2:
        raise ValueError(f"invalid datetime interval: {value!r}")
    raw_start, raw_end = parts
    open_start = raw_start in ("", "..")
    open_end = raw_end in ("", "..")
    if open_start and open_end:
        raise ValueError("a datetime interval needs at least one closed end")
    start = -math.inf if open_start else parse_timestamp(raw_start)
    end = math.inf if open_end else parse_timestamp(raw_end, end_of_day=True)
    if start > end:
        raise ValueError(f"datetime interval ends before it starts: {value!r}")
    return (start, end)


def item_interval(item: dict[str, Any]) -> Interval | None:
    properties = item.get("properties") or {}
    instant = properties.get("datetime")
    try:
        if isinstance(instant, str):
            moment = parse_timestamp(instant)
            return (moment, moment)
        start, end = properties.get("start_datetime"), properties.get("end_datetime")
        if isinstance(start, str) and isinstance(end, str):
            return (parse_timestamp(start), parse_timestamp(end))
    except ValueError:
        return None
    return None


def intervals_overlap(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def parse_bbox(values: Sequence[Any]) -> BBox:
    """A 2D bbox from 4 or 6 numbers (a 3D bbox drops its heights)."""
    if len(values) not in (4, 6):
        raise ValueError("bbox must have 4 or 6 numbers")
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ValueError("bbox must hold numbers") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    west, south, east, north = numbers
    if south > north:
        raise ValueError("bbox south is above north")
    return (west, south, east, north)


def parse_bbox_text(text: str) -> BBox:
    return parse_bbox([part for part in text.split(",") if part.strip()])


def _positions(coordinates: Any) -> Iterable[Sequence[float]]:
    if isinstance(coordinates, list | tuple):
        if coordinates and isinstance(coordinates[0], int | float):
            yield coordinates
        else:
            for child in coordinates:
                yield from _positions(child)


def geometry_bbox(geometry: dict[str, Any] | None) -> BBox | None:
    """Bounding box of a GeoJSON geometry (any type, including GeometryCollection)."""
    if not isinstance(geometry, dict):
        return None
    if geometry.get("type") == "GeometryCollection":
        boxes = [geometry_bbox(g) for g in geometry.get("geometries") or []]
        present = [b for b in boxes if b is not None]
        if not present:
            return None
        return (
            min(b[0] for b in present),
            min(b[1] for b in present),
            max(b[2] for b in present),
            max(b[3] for b in present),
        )
    xs: list[float] = []
    ys: list[float] = []
    for position in _positions(geometry.get("coordinates")):
        if len(position) >= 2:
            xs.append(float(position[0]))
            ys.append(float(position[1]))
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys))


def item_bbox(item: dict[str, Any]) -> BBox | None:
    bbox = item.get("bbox")
    if isinstance(bbox, list):
        if len(bbox) == 4 and all(type(v) in (float, int) for v in bbox) and bbox[1] <= bbox[3]:
            return (bbox[0], bbox[1], bbox[2], bbox[3])  # the common case, without copies
        try:
            return parse_bbox(bbox)
        except ValueError:
            pass
    return geometry_bbox(item.get("geometry"))


def _split_antimeridian(box: BBox) -> list[BBox]:
    west, south, east, north = box
    if west <= east:
        return [box]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


def bbox_intersects(a: BBox, b: BBox) -> bool:
    """Closed-box overlap; a box whose west exceeds its east crosses the antimeridian."""
    if a[0] <= a[2] and b[0] <= b[2]:
        return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
    for first in _split_antimeridian(a):
        for second in _split_antimeridian(b):
            if (
                first[0] <= second[2]
                and second[0] <= first[2]
                and first[1] <= second[3]
                and second[1] <= first[3]
            ):
                return True
    return False


# --- property access, query extension, CQL2-JSON -------------------------------------------

_TOP_LEVEL = {"id", "collection", "geometry", "bbox", "type"}


def item_value(item: dict[str, Any], name: str) -> Any:
    """Value of a queryable: `id`, `collection`, `properties.x`, or a bare property name `x`."""
    if name in _TOP_LEVEL:
        return item.get(name)
    properties = item.get("properties") or {}
    if name.startswith("properties."):
        return properties.get(name[len("properties.") :])
    return properties.get(name)


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Make timestamps comparable with timestamps and numbers with numbers."""
    if isinstance(left, str) and isinstance(right, str):
        try:
            return parse_timestamp(left), parse_timestamp(right)
        except ValueError:
            return left, right
    return left, right


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("=", "eq"):
        return bool(left == right)
    if op in ("<>", "!=", "neq"):
        return bool(left != right)
    if left is None or right is None:
        return False
    left, right = _comparable(left, right)
    try:
        if op in ("<", "lt"):
            return bool(left < right)
        if op in ("<=", "lte"):
            return bool(left <= right)
        if op in (">", "gt"):
            return bool(left > right)
        if op in (">=", "gte"):
            return bool(left >= right)
    except TypeError:
        return False
    raise ValueError(f"unsupported comparison: {op}")


def query_matches(item: dict[str, Any], query: dict[str, Any]) -> bool:
    """The STAC API query extension: `{"eo:cloud_cover": {"lt": 10}, ...}`."""
    for name, conditions in query.items():
        if not isinstance(conditions, dict):
            raise ValueError(f"query for {name} must be an object")
        value = item_value(item, name)
        for op, expected in conditions.items():
            if op in ("eq", "neq", "lt", "lte", "gt", "gte"):
                if not _compare(op, value, expected):
                    return False
            elif op == "in":
                if not isinstance(expected, list) or value not in expected:
                    return False
            elif op == "startsWith":
                if not (isinstance(value, str) and value.startswith(str(expected))):
                    return False
            elif op == "endsWith":
                if not (isinstance(value, str) and value.endswith(str(expected))):
                    return False
            elif op == "contains":
                if not (isinstance(value, str) and str(expected) in value):
                    return False
            else:
                raise ValueError(f"unsupported query operator: {op}")
    return True


def _like(value: Any, pattern: Any) -> bool:
    if not isinstance(value, str) or not isinstance(pattern, str):
        return False
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _operand(item: dict[str, Any], arg: Any) -> Any:
    if isinstance(arg, dict):
        if "property" in arg:
            return item_value(item, str(arg["property"]))
        if "timestamp" in arg:
            return arg["timestamp"]
        if "date" in arg:
            return arg["date"]
    return arg


def _as_interval(value: Any) -> Interval | None:
    if isinstance(value, dict) and "interval" in value:
        start, end = value["interval"]
        low = -math.inf if start in ("..", None) else parse_timestamp(str(start))
        high = math.inf if end in ("..", None) else parse_timestamp(str(end), end_of_day=True)
        return (low, high)
    if isinstance(value, dict) and ("timestamp" in value or "date" in value):
        text = str(value.get("timestamp") or value.get("date"))
        return (parse_timestamp(text), parse_timestamp(text, end_of_day=True))
    if isinstance(value, str):
        return parse_datetime_interval(value)
    return None


def cql2_matches(item: dict[str, Any], expression: Any) -> bool:
    """A subset of CQL2-JSON: and/or/not, comparisons, like, in, between, isNull,
    s_intersects (bounding boxes) and t_intersects/anyinteracts on `datetime`."""
    if isinstance(expression, bool):
        return expression
    if not isinstance(expression, dict) or "op" not in expression:
        raise ValueError("a CQL2-JSON expression must be an object with 'op'")
    op = str(expression["op"]).lower()
    args = expression.get("args") or []
    if op == "and":
        return all(cql2_matches(item, a) for a in args)
    if op == "or":
        return any(cql2_matches(item, a) for a in args)
    if op == "not":
        return not cql2_matches(item, args[0])
    if op in ("=", "<>", "<", "<=", ">", ">="):
        return _compare(op, _operand(item, args[0]), _operand(item, args[1]))
    if op == "like":
        return _like(_operand(item, args[0]), _operand(item, args[1]))
    if op == "in":
        return _operand(item, args[0]) in (args[1] if isinstance(args[1], list) else [])
    if op == "between":
        value = _operand(item, args[0])
        return _compare(">=", value, _operand(item, args[1])) and _compare(
            "<=", value, _operand(item, args[2])
        )
    if op == "isnull":
        return _operand(item, args[0]) is None
    if op in ("s_intersects", "intersects"):
        box = item_bbox(item)
        other = args[1] if isinstance(args[1], dict) else None
        other_box = parse_bbox(other["bbox"]) if other and "bbox" in other else geometry_bbox(other)
        return box is not None and other_box is not None and bbox_intersects(box, other_box)
    if op in ("t_intersects", "anyinteracts"):
        own = item_interval(item)
        other_interval = _as_interval(args[1])
        return (
            own is not None
            and other_interval is not None
            and intervals_overlap(own, other_interval)
        )
    raise ValueError(f"unsupported CQL2 operator: {op}")


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilter:
    collections: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    bbox: BBox | None = None
    datetime: Interval | None = None
    query: dict[str, Any] | None = None
    cql2: Any = None

    def matches(self, item: dict[str, Any]) -> bool:
        if self.ids is not None and item.get("id") not in self.ids:
            return False
        if self.collections is not None and item.get("collection") not in self.collections:
            return False
        if self.bbox is not None:
            own = item_bbox(item)
            if own is None or not bbox_intersects(own, self.bbox):
                return False
        if self.datetime is not None:
            interval = item_interval(item)
            if interval is None or not intervals_overlap(interval, self.datetime):
                return False
        if self.query and not query_matches(item, self.query):
            return False
        return self.cql2 is None or cql2_matches(item, self.cql2)


@dataclass(frozen=True)
class SortField:
    field: str
    descending: bool


DEFAULT_SORT = (SortField("datetime", True), SortField("id", True))  # pgstac's order


def parse_sortby(value: Any) -> tuple[SortField, ...]:
    """`[{"field", "direction"}]` (POST) or `-properties.datetime,+id` (GET)."""
    if value in (None, "", []):
        return DEFAULT_SORT
    fields: list[SortField] = []
    if isinstance(value, str):
        for part in value.split(","):
            text = part.strip()
            if not text:
                continue
            descending = text.startswith("-")
            fields.append(SortField(text.lstrip("+-"), descending))
    elif isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict) or "field" not in entry:
                raise ValueError("sortby entries need a field")
            direction = str(entry.get("direction", "asc")).lower()
            if direction not in ("asc", "desc"):
                raise ValueError("sortby direction must be asc or desc")
            fields.append(SortField(str(entry["field"]), direction == "desc"))
    else:
        raise ValueError("sortby must be a list or a string")
    return tuple(fields)


def _sort_value(item: dict[str, Any], name: str) -> tuple[int, int, Any]:
    """(missing, type rank, value): numbers, then strings, so mixed types never compare."""
    if name in ("datetime", "properties.datetime"):
        interval = item_interval(item)
        return (0, 0, interval[0]) if interval else (1, 0, 0.0)
    value = item_value(item, name)
    if value is None:
        return (1, 0, 0.0)
    if isinstance(value, bool | int | float):
        return (0, 0, float(value))
    return (0, 1, str(value))


class _Reversed:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


def sort_key(fields: Sequence[SortField]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for sort_field in fields:
            missing, rank, value = _sort_value(item, sort_field.field)
            # Missing values sort last in either direction, as in pgstac (NULLS LAST).
            parts.append(missing)
            parts.append(rank)
            parts.append(_Reversed(value) if sort_field.descending else value)
        # A total order keeps keyset paging stable.
        parts.append(str(item.get("collection", "")))
        parts.append(str(item.get("id", "")))
        return tuple(parts)

    return key
