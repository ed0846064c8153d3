"""Settings of the Planetary Computer emulator: fixed ones, and the switches a test may flip at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

DEFAULT_FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
DEFAULT_PORT = 8701
# A fixed development key, so that another local process (the GeoCatalog emulator) can verify the
# signatures of the SAS tokens this emulator hands out. Never a secret: it protects nothing real.
DEFAULT_SAS_SIGNING_KEY = b"planetary-computer-emulator-dev-key"

MosaicInfoNulls = Literal["keep", "omit"]


@dataclass(frozen=True)
class PlanetaryComputerConfig:
    fixtures_dir: Path = DEFAULT_FIXTURES_DIR
    # Base of every link the emulator writes; None: the scheme and host the request came in on.
    public_base_url: str | None = None
    latency_seconds: float = 0.0
    # Requests per second and client IP before 429; None: no limit.
    rate_limit_per_second: int | None = None
    sas_lifetime: timedelta = timedelta(minutes=45)
    # Hand out tokens whose expiry is already past (tests of SAS renewal).
    sas_expired: bool = False
    sas_signing_key: bytes = DEFAULT_SAS_SIGNING_KEY
    # "keep": every field of the PC models, unset ones as null (what the live service's model dump
    # gives); "omit": null fields left out (the shape docs/reference/geocatalog-api.md §13 describes).
    mosaic_info_nulls: MosaicInfoNulls = "keep"
    # Serve collection thumbnails from this emulator (see public_assets.py); off: as recorded.
    mirror_public_assets: bool = True
    search_default_limit: int = 250
    # The recorded GET /collections/landsat-c2-l2/items without a limit returned 10 items.
    items_default_limit: int = 10
    max_limit: int = 1000


@dataclass(frozen=True)
class Switches:
    latency_seconds: float
    rate_limit_per_second: int | None
    sas_lifetime: timedelta
    sas_expired: bool

    @classmethod
    def from_config(cls, config: PlanetaryComputerConfig) -> Switches:
        return cls(
            latency_seconds=config.latency_seconds,
            rate_limit_per_second=config.rate_limit_per_second,
            sas_lifetime=config.sas_lifetime,
            sas_expired=config.sas_expired,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "latencySeconds": self.latency_seconds,
            "rateLimitPerSecond": self.rate_limit_per_second,
            "sasLifetimeSeconds": self.sas_lifetime.total_seconds(),
            "sasExpired": self.sas_expired,
        }


@dataclass
class SwitchBoard:
    """The current switches; swapped whole under a lock so a request never sees half an update."""

    _current: Switches
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current(self) -> Switches:
        return self._current

    def update(self, **changes: Any) -> Switches:
        with self._lock:
            self._current = replace(self._current, **changes)
            return self._current

    def update_from_json(self, body: dict[str, Any]) -> Switches:
        """Apply a camelCase JSON patch as served by GET /_emulator/switches; ValueError on bad input."""
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key == "latencySeconds":
                changes["latency_seconds"] = _non_negative_float(key, value)
            elif key == "rateLimitPerSecond":
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise ValueError("rateLimitPerSecond must be a positive integer or null")
                changes["rate_limit_per_second"] = value
            elif key == "sasLifetimeSeconds":
                changes["sas_lifetime"] = timedelta(seconds=_non_negative_float(key, value))
            elif key == "sasExpired":
                if not isinstance(value, bool):
                    raise ValueError("sasExpired must be a boolean")
                changes["sas_expired"] = value
            else:
                raise ValueError(f"unknown switch {key!r}")
        return self.update(**changes)


def _non_negative_float(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return float(value)
