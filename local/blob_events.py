"""The local stack's Event Grid for Azurite: blob writes in watched containers become
BlobCreated / BlobDeleted deliveries to the local host's Event Grid webhook.

Azurite emits no events. This source lists the watched containers every `poll_seconds`, and for
each blob that appeared or changed (new ETag) or disappeared sends an event in the real schema
(Event Grid or CloudEvents 1.0, as an Event Grid subscription would), in batches, with a
sequencer that grows with every change it sees, as Storage's does per blob. A delivery answered
with anything but 2xx is retried on Event Grid's schedule (10 s, 30 s, 1 min, 5 min, 10 min,
30 min, 1 h, then hourly; `time_scale` shrinks it for tests) up to `max_attempts`, except 400,
403 and 413, which Event Grid dead-letters at once; dead-lettered events are kept in
`dead_lettered`. Being a poller, it sees the states it lists: a blob written twice (or written
and deleted) within one poll is announced once, where Storage would send an event per write.

    python -m local.blob_events --connection-string ... --container stac-items --webhook URL
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

logger = logging.getLogger(__name__)

# Event Grid's documented retry schedule, then hourly.
RETRY_SCHEDULE_SECONDS = (10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0)
NOT_RETRIED = frozenset({400, 403, 413})
MAX_ATTEMPTS = 30
SCHEMAS = ("EventGridSchema", "CloudEventSchemaV1_0")
TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
    "Microsoft.Storage/storageAccounts/{account}"
)


@dataclass(frozen=True)
class _Seen:
    etag: str
    size: int
    content_type: str | None


@dataclass
class _Delivery:
    events: list[dict[str, Any]]
    attempts: int = 0
    due: float = 0.0


@dataclass
class BlobEventSource:
    connection_string: str
    containers: Sequence[str]
    webhook_url: str
    schema: str = "EventGridSchema"
    poll_seconds: float = 0.2
    time_scale: float = 1.0
    max_attempts: int = MAX_ATTEMPTS
    max_batch: int = 10
    headers: dict[str, str] = field(default_factory=dict)
    on_delivery: Callable[[int, int], None] | None = None
    dead_lettered: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.schema not in SCHEMAS:
            raise ValueError(f"schema must be one of {SCHEMAS}")
        self._service = BlobServiceClient.from_connection_string(self.connection_string)
        self._account = str(self._service.account_name)
        self._endpoint = str(self._service.url).rstrip("/")
        self._seen: dict[tuple[str, str], _Seen] = {}
        self._sequence = 0
        self._pending: list[_Delivery] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._http = httpx.Client(timeout=30)

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> BlobEventSource:
        # Event Grid announces writes after the subscription exists, not what was there before.
        for container in self.containers:
            for name, seen in self._list(container).items():
                self._seen[(container, name)] = seen
        for target in (self._watch, self._deliver):
            thread = threading.Thread(target=target, name=f"blob-events-{target.__name__}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._http.close()

    def __enter__(self) -> BlobEventSource:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def quiet(self) -> bool:
        """Nothing waiting to be delivered (for tests that wait for the source to settle)."""
        with self._lock:
            return not self._pending

    # ---- watching -----------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:
                logger.exception("listing the watched containers failed")

    def poll(self) -> int:
        """One pass over the watched containers; the number of events queued."""
        events = []
        for container in self.containers:
            current = self._list(container)
            for name, seen in sorted(current.items()):
                before = self._seen.get((container, name))
                if before is None or before.etag != seen.etag:
                    events.append(self._event(container, name, seen, created=True))
                    self._seen[(container, name)] = seen
            for (c, name), seen in list(self._seen.items()):
                if c == container and name not in current:
                    events.append(self._event(container, name, seen, created=False))
                    del self._seen[(c, name)]
        for start in range(0, len(events), self.max_batch):
            with self._lock:
                self._pending.append(_Delivery(events[start : start + self.max_batch]))
        return len(events)

    def _list(self, container: str) -> dict[str, _Seen]:
        try:
            blobs = self._service.get_container_client(container).list_blobs()
            return {
                b.name: _Seen(str(b.etag), int(b.size or 0), b.content_settings.content_type)
                for b in blobs
            }
        except ResourceNotFoundError:
            return {}

    def _event(self, container: str, name: str, seen: _Seen, *, created: bool) -> dict[str, Any]:
        self._sequence += 1
        url = f"{self._endpoint}/{container}/{quote(name)}"
        data: dict[str, Any] = {
            "api": "PutBlob" if created else "DeleteBlob",
            "clientRequestId": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            "contentType": seen.content_type or "application/octet-stream",
            "blobType": "BlockBlob",
            "url": url,
            # Storage's sequencers are fixed-width hex, comparable per blob name.
            "sequencer": f"{self._sequence:032x}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        }
        if created:
            data["eTag"] = seen.etag
            data["contentLength"] = seen.size
        kind = "Microsoft.Storage.BlobCreated" if created else "Microsoft.Storage.BlobDeleted"
        subject = f"/blobServices/default/containers/{container}/blobs/{name}"
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        topic = TOPIC.format(account=self._account)
        if self.schema == "CloudEventSchemaV1_0":
            return {
                "specversion": "1.0",
                "type": kind,
                "source": topic,
                "id": str(uuid.uuid4()),
                "time": now,
                "subject": subject,
                "datacontenttype": "application/json",
                "data": data,
            }
        return {
            "topic": topic,
            "subject": subject,
            "eventType": kind,
            "eventTime": now,
            "id": str(uuid.uuid4()),
            "data": data,
            "dataVersion": "",
            "metadataVersion": "1",
        }

    # ---- delivering ---------------------------------------------------------------------------

    def _deliver(self) -> None:
        while not self._stop.wait(0.05):
            now = time.monotonic()
            with self._lock:
                due = [d for d in self._pending if d.due <= now]
            for delivery in due:
                self._attempt(delivery)

    def _attempt(self, delivery: _Delivery) -> None:
        delivery.attempts += 1
        content_type = (
            "application/cloudevents-batch+json; charset=utf-8"
            if self.schema == "CloudEventSchemaV1_0"
            else "application/json"
        )
        headers = {
            "aeg-event-type": "Notification",
            "aeg-delivery-count": str(delivery.attempts - 1),
            "Content-Type": content_type,
            **self.headers,
        }
        try:
            status = self._http.post(
                self.webhook_url, content=json.dumps(delivery.events), headers=headers
            ).status_code
        except httpx.HTTPError:
            status = 0
        if self.on_delivery is not None:
            self.on_delivery(status, len(delivery.events))
        if 200 <= status < 300:
            self._done(delivery, delivered=True)
            return
        if status in NOT_RETRIED or delivery.attempts >= self.max_attempts:
            logger.warning(
                "events dead-lettered after %s attempt(s) (last status %s)",
                delivery.attempts,
                status,
            )
            self._done(delivery, delivered=False)
            return
        step = RETRY_SCHEDULE_SECONDS[min(delivery.attempts - 1, len(RETRY_SCHEDULE_SECONDS) - 1)]
        delivery.due = time.monotonic() + step * self.time_scale
        logger.info(
            "delivery answered %s; retry %s in %.1f s",
            status,
            delivery.attempts,
            step * self.time_scale,
        )

    def _done(self, delivery: _Delivery, *, delivered: bool) -> None:
        with self._lock:
            self._pending.remove(delivery)
            (self.delivered if delivered else self.dead_lettered).extend(delivery.events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.blob_events", description=__doc__)
    parser.add_argument("--connection-string", required=True)
    parser.add_argument("--container", action="append", required=True)
    parser.add_argument("--webhook", required=True)
    parser.add_argument("--schema", choices=SCHEMAS, default="EventGridSchema")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    source = BlobEventSource(args.connection_string, args.container, args.webhook, args.schema)
    with source:
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
