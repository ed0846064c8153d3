"""Cross-cutting behaviour of the emulated service: call statistics, per-IP rate limit, latency."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from local.emulator.planetary_computer.config import SwitchBoard

# Only the service's own API is throttled and slowed; the static "blob" files and the emulator's
# control routes are not part of it, and control calls are not counted either.
API_PREFIX = "/api/"
CONTROL_PREFIX = "/_emulator/"


class CallStats:
    """Calls by `METHOD route-template` and status; read from test threads, so locked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, int]] = Counter()

    def record(self, route: str, status: int) -> None:
        with self._lock:
            self._calls[(route, status)] += 1

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls = dict(self._calls)
        by_route: dict[str, dict[str, int]] = {}
        for (route, status), count in sorted(calls.items()):
            by_route.setdefault(route, {})[str(status)] = count
        return {"total": sum(calls.values()), "calls": by_route}

    def count(self, route: str, status: int | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (r, s), n in self._calls.items()
                if r == route and (status is None or s == status)
            )


class _FixedWindowLimiter:
    """N requests per client IP in each one-second window (the real one answers Retry-After: 1)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, client: str, limit: int) -> bool:
        window = int(time.monotonic())
        start, count = self._windows.get(client, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= limit:
            self._windows[client] = (start, count)
            return False
        self._windows[client] = (start, count + 1)
        return True


class ServiceBehaviour:
    """ASGI middleware: records every call, then throttles and delays /api/ calls per the switches."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        switches: SwitchBoard,
        stats: CallStats,
        routes: Sequence[BaseRoute],
    ) -> None:
        self.app = app
        self.switches = switches
        self.stats = stats
        self.routes = routes
        self.limiter = _FixedWindowLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        recorded = False

        async def recording_send(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                # Counted before the client can see the answer: a client that reads the stats
                # right after its call must find that call in them.
                recorded = True
                self.stats.record(self._route_name(scope), message["status"])
            await send(message)

        try:
            if scope["path"].startswith(API_PREFIX):
                switches = self.switches.current
                limit = switches.rate_limit_per_second
                client = (scope.get("client") or ("unknown", 0))[0]
                if limit is not None and not self.limiter.allow(client, limit):
                    await _too_many_requests(recording_send)
                    return
                if switches.latency_seconds > 0:
                    await asyncio.sleep(switches.latency_seconds)
            await self.app(scope, receive, recording_send)
        finally:
            if not recorded:
                self.stats.record(self._route_name(scope), 500)

    def _route_name(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            # Throttled calls never reach the router: find the route they were meant for.
            route = next((r for r in self.routes if r.matches(scope)[0] == Match.FULL), None)
        template = getattr(route, "path", None) or "(unmatched)"
        return f"{scope.get('method', '?')} {template}"


async def _too_many_requests(send: Send) -> None:
    # FastAPI's HTTPException body, as the PC's rate limiter sends it.
    body = json.dumps({"detail": "Too Many Requests"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
