"""Per-blob records: the newest version of each watched blob the service has acted on.

Event Grid delivers at least once and in no particular order. Each blob (per route) has one row
holding the highest `sequencer` seen, the rolling job its items went to and their ids; an event
is acted on only if it wins an ETag-guarded compare-and-set against that row, so a redelivery is
recognised and an older version arriving after a newer one is never ingested over it.

The rows live in the job table under their own partitions (`~blob|<hash>`), apart from every
job's partition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.table_text import joined_text, split_text

PARTITION_PREFIX = "~blob|"
ROW = "state"
_MAX_RACES = 20


class BlobStateContended(RuntimeError):
    """Other deliveries kept winning the blob's row; the host retries the event."""


@dataclass(frozen=True)
class BlobRecord:
    route: str
    url: str
    # sequencer_key() of the newest version acted on ("" when the event carried none).
    sequencer: str
    # UTC day (YYYY-MM-DD) and generation of the rolling job(s) that version went to.
    day: str
    generation: int
    job_ids: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()
    # What happened to that version: "registered", "deleted", "gone", "delete-ignored".
    outcome: str = ""
    # Collection per item id, so that a later BlobDeleted knows what to delete.
    collections: dict[str, str] = field(default_factory=dict)
    event_id: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """The outcome of comparing an event with the blob's row."""

    # "new": this event's version is the newest and is now recorded; "same": a redelivery (or
    # another event) of the recorded version; "older": a newer version was recorded already.
    verdict: str
    record: BlobRecord


def _utcnow() -> datetime:
    return datetime.now(UTC)


def partition_of(route: str, url: str) -> str:
    digest = hashlib.sha256(f"{route}\n{url}".encode()).hexdigest()[:40]
    return PARTITION_PREFIX + digest


class BlobStateStore:
    def __init__(self, table: TableClient, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._table = table
        self._now = clock

    def get(self, route: str, url: str) -> BlobRecord | None:
        entity = self._entity(route, url)
        return None if entity is None else _record(entity)

    def claim(
        self,
        route: str,
        url: str,
        *,
        sequencer: str,
        event_id: str,
        next_record: Callable[[BlobRecord | None], BlobRecord],
    ) -> Claim:
        """Compare the event's version with the row and, when it is newer, record it as the
        blob's current version (built by `next_record` from the previous row)."""
        for _ in range(_MAX_RACES):
            entity = self._entity(route, url)
            current = None if entity is None else _record(entity)
            if current is not None:
                if sequencer == current.sequencer:
                    return Claim("same", current)
                if sequencer < current.sequencer:
                    return Claim("older", current)
            record = replace(
                next_record(current), sequencer=sequencer, event_id=event_id, updated_at=self._now()
            )
            try:
                if entity is None:
                    self._table.create_entity(_entity(record))
                else:
                    self._table.update_entity(
                        _entity(record),
                        mode=UpdateMode.REPLACE,
                        etag=entity.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                continue
            return Claim("new", record)
        raise BlobStateContended(url)

    def update(
        self, route: str, url: str, sequencer: str, change: Callable[[BlobRecord], BlobRecord]
    ) -> BlobRecord | None:
        """Change the row if it still holds `sequencer` (a newer version leaves it alone)."""
        for _ in range(_MAX_RACES):
            entity = self._entity(route, url)
            if entity is None:
                return None
            current = _record(entity)
            if current.sequencer != sequencer:
                return None
            after = replace(change(current), updated_at=self._now())
            try:
                self._table.update_entity(
                    _entity(after),
                    mode=UpdateMode.REPLACE,
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                continue
            return after
        raise BlobStateContended(url)

    def _entity(self, route: str, url: str) -> Any:
        try:
            return self._table.get_entity(partition_of(route, url), ROW)
        except ResourceNotFoundError:
            return None


def _entity(record: BlobRecord) -> dict[str, Any]:
    return {
        "PartitionKey": partition_of(record.route, record.url),
        "RowKey": ROW,
        "Route": record.route,
        "Url": record.url,
        "Sequencer": record.sequencer,
        "Day": record.day,
        "Generation": record.generation,
        "JobIds": json.dumps(list(record.job_ids)),
        # A FeatureCollection blob may hold thousands of items: more ids than one property holds.
        **split_text("ItemIds", json.dumps(list(record.item_ids))),
        **split_text("Collections", json.dumps(record.collections)),
        "Outcome": record.outcome,
        "EventId": record.event_id,
        "UpdatedAt": record.updated_at,
    }


def _record(entity: Any) -> BlobRecord:
    return BlobRecord(
        route=entity["Route"],
        url=entity["Url"],
        sequencer=entity.get("Sequencer") or "",
        day=entity.get("Day") or "",
        generation=int(entity.get("Generation") or 0),
        job_ids=tuple(json.loads(entity.get("JobIds") or "[]")),
        item_ids=tuple(json.loads(joined_text(entity, "ItemIds") or "[]")),
        collections=json.loads(joined_text(entity, "Collections") or "{}"),
        outcome=entity.get("Outcome") or "",
        event_id=entity.get("EventId") or "",
        updated_at=entity.get("UpdatedAt"),
    )
