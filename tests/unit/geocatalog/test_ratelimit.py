"""The adaptive limiter on a fake clock: sleeps advance the clock, nothing really waits."""

from __future__ import annotations

import heapq
import math

import pytest

from local.emulator.geocatalog.budget import Budget
from shared.ratelimit import AdaptiveRateLimiter, instance_share
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


def test_a_small_derived_limit_can_still_slow_down_on_429() -> None:
    t = FakeTime(100.0)
    lim = limiter(t, rate=1.0)
    assert lim.min_rate == pytest.approx(0.1)
    lim.on_throttled(None)
    assert lim.rate == 0.5


def test_the_default_floor_of_a_large_limit_is_one_call_per_second() -> None:
    assert AdaptiveRateLimiter(40.0).min_rate == 1.0
    assert AdaptiveRateLimiter(40.0, min_rate=5.0).min_rate == 5.0


def test_the_instance_share_divides_four_fifths_of_the_budget() -> None:
    assert instance_share(50.0, 1) == 40.0
    assert instance_share(50.0, 16) == 2.5
    assert instance_share(50.0, 40) == 1.0
    with pytest.raises(ValueError, match="instances"):
        instance_share(50.0, 0)
    with pytest.raises(ValueError, match="budget"):
        instance_share(0.0, 4)


def scale_out(instances: int, per_instance: float, *, seconds: float = 60.0) -> tuple[int, int]:
    """(served, throttled) calls of `instances` limiters, each with 4 callers that call as fast as
    their limiter lets them (80 ms a call), against the emulator's 50 calls/s budget, in fake time."""
    now = [0.0]
    limiters = [
        AdaptiveRateLimiter(per_instance, clock=lambda: now[0], sleep=lambda s: None)
        for _ in range(instances)
    ]
    budget = Budget()
    # Callers start a little apart, as instances and their threads do.
    ready = [(0.001 * n, n % instances) for n in range(4 * instances)]
    heapq.heapify(ready)
    served = throttled = 0
    while ready:
        at, which = heapq.heappop(ready)
        if at >= seconds:
            continue
        now[0] = at
        lim = limiters[which]
        wait = lim.try_acquire()
        if wait > 0:
            heapq.heappush(ready, (at + wait, which))
            continue
        refused = budget.try_acquire(at, 50.0)
        if refused is None:
            served += 1
            lim.on_success()
        else:
            throttled += 1
            lim.on_throttled(float(max(1, math.ceil(refused))))
        heapq.heappush(ready, (at + 0.08, which))
    return served, throttled


@pytest.mark.parametrize("instances", [16, 40])
def test_a_scale_out_at_the_instance_share_stays_inside_the_budget(instances: int) -> None:
    served, throttled = scale_out(instances, instance_share(50.0, instances))
    assert throttled / (served + throttled) < 0.05
    # and still uses most of it: 0.8 x 50 calls/s
    assert served >= 0.75 * 40.0 * 60.0


def test_sixteen_instances_at_the_single_instance_limit_are_mostly_throttled() -> None:
    served, throttled = scale_out(16, instance_share(50.0, 1))
    assert throttled / (served + throttled) > 0.1
