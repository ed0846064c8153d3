"""Helpers of the benchmarks that run the real pipeline on the local stack, over its public entry
points: the host's HTTP API, the GeoCatalog emulator's data plane and `/_emulator/stats`, and a
count of the storage requests the app's own clients send."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from azure.core.pipeline.transport import RequestsTransport

import shared.jobs.store as store_module
from bench._common import running
from local.stack import LocalStack

ITEMS_ROUTE = "POST /stac/collections/{collectionId}/items"
OPERATION_ROUTE = "GET /inma/operations/{operationId}"
TERMINAL = {"succeeded", "partially_succeeded", "failed", "canceled"}
API_VERSION = "2026-04-15"
# The emulator takes any bearer token; the tutorial sends one it got from azure-identity.
GEOCATALOG_HEADERS = {"Authorization": "Bearer bench"}


def route_calls(stats: dict[str, Any], route: str, status: str | None = None) -> int:
    """Calls the emulator counted on one route (`METHOD template`), of one status or all."""
    by_status: dict[str, int] = stats["routes"].get(route, {})
    return sum(n for s, n in by_status.items() if status is None or s == status)


def calls_spent(after: dict[str, Any], before: dict[str, Any]) -> dict[str, int]:
    """GeoCatalog calls between two snapshots of the emulator's stats, by kind."""

    def routes(stats: dict[str, Any]) -> dict[str, int]:
        return {r: sum(by.values()) for r, by in stats["routes"].items()}

    a, b = routes(after), routes(before)
    spent = {r: a[r] - b.get(r, 0) for r in a}
    sources = sum(n for r, n in spent.items() if "/inma/ingestion-sources" in r)
    posts = spent.get(ITEMS_ROUTE, 0)
    operations = spent.get(OPERATION_ROUTE, 0)
    return {
        "total": after["dataPlane"] - before["dataPlane"],
        "posts": posts,
        "posts_accepted": route_calls(after, ITEMS_ROUTE, "202")
        - route_calls(before, ITEMS_ROUTE, "202"),
        "operations": operations,
        "sources": sources,
        "other": sum(spent.values()) - posts - operations - sources,
        "throttled": after["throttled"] - before["throttled"],
    }


@dataclass
class Probes:
    """What the app's own code spends: storage requests by service, lost ETag races."""

    ports: dict[int, str] = field(default_factory=dict)
    # By service ("table", "queue", "blob") and by "table <JobStore method>".
    requests: Counter[str] = field(default_factory=Counter)
    # Lost ETag races by the JobStore method that lost them.
    retries: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, stack: LocalStack) -> None:
        """Attribute requests to Azurite's three services by port."""
        azurite = running(stack.azurite, "Azurite")
        self.ports.update(
            {azurite.table_port: "table", azurite.queue_port: "queue", azurite.blob_port: "blob"}
        )

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        with self._lock:
            return Counter(self.requests), Counter(self.retries)


def _store_method(frame: Any) -> str:
    """The outermost JobStore method on the stack (the one the pipeline called)."""
    found = "-"
    while frame is not None:
        if frame.f_code.co_filename == store_module.__file__:
            found = frame.f_code.co_name
        frame = frame.f_back
    return found


@contextmanager
def probes() -> Iterator[Probes]:
    """Count, without changing behaviour, by wrapping azure-core's requests transport and the
    JobStore's default back-off (looked up when a JobStore is built: before the stack starts).
    The per-service counts need nothing of the pipeline; the JobStore breakdown names whatever
    methods the store has."""
    found = Probes()
    send = RequestsTransport.send
    pause = getattr(store_module, "_jittered_pause", None)

    def counting_send(self: RequestsTransport, request: Any, **kwargs: Any) -> Any:
        service = found.ports.get(urlsplit(str(request.url)).port or 0, "other")
        method = _store_method(sys._getframe(1)) if service == "table" else None
        with found._lock:
            found.requests[service] += 1
            if method is not None:
                found.requests[f"table {method}"] += 1
        return send(self, request, **kwargs)

    def counting_pause(attempt: int) -> None:
        method = _store_method(sys._getframe(1))
        with found._lock:
            found.retries[method] += 1
        if pause is not None:
            pause(attempt)

    RequestsTransport.send = counting_send
    if pause is not None:
        store_module._jittered_pause = counting_pause
    try:
        yield found
    finally:
        RequestsTransport.send = send
        if pause is not None:
            store_module._jittered_pause = pause


def create_collection(http: httpx.Client, stack: LocalStack, collection: str) -> None:
    """POST /api/collections from the Planetary Computer's sentinel-2-l2a template."""
    pc = running(stack.planetary_computer, "the Planetary Computer emulator")
    template = f"{pc.base_url}/api/stac/v1/collections/sentinel-2-l2a"
    created = http.post("/api/collections", json={"id": collection, "templateUrl": template})
    if created.status_code not in (200, 201):
        raise RuntimeError(f"POST /api/collections answered {created.status_code}")


def wait_for_job(
    http: httpx.Client, status_url: str, t0: float, timeout: float
) -> tuple[dict[str, Any], float | None]:
    """Poll GET /api/jobs/{id} until the job is terminal: the job, and seconds since `t0` (None
    after `timeout`)."""
    job: dict[str, Any] = {}
    while time.perf_counter() - t0 < timeout:
        job = http.get(status_url).json()
        if job.get("state") in TERMINAL:
            return job, time.perf_counter() - t0
        time.sleep(0.2)
    return job, None


def collection_item_ids(geocatalog_url: str, collection: str) -> list[str]:
    """Every item id the GeoCatalog holds in a collection, through its search (ids only)."""
    ids: list[str] = []
    body: dict[str, Any] = {
        "collections": [collection],
        "limit": 1000,
        "fields": {"include": ["id"], "exclude": ["assets", "properties", "links", "geometry"]},
    }
    with httpx.Client(
        base_url=geocatalog_url,
        headers=GEOCATALOG_HEADERS,
        timeout=120,
        params={"api-version": API_VERSION},
    ) as http:
        while True:
            response = http.post("/stac/search", json=body)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            page = response.json()
            ids.extend(str(feature["id"]) for feature in page["features"])
            following = next((k for k in page.get("links", []) if k.get("rel") == "next"), None)
            if following is None or not page["features"]:
                return ids
            body = {**body, **following.get("body", {})}
