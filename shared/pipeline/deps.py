"""What the pipeline steps need, passed in (never imported as globals), so tests can swap parts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from shared.geocatalog.ingestion_sources import IngestionSourceManager
from shared.geocatalog.models import Operation, OperationStatus
from shared.jobs.store import JobStore
from shared.messages import Message
from shared.payloads import PayloadStore
from shared.settings import Settings


class ItemCatalog(Protocol):
    """The GeoCatalog calls of the item path (GeoCatalogClient provides them)."""

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]: ...

    def create_items(
        self, collection_id: str, item_or_feature_collection: Mapping[str, Any] | bytes
    ) -> Operation: ...

    def replace_item(
        self, collection_id: str, item_id: str, item: Mapping[str, Any] | bytes
    ) -> Operation: ...

    def iter_search(
        self, body: Mapping[str, Any], *, sign: bool = False, max_pages: int = ...
    ) -> Iterator[dict[str, Any]]: ...

    def get_operation(self, operation_id: str) -> Operation: ...

    def iter_operations(
        self,
        *,
        collection_id: str | None = None,
        status: OperationStatus | str | None = None,
        top: int | None = None,
    ) -> Iterator[Operation]: ...

    def cancel_operation(self, operation_id: str) -> None: ...


class MessageSender(Protocol):
    def send(self, message: Message, *, delay_seconds: float = 0.0) -> None: ...


# Creates (or brings up to date) the target collection from a template URL: the bootstrap.
EnsureCollection = Callable[[str, str], object]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PipelineDeps:
    settings: Settings
    store: JobStore
    queues: MessageSender
    payloads: PayloadStore
    catalog: ItemCatalog
    ingestion_sources: IngestionSourceManager
    http: requests.Session
    ensure_collection: EnsureCollection
    clock: Callable[[], datetime] = _utcnow
    rng: random.Random = field(default_factory=random.Random)
    # Short waits inside one step (between tries of a source document); tests pass a recorder.
    sleep: Callable[[float], None] = time.sleep
