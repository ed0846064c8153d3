"""RFC 3339 parsing and formatting as the PC APIs use it (UTC, `Z`)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_rfc3339(value: str) -> datetime:
    """An aware UTC datetime; a bare date is midnight UTC (as pgstac casts it). ValueError if invalid."""
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if "T" not in text and "t" not in text:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    """Whole seconds with `Z`, as in the SAS API's msft:expiry."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
