"""Injected faults: random ones by configured rates, and scripted bursts set by tests."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from local.emulator.geocatalog.config import GeoCatalogConfig

Phase = Literal["before", "after"]

_FAULT_CODES = {
    429: ("TooManyRequests", "Rate limit is exceeded. Try again later."),
    500: ("InternalServerError", "An internal server error occurred."),
    502: ("BadGateway", "The server received an invalid response from an upstream server."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Try again later."),
    504: ("GatewayTimeout", "The upstream server did not respond in time."),
}


def fault_error(status: int) -> tuple[str, str]:
    return _FAULT_CODES.get(status, ("InternalServerError", f"Injected HTTP {status}."))


@dataclass
class Fault:
    status: int
    retry_after: str | None = None
    # "after": the request takes effect, then the client sees the error (a lost response).
    phase: Phase = "before"


@dataclass
class ScriptedFault:
    fault: Fault
    remaining: int
    method: str | None = None
    route: str | None = None  # a route template or a path prefix

    def matches(self, method: str, template: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.route is None:
            return True
        return self.route in (template, path) or path.startswith(self.route)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.fault.status,
            "remaining": self.remaining,
            "method": self.method,
            "route": self.route,
            "retryAfter": self.fault.retry_after,
            "phase": self.fault.phase,
        }


def retry_after_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class Faults:
    def __init__(self) -> None:
        self._scripted: list[ScriptedFault] = []
        self._lock = threading.Lock()

    def script(self, spec: dict[str, Any]) -> ScriptedFault:
        """Add a burst: `{"status", "count", "method"?, "route"?, "retryAfter"?, "phase"?}`."""
        status = spec.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status")
        count = spec.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        phase = spec.get("phase", "before")
        if phase not in ("before", "after"):
            raise ValueError("phase must be 'before' or 'after'")
        retry_after = spec.get("retryAfter")
        if retry_after is not None and not isinstance(retry_after, int | float | str):
            raise ValueError("retryAfter must be a number or a string")
        text = (
            retry_after_text(retry_after) if isinstance(retry_after, int | float) else retry_after
        )
        scripted = ScriptedFault(
            Fault(status, text, phase),
            count,
            spec.get("method"),
            spec.get("route"),
        )
        with self._lock:
            self._scripted.append(scripted)
        return scripted

    def take_scripted(self, method: str, template: str, path: str) -> Fault | None:
        with self._lock:
            for scripted in self._scripted:
                if scripted.matches(method, template, path):
                    scripted.remaining -= 1
                    if scripted.remaining <= 0:
                        self._scripted.remove(scripted)
                    return scripted.fault
        return None

    @staticmethod
    def roll(config: GeoCatalogConfig, rng: random.Random) -> Fault | None:
        for status, rate in (
            (429, config.fault_429_rate),
            (500, config.fault_500_rate),
            (503, config.fault_503_rate),
        ):
            if rate > 0 and rng.random() < rate:
                seconds = config.fault_retry_after_seconds
                retry_after = (
                    retry_after_text(seconds)
                    if seconds is not None and status in (429, 503)
                    else None
                )
                return Fault(status, retry_after)
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [scripted.to_json() for scripted in self._scripted]

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
