"""The randomized exponential back-off of an empty queue."""

from __future__ import annotations

import pytest

from local.host.polling import RandomizedExponentialBackoff


def middle(low: float, high: float) -> float:
    return (low + high) / 2


def test_starts_at_100ms_doubles_the_increment_and_caps() -> None:
    backoff = RandomizedExponentialBackoff(2.0, uniform=middle)
    delays = [backoff.next_delay() for _ in range(8)]
    assert delays[:6] == pytest.approx([0.1, 0.2, 0.3, 0.5, 0.9, 1.7])
    assert delays[6:] == [2.0, 2.0]


def test_finding_messages_resets_to_the_minimum() -> None:
    backoff = RandomizedExponentialBackoff(60.0, uniform=middle)
    for _ in range(6):
        backoff.next_delay()
    assert backoff.reset() == pytest.approx(0.1)
    assert backoff.next_delay() == pytest.approx(0.2)


def test_randomization_stays_within_20_percent_of_the_increment() -> None:
    low = RandomizedExponentialBackoff(60.0, uniform=lambda a, b: a)
    high = RandomizedExponentialBackoff(60.0, uniform=lambda a, b: b)
    for _ in range(3):
        low.next_delay()
        high.next_delay()
    # Third delay: 0.1 + r * 2 * 0.1 with r in [0.8, 1.2].
    assert low.current == pytest.approx(0.26)
    assert high.current == pytest.approx(0.34)


def test_maximum_below_the_minimum_is_the_minimum() -> None:
    backoff = RandomizedExponentialBackoff(0.01)
    assert backoff.next_delay() == pytest.approx(0.1)
