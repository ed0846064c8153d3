"""How long a remote asked us to wait: `Retry-After` and Azure's millisecond headers, read once."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final

# Longer than any delay the services we call ask for (seconds, on a 429 or a 503), and short
# enough that a wrong or hostile value cannot hold a caller for days: the GeoCatalog client's
# rate limiter pauses every caller of the instance for the asked delay, `shared.retry` sleeps it.
MAX_RETRY_AFTER_SECONDS: Final = 3600.0
# Azure services state the delay in milliseconds too; it is more precise and wins (as in azure-core).
_MILLISECOND_HEADERS: Final = ("retry-after-ms", "x-ms-retry-after-ms")


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`; or None.

    `Retry-After` is delta-seconds (a decimal is accepted) or an HTTP-date (`now`, a Unix time, is
    the clock it is read against; a date in the past means 0). The result is within
    0..`MAX_RETRY_AFTER_SECONDS`; a value that is not a finite number or a date is ignored, as if
    absent. Header names match in any case, whatever mapping `headers` is.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in _MILLISECOND_HEADERS:
        milliseconds = _number(lowered.get(name))
        if milliseconds is not None:
            return _bounded(milliseconds / 1000.0)
    raw = (lowered.get("retry-after") or "").strip()
    if not raw:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return _bounded(seconds)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # HTTP dates are GMT; `parsedate_to_datetime` leaves one written with "-0000" naive.
        when = when.replace(tzinfo=UTC)
    return _bounded(when.timestamp() - (time.time() if now is None else now))


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bounded(seconds: float) -> float:
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))


__all__ = ["MAX_RETRY_AFTER_SECONDS", "parse_retry_after"]
