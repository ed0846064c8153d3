"""[ingest-status]: follow the operations that carry a batch's items until they settle.

Checks are scheduled (a delayed message with a growing delay), never spun: status reads spend
the same 50 calls/s budget as posts. All outcomes of one check are recorded in one write.

A batch operation that succeeded settles all its items. One that failed is classified without
parsing its error text: a size refusal splits the batch, a credential failure renews the
containers' SAS and re-posts once, a transient code re-posts (bounded), a missing collection
fails every item; anything else (`ErrorsInBatchOperation` among them) is settled by one search
by ids: what landed succeeded, and the rest is posted again singly, so that each item's own
operation says its own code. A single item's failed operation is classified as before: a
duplicate is `skipped` in create mode, anything else `failed` with the service's code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.geocatalog.errors import ThrottledError, UpstreamError
from shared.geocatalog.ingestion_sources import SourceStatus
from shared.geocatalog.models import Operation, OperationStatus
from shared.ingest_request import IngestMode
from shared.jobs.records import BatchRecord, ItemError, ItemRecord, JobRecord
from shared.jobs.states import ItemState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.messages import BatchMessage, StatusMessage
from shared.pipeline.backoff import repost_delay, status_delay, throttle_delay
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.existing import find_existing
from shared.pipeline.operations import resolve_operations
from shared.pipeline.post import ALREADY_EXISTS, SIZE_CODES

logger = logging.getLogger(__name__)

# Codes the service documents as transient by nature (docs/reference/geocatalog-api.md §6).
RETRYABLE_CODES = frozenset(
    {
        "InternalIntermitentError",
        "InternalError",
        "IngestionResourceTimeout",
        "GenericHttpIngestionError",
    }
)
# The GeoCatalog could not read an asset with the credentials it has for the container.
CREDENTIAL_CODES = frozenset({"IngestionAuthenticationFailed", "IngestionResourceForbidden"})
# What an update of a missing item is called when PUT does not create (upsert falls back to POST).
MISSING_ON_UPDATE = frozenset({"NoRecordsToUpdate", "NoRecordsToPatch"})
# A batch that failed for one of these failed for every item alike: no single re-posts.
WHOLE_BATCH_CODES = frozenset({"CollectionDoesNotExist"})
_REPOST_CAP_SECONDS = 300.0

Moves = dict[int, tuple[ItemState, ItemUpdate]]


@dataclass
class _Plan:
    """What this check decided, recorded in one write."""

    moves: Moves = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    chunk_size: int | None = None
    # Items given back to be posted again, and after how long.
    repost_delay: float | None = None

    def move(self, items: Sequence[ItemRecord], to: ItemState, update: ItemUpdate) -> None:
        for item in items:
            self.moves[item.index] = (to, update)

    def repost(self, items: Sequence[ItemRecord], update: ItemUpdate, delay: float) -> None:
        if not items:
            return
        self.move(items, ItemState.PENDING, update)
        self.repost_delay = delay if self.repost_delay is None else min(self.repost_delay, delay)


def check_status(message: StatusMessage, deps: PipelineDeps) -> None:
    store = deps.store
    job = store.get_job(message.job_id)
    if job is None:
        logger.warning("status message for unknown job %s dropped", message.job_id)
        return
    batch = store.read_batch(job.job_id, message.batch)
    if batch is None:
        logger.warning("status message for unknown batch %s dropped", message.batch)
        return
    carried = _carried(batch, message.operation_ids)
    if not carried:
        return  # a stale check: every item has moved on from these operations
    try:
        # The batch's last claim began the posts that created these operations.
        since = batch.claimed_at or _oldest(carried)
        operations = resolve_operations(deps.catalog, job.collection, carried, since=since)
        plan = _decide(job, batch, message, carried, operations, deps)
    except ThrottledError as exc:
        _requeue(message, exc.retry_after, deps)
        return
    _record(job, batch, message, carried, plan, deps)


def _carried(batch: BatchRecord, operation_ids: Sequence[str]) -> dict[str, list[ItemRecord]]:
    """The message's operations that submitted items still follow, with those items."""
    wanted = set(operation_ids)
    carried: dict[str, list[ItemRecord]] = {}
    for item in batch.in_state(ItemState.SUBMITTED):
        if item.operation_id in wanted:
            carried.setdefault(item.operation_id, []).append(item)
    return carried


def _oldest(carried: Mapping[str, list[ItemRecord]]) -> datetime | None:
    stamps = [i.updated_at for items in carried.values() for i in items if i.updated_at]
    return min(stamps) if stamps else None


