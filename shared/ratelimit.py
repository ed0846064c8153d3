"""A client-side, adaptive call budget: a token bucket whose rate halves on throttling.

The GeoCatalog allows 50 STAC API calls per second per subscription and answers 429 beyond it. One
limiter lives per worker process (in `Runtime`) and is shared by every function on that instance:
each call `acquire()`s first, then reports back (`on_throttled` / `on_success`). The rate drops
multiplicatively on a 429 and climbs back additively on successes (AIMD), and a `Retry-After`
pauses every caller of the instance, not only the one that was told.

The budget is the subscription's, the limiter the instance's: `instance_share` divides the budget
among the most instances that may call at once, so a full scale-out stays inside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9
_MIN_WAIT = 1e-4
# A bucket holds a quarter second of calls, so a limit L can put 1.25 L calls into one second:
# L = 0.8 x budget is the most that never exceeds the budget (measured in bench.ratelimiter).
# A share of a few calls/s holds one call, so instances starting in step can overshoot once;
# the 429s that follow halve their rates.
BUDGET_SHARE = 0.8
# The adaptive rate's floor: 1 call/s, but at most a tenth of the limit, so that an instance whose
# share is a call or two per second can still slow down on 429.
_DEFAULT_MIN_RATE = 1.0
_MIN_RATE_FRACTION = 0.1


def instance_share(subscription_calls_per_second: float, max_instances: int) -> float:
    """One instance's limit when `max_instances` instances share the subscription's budget."""
    if subscription_calls_per_second <= 0 or max_instances < 1:
        raise ValueError("the budget must be positive and the instances at least 1")
    return BUDGET_SHARE * subscription_calls_per_second / max_instances


class AdaptiveRateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        *,
        min_rate: float | None = None,
        burst: float | None = None,
        decrease_factor: float = 0.5,
        increase_step: float | None = None,
        cooldown_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if not 0 < decrease_factor < 1:
            raise ValueError("decrease_factor must be between 0 and 1")
        self.max_rate = float(rate_per_second)
        if min_rate is None:
            min_rate = min(_DEFAULT_MIN_RATE, self.max_rate * _MIN_RATE_FRACTION)
        self.min_rate = min(float(min_rate), self.max_rate)
        # A full bucket plus one second of refill must stay near the per-second budget, so the
        # bucket holds a quarter of a second's worth, not a whole second.
        self.burst = max(1.0, burst if burst is not None else self.max_rate / 4)
        self._decrease = decrease_factor
        # Additive recovery: from half the rate back to full takes about fifty successes.
        self._increase = (
            increase_step if increase_step is not None else max(self.max_rate / 100, 0.01)
        )
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.max_rate
        self._tokens = self.burst
        self._updated = clock()
        self._paused_until = float("-inf")
        self._last_decrease = float("-inf")

    @property
    def rate(self) -> float:
        """The current allowed calls per second."""
        with self._lock:
            return self._rate

    @property
    def paused_until(self) -> float | None:
        """Clock time before which no call goes out, if a pause is in force."""
        with self._lock:
            return self._paused_until if self._paused_until > self._clock() else None

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self._rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a call slot now and return 0.0, or return the seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._paused_until:
                return self._paused_until - now
            # The tolerance absorbs float rounding of elapsed times: without it a bucket one
            # ulp short of a token asks for waits too small to move the clock.
            if self._tokens >= 1.0 - _EPSILON:
                self._tokens = max(0.0, self._tokens - 1.0)
                return 0.0
            return max(_MIN_WAIT, (1.0 - self._tokens) / self._rate)

    def acquire(self) -> None:
        """Block until a call may go out, then take its slot."""
        while True:
            wait = self.try_acquire()
            if wait <= 0.0:
                return
            self._sleep(wait)

    def on_throttled(self, retry_after: float | None = None) -> None:
        """The service answered 429: slow down, and hold every caller for `retry_after` seconds."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            # Calls in flight together all come back throttled; one reduction per cooldown keeps a
            # burst of 429s from collapsing the rate to the minimum at once.
            if now - self._last_decrease >= self._cooldown:
                self._rate = max(self.min_rate, self._rate * self._decrease)
                self._last_decrease = now
            if retry_after is not None and retry_after > 0:
                self._paused_until = max(self._paused_until, now + retry_after)
                self._tokens = 0.0

    def on_success(self) -> None:
        """A call went through: creep back towards the configured rate."""
        with self._lock:
            if self._rate >= self.max_rate:
                return
            now = self._clock()
            if now - self._last_decrease < self._cooldown:
                return
            self._refill(now)
            self._rate = min(self.max_rate, self._rate + self._increase)


__all__ = ["BUDGET_SHARE", "AdaptiveRateLimiter", "instance_share"]
