"""The manual clock that timer tests move by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest

from local.host.clock import ManualClock, SystemClock

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def test_sleepers_wake_when_the_clock_is_moved_from_another_thread() -> None:
    clock = ManualClock(START)

    async def scenario() -> bool:
        cancel = asyncio.Event()
        sleeper = asyncio.ensure_future(clock.sleep_until(START + dt.timedelta(seconds=10), cancel))
        await asyncio.sleep(0)
        threading.Thread(target=clock.advance, args=(5,)).start()
        await asyncio.sleep(0.05)
        assert not sleeper.done()
        threading.Thread(target=clock.advance, args=(5,)).start()
        return await asyncio.wait_for(sleeper, 5)

    assert asyncio.run(scenario()) is True
    assert clock.now() == START + dt.timedelta(seconds=10)


def test_cancel_ends_a_sleep_early() -> None:
    async def scenario() -> bool:
        cancel = asyncio.Event()
        sleeper = asyncio.ensure_future(
            ManualClock(START).sleep_until(START + dt.timedelta(days=1), cancel)
        )
        await asyncio.sleep(0)
        cancel.set()
        return await asyncio.wait_for(sleeper, 5)

    assert asyncio.run(scenario()) is False


def test_time_does_not_run_backwards_and_needs_a_zone() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START - dt.timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(dt.datetime(2030, 1, 1))  # noqa: DTZ001 - the point of the test


def test_system_clock_is_utc_and_returns_at_once_for_the_past() -> None:
    clock = SystemClock()
    assert clock.now().tzinfo is dt.UTC

    async def scenario() -> bool:
        return await clock.sleep_until(clock.now() - dt.timedelta(seconds=1), asyncio.Event())

    assert asyncio.run(scenario()) is True
