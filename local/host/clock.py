"""Time for timer triggers: the wall clock, or a manual clock tests move by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep_until(self, when: dt.datetime, cancel: asyncio.Event) -> bool:
        """Return True once `when` is reached, False as soon as `cancel` is set."""
        ...


async def _wait_event(event: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


class SystemClock:
    # Sleeping in slices re-reads the wall clock, so a suspended laptop does not oversleep.
    _SLICE = 30.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep_until(self, when: dt.datetime, cancel: asyncio.Event) -> bool:
        while True:
            if cancel.is_set():
                return False
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return True
            if await _wait_event(cancel, min(remaining, self._SLICE)):
                return False


class ManualClock:
    """A clock that stands still until `advance()`/`set()`; safe to move from any thread."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta | float) -> dt.datetime:
        step = delta if isinstance(delta, dt.timedelta) else dt.timedelta(seconds=delta)
        if step < dt.timedelta(0):
            raise ValueError("time does not run backwards")
        with self._lock:
            self._now += step
            now = self._now
        self._wake()
        return now

    def set(self, when: dt.datetime) -> dt.datetime:
        with self._lock:
            if when.astimezone(dt.UTC) < self._now:
                raise ValueError("time does not run backwards")
            self._now = when.astimezone(dt.UTC)
            now = self._now
        self._wake()
        return now

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def sleep_until(self, when: dt.datetime, cancel: asyncio.Event) -> bool:
        loop = asyncio.get_running_loop()
        moved = asyncio.Event()
        entry = (loop, moved)
        with self._lock:
            self._waiters.append(entry)
        try:
            while True:
                if cancel.is_set():
                    return False
                if self.now() >= when:
                    return True
                moved.clear()
                cancel_wait = asyncio.ensure_future(cancel.wait())
                moved_wait = asyncio.ensure_future(moved.wait())
                try:
                    await asyncio.wait({cancel_wait, moved_wait}, return_when="FIRST_COMPLETED")
                finally:
                    cancel_wait.cancel()
                    moved_wait.cancel()
        finally:
            with self._lock:
                self._waiters.remove(entry)
