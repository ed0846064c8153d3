"""Delays: how long a throttled message waits, and how far apart status checks are scheduled."""

from __future__ import annotations

import random

# The GeoCatalog answers most item operations within seconds; checking sooner wastes its budget.
_STATUS_GROWTH = 1.6
_THROTTLE_BASE_SECONDS = 2.0
_REPOST_BASE_SECONDS = 5.0


def throttle_delay(
    retry_after: float | None, throttled: int, *, cap: float, rng: random.Random
) -> float:
    """The service's Retry-After when it gave one, else full-jitter exponential back-off."""
    if retry_after is not None and retry_after >= 0:
        # A little jitter on top keeps a burst of throttled messages from returning in lockstep.
        return min(cap, retry_after + rng.uniform(0, 1))
    ceiling = min(cap, _THROTTLE_BASE_SECONDS * 2.0 ** min(throttled, 16))
    return max(1.0, rng.uniform(0, ceiling))


def status_delay(check: int, *, initial: float, maximum: float, rng: random.Random) -> float:
    """Growing delay before the next operation check, with ±20 % jitter."""
    base = min(maximum, initial * _STATUS_GROWTH ** min(check, 32))
    return max(0.0, base * rng.uniform(0.8, 1.2))


def repost_delay(attempt: int, *, cap: float, rng: random.Random) -> float:
    """Delay before re-posting an item whose operation failed with a transient code."""
    return min(cap, _REPOST_BASE_SECONDS * 2.0 ** min(attempt, 16)) * rng.uniform(0.5, 1.0)
