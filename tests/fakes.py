"""In-memory stand-ins for remote services, for tests that exercise the service layer directly.

Each implements only the calls the service layer makes, with the GeoCatalog's documented
behaviour where it matters (one source per container, 202 + operation per item post).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.geocatalog.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ThrottledError,
    TransientError,
)
from shared.geocatalog.models import (
    IngestionSource,
    IngestionSourceSummary,
    Operation,
    OperationStatus,
    SasToken,
)
from shared.messages import Message

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class FakeSourceCatalog:
    """Ingestion sources with the GeoCatalog's one-source-per-container rule."""

    sources: dict[str, IngestionSource] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def add(self, container: str, expires: datetime) -> IngestionSource:
        source = IngestionSource(uuid.uuid4().hex, "SasToken", container, expires)
        self.sources[source.id] = source
        return source

    def list_ingestion_sources(self) -> Sequence[IngestionSourceSummary]:
        self.calls.append("list")
        return [IngestionSourceSummary(s.id, s.kind) for s in self.sources.values()]

    def get_ingestion_source(self, source_id: str) -> IngestionSource:
        self.calls.append(f"get {source_id}")
        if source_id not in self.sources:
            raise NotFoundError("gone", status=404)
        return self.sources[source_id]

    def create_ingestion_source(self, container_url: str, sas_token: str) -> IngestionSource:
        self.calls.append("create")
        if any(s.container_url == container_url for s in self.sources.values()):
            raise ConflictError("exists", status=409)
        source = IngestionSource(uuid.uuid4().hex, "SasToken", container_url, expiry_of(sas_token))
        self.sources[source.id] = source
        return source

    def replace_ingestion_source(
        self, source_id: str, container_url: str, sas_token: str
    ) -> IngestionSource:
        self.calls.append(f"replace {source_id}")
        if source_id not in self.sources:
            raise NotFoundError("gone", status=404)
        source = IngestionSource(source_id, "SasToken", container_url, expiry_of(sas_token))
        self.sources[source_id] = source
        return source


def expiry_of(token: str) -> datetime:
    se = dict(p.split("=", 1) for p in token.split("&"))["se"]
    return datetime.fromisoformat(se)


@dataclass
class FakeSasProvider:
    lifetime: timedelta | None = timedelta(minutes=45)
    serves: tuple[str, ...] | None = None  # container URL prefixes served; None: all
    calls: int = 0
    now: datetime = NOW

    def token_for(self, container_url: str) -> SasToken | None:
        self.calls += 1
        if self.lifetime is None:
            return None
        if self.serves is not None and not container_url.startswith(self.serves):
            return None
        expires = self.now + self.lifetime
        return SasToken(f"sv=2024&se={expires.isoformat()}&sig=secret", expires)


@dataclass
class FakeItemCatalog:
    """Item posts and operations. Scripts say, per item id, what successive calls do.

    post_script[item]: list of "ok" | "throttle" | "throttle:<seconds>" | "transient" | "invalid"
    outcome_script[item]: list of (status, error_code) for successive operations of that item;
    operations report Running for `running_checks` reads before their outcome.
    """

    collections: set[str] = field(default_factory=set)
    post_script: dict[str, list[str]] = field(default_factory=dict)
    outcome_script: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    running_checks: int = 1
    existing_items: set[str] = field(default_factory=set)
    posts: list[tuple[str, str]] = field(default_factory=list)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    canceled: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        if collection_id not in self.collections:
            raise NotFoundError(f"Collection '{collection_id}' not found", status=404)
        return {"id": collection_id}

    def create_items(
        self, collection_id: str, item_or_feature_collection: Mapping[str, Any]
    ) -> Operation:
        return self._post("POST", collection_id, dict(item_or_feature_collection))

    def replace_item(self, collection_id: str, item_id: str, item: Mapping[str, Any]) -> Operation:
        return self._post("PUT", collection_id, dict(item))

    def get_item(self, collection_id: str, item_id: str, *, sign: bool = False) -> dict[str, Any]:
        if item_id not in self.existing_items:
            raise NotFoundError("no such item", status=404)
        return {"id": item_id}

    def get_operation(self, operation_id: str) -> Operation:
        with self._lock:
            op = self.operations.get(operation_id)
            if op is None:
                raise NotFoundError("no such operation", status=404)
            op["reads"] += 1
            if op["reads"] <= self.running_checks:
                return Operation(operation_id, OperationStatus.RUNNING)
            status, code = op["outcome"]
            if status == "Succeeded":
                self.existing_items.add(op["item"])
            return Operation(
                operation_id,
                OperationStatus.parse(status),
                error_code=code,
                error_message=f"{code} for {op['item']}" if code else None,
            )

    def cancel_operation(self, operation_id: str) -> None:
        self.canceled.append(operation_id)
        with self._lock:
            if operation_id in self.operations:
                # Like the service: a canceled operation reports Canceled on its next read.
                op = self.operations[operation_id]
                op["outcome"] = ("Canceled", "CanceledOperation")
                op["reads"] = max(op["reads"], self.running_checks)

    def _post(self, method: str, collection_id: str, item: dict[str, Any]) -> Operation:
        item_id = item["id"]
        with self._lock:
            script = self.post_script.get(item_id, [])
            action = script.pop(0) if script else "ok"
        if action.startswith("throttle"):
            seconds = float(action.split(":", 1)[1]) if ":" in action else None
            raise ThrottledError("slow down", status=429, retry_after=seconds)
        if action == "transient":
            raise TransientError("service unavailable", status=503)
        if action == "invalid":
            raise InvalidRequestError("bad item", status=400, code="InvalidInputData")
        with self._lock:
            self.posts.append((method, item_id))
            outcomes = self.outcome_script.get(item_id, [])
            outcome = outcomes.pop(0) if outcomes else ("Succeeded", None)
            if method == "POST" and item_id in self.existing_items and outcome[0] == "Succeeded":
                outcome = ("Failed", "ItemAlreadyExistsInCollection")
            op_id = uuid.uuid4().hex
            self.operations[op_id] = {"item": item_id, "outcome": outcome, "reads": 0}
        return Operation(op_id, OperationStatus.PENDING, collection_id=collection_id)


@dataclass
class RecordingQueue:
    """Collects sent messages with their delays instead of sending them."""

    sent: list[tuple[Message, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: Message, *, delay_seconds: float = 0.0) -> None:
        with self._lock:
            self.sent.append((message, delay_seconds))

    def take(self) -> list[tuple[Message, float]]:
        with self._lock:
            taken, self.sent = self.sent, []
        return taken