def _decide(
    job: JobRecord,
    batch: BatchRecord,
    message: StatusMessage,
    carried: Mapping[str, list[ItemRecord]],
    operations: Mapping[str, Operation | None],
    deps: PipelineDeps,
) -> _Plan:
    plan = _Plan()
    give_up = message.check + 1 >= deps.settings.pipeline.max_status_checks
    for op_id, items in carried.items():
        operation = operations.get(op_id)
        if operation is None:
            error = ItemError("OperationNotFound", f"operation {op_id} is unknown")
            plan.move(items, ItemState.FAILED, ItemUpdate(error=error))
        elif operation.is_terminal:
            _resolve(job, batch, items, operation, plan, deps)
        elif give_up:
            error = ItemError(
                "OperationTimedOut",
                f"operation {op_id} still {operation.status} after {message.check + 1} checks",
            )
            plan.move(items, ItemState.FAILED, ItemUpdate(error=error))
        else:
            if job.canceled:
                _cancel_operation(operation, deps)
            plan.running.append(op_id)
    return plan


def _resolve(
    job: JobRecord,
    batch: BatchRecord,
    items: list[ItemRecord],
    operation: Operation,
    plan: _Plan,
    deps: PipelineDeps,
) -> None:
    if operation.status is OperationStatus.SUCCEEDED:
        plan.move(items, ItemState.SUCCEEDED, ItemUpdate(clear_error=True))
        return
    if operation.status is OperationStatus.CANCELED:
        code = operation.error_code or "CanceledOperation"
        error = ItemError(code, operation.error_message or "")
        plan.move(items, ItemState.CANCELED, ItemUpdate(error=error))
        return
    code = operation.error_code or "Unknown"
    error = ItemError(code, operation.error_message or f"operation {operation.id} failed")
    if len(items) == 1:
        _resolve_one(job, items[0], error, plan, deps)
    else:
        _resolve_batch(job, batch, items, operation, error, plan, deps)


def _resolve_one(
    job: JobRecord, item: ItemRecord, error: ItemError, plan: _Plan, deps: PipelineDeps
) -> None:
    code = error.code
    upsert = job.mode == IngestMode.UPSERT.value
    attempts_left = item.attempts < deps.settings.pipeline.max_post_attempts
    if code == ALREADY_EXISTS and not upsert:
        plan.move([item], ItemState.SKIPPED, ItemUpdate(error=error))
    elif code == ALREADY_EXISTS and upsert and attempts_left:
        # Created by someone between our search and our POST: replace it instead.
        plan.repost([item], _again(error, method="PUT"), 0.0)
    elif code in MISSING_ON_UPDATE and upsert and attempts_left:
        plan.repost([item], _again(error, method="POST"), 0.0)
    elif code in RETRYABLE_CODES and attempts_left:
        plan.repost([item], _again(error), _delay(item.attempts, deps))
    elif code in CREDENTIAL_CODES and not item.renewed and _renew_sources([item], deps):
        plan.repost([item], _again(error, renewed=True), 0.0)
    else:
        _fail(job, [item], error, plan)


