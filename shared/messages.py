"""Queue message contracts of the pipeline: small JSON documents that name work, never carry it.

Item payloads live in one blob per batch (the batch row says which), so every message stays far below the
64 KiB queue limit whatever the item size, and a redelivered or redriven message needs nothing
but ids. The unit of work is the batch: an items message names one batch, a status message one
batch and the operations that carry its items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 2
# Batch keys are bounded by the job store (shared.jobs.keys.batch_key).
_MAX_BATCH_KEY = 200


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
class BatchMessage:
    """Post the open items of one batch (a few dozen items: one FeatureCollection)."""

    job_id: str
    batch: str
    throttled: int = 0

    kind = "items"

    def to_json(self) -> str:
        return _dump(self, {"batch": self.batch})

    @classmethod
    def from_json(cls, text: str | bytes) -> BatchMessage:
        body = _load(text, cls.kind)
        return cls(job_id=_job_id(body), batch=_batch(body), throttled=_count(body, "throttled"))


@dataclass(frozen=True)
class StatusMessage:
    """Check the GeoCatalog operations that carry items of one batch."""

    job_id: str
    batch: str
    operation_ids: tuple[str, ...]
    # How many checks found an operation still running (drives the growing delay).
    check: int = 0
    throttled: int = 0

    kind = "status"

    def to_json(self) -> str:
        return _dump(
            self,
            {"batch": self.batch, "operationIds": list(self.operation_ids), "check": self.check},
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> StatusMessage:
        body = _load(text, cls.kind)
        ids = body.get("operationIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise MalformedMessage("status message needs a non-empty operationIds list of strings")
        return cls(
            job_id=_job_id(body),
            batch=_batch(body),
            operation_ids=tuple(ids),
            check=_count(body, "check"),
            throttled=_count(body, "throttled"),
        )


Message = PlanMessage | BatchMessage | StatusMessage


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


def _batch(body: dict[str, Any]) -> str:
    batch = body.get("batch")
    if not isinstance(batch, str) or not batch or len(batch) > _MAX_BATCH_KEY:
        raise MalformedMessage("message has no valid batch key")
    return batch


def _count(body: dict[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedMessage(f"message field {name} must be a non-negative integer")
    return value
