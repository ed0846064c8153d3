"""A batch's items packed into properties of its one batch row.

A batch is the pipeline's unit of work and every change of it touches most of its items. Kept as
one row per item, each change was an entity-group transaction of ~100 entities, and azure-core
builds and parses those multipart bodies in pure Python: most of the service's CPU went there
(bench/README.md). Packed into the batch row, a change is one guarded entity update and a read is
one point read. Nothing queries items across batches by a property: listings go batch by batch,
picking batches by their per-state counts.

The items are one ASCII JSON text, kept over several properties (`shared.table_text`: a string
property holds 32 K characters, an entity 1 MiB); error messages are shortened for a batch that
would not fit otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.jobs.records import ItemError, ItemRecord
from shared.jobs.states import ItemState
from shared.table_text import CHUNK_CHARS, joined_text, split_text

PROPERTY = "Items"
# 14 chunks: ~900 KB as UTF-16 on the wire, with room for the batch's other properties.
MAX_CHARS = 14 * CHUNK_CHARS
# What an error message is cut to, at most, when a batch's items would not fit otherwise.
_SHORT_MESSAGE = 200


def pack(items: Sequence[ItemRecord]) -> dict[str, Any]:
    """The properties that hold `items` (their count says which chunks are current)."""
    text = _dumps(items, message_limit=None)
    if len(text) > MAX_CHARS:
        text = _dumps(items, message_limit=_SHORT_MESSAGE)
    if len(text) > MAX_CHARS:
        raise ValueError(f"a batch of {len(items)} items does not fit in one row")
    return split_text(PROPERTY, text)


def unpack(
    job_id: str, batch: str, row: Mapping[str, Any], created_at: datetime | None
) -> tuple[ItemRecord, ...]:
    text = joined_text(row, PROPERTY)
    if not text:
        return ()
    doc = json.loads(text)
    containers: list[str] = doc["containers"]
    return tuple(
        _item(job_id, batch, index, entry, containers, created_at)
        for index, entry in enumerate(doc["items"])
    )


def holds_id(row: Mapping[str, Any], item_id: str) -> bool:
    """A cheap test before unpacking: could this row hold `item_id`?"""
    return json.dumps(item_id) in joined_text(row, PROPERTY)


def _dumps(items: Sequence[ItemRecord], *, message_limit: int | None) -> str:
    containers: dict[str, int] = {}
    entries = []
    for item in items:
        entry: dict[str, Any] = {"i": item.item_id, "s": item.state.value}
        if item.attempts:
            entry["a"] = item.attempts
        if item.operation_id:
            entry["o"] = item.operation_id
        if item.error is not None:
            message = item.error.message
            if message_limit is not None:
                message = message[:message_limit]
            entry["e"] = [item.error.code, message]
        if item.containers:
            entry["c"] = [containers.setdefault(c, len(containers)) for c in item.containers]
        if item.single:
            entry["g"] = 1
        if item.unseen_post:
            entry["u"] = 1
        if item.method:
            entry["m"] = item.method
        if item.renewed:
            entry["r"] = 1
        if item.after:
            entry["w"] = item.after
        if item.updated_at is not None:
            entry["t"] = item.updated_at.isoformat()
        entries.append(entry)
    doc = {"containers": list(containers), "items": entries}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True)


def _item(
    job_id: str,
    batch: str,
    index: int,
    entry: Mapping[str, Any],
    containers: Sequence[str],
    created_at: datetime | None,
) -> ItemRecord:
    error = entry.get("e")
    stamp = entry.get("t")
    return ItemRecord(
        job_id=job_id,
        item_id=entry["i"],
        state=ItemState(entry["s"]),
        batch=batch,
        index=index,
        attempts=int(entry.get("a", 0)),
        operation_id=entry.get("o"),
        error=ItemError(error[0], error[1]) if error else None,
        containers=tuple(containers[c] for c in entry.get("c", ())),
        single=bool(entry.get("g")),
        unseen_post=bool(entry.get("u")),
        method=entry.get("m"),
        renewed=bool(entry.get("r")),
        after=entry.get("w"),
        created_at=created_at,
        updated_at=datetime.fromisoformat(stamp) if stamp else None,
    )
