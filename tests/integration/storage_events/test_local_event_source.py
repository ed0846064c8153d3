"""The local Event Grid for Azurite: real-schema events for writes and deletes, and Event Grid's
delivery rules (retry on non-2xx on its schedule, no retry on 400/403/413)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from local.azurite import Azurite
from local.blob_events import BlobEventSource

pytestmark = pytest.mark.integration


class Webhook:
    """An HTTP endpoint answering with scripted statuses (then 202), recording every request."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                webhook.requests.append((dict(self.headers), body))
                status = webhook.statuses.pop(0) if webhook.statuses else 202
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/runtime/webhooks/eventgrid"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def wait_for(what: str, predicate: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(0.05)
    return value


def test_writes_and_deletes_become_events_retried_until_accepted(
    azurite: Azurite, unique_name: str, webhook: Webhook
) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.create_container(unique_name)
    container.upload_blob("before.json", b"{}")  # there before the subscription: not announced
    webhook.statuses = [500, 503]
    source = BlobEventSource(
        azurite.connection_string, [unique_name], webhook.url, poll_seconds=0.05, time_scale=0.01
    )
    with source:
        container.upload_blob("a/item.json", b'{"v": 1}')
        wait_for("the write delivered", lambda: source.delivered)
        container.upload_blob("a/item.json", b'{"v": 2}', overwrite=True)
        # A poll sees each state it lists: changes faster than a poll coalesce into one event.
        wait_for("the second write delivered", lambda: len(source.delivered) >= 2)
        container.delete_blob("a/item.json")
        wait_for("three events delivered", lambda: len(source.delivered) >= 3)
    first_headers, first = webhook.requests[0]
    assert first_headers["aeg-event-type"] == "Notification"
    # The first batch was answered 500, then 503, and delivered on the third attempt.
    assert [json.dumps(b) for _, b in webhook.requests[:3]] == [json.dumps(first)] * 3
    assert [h["aeg-delivery-count"] for h, _ in webhook.requests[:3]] == ["0", "1", "2"]
    kinds = [e["eventType"] for e in source.delivered]
    assert kinds == [
        "Microsoft.Storage.BlobCreated",
        "Microsoft.Storage.BlobCreated",
        "Microsoft.Storage.BlobDeleted",
    ]
    created = source.delivered[0]
    assert created["subject"] == f"/blobServices/default/containers/{unique_name}/blobs/a/item.json"
    assert created["data"]["url"].endswith(f"/devstoreaccount1/{unique_name}/a/item.json")
    assert created["data"]["eTag"]
    sequencers = [e["data"]["sequencer"] for e in source.delivered]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == 3
    assert not any("before.json" in e["subject"] for e in source.delivered)


def test_a_refused_delivery_is_dead_lettered_without_retries(
    azurite: Azurite, unique_name: str, webhook: Webhook
) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.create_container(unique_name)
    webhook.statuses = [400]
    source = BlobEventSource(
        azurite.connection_string,
        [unique_name],
        webhook.url,
        schema="CloudEventSchemaV1_0",
        poll_seconds=0.05,
        time_scale=0.01,
    )
    with source:
        container.upload_blob("x.json", b"{}")
        wait_for("the event dead-lettered", lambda: source.dead_lettered)
    assert len(webhook.requests) == 1
    headers, [event] = webhook.requests[0]
    assert headers["Content-Type"].startswith("application/cloudevents-batch+json")
    assert event["specversion"] == "1.0"
    assert event["type"] == "Microsoft.Storage.BlobCreated"
