"""The STAC API budget: a sliding one-second window over all data-plane calls."""

from __future__ import annotations

import threading
from collections import deque


class Budget:
    def __init__(self) -> None:
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self, now: float, per_second: float) -> float | None:
        """None when the call fits the budget, else seconds until a slot frees."""
        if per_second <= 0:
            return None
        capacity = max(1, int(per_second))
        with self._lock:
            calls = self._calls
            while calls and calls[0] <= now - 1.0:
                calls.popleft()
            if len(calls) < capacity:
                calls.append(now)
                return None
            return max(0.0, calls[0] + 1.0 - now)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
