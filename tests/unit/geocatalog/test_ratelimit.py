"""The adaptive limiter on a fake clock: sleeps advance the clock, nothing really waits."""

from __future__ import annotations

import pytest

from shared.ratelimit import AdaptiveRateLimiter
from tests.fake_time import FakeTime


def limiter(t: FakeTime, rate: float = 10.0, **kwargs: float) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(rate, clock=t.clock, sleep=t.sleep, **kwargs)


def calls_in(t: FakeTime, lim: AdaptiveRateLimiter, seconds: float) -> int:
    """How many acquire() calls complete within `seconds` of fake time."""
    end = t.now + seconds
    count = 0
    while True:
        lim.acquire()
        if t.now > end:
            return count
        count += 1


def test_a_burst_goes_at_once_then_calls_are_spaced_at_the_rate() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=20.0)  # burst = 5
    for _ in range(5):
        lim.acquire()
    assert t.slept == []
    lim.acquire()
    assert t.slept == [pytest.approx(0.05)]


def test_the_rate_holds_over_time() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0)
    # 10 s at 40/s plus the initial burst of 10.
    assert calls_in(t, lim, 10.0) == pytest.approx(410, abs=1)


def test_a_full_bucket_plus_a_second_of_refill_stays_near_the_budget() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0)
    assert calls_in(t, lim, 1.0) <= 50


def test_throttling_halves_the_rate_once_per_cooldown() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0)
    lim.on_throttled(None)
    lim.on_throttled(None)  # same burst of 429s: no second cut
    assert lim.rate == 20.0
    t.now += 1.0
    lim.on_throttled(None)
    assert lim.rate == 10.0


def test_the_rate_never_drops_below_the_minimum() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=8.0, min_rate=3.0)
    for _ in range(5):
        lim.on_throttled(None)
        t.now += 2
    assert lim.rate == 3.0


def test_retry_after_pauses_every_caller_until_then() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0)
    lim.on_throttled(7.5)
    assert lim.paused_until == pytest.approx(107.5)
    lim.acquire()
    assert t.now == pytest.approx(107.5)
    assert sum(t.slept) == pytest.approx(7.5)
    assert lim.paused_until is None


def test_a_shorter_retry_after_does_not_shorten_a_longer_pause() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0, cooldown_seconds=0.0)
    lim.on_throttled(10.0)
    lim.on_throttled(1.0)
    assert lim.paused_until == pytest.approx(110.0)


def test_successes_recover_additively_after_the_cooldown() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0, increase_step=1.0)
    lim.on_throttled(None)
    assert lim.rate == 20.0
    lim.on_success()  # within the cooldown: no change
    assert lim.rate == 20.0
    t.now += 1.0
    for _ in range(5):
        lim.on_success()
    assert lim.rate == 25.0
    for _ in range(100):
        lim.on_success()
    assert lim.rate == 40.0  # never above the configured rate


def test_the_default_recovery_is_slow() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=40.0)
    lim.on_throttled(None)
    t.now += 1.0
    for _ in range(10):
        lim.on_success()
    assert 20.0 < lim.rate < 25.0


def test_after_throttling_calls_are_spaced_at_the_lower_rate() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=20.0, burst=1.0)
    lim.acquire()
    lim.on_throttled(None)  # 10/s
    lim.acquire()
    assert t.slept[-1] == pytest.approx(0.1)


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        AdaptiveRateLimiter(0)
    with pytest.raises(ValueError, match="decrease_factor"):
        AdaptiveRateLimiter(10, decrease_factor=1.5)
