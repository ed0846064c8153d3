"""Time: an injectable clock (epoch seconds) and the timestamp formats the real service uses."""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], float]

_TICKS = 10_000_000  # .NET ticks per second: the service prints 7-digit fractions


def system_clock() -> float:
    return time.time()


class ManualClock:
    """A clock that moves only when told: deterministic operation timing in tests."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def format_ticks(ts: float) -> str:
    """`2025-10-28T18:41:14.9763916Z`: operations, ingestion sources and definitions."""
    ticks = round(ts * _TICKS)
    seconds, fraction = divmod(ticks, _TICKS)
    return f"{_utc(seconds).strftime('%Y-%m-%dT%H:%M:%S')}.{fraction:07d}Z"


def format_micros(ts: float) -> str:
    """`2024-09-26T17:46:10.688245Z`: `_msft:ts` and collection timestamps (pgstac precision)."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_seconds(ts: float) -> str:
    """`2025-03-12T20:47:34Z`: `msft:expiry` and SAS `st`/`se` values."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?$"
)


@functools.lru_cache(maxsize=65_536)
def parse_timestamp(value: str, *, end_of_day: bool = False) -> float:
    """Epoch seconds of an RFC 3339 timestamp; a bare date is its first (or last) instant.

    Offsets are honoured, a missing offset means UTC, fractions of any length are accepted
    (the service writes 7 digits, Python writes 6, SAS tokens write none). Cached: searches
    compare the same item timestamps over and over.
    """
    match = _RFC3339.match(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day = (int(part) for part in match["date"].split("-"))
    hour = minute = second = 0
    if match["time"] is not None:
        hour, minute, second = (int(part) for part in match["time"].split(":"))
    # The datetime constructor validates ranges (no month 13, no hour 25).
    parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    if match["time"] is None and end_of_day:
        parsed += timedelta(days=1, microseconds=-1)
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        parsed -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    result = parsed.timestamp()
    if match["frac"]:
        result += float("0" + match["frac"])
    return result
