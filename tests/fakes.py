"""In-memory stand-ins for remote services, for tests that exercise the service layer directly.

Each implements only the calls the service layer makes, with the GeoCatalog's documented
behaviour where it matters (one source per container, 202 + operation per item post).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
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
    """Item posts, searches by id and operations. Scripts say, per item id, what successive
    posts that carry the item do (a batch post takes one step of each of its items' scripts,
    and the first that is not "ok" decides the whole post).

    post_script[item]: list of "ok" | "throttle" | "throttle:<seconds>" | "transient" | "invalid"
    outcome_script[item]: list of (status, error_code) for successive operations carrying that
    item; operations report Running for `running_checks` reads before their outcome. A batch
    operation fails as the GeoCatalog emulator's does: one item's code for one item, the shared
    code when all failed alike, else ErrorsInBatchOperation; its good items are kept.
    """

    collections: set[str] = field(default_factory=set)
    post_script: dict[str, list[str]] = field(default_factory=dict)
    outcome_script: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    running_checks: int = 1
    existing_items: set[str] = field(default_factory=set)
    # Every item a post carried, as (method, item id); and every post, as (method, item ids).
    posts: list[tuple[str, str]] = field(default_factory=list)
    requests: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # What each post carried, in order: (method, the item as sent).
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    searches: list[tuple[str, ...]] = field(default_factory=list)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    canceled: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        if collection_id not in self.collections:
            raise NotFoundError(f"Collection '{collection_id}' not found", status=404)
        return {"id": collection_id}

    def create_items(
        self, collection_id: str, item_or_feature_collection: Mapping[str, Any] | bytes
    ) -> Operation:
        return self._post("POST", collection_id, _parsed(item_or_feature_collection))

    def replace_item(
        self, collection_id: str, item_id: str, item: Mapping[str, Any] | bytes
    ) -> Operation:
        return self._post("PUT", collection_id, _parsed(item))

    def iter_search(
        self, body: Mapping[str, Any], *, sign: bool = False, max_pages: int = 10
    ) -> Iterator[dict[str, Any]]:
        ids = tuple(body.get("ids") or ())
        with self._lock:
            self.searches.append(ids)
            found = [{"type": "Feature", "id": i} for i in ids if i in self.existing_items]
        yield {"type": "FeatureCollection", "features": found}

    def get_operation(self, operation_id: str) -> Operation:
        with self._lock:
            op = self.operations.get(operation_id)
            if op is None:
                raise NotFoundError("no such operation", status=404)
            op["reads"] += 1
            return self._state(operation_id, op)

    def iter_operations(
        self,
        *,
        collection_id: str | None = None,
        status: OperationStatus | str | None = None,
        top: int | None = None,
    ) -> Iterator[Operation]:
        with self._lock:
            listed = [self._state(op_id, op) for op_id, op in reversed(self.operations.items())]
        for operation in listed:
            if status is None or operation.status == OperationStatus.parse(str(status)):
                yield operation

    def cancel_operation(self, operation_id: str) -> None:
        self.canceled.append(operation_id)
        with self._lock:
            if operation_id in self.operations:
                # Like the service: a canceled operation reports Canceled on its next read.
                op = self.operations[operation_id]
                op["canceled"] = True
                op["reads"] = max(op["reads"], self.running_checks)

    def _state(self, operation_id: str, op: dict[str, Any]) -> Operation:
        if op["reads"] <= self.running_checks:
            return Operation(operation_id, OperationStatus.RUNNING)
        if op.get("canceled"):
            return Operation(operation_id, OperationStatus.CANCELED, error_code="CanceledOperation")
        outcomes: dict[str, tuple[str, str | None]] = op["outcomes"]
        if not op["applied"]:
            op["applied"] = True
            for item_id, (status, _) in outcomes.items():
                if status == "Succeeded":
                    self.existing_items.add(item_id)
        failed = {i: code for i, (status, code) in outcomes.items() if status != "Succeeded"}
        counters = {
            "TotalItems": str(len(outcomes)),
            "TotalSuccessfulItems": str(len(outcomes) - len(failed)),
            "TotalFailedItems": str(len(failed)),
        }
        if not failed:
            return Operation(
                operation_id, OperationStatus.SUCCEEDED, additional_information=counters
            )
        codes = set(failed.values())
        if len(outcomes) == 1 or (len(failed) == len(outcomes) and len(codes) == 1):
            code = next(iter(codes))
        else:
            code = "ErrorsInBatchOperation"
        detail = "; ".join(f"{i}: {c}" for i, c in failed.items())
        return Operation(
            operation_id,
            OperationStatus.FAILED,
            error_code=code,
            error_message=f"{code} for {detail}",
            additional_information=counters,
        )

    def _post(self, method: str, collection_id: str, body: dict[str, Any]) -> Operation:
        features = body["features"] if body.get("type") == "FeatureCollection" else [body]
        ids = [f["id"] for f in features]
        with self._lock:
            actions = []
            for item_id in ids:
                script = self.post_script.get(item_id, [])
                actions.append(script.pop(0) if script else "ok")
        action = next((a for a in actions if a != "ok"), "ok")
        if action.startswith("throttle"):
            seconds = float(action.split(":", 1)[1]) if ":" in action else None
            raise ThrottledError("slow down", status=429, retry_after=seconds)
        if action == "transient":
            raise TransientError("service unavailable", status=503)
        if action == "invalid":
            raise InvalidRequestError("bad item", status=400, code="InvalidInputData")
        with self._lock:
            self.requests.append((method, tuple(ids)))
            self.posts += [(method, item_id) for item_id in ids]
            self.bodies += [(method, feature) for feature in features]
            outcomes: dict[str, tuple[str, str | None]] = {}
            for item_id in ids:
                script_out = self.outcome_script.get(item_id, [])
                outcome = script_out.pop(0) if script_out else ("Succeeded", None)
                if (
                    method == "POST"
                    and item_id in self.existing_items
                    and outcome[0] == "Succeeded"
                ):
                    outcome = ("Failed", "ItemAlreadyExistsInCollection")
                outcomes[item_id] = outcome
            op_id = uuid.uuid4().hex
            self.operations[op_id] = {"outcomes": outcomes, "reads": 0, "applied": False}
        return Operation(op_id, OperationStatus.PENDING, collection_id=collection_id)


def _parsed(body: Mapping[str, Any] | bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else dict(body)
    return parsed


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
