"""Queue message contracts of the pipeline: small JSON documents that name work, never carry it.

Item payloads live in the job store (or a blob when large), so every message stays far below the
64 KiB queue limit whatever the item size, and a redelivered or redriven message needs nothing
but ids. A message may name several items or operations: the per-item path sends one, and a later
batching change can send many without changing the contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 1


class MalformedMessage(ValueError):
    """Not a message this service wrote; the reason never quotes the body (it may hold secrets)."""


@dataclass(frozen=True)
class PlanMessage:
    job_id: str
    page: int = 0
    # Where the source resumes (None: from the start); bounded in size by the sources.
    cursor: dict[str, Any] | None = None
    # Items planned by earlier pages, for maxItems.
    planned: int = 0
    throttled: int = 0

    kind = "plan"

    def to_json(self) -> str:
        return _dump(
            self,
            {"page": self.page, "cursor": self.cursor, "planned": self.planned},
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PlanMessage:
        body = _load(text, cls.kind)
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, dict):
            raise MalformedMessage("plan message cursor is not an object")
        return cls(
            job_id=_job_id(body),
            page=_count(body, "page"),
            cursor=cursor,
            planned=_count(body, "planned"),
            throttled=_count(body, "throttled"),
        )


@dataclass(frozen=True)
class ItemsMessage:
    job_id: str
    item_ids: tuple[str, ...]
    throttled: int = 0
    # Force a method after the GeoCatalog told us which one applies (upsert fallbacks).
    method: str | None = None

    kind = "items"

    def to_json(self) -> str:
        extra: dict[str, Any] = {"itemIds": list(self.item_ids)}
        if self.method:
            extra["method"] = self.method
        return _dump(self, extra)

    @classmethod
    def from_json(cls, text: str | bytes) -> ItemsMessage:
        body = _load(text, cls.kind)
        ids = body.get("itemIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise MalformedMessage("items message needs a non-empty itemIds list of strings")
        method = body.get("method")
        if method not in (None, "POST", "PUT"):
            raise MalformedMessage("items message method must be POST or PUT")
        return cls(
            job_id=_job_id(body),
            item_ids=tuple(ids),
            throttled=_count(body, "throttled"),
            method=method,
        )


@dataclass(frozen=True)
class StatusEntry:
    item_id: str
    operation_id: str


@dataclass(frozen=True)
class StatusMessage:
    job_id: str
    entries: tuple[StatusEntry, ...]
    # How many checks found the operation still running (drives the growing delay).
    check: int = 0
    throttled: int = 0

    kind = "status"

    def to_json(self) -> str:
        entries = [{"itemId": e.item_id, "operationId": e.operation_id} for e in self.entries]
        return _dump(self, {"entries": entries, "check": self.check})

    @classmethod
    def from_json(cls, text: str | bytes) -> StatusMessage:
        body = _load(text, cls.kind)
        raw = body.get("entries")
        if not isinstance(raw, list) or not raw:
            raise MalformedMessage("status message needs a non-empty entries list")
        entries = []
        for entry in raw:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("itemId"), str)
                and isinstance(entry.get("operationId"), str)
            ):
                raise MalformedMessage("status entries need itemId and operationId strings")
            entries.append(StatusEntry(entry["itemId"], entry["operationId"]))
        return cls(
            job_id=_job_id(body),
            entries=tuple(entries),
            check=_count(body, "check"),
            throttled=_count(body, "throttled"),
        )


Message = PlanMessage | ItemsMessage | StatusMessage


def peek_job_id(text: str | bytes) -> str | None:
    """The job a message belongs to, if it is one of ours (poison handling)."""
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    job = body.get("jobId") if isinstance(body, dict) else None
    return job if isinstance(job, str) and job else None


def _dump(message: Message, fields: dict[str, Any]) -> str:
    body: dict[str, Any] = {"v": VERSION, "kind": message.kind, "jobId": message.job_id}
    body.update(fields)
    if message.throttled:
        body["throttled"] = message.throttled
    return json.dumps(body, separators=(",", ":"))


def _load(text: str | bytes, kind: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise MalformedMessage(f"{kind} message is not JSON") from None
    if not isinstance(body, dict):
        raise MalformedMessage(f"{kind} message is not a JSON object")
    if body.get("kind") != kind:
        raise MalformedMessage(f"expected a {kind} message, got kind={body.get('kind')!r}")
    if body.get("v") != VERSION:
        raise MalformedMessage(f"unsupported {kind} message version {body.get('v')!r}")
    return body


def _job_id(body: dict[str, Any]) -> str:
    job = body.get("jobId")
    if not isinstance(job, str) or not job:
        raise MalformedMessage("message has no jobId")
    return job


def _count(body: dict[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedMessage(f"message field {name} must be a non-negative integer")
    return value