def _resolve_batch(
    job: JobRecord,
    batch: BatchRecord,
    items: list[ItemRecord],
    operation: Operation,
    error: ItemError,
    plan: _Plan,
    deps: PipelineDeps,
) -> None:
    code = error.code
    attempts = max(i.attempts for i in items)
    if code in SIZE_CODES:
        plan.chunk_size = max(1, (len(items) + 1) // 2)
        plan.repost(items, _again(error), 0.0)
    elif (
        code in CREDENTIAL_CODES
        and not all(i.renewed for i in items)
        and _renew_sources(items, deps)
    ):
        plan.repost(items, _again(error, renewed=True), 0.0)
    elif code in RETRYABLE_CODES and attempts < deps.settings.pipeline.max_post_attempts:
        plan.repost(items, _again(error), _delay(attempts, deps))
    elif code in WHOLE_BATCH_CODES:
        _fail(job, items, error, plan)
    else:
        landed = find_existing(deps.catalog, job.collection, [i.item_id for i in items])
        ours, theirs = _landed(operation, [i for i in items if i.item_id in landed])
        rest = [i for i in items if i.item_id not in landed]
        plan.move(ours, ItemState.SUCCEEDED, ItemUpdate(clear_error=True))
        _already_there(job, theirs, plan)
        plan.repost(rest, _again(error, single=True), 0.0)
        logger.info(
            "batch %s of job %s partly failed (%s): %s landed, %s posted again singly",
            batch.key,
            job.job_id,
            code,
            len(ours) + len(theirs),
            len(rest),
            extra={"jobId": job.job_id, "batch": batch.key, "code": code},
        )


def _landed(
    operation: Operation, present: list[ItemRecord]
) -> tuple[list[ItemRecord], list[ItemRecord]]:
    """Of a failed batch's items found in the collection, those it (or an earlier post of ours
    whose answer was lost) put there, and those another writer put there since our search.

    The operation's own count of the items it added decides: none added means every item found
    is someone else's, unless a post of ours may have landed unseen. Where it added some but not
    all of those found (another writer raced part of the batch), the found ones are taken as ours:
    the count cannot say which, and the collection holds every one of them either way.
    """
    added = _counter(operation, "TotalSuccessfulItems")
    if added != 0:
        return present, []
    return [i for i in present if i.unseen_post], [i for i in present if not i.unseen_post]


def _counter(operation: Operation, name: str) -> int | None:
    try:
        return int(operation.additional_information.get(name, ""))
    except ValueError:
        return None


def _already_there(job: JobRecord, items: Sequence[ItemRecord], plan: _Plan) -> None:
    if job.mode == IngestMode.UPSERT.value:
        # Created by someone between our search and our POST: replace it instead.
        plan.repost(
            items, _again(ItemError(ALREADY_EXISTS, "created meanwhile"), method="PUT"), 0.0
        )
        return
    error = ItemError(
        ALREADY_EXISTS, "put in the collection by another writer while this batch was posted"
    )
    plan.move(items, ItemState.SKIPPED, ItemUpdate(error=error))


def _again(
    error: ItemError, *, method: str | None = None, renewed: bool = False, single: bool = False
) -> ItemUpdate:
    return ItemUpdate(
        error=error,
        clear_operation=True,
        method=method,
        renewed=True if renewed else None,
        single=True if single else None,
    )


def _delay(attempts: int, deps: PipelineDeps) -> float:
    return repost_delay(attempts, cap=_REPOST_CAP_SECONDS, rng=deps.rng)


def _fail(job: JobRecord, items: Sequence[ItemRecord], error: ItemError, plan: _Plan) -> None:
    plan.move(items, ItemState.FAILED, ItemUpdate(error=error))
    logger.warning(
        "%s items of job %s failed: %s",
        len(items),
        job.job_id,
        error.code,
        extra={"jobId": job.job_id, "code": error.code},
    )


def _renew_sources(items: Sequence[ItemRecord], deps: PipelineDeps) -> bool:
    """Force fresh SAS sources for the items' containers; True if any could be renewed."""
    renewed = False
    for container in sorted({c for item in items for c in item.containers}):
        outcome = deps.ingestion_sources.ensure(container, force_renew=True)
        renewed = renewed or outcome.status in (SourceStatus.RENEWED, SourceStatus.CREATED)
    return renewed


def _record(
    job: JobRecord,
    batch: BatchRecord,
    message: StatusMessage,
    carried: Mapping[str, list[ItemRecord]],
    plan: _Plan,
    deps: PipelineDeps,
) -> None:
    following = {i.index: op for op, items in carried.items() for i in items}
    reposted: list[int] = []

    def decide(current: BatchRecord) -> BatchChange | None:
        reposted.clear()
        moves: Moves = {}
        for item in current.items:
            decided = plan.moves.get(item.index)
            # Only while the row still follows the operation this check read: a duplicate
            # check may have settled it, or another copy re-posted it, since.
            if (
                decided is not None
                and item.state is ItemState.SUBMITTED
                and item.operation_id == following.get(item.index)
            ):
                moves[item.index] = decided
                if decided[0] is ItemState.PENDING:
                    reposted.append(item.index)
        # Recording the check keeps the batch row's timestamp fresh: the sweeper reads that as
        # "this status chain is alive" and leaves it alone.
        return BatchChange(
            items=moves,
            touch=True,
            chunk_size=plan.chunk_size,
        )

    result = deps.store.change_batch(job.job_id, batch.key, decide, seen=batch)
    pipeline = deps.settings.pipeline
    if plan.running:
        delay = status_delay(
            message.check + 1,
            initial=pipeline.status_initial_delay_seconds,
            maximum=pipeline.status_max_delay_seconds,
            rng=deps.rng,
        )
        deps.queues.send(
            StatusMessage(job.job_id, batch.key, tuple(plan.running), check=message.check + 1),
            delay_seconds=delay,
        )
    if plan.repost_delay is not None and reposted and result.applied:
        deps.queues.send(BatchMessage(job.job_id, batch.key), delay_seconds=plan.repost_delay)
    if result.drained:
        deps.store.settle(job.job_id)


def _cancel_operation(operation: Operation, deps: PipelineDeps) -> None:
    if operation.status not in (OperationStatus.PENDING, OperationStatus.RUNNING):
        return
    try:
        deps.catalog.cancel_operation(operation.id)
    except UpstreamError as exc:
        # Best effort: the operation may finish anyway; the next check records what happened.
        logger.info("could not cancel operation %s: %s", operation.id, exc.code)


def _requeue(message: StatusMessage, retry_after: float | None, deps: PipelineDeps) -> None:
    delay = throttle_delay(
        retry_after,
        message.throttled,
        cap=deps.settings.pipeline.throttle_max_delay_seconds,
        rng=deps.rng,
    )
    deps.queues.send(replace(message, throttled=message.throttled + 1), delay_seconds=delay)
