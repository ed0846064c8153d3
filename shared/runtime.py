"""Long-lived objects of one Functions worker process, built once on first use and reused.

Handlers in functions/ take what they need from `runtime()`; tests build a `Runtime` from their own
Settings (or pass fakes straight to the service functions) instead of patching module globals.
"""

from __future__ import annotations

import threading
from functools import cached_property

from shared.geocatalog.client import GeoCatalogClient
from shared.planetary_computer import PlanetaryComputer
from shared.ratelimit import AdaptiveRateLimiter
from shared.settings import Settings, current_settings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def geocatalog(self) -> GeoCatalogClient:
        """The GeoCatalog client; its rate limiter is shared by every function of this instance."""
        geocatalog = self.settings.geocatalog
        limiter = AdaptiveRateLimiter(geocatalog.max_calls_per_second)
        return GeoCatalogClient(geocatalog, limiter=limiter)

    @cached_property
    def planetary_computer(self) -> PlanetaryComputer:
        return PlanetaryComputer(
            self.settings.planetary_computer_url, timeout=self.settings.geocatalog.timeout_seconds
        )


_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(current_settings())
        return _runtime


def reset_runtime() -> None:
    """Forget the process-wide instance (tests that change settings between cases)."""
    global _runtime
    with _lock:
        _runtime = None
        current_settings.cache_clear()


__all__ = ["Runtime", "cached_property", "reset_runtime", "runtime"]
