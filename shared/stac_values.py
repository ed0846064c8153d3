"""Rules for STAC values that both requests and items hold: RFC 3339 date-times, bboxes and
GeoJSON geometry types.

A module of its own (no imports from the service) so that the request models and item preparation
can share them.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

# RFC 7946 §3.1: the geometry types a GeoJSON geometry (a STAC item's, a search's `intersects`) has.
GEOMETRY_TYPES: Final = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)

# ASCII digits (`\d` also matches other scripts' digits, which int() reads) and anchored at the
# very end (`$` also matches before a trailing newline).
_RFC3339: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_rfc3339(value: str) -> datetime | None:
    """An RFC 3339 date-time (section 5.6: `T`, seconds and a zone offset required), or None."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zone = match.group(7), match.group(8)
    # RFC 3339 allows a leap second; Python's datetime does not, and ordering is unaffected.
    leap = second == 60
    try:
        if zone in ("Z", "z"):
            tz: timezone = UTC
        else:
            offset_hours, offset_minutes = int(zone[1:3]), int(zone[4:6])
            if offset_hours > 23 or offset_minutes > 59:
                return None
            sign = -1 if zone[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=offset_hours, minutes=offset_minutes))
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        return datetime(year, month, day, hour, minute, 59 if leap else second, micro, tzinfo=tz)
    except ValueError:
        return None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (JSON integers have no bound)
        return False


def bbox_problem(value: object) -> str | None:
    """Why `value` is not a STAC bbox (2D `[w, s, e, n]` or 3D `[w, s, zmin, e, n, zmax]`), or None.

    West greater than east is valid: the box crosses the antimeridian.
    """
    if not isinstance(value, list | tuple) or len(value) not in (4, 6):
        return "must be an array of 4 numbers (2D) or 6 numbers (3D)"
    if not all(_is_number(v) and _finite(v) for v in value):
        return "must contain only finite numbers"
    numbers = [float(v) for v in value]
    if len(numbers) == 4:
        west, south, east, north = numbers
        low, high = None, None
    else:
        west, south, low, east, north, high = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        return "longitudes must be within -180..180"
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        return "latitudes must be within -90..90"
    if south > north:
        return "south must not be greater than north"
    if low is not None and high is not None and low > high:
        return "minimum elevation must not be greater than maximum elevation"
    return None


def _is_number(value: object) -> bool:
    # JSON `true` decodes to a bool, which Python counts as an int.
    return isinstance(value, int | float) and not isinstance(value, bool)
