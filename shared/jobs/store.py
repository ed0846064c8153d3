"""Job state in Azure Table storage: a job row, and per batch one row holding its items.

Counts stay exact under concurrent and repeated delivery because every change of a batch (any
number of its items changing state, and the counts per state beside them) is ONE entity update
guarded by the batch row's ETag: either all of it lands or none, and a writer that read a stale
batch re-reads and decides again. A job's counts are the sum of its batch rows, read with one
key-range query. How the items are packed into the row: `shared.jobs.packed_items`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

from shared.jobs import keys, listing, packed_items
from shared.jobs.records import BatchRecord, ItemError, ItemRecord, JobRecord, JobView, NewItem
from shared.jobs.source_problems import SourceProblems
from shared.jobs.states import (
    ERROR_STATES,
    OPEN_STATES,
    ItemState,
    JobState,
    is_settled,
)

logger = logging.getLogger(__name__)

# A batch goes to the GeoCatalog as one FeatureCollection, which takes about a hundred items.
MAX_BATCH_ITEMS = 99
_MAX_CONFLICT_RETRIES = 60
_ERROR_MESSAGE_LIMIT = 2000
_STATE_PROPS = {state: f"N_{state.value}" for state in ItemState}
_BATCH_SELECT = [
    "PartitionKey",
    "RowKey",
    "UpdatedAt",
    *_STATE_PROPS.values(),
]


class JobExists(Exception):
    """create_job was called twice with the same id."""


class ConcurrencyExhausted(RuntimeError):
    """An optimistic update kept losing to other writers; the caller should let the host retry."""


@dataclass(frozen=True)
class ItemUpdate:
    """What a change of an item sets besides its state; None/False leaves a field as it is."""

    operation_id: str | None = None
    clear_operation: bool = False
    error: ItemError | None = None
    clear_error: bool = False
    add_attempt: bool = False
    reset_attempts: bool = False
    single: bool | None = None
    unseen_post: bool | None = None
    method: str | None = None
    clear_method: bool = False
    renewed: bool | None = None


@dataclass(frozen=True)
class BatchChange:
    """What one write does to a batch: items (by index) to a state, and the batch row."""

    items: Mapping[int, tuple[ItemState, ItemUpdate]] = field(default_factory=dict)
    claim: str | None = None
    clear_claim: bool = False
    chunk_size: int | None = None
    # Write the row even if nothing else changes: its UpdatedAt tells the sweep that whoever
    # follows the batch (a status check still waiting on an operation) is alive.
    touch: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.items
            or self.claim is not None
            or self.clear_claim
            or self.chunk_size is not None
            or self.touch
        )


@dataclass(frozen=True)
class ChangeResult:
    applied: bool
    # The batch as written (or as read, when nothing was applied); None if there is none.
    batch: BatchRecord | None
    # The change left the batch with nothing in flight: the job may have settled, so the
    # caller should settle() it. The last batch to settle always sees this.
    drained: bool = False


@dataclass(frozen=True)
class BatchSummary:
    """A batch row without its items: enough for counts, sweeps, retry and cancel."""

    key: str
    counts: dict[ItemState, int]
    # When any of its items last changed state, or a status check last looked at it.
    updated_at: datetime | None

    @property
    def open(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN_STATES)


@dataclass(frozen=True)
class ItemPage:
    items: tuple[ItemRecord, ...]
    continuation: dict[str, str] | None


# Decides, from a batch as just read, what to change (None: nothing). May run more than once.
Decide = Callable[[BatchRecord], BatchChange | None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class JobStore:
    def __init__(
        self,
        table: TableClient,
        *,
        clock: Callable[[], datetime] = _utcnow,
        backoff: Callable[[int], None] | None = None,
    ) -> None:
        self._table = table
        self._now = clock
        self._backoff = backoff or _jittered_pause

    # ---- jobs -------------------------------------------------------------------------------

    def ensure_table(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._table.create_table()

    def create_job(self, job: JobRecord) -> None:
        """The job row and its active-index row."""
        try:
            self._table.create_entity(_job_entity(job))
        except ResourceExistsError:
            raise JobExists(job.job_id) from None
        self._table.upsert_entity(
            {"PartitionKey": keys.ACTIVE_PARTITION, "RowKey": job.job_id, "Since": job.created_at}
        )
        listing.index_job(self._table, job)

    def delete_job(self, job_id: str) -> None:
        """Remove every row of a job (used to undo a job whose first message could not be sent)."""
        job = self.get_job(job_id)
        if job is not None:
            listing.unindex_job(self._table, job)
        lo, hi = keys.batch_range(job_id)
        rows = self._table.query_entities(
            "PartitionKey eq @pk or ( PartitionKey ge @lo and PartitionKey lt @hi )",
            parameters={"pk": job_id, "lo": lo, "hi": hi},
            select=["PartitionKey", "RowKey"],
        )
        for row in rows:
            self._table.delete_entity(row["PartitionKey"], row["RowKey"])
        self._table.delete_entity(keys.ACTIVE_PARTITION, job_id)

    def get_job(self, job_id: str) -> JobRecord | None:
        entity = self._get(job_id, keys.JOB_ROW)
        return None if entity is None else _job_from_entity(entity)

    def update_job(self, job_id: str, change: Callable[[JobRecord], JobRecord]) -> JobRecord:
        """Read-modify-write of the job row under its ETag; `change` may run more than once."""
        for attempt in range(_MAX_CONFLICT_RETRIES):
            entity = self._get(job_id, keys.JOB_ROW)
            if entity is None:
                raise KeyError(job_id)
            before = _job_from_entity(entity)
            after = change(before)
            if after == before:
                return before
            after = replace(after, updated_at=self._now())
            try:
                self._table.update_entity(
                    _job_entity(after),
                    mode=UpdateMode.REPLACE,
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return after
            except ResourceModifiedError:
                self._backoff(attempt)
        raise ConcurrencyExhausted(f"job {job_id}")

    def batches(self, job_id: str) -> list[BatchSummary]:
        """Every batch row of the job without its items (one key-range query), in batch order."""
        lo, hi = keys.batch_range(job_id)
        rows = self._table.query_entities(
            "PartitionKey ge @lo and PartitionKey lt @hi and RowKey eq @row",
            parameters={"lo": lo, "hi": hi, "row": keys.BATCH_ROW},
            select=_BATCH_SELECT,
        )
        return [_summary(row) for row in rows]

    def counts(self, job_id: str) -> dict[ItemState, int]:
        return _sum_counts(self.batches(job_id))

    def first_errors(
        self, job_id: str, limit: int = 10, *, batches: Sequence[BatchSummary] | None = None
    ) -> tuple[tuple[str, ItemError], ...]:
        """The first items in an error state, in source order; reads only batches with any."""
        found: list[tuple[str, ItemError]] = []
        if limit <= 0:
            return ()
        for batch in batches if batches is not None else self.batches(job_id):
            if not any(batch.counts.get(s, 0) for s in ERROR_STATES):
                continue
            for item in self._items_of(job_id, batch.key, ERROR_STATES):
                if item.error is not None:
                    found.append((item.item_id, item.error))
                if len(found) >= limit:
                    return tuple(found)
        return tuple(found)

    def view(self, job_id: str, *, error_limit: int = 10) -> JobView | None:
        job = self.get_job(job_id)
        return None if job is None else self._view(job, error_limit)

    def _view(self, job: JobRecord, error_limit: int = 10) -> JobView:
        job_id = job.job_id
        batches = self.batches(job_id)
        counts = _sum_counts(batches)
        state = job.state_for(counts)
        errors = self.first_errors(job_id, error_limit, batches=batches)
        return JobView(job, state, counts, errors)

    def settle(self, job_id: str, *, error_limit: int = 0) -> JobView | None:
        """Persist the terminal state once nothing is left in flight (idempotent).

        The view it returns holds the first `error_limit` errors: the steps that settle after
        each batch need only the counts, and errors cost reading the batches that hold them.
        """
        job = self.get_job(job_id)
        if job is None:
            return None
        if not job.planning_done and job.completed_at is None:
            # Planning settles the job itself when it ends; counting the batches of a job that
            # is still being planned would be wasted reads.
            return None
        view = self._view(job, error_limit)
        if not is_settled(planning_done=view.job.planning_done, counts=view.counts):
            return view
        if view.job.settled_state != view.state or view.job.completed_at is None:
            now, final = self._now(), view.state

            def mark(job: JobRecord) -> JobRecord:
                return replace(job, settled_state=final, completed_at=job.completed_at or now)

            job = self.update_job(job_id, mark)
            view = replace(view, job=job)
            logger.info(
                "job %s settled as %s",
                job_id,
                view.state.value,
                extra={"jobId": job_id, "state": view.state.value},
            )
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(keys.ACTIVE_PARTITION, job_id)
        return view

    def reopen(self, job_id: str) -> None:
        """A settled job gets work again (retry): clear the settled mark, re-list it as active."""

        def unsettle(job: JobRecord) -> JobRecord:
            return replace(job, settled_state=None, completed_at=None)

        job = self.update_job(job_id, unsettle)
        self._table.upsert_entity(
            {"PartitionKey": keys.ACTIVE_PARTITION, "RowKey": job_id, "Since": job.updated_at}
        )

    def active_jobs(self) -> list[str]:
        rows = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": keys.ACTIVE_PARTITION}, select=["RowKey"]
        )
        return [row["RowKey"] for row in rows]

    def mark_page_done(self, job_id: str, page: int) -> bool:
        """True the first time a plan page is marked done; redeliveries see False."""
        try:
            self._table.create_entity(
                {"PartitionKey": job_id, "RowKey": keys.page_key(page), "At": self._now()}
            )
        except ResourceExistsError:
            return False
        return True

    def is_page_sent(self, job_id: str, page: int) -> bool:
        return self._get(job_id, keys.sent_key(page)) is not None

    def mark_page_sent(self, job_id: str, page: int) -> None:
        self._table.upsert_entity(
            {"PartitionKey": job_id, "RowKey": keys.sent_key(page), "At": self._now()}
        )

    def pages_done(self, job_id: str) -> int:
        """How many plan pages of the job are marked done."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={
                "pk": job_id,
                "lo": keys.PAGE_PREFIX,
                "hi": keys.range_end(keys.PAGE_PREFIX),
            },
            select=["RowKey"],
        )
        return sum(1 for _ in rows)

    def is_page_done(self, job_id: str, page: int) -> bool:
        return self._get(job_id, keys.page_key(page)) is not None

    # ---- batches ----------------------------------------------------------------------------

    def register_batch(
        self,
        job_id: str,
        batch: str,
        items: Sequence[NewItem],
        *,
        payload_ref: str | None = None,
    ) -> bool:
        """Insert a batch: one row holding its items and counting them per state.

        True if this call registered it; False if it was registered already (a redelivered
        unit of work): all of a batch lands, or none of it, so there is nothing to mend.
        """
        if not 0 < len(items) <= MAX_BATCH_ITEMS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, not {len(items)}")
        now = self._now()
        records = [_new_item(job_id, batch, i, item, now) for i, item in enumerate(items)]
        row: dict[str, Any] = {
            "PartitionKey": keys.batch_partition(job_id, batch),
            "RowKey": keys.BATCH_ROW,
            "CreatedAt": now,
            "UpdatedAt": now,
            **dict.fromkeys(_STATE_PROPS.values(), 0),
            **packed_items.pack(records),
        }
        if payload_ref is not None:
            row["PayloadRef"] = payload_ref
        for item in items:
            row[_STATE_PROPS[item.state]] += 1
        try:
            self._table.create_entity(row)
        except ResourceExistsError:
            return False
        return True

    def read_batch(self, job_id: str, batch: str) -> BatchRecord | None:
        """The batch row with all its items: one point read."""
        row = self._get(keys.batch_partition(job_id, batch), keys.BATCH_ROW)
        if row is None:
            return None
        items = packed_items.unpack(job_id, batch, row, row.get("CreatedAt"))
        return _batch_from_entity(job_id, batch, row, items)

    def change_batch(
        self, job_id: str, batch: str, decide: Decide, *, seen: BatchRecord | None = None
    ) -> ChangeResult:
        """Read the batch, let `decide` say what changes, write it all in one entity update.

        The write is guarded by the batch row's ETag: if another writer got there first, the
        batch is read again and `decide` runs again on what is there now, so a decision is
        always made on the batch as it is when it is written.
        """
        for attempt in range(_MAX_CONFLICT_RETRIES):
            # The caller's fresh read saves a query; if it is stale, the write says so.
            current = (
                seen
                if attempt == 0 and seen is not None and seen.etag
                else self.read_batch(job_id, batch)
            )
            if current is None:
                return ChangeResult(False, None)
            change = decide(current)
            if not change:
                return ChangeResult(False, current)
            entity, after = self._change_entity(current, change)
            try:
                written = self._table.update_entity(
                    entity,
                    mode=UpdateMode.MERGE,
                    etag=current.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                self._backoff(attempt)
                continue
            drained = _open(current.counts) > 0 and _open(after.counts) == 0
            after = replace(after, etag=str(written.get("etag") or ""))
            return ChangeResult(True, after, drained)
        raise ConcurrencyExhausted(f"job {job_id} batch {batch}")

    def _change_entity(
        self, batch: BatchRecord, change: BatchChange
    ) -> tuple[dict[str, Any], BatchRecord]:
        now = self._now()
        counts = dict(batch.counts)
        items = list(batch.items)
        for index, (to, update) in sorted(change.items.items()):
            item = items[index]
            counts[item.state] = counts.get(item.state, 0) - 1
            counts[to] = counts.get(to, 0) + 1
            items[index] = _apply(item, to, update, now)
        head: dict[str, Any] = {
            "PartitionKey": keys.batch_partition(batch.job_id, batch.key),
            "RowKey": keys.BATCH_ROW,
            "UpdatedAt": now,
        }
        head.update({_STATE_PROPS[s]: n for s, n in counts.items()})
        if change.items:
            head.update(packed_items.pack(items))
        after = replace(batch, items=tuple(items), counts=counts, updated_at=now)
        if change.claim is not None:
            head["Claim"], head["ClaimedAt"] = change.claim, now
            after = replace(after, claim=change.claim, claimed_at=now)
        elif change.clear_claim:
            head["Claim"] = ""
            after = replace(after, claim=None)
        if change.chunk_size is not None:
            head["ChunkSize"] = change.chunk_size
            after = replace(after, chunk_size=change.chunk_size)
        return head, after

    # ---- items ------------------------------------------------------------------------------

    def _items_of(
        self, job_id: str, batch: str, states: Iterable[ItemState] | None = None
    ) -> Iterator[ItemRecord]:
        wanted = set(states) if states is not None else None
        found = self.read_batch(job_id, batch)
        for item in found.items if found is not None else ():
            if wanted is None or item.state in wanted:
                yield item

    def list_items(
        self,
        job_id: str,
        *,
        state: ItemState | None = None,
        limit: int = 100,
        continuation: dict[str, str] | None = None,
    ) -> ItemPage:
        """Item records in source order, without payloads; `continuation` resumes a listing.

        Batches are picked by their counts (one query for all batch rows), so a listing of a
        rare state reads only the batches that hold it. Raises InvalidContinuation for a
        continuation this method did not return.
        """
        start = _resume(continuation)
        found: list[ItemRecord] = []
        for summary in self.batches(job_id):
            if start is not None and summary.key < start[0]:
                continue
            if state is not None and not summary.counts.get(state):
                continue
            batch = self.read_batch(job_id, summary.key)
            first = start[1] if start is not None and summary.key == start[0] else 0
            for item in batch.items[first:] if batch is not None else ():
                if state is not None and item.state is not state:
                    continue
                if len(found) == limit:
                    return ItemPage(tuple(found), {"batch": item.batch, "index": str(item.index)})
                found.append(item)
        return ItemPage(tuple(found), None)

    def find_item(self, job_id: str, item_id: str) -> list[ItemRecord]:
        """Every item of the job with id `item_id` (a source may list an id more than once)."""
        lo, hi = keys.batch_range(job_id)
        rows = self._table.query_entities(
            "PartitionKey ge @lo and PartitionKey lt @hi and RowKey eq @row",
            parameters={"lo": lo, "hi": hi, "row": keys.BATCH_ROW},
        )
        found: list[ItemRecord] = []
        for row in rows:
            if packed_items.holds_id(row, item_id):
                batch = keys.batch_of(row["PartitionKey"])
                items = packed_items.unpack(job_id, batch, row, row.get("CreatedAt"))
                found += [item for item in items if item.item_id == item_id]
        return found

    # ---- rows -------------------------------------------------------------------------------

    def _get(self, partition: str, row: str) -> Any:
        try:
            return self._table.get_entity(partition, row)
        except ResourceNotFoundError:
            return None


class InvalidContinuation(ValueError):
    """A listing was asked to resume from a continuation it did not return."""


def _resume(continuation: Mapping[str, str] | None) -> tuple[str, int] | None:
    if continuation is None:
        return None
    batch, index = continuation.get("batch"), continuation.get("index", "")
    if set(continuation) != {"batch", "index"} or not batch or not index.isdecimal():
        raise InvalidContinuation("not a continuation of list_items")
    return batch, int(index)


def _new_item(job_id: str, batch: str, index: int, item: NewItem, now: datetime) -> ItemRecord:
    if item.state in ERROR_STATES and item.error is None:
        raise ValueError(f"item {item.item_id} registered as {item.state} needs an error")
    error = item.error
    if error is not None:
        error = replace(error, message=error.message[:_ERROR_MESSAGE_LIMIT])
    return ItemRecord(
        job_id=job_id,
        item_id=item.item_id,
        state=item.state,
        batch=batch,
        index=index,
        error=error,
        containers=item.containers,
        after=item.after,
        created_at=now,
        updated_at=now,
    )


def _apply(item: ItemRecord, to: ItemState, change: ItemUpdate, now: datetime) -> ItemRecord:
    attempts = item.attempts
    if change.add_attempt:
        attempts += 1
    elif change.reset_attempts:
        attempts = 0
    operation = item.operation_id
    if change.operation_id is not None:
        operation = change.operation_id
    elif change.clear_operation:
        operation = None
    error = item.error
    if change.error is not None:
        error = replace(change.error, message=change.error.message[:_ERROR_MESSAGE_LIMIT])
    elif change.clear_error:
        error = None
    if to in ERROR_STATES and error is None:
        # Invariant: an item in an error state says why.
        error = ItemError("Unknown", "")
    method = item.method
    if change.method is not None:
        method = change.method
    elif change.clear_method:
        method = None
    return replace(
        item,
        state=to,
        attempts=attempts,
        operation_id=operation,
        error=error,
        single=item.single if change.single is None else change.single,
        unseen_post=item.unseen_post if change.unseen_post is None else change.unseen_post,
        method=method,
        renewed=item.renewed if change.renewed is None else change.renewed,
        updated_at=now,
    )


def _open(counts: Mapping[ItemState, int]) -> int:
    return sum(counts.get(s, 0) for s in OPEN_STATES)


def _counts_of(row: Mapping[str, Any]) -> dict[ItemState, int]:
    return {state: int(row.get(prop, 0) or 0) for state, prop in _STATE_PROPS.items()}


def _sum_counts(batches: Iterable[BatchSummary]) -> dict[ItemState, int]:
    totals = dict.fromkeys(ItemState, 0)
    for batch in batches:
        for state, n in batch.counts.items():
            totals[state] += n
    return totals


def _summary(row: Any) -> BatchSummary:
    return BatchSummary(
        key=keys.batch_of(row["PartitionKey"]),
        counts=_counts_of(row),
        updated_at=row.get("UpdatedAt"),
    )


def _batch_from_entity(
    job_id: str, batch: str, row: Any, items: tuple[ItemRecord, ...]
) -> BatchRecord:
    return BatchRecord(
        job_id=job_id,
        key=batch,
        items=items,
        counts=_counts_of(row),
        payload_ref=_text(row.get("PayloadRef")),
        claim=_text(row.get("Claim")),
        claimed_at=row.get("ClaimedAt"),
        chunk_size=int(row.get("ChunkSize", 0) or 0),
        updated_at=row.get("UpdatedAt"),
        etag=row.metadata["etag"],
    )


def _jittered_pause(attempt: int) -> None:
    # Losing an optimistic race means another worker just wrote; a short random pause spreads
    # the retries out so that the next read usually wins.
    time.sleep(random.uniform(0, min(0.2, 0.005 * (2 ** min(attempt, 6)))))  # noqa: S311 - jitter


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _job_entity(job: JobRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": job.job_id,
        "RowKey": keys.JOB_ROW,
        "Collection": job.collection,
        "Mode": job.mode,
        "Source": json.dumps(job.source),
        "DropAssets": json.dumps(list(job.drop_assets)),
        "DryRun": job.dry_run,
        "CreatedAt": job.created_at,
        "UpdatedAt": job.updated_at,
        "PlanningDone": job.planning_done,
        "PlannedPages": job.planned_pages,
        **({"LastPage": job.last_page} if job.last_page is not None else {}),
        "Canceled": job.canceled,
        "Containers": json.dumps(job.containers),
    }
    if job.create_collection is not None:
        entity["CreateCollection"] = json.dumps(job.create_collection)
    if job.plan_error is not None:
        entity["PlanErrorCode"] = job.plan_error.code
        entity["PlanErrorMessage"] = job.plan_error.message[:_ERROR_MESSAGE_LIMIT]
    if job.settled_state is not None:
        entity["SettledState"] = job.settled_state.value
    if job.completed_at is not None:
        entity["CompletedAt"] = job.completed_at
    if job.dead_plan_message is not None:
        entity["DeadPlanMessage"] = job.dead_plan_message
    if job.source_problems.count:
        entity["SourceProblems"] = job.source_problems.to_json()
    return entity


def _job_from_entity(entity: Mapping[str, Any]) -> JobRecord:
    plan_code = _text(entity.get("PlanErrorCode"))
    settled = _text(entity.get("SettledState"))
    create = _text(entity.get("CreateCollection"))
    return JobRecord(
        job_id=entity["PartitionKey"],
        collection=entity["Collection"],
        mode=entity["Mode"],
        source=json.loads(entity["Source"]),
        drop_assets=tuple(json.loads(entity.get("DropAssets") or "[]")),
        dry_run=bool(entity.get("DryRun", False)),
        created_at=entity["CreatedAt"],
        updated_at=entity["UpdatedAt"],
        create_collection=json.loads(create) if create else None,
        planning_done=bool(entity.get("PlanningDone", False)),
        planned_pages=int(entity.get("PlannedPages", 0) or 0),
        last_page=entity.get("LastPage"),
        canceled=bool(entity.get("Canceled", False)),
        plan_error=(
            ItemError(plan_code, entity.get("PlanErrorMessage", "")) if plan_code else None
        ),
        settled_state=JobState(settled) if settled else None,
        completed_at=entity.get("CompletedAt"),
        containers=json.loads(entity.get("Containers") or "{}"),
        dead_plan_message=_text(entity.get("DeadPlanMessage")),
        source_problems=SourceProblems.from_json(_text(entity.get("SourceProblems"))),
    )
