"""Sending pipeline messages, optionally delayed (the queue's visibility timeout is the timer)."""

from __future__ import annotations

import contextlib
import math

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from shared.messages import Message
from shared.settings import QueueNames, StorageSettings
from shared.storage import queue_client

# Azure Storage refuses a visibility timeout beyond 7 days.
MAX_DELAY_SECONDS = 7 * 24 * 3600


class IngestQueues:
    def __init__(self, storage: StorageSettings, names: QueueNames) -> None:
        self.names = names
        self._clients: dict[str, QueueClient] = {
            kind: queue_client(storage, name)
            for kind, name in (
                ("plan", names.plan),
                ("items", names.items),
                ("status", names.status),
            )
        }
        self._poison: dict[str, QueueClient] = {
            kind: queue_client(storage, f"{name}-poison")
            for kind, name in (
                ("plan", names.plan),
                ("items", names.items),
                ("status", names.status),
            )
        }

    def ensure(self) -> None:
        for client in (*self._clients.values(), *self._poison.values()):
            with contextlib.suppress(ResourceExistsError):
                client.create_queue()

    def send(self, message: Message, *, delay_seconds: float = 0.0) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
        self._clients[message.kind].send_message(
            message.to_json(), visibility_timeout=delay or None
        )

    def approximate_depths(self) -> dict[str, int]:
        """Messages waiting per queue (including poison queues), for health and benchmarks."""
        depths = {}
        for kind, client in self._clients.items():
            depths[kind] = client.get_queue_properties().approximate_message_count or 0
        for kind, client in self._poison.items():
            depths[f"{kind}-poison"] = client.get_queue_properties().approximate_message_count or 0
        return depths
