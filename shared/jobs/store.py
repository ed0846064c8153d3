"""Job state in Azure Table storage: a job row, one row per item, counter shards, error rows.

Counts stay exact under concurrent and repeated delivery because every change of an item's state
writes the item row and its counter shard in ONE entity-group transaction, both guarded by ETags:
either both land or neither does, and a stale read is retried. An item always maps to the same
shard, so concurrent workers rarely contend; the job's counts are the sum of its shards.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.jobs import keys, listing
from shared.jobs.records import ItemError, ItemRecord, JobRecord, JobView, NewItem
from shared.jobs.states import (
    ERROR_STATES,
    OPEN_STATES,
    ItemState,
    JobState,
    derive_job_state,
    is_settled,
)

logger = logging.getLogger(__name__)

# More shards, fewer lost ETag races between concurrent workers (measured in bench/): a job's
# view still reads them all with one key-range query. Each job records its own count.
DEFAULT_SHARDS = 64
# An entity-group transaction takes at most 100 operations.
_MAX_BATCH_OPS = 100
_MAX_CONFLICT_RETRIES = 60
_ERROR_MESSAGE_LIMIT = 2000
_STATE_PROPS = {state: f"N_{state.value}" for state in ItemState}


class JobExists(Exception):
    """create_job was called twice with the same id."""


class ConcurrencyExhausted(RuntimeError):
    """An optimistic update kept losing to other writers; the caller should let the host retry."""


@dataclass(frozen=True)
class ItemUpdate:
    """What a transition changes besides the state; None leaves a field as it is."""

    operation_id: str | None = None
    clear_operation: bool = False
    error: ItemError | None = None
    clear_error: bool = False
    add_attempt: bool = False
    undo_attempt: bool = False
    reset_attempts: bool = False
    checks: int | None = None
    claim: str | None = None
    clear_claim: bool = False
    renewed: bool | None = None


@dataclass(frozen=True)
class TransitionResult:
    applied: bool
    item: ItemRecord | None
    # The change left the item's counter shard with nothing in flight: the job may have
    # settled, so the caller should settle() it. The last item to settle always sees this.
    shard_drained: bool = False


@dataclass(frozen=True)
class RegisterResult:
    registered: int
    # Items of this batch that are pending now (newly registered, or registered by an earlier
    # delivery of the same plan message and never posted): the planner enqueues these.
    pending_ids: tuple[str, ...]


@dataclass(frozen=True)
class ItemPage:
    items: tuple[ItemRecord, ...]
    continuation: dict[str, str] | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class JobStore:
    def __init__(
        self,
        table: TableClient,
        *,
        shards: int = DEFAULT_SHARDS,
        clock: Callable[[], datetime] = _utcnow,
        backoff: Callable[[int], None] | None = None,
    ) -> None:
        self._table = table
        self._shards = shards
        # Shard count per job (read once from its job row): jobs outlive a change of default.
        self._job_shards: dict[str, int] = {}
        self._now = clock
        self._backoff = backoff or _jittered_pause

    # ---- jobs -------------------------------------------------------------------------------

    def ensure_table(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._table.create_table()

    def create_job(self, job: JobRecord) -> None:
        """The job row, its zeroed counter shards and its active-index row; all or nothing."""
        job = replace(job, shards=self._shards)
        ops: list[Any] = [("create", _job_entity(job))]
        ops += [
            ("create", {"PartitionKey": job.job_id, "RowKey": keys.count_key(s)})
            for s in range(job.shards)
        ]
        try:
            self._table.submit_transaction(ops)
        except TableTransactionError as exc:
            if _code(exc) == "EntityAlreadyExists":
                raise JobExists(job.job_id) from None
            raise
        self._table.upsert_entity(
            {"PartitionKey": keys.ACTIVE_PARTITION, "RowKey": job.job_id, "Since": job.created_at}
        )
        listing.index_job(self._table, job)

    def delete_job(self, job_id: str) -> None:
        """Remove every row of a job (used to undo a job whose first message could not be sent)."""
        job = self.get_job(job_id)
        if job is not None:
            listing.unindex_job(self._table, job)
        rows = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": job_id}, select=["PartitionKey", "RowKey"]
        )
        for row in rows:
            self._table.delete_entity(job_id, row["RowKey"])
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

    def counts(self, job_id: str) -> dict[ItemState, int]:
        totals = dict.fromkeys(ItemState, 0)
        for row in self._range(job_id, keys.COUNT_PREFIX):
            for state, prop in _STATE_PROPS.items():
                totals[state] += int(row.get(prop, 0) or 0)
        return totals

    def last_progress(self, job_id: str) -> datetime | None:
        """When any item of the job last changed state (the newest counter-shard write)."""
        stamps = [
            row.metadata.get("timestamp")
            for row in self._range(job_id, keys.COUNT_PREFIX)
            if row.metadata.get("timestamp") is not None
        ]
        return max(stamps) if stamps else None

    def first_errors(self, job_id: str, limit: int = 10) -> tuple[tuple[str, ItemError], ...]:
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={
                "pk": job_id,
                "lo": keys.ERROR_PREFIX,
                "hi": keys.range_end(keys.ERROR_PREFIX),
            },
            results_per_page=limit,
        )
        found: list[tuple[str, ItemError]] = []
        for row in rows:
            found.append((row["ItemId"], ItemError(row["Code"], row.get("Message", ""))))
            if len(found) >= limit:
                break
        return tuple(found)

    def view(self, job_id: str, *, error_limit: int = 10) -> JobView | None:
        job = self.get_job(job_id)
        if job is None:
            return None
        counts = self.counts(job_id)
        state = derive_job_state(
            planning_done=job.planning_done,
            canceled=job.canceled,
            plan_failed=job.plan_error is not None,
            counts=counts,
        )
        return JobView(job, state, counts, self.first_errors(job_id, error_limit))

    def settle(self, job_id: str) -> JobView | None:
        """Persist the terminal state once nothing is left in flight (idempotent)."""
        view = self.view(job_id)
        if view is None or not is_settled(planning_done=view.job.planning_done, counts=view.counts):
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

    def is_page_done(self, job_id: str, page: int) -> bool:
        return self._get(job_id, keys.page_key(page)) is not None

    # ---- items ------------------------------------------------------------------------------

    def register_items(self, job_id: str, items: Sequence[NewItem]) -> RegisterResult:
        """Insert item rows (pending or invalid) and count them; safe to repeat for a page.

        A page goes in as few transactions as fit (items, their error rows and the shards they
        touch, at most 100 operations each), with every shard row read by one range query.
        """
        shards = self.shard_count(job_id)
        unique: dict[str, NewItem] = {}
        for item in items:
            unique.setdefault(item.item_id, item)
        ordered = sorted(unique.values(), key=lambda i: keys.shard_of(i.item_id, shards))
        registered = 0
        pending: list[str] = []
        for chunk in _chunks(ordered, shards):
            new, pend = self._register_chunk(job_id, shards, chunk)
            registered += new
            pending += pend
        return RegisterResult(registered, tuple(pending))

    def _register_chunk(
        self, job_id: str, shards: int, chunk: Sequence[NewItem]
    ) -> tuple[int, list[str]]:
        for attempt in range(_MAX_CONFLICT_RETRIES):
            rows = self._shard_rows(job_id)
            deltas: dict[int, dict[ItemState, int]] = {}
            ops: list[Any] = []
            for item in chunk:
                shard = deltas.setdefault(keys.shard_of(item.item_id, shards), {})
                shard[item.state] = shard.get(item.state, 0) + 1
                ops.append(("create", self._new_item_entity(job_id, item)))
                if item.error is not None and item.state in ERROR_STATES:
                    ops.append(("upsert", self._error_entity(job_id, item.item_id, item.error)))
            ops += [_shard_update(rows[shard], delta) for shard, delta in deltas.items()]
            try:
                self._table.submit_transaction(ops)
                return len(chunk), [i.item_id for i in chunk if i.state is ItemState.PENDING]
            except TableTransactionError as exc:
                if _code(exc) == "EntityAlreadyExists":
                    # A redelivered page: register the ones that are missing, one by one.
                    return self._register_one_by_one(job_id, shards, chunk)
                if _code(exc) != "UpdateConditionNotSatisfied":
                    raise
                self._backoff(attempt)
        raise ConcurrencyExhausted(f"job {job_id}: registering {len(chunk)} items")

    def _register_one_by_one(
        self, job_id: str, shards: int, chunk: Sequence[NewItem]
    ) -> tuple[int, list[str]]:
        registered = 0
        pending: list[str] = []
        for item in chunk:
            existing = self._get(job_id, keys.item_key(item.item_id))
            if existing is not None:
                if existing["State"] == ItemState.PENDING.value:
                    pending.append(item.item_id)
                continue
            if self._register_single(job_id, keys.shard_of(item.item_id, shards), item):
                registered += 1
                if item.state is ItemState.PENDING:
                    pending.append(item.item_id)
            else:
                current = self.get_item(job_id, item.item_id)
                if current is not None and current.state is ItemState.PENDING:
                    pending.append(item.item_id)
        return registered, pending

    def _register_single(self, job_id: str, shard: int, item: NewItem) -> bool:
        for attempt in range(_MAX_CONFLICT_RETRIES):
            shard_row = self._shard_row(job_id, shard)
            ops: list[Any] = [("create", self._new_item_entity(job_id, item))]
            if item.error is not None and item.state in ERROR_STATES:
                ops.append(("upsert", self._error_entity(job_id, item.item_id, item.error)))
            ops.append(_shard_update(shard_row, {item.state: 1}))
            try:
                self._table.submit_transaction(ops)
                return True
            except TableTransactionError as exc:
                if _code(exc) == "EntityAlreadyExists":
                    return False
                if _code(exc) != "UpdateConditionNotSatisfied":
                    raise
                self._backoff(attempt)
        raise ConcurrencyExhausted(f"job {job_id} item {item.item_id}")

    def get_item(self, job_id: str, item_id: str) -> ItemRecord | None:
        entity = self._get(job_id, keys.item_key(item_id))
        return None if entity is None else _item_from_entity(job_id, entity)

    def transition(
        self,
        job_id: str,
        item_id: str,
        *,
        to: ItemState,
        allowed_from: Iterable[ItemState],
        update: ItemUpdate | None = None,
        guard: Callable[[ItemRecord], bool] | None = None,
    ) -> TransitionResult:
        """Move an item to `to` if it is in one of `allowed_from` (and `guard` accepts it);
        counts move with it atomically.

        Not applied (applied=False) when the item is missing, in another state or refused by
        `guard`: the caller is a redelivery or lost a race, and must not act on the item. The
        state and the guard are checked on the row as read in the same ETag-guarded round as
        the write, so a condition the caller read earlier cannot have gone stale meanwhile.
        """
        allowed = frozenset(allowed_from)
        change = update or ItemUpdate()
        for attempt in range(_MAX_CONFLICT_RETRIES):
            entity = self._get(job_id, keys.item_key(item_id))
            if entity is None:
                return TransitionResult(False, None)
            current = ItemState(entity["State"])
            if current not in allowed:
                return TransitionResult(False, _item_from_entity(job_id, entity))
            if guard is not None and not guard(_item_from_entity(job_id, entity)):
                return TransitionResult(False, _item_from_entity(job_id, entity))
            patch = self._patch(entity, to, change)
            ops: list[Any] = [
                (
                    "update",
                    patch,
                    {
                        "mode": UpdateMode.MERGE,
                        "etag": entity.metadata["etag"],
                        "match_condition": MatchConditions.IfNotModified,
                    },
                )
            ]
            drained = False
            if current is not to:
                shard = keys.shard_of(item_id, self.shard_count(job_id))
                shard_row = self._shard_row(job_id, shard)
                ops.append(_shard_update(shard_row, {current: -1, to: 1}))
                drained = _open_after(shard_row, {current: -1, to: 1}) == 0
            if to in ERROR_STATES:
                # Invariant: an item in an error state has exactly one error row.
                error = change.error or _entity_error(entity) or ItemError("Unknown", "")
                ops.append(("upsert", self._error_entity(job_id, item_id, error)))
            elif current in ERROR_STATES and to not in ERROR_STATES:
                ops.append(
                    (
                        "delete",
                        {"PartitionKey": job_id, "RowKey": keys.error_key(item_id)},
                        {"match_condition": MatchConditions.Unconditionally},
                    )
                )
            try:
                self._table.submit_transaction(ops)
            except TableTransactionError as exc:
                if _code(exc) != "UpdateConditionNotSatisfied":
                    raise
                self._backoff(attempt)
                continue
            merged = dict(entity)
            merged.update(patch)
            return TransitionResult(True, _item_from_entity(job_id, merged), drained)
        raise ConcurrencyExhausted(f"job {job_id} item {item_id}")

    def list_items(
        self,
        job_id: str,
        *,
        state: ItemState | None = None,
        limit: int = 100,
        continuation: dict[str, str] | None = None,
        max_pages: int = 20,
    ) -> ItemPage:
        """Item records in id order, without payloads; `continuation` resumes a listing."""
        query = "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi"
        params: dict[str, Any] = {
            "pk": job_id,
            "lo": keys.ITEM_PREFIX,
            "hi": keys.range_end(keys.ITEM_PREFIX),
        }
        if state is not None:
            query += " and State eq @state"
            params["state"] = state.value
        found: list[ItemRecord] = []
        token: dict[str, str] | None = continuation
        # A filtered scan may return short or empty pages; read on until the page is full.
        for _ in range(max_pages):
            pager = self._table.query_entities(
                query, parameters=params, results_per_page=limit - len(found), select=_LIST_SELECT
            ).by_page(continuation_token=token)  # type: ignore[arg-type]
            page = next(pager, None)
            rows = list(page) if page is not None else []
            found += [_item_from_entity(job_id, row) for row in rows]
            token = pager.continuation_token  # type: ignore[attr-defined]
            if token is None or len(found) >= limit:
                break
        return ItemPage(tuple(found), token)

    def item_ids(self, job_id: str, states: Iterable[ItemState]) -> list[str]:
        """Every item id of the job in the given states (a filtered scan; for retry/sweeps)."""
        wanted = " or ".join(f"State eq '{s.value}'" for s in states)
        rows = self._table.query_entities(
            f"PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and ({wanted})",
            parameters={
                "pk": job_id,
                "lo": keys.ITEM_PREFIX,
                "hi": keys.range_end(keys.ITEM_PREFIX),
            },
            select=["ItemId"],
        )
        return [row["ItemId"] for row in rows]

    # ---- rows -------------------------------------------------------------------------------

    def _get(self, partition: str, row: str) -> Any:
        try:
            return self._table.get_entity(partition, row)
        except ResourceNotFoundError:
            return None

    def _range(self, job_id: str, prefix: str) -> Iterable[Any]:
        return self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": job_id, "lo": prefix, "hi": keys.range_end(prefix)},
        )

    def shard_count(self, job_id: str) -> int:
        known = self._job_shards.get(job_id)
        if known is None:
            entity = self._get(job_id, keys.JOB_ROW)
            if entity is None:
                raise KeyError(f"no job {job_id}")
            known = _job_from_entity(entity).shards
            self._job_shards[job_id] = known
        return known

    def _shard_rows(self, job_id: str) -> dict[int, Any]:
        rows = {
            int(row["RowKey"][len(keys.COUNT_PREFIX) :]): row
            for row in self._range(job_id, keys.COUNT_PREFIX)
        }
        if len(rows) != self.shard_count(job_id):
            raise KeyError(f"job {job_id} is missing counter shards")
        return rows

    def _shard_row(self, job_id: str, shard: int) -> Any:
        row = self._get(job_id, keys.count_key(shard))
        if row is None:
            raise KeyError(f"job {job_id} has no counter shard {shard}")
        return row

    def _new_item_entity(self, job_id: str, item: NewItem) -> dict[str, Any]:
        if item.state in ERROR_STATES and item.error is None:
            raise ValueError(f"item {item.item_id} registered as {item.state} needs an error")
        now = self._now()
        entity: dict[str, Any] = {
            "PartitionKey": job_id,
            "RowKey": keys.item_key(item.item_id),
            "ItemId": item.item_id,
            "State": item.state.value,
            "Attempts": 0,
            "Checks": 0,
            "Containers": json.dumps(list(item.containers)),
            "CreatedAt": now,
            "UpdatedAt": now,
        }
        if item.payload is not None:
            entity["Payload"] = item.payload
        if item.payload_ref is not None:
            entity["PayloadRef"] = item.payload_ref
        if item.error is not None:
            entity["ErrorCode"] = item.error.code
            entity["ErrorMessage"] = item.error.message[:_ERROR_MESSAGE_LIMIT]
        return entity

    def _error_entity(self, job_id: str, item_id: str, error: ItemError) -> dict[str, Any]:
        return {
            "PartitionKey": job_id,
            "RowKey": keys.error_key(item_id),
            "ItemId": item_id,
            "Code": error.code,
            "Message": error.message[:_ERROR_MESSAGE_LIMIT],
            "At": self._now(),
        }

    def _patch(
        self, entity: Mapping[str, Any], to: ItemState, change: ItemUpdate
    ) -> dict[str, Any]:
        patch: dict[str, Any] = {
            "PartitionKey": entity["PartitionKey"],
            "RowKey": entity["RowKey"],
            "State": to.value,
            "UpdatedAt": self._now(),
        }
        attempts = int(entity.get("Attempts", 0) or 0)
        if change.add_attempt:
            patch["Attempts"] = attempts + 1
        elif change.undo_attempt:
            patch["Attempts"] = max(0, attempts - 1)
        elif change.reset_attempts:
            patch["Attempts"] = 0
        if change.checks is not None:
            patch["Checks"] = change.checks
        if change.operation_id is not None:
            patch["OperationId"] = change.operation_id
        elif change.clear_operation:
            patch["OperationId"] = ""
        if change.error is not None:
            patch["ErrorCode"] = change.error.code
            patch["ErrorMessage"] = change.error.message[:_ERROR_MESSAGE_LIMIT]
        elif change.clear_error:
            patch["ErrorCode"] = ""
            patch["ErrorMessage"] = ""
        if change.claim is not None:
            patch["Claim"] = change.claim
            patch["ClaimedAt"] = self._now()
        elif change.clear_claim:
            patch["Claim"] = ""
        if change.renewed is not None:
            patch["Renewed"] = change.renewed
        return patch


_LIST_SELECT = [
    "PartitionKey",
    "RowKey",
    "ItemId",
    "State",
    "Attempts",
    "Checks",
    "OperationId",
    "ErrorCode",
    "ErrorMessage",
    "Containers",
    "Renewed",
    "CreatedAt",
    "UpdatedAt",
]


def _shard_update(shard_row: Any, deltas: Mapping[ItemState, int]) -> Any:
    patch: dict[str, Any] = {
        "PartitionKey": shard_row["PartitionKey"],
        "RowKey": shard_row["RowKey"],
    }
    for state, delta in deltas.items():
        if delta:
            prop = _STATE_PROPS[state]
            patch[prop] = int(shard_row.get(prop, 0) or 0) + delta
    return (
        "update",
        patch,
        {
            "mode": UpdateMode.MERGE,
            "etag": shard_row.metadata["etag"],
            "match_condition": MatchConditions.IfNotModified,
        },
    )


def _chunks(items: Sequence[NewItem], shards: int) -> list[list[NewItem]]:
    """Consecutive groups whose transaction (item creates, error rows, one update per shard
    touched) stays within _MAX_BATCH_OPS operations."""
    chunks: list[list[NewItem]] = []
    current: list[NewItem] = []
    ops = 0
    touched: set[int] = set()
    for item in items:
        shard = keys.shard_of(item.item_id, shards)
        cost = 1 + (1 if item.state in ERROR_STATES else 0) + (0 if shard in touched else 1)
        if current and ops + cost > _MAX_BATCH_OPS:
            chunks.append(current)
            current, ops, touched = [], 0, set()
            cost = 2 + (1 if item.state in ERROR_STATES else 0)
        current.append(item)
        touched.add(shard)
        ops += cost
    if current:
        chunks.append(current)
    return chunks


def _open_after(shard_row: Any, deltas: Mapping[ItemState, int]) -> int:
    return sum(
        int(shard_row.get(_STATE_PROPS[state], 0) or 0) + deltas.get(state, 0)
        for state in OPEN_STATES
    )


def _jittered_pause(attempt: int) -> None:
    # Losing an optimistic race means another worker just wrote; a short random pause spreads
    # the retries out so that the next read usually wins.
    time.sleep(random.uniform(0, min(0.2, 0.005 * (2 ** min(attempt, 6)))))  # noqa: S311 - jitter


def _code(exc: TableTransactionError) -> str:
    # error_code is set by azure-core from the response, not declared on the class.
    return str(getattr(exc, "error_code", "") or "")


def _entity_error(entity: Mapping[str, Any]) -> ItemError | None:
    code = _text(entity.get("ErrorCode"))
    return ItemError(code, entity.get("ErrorMessage", "")) if code else None


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
        "Canceled": job.canceled,
        "Containers": json.dumps(job.containers),
        "Shards": job.shards,
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
        canceled=bool(entity.get("Canceled", False)),
        plan_error=(
            ItemError(plan_code, entity.get("PlanErrorMessage", "")) if plan_code else None
        ),
        settled_state=JobState(settled) if settled else None,
        completed_at=entity.get("CompletedAt"),
        containers=json.loads(entity.get("Containers") or "{}"),
        dead_plan_message=_text(entity.get("DeadPlanMessage")),
        # Jobs written before the count was recorded had 16 shards.
        shards=int(entity.get("Shards") or 16),
    )


def _item_from_entity(job_id: str, entity: Mapping[str, Any]) -> ItemRecord:
    code = _text(entity.get("ErrorCode"))
    return ItemRecord(
        job_id=job_id,
        item_id=entity.get("ItemId") or keys.unescape(entity["RowKey"][len(keys.ITEM_PREFIX) :]),
        state=ItemState(entity["State"]),
        attempts=int(entity.get("Attempts", 0) or 0),
        checks=int(entity.get("Checks", 0) or 0),
        operation_id=_text(entity.get("OperationId")),
        error=ItemError(code, entity.get("ErrorMessage", "")) if code else None,
        payload=_text(entity.get("Payload")),
        payload_ref=_text(entity.get("PayloadRef")),
        containers=tuple(json.loads(entity.get("Containers") or "[]")),
        claim=_text(entity.get("Claim")),
        claimed_at=entity.get("ClaimedAt"),
        renewed=bool(entity.get("Renewed", False)),
        created_at=entity.get("CreatedAt"),
        updated_at=entity.get("UpdatedAt"),
    )
