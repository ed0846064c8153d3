"""Call counters by route template, method and status: what a client spent."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def record(self, route: str, method: str, status: int) -> None:
        with self._lock:
            self._counts[(route, method, status)] += 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
        by_status: Counter[str] = Counter()
        routes: dict[str, dict[str, int]] = {}
        calls = []
        for (route, method, status), count in sorted(counts.items()):
            by_status[str(status)] += count
            routes.setdefault(f"{method} {route}", {})[str(status)] = count
            calls.append({"route": route, "method": method, "status": status, "count": count})
        data_plane = sum(
            c for (route, _, _), c in counts.items() if not route.startswith("/_managed")
        )
        return {
            "total": sum(counts.values()),
            "dataPlane": data_plane,
            "throttled": by_status.get("429", 0),
            "byStatus": dict(by_status),
            "routes": routes,
            "calls": calls,
        }
