"""[ingest-status]: follow each item's GeoCatalog operation until it settles.

Checks are scheduled (a delayed message with a growing delay), never spun: status reads spend
the same 50 calls/s budget as posts. A failed operation is classified: retryable codes are
re-posted (bounded), a credential failure renews the container's SAS and re-posts once, a
duplicate is `skipped` in create mode, anything else is `failed` with the service's code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from shared.geocatalog.errors import GeoCatalogError, NotFoundError, ThrottledError
from shared.geocatalog.models import Operation, OperationStatus
from shared.ingest_request import IngestMode
from shared.ingestion_sources import SourceStatus
from shared.jobs.records import ItemError, ItemRecord, JobRecord
from shared.jobs.states import ItemState
from shared.jobs.store import ItemUpdate
from shared.messages import ItemsMessage, StatusEntry, StatusMessage
from shared.pipeline.backoff import repost_delay, status_delay, throttle_delay
from shared.pipeline.deps import PipelineDeps

logger = logging.getLogger(__name__)

ALREADY_EXISTS = "ItemAlreadyExistsInCollection"
# Codes the service documents as transient by nature (geocatalog-api.md §6).
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
_REPOST_CAP_SECONDS = 300.0


def check_status(message: StatusMessage, deps: PipelineDeps) -> None:
    job = deps.store.get_job(message.job_id)
    if job is None:
        logger.warning("status message for unknown job %s dropped", message.job_id)
        return
    still_running: list[StatusEntry] = []
    for index, entry in enumerate(message.entries):
        item = deps.store.get_item(job.job_id, entry.item_id)
        if item is None or item.state is not ItemState.SUBMITTED:
            continue
        if item.operation_id != entry.operation_id:
            continue  # a stale check of an earlier attempt
        try:
            operation = deps.catalog.get_operation(entry.operation_id)
        except ThrottledError as exc:
            _requeue(message, message.entries[index:], still_running, exc.retry_after, deps)
            return
        except NotFoundError:
            _settle_item(
                job,
                item,
                ItemState.FAILED,
                ItemError("OperationNotFound", f"operation {entry.operation_id} is unknown"),
                deps,
            )
            continue
        if operation.is_terminal:
            _resolve(job, item, operation, deps)
        elif message.check + 1 >= deps.settings.pipeline.max_status_checks:
            _settle_item(
                job,
                item,
                ItemState.FAILED,
                ItemError(
                    "OperationTimedOut",
                    f"operation {operation.id} still {operation.status} after "
                    f"{message.check + 1} checks",
                ),
                deps,
            )
        else:
            if job.canceled:
                _cancel_operation(operation, deps)
            # Recording the check keeps the row's UpdatedAt fresh: the sweeper reads that as
            # "this status chain is alive" and leaves it alone.
            deps.store.transition(
                job.job_id,
                item.item_id,
                to=ItemState.SUBMITTED,
                allowed_from={ItemState.SUBMITTED},
                update=ItemUpdate(checks=message.check + 1),
                guard=_still_following(item),
            )
            still_running.append(entry)
    if still_running:
        pipeline = deps.settings.pipeline
        delay = status_delay(
            message.check + 1,
            initial=pipeline.status_initial_delay_seconds,
            maximum=pipeline.status_max_delay_seconds,
            rng=deps.rng,
        )
        deps.queues.send(
            StatusMessage(job.job_id, tuple(still_running), check=message.check + 1),
            delay_seconds=delay,
        )


def _resolve(job: JobRecord, item: ItemRecord, operation: Operation, deps: PipelineDeps) -> None:
    if operation.status is OperationStatus.SUCCEEDED:
        _settle_item(job, item, ItemState.SUCCEEDED, None, deps)
        return
    if operation.status is OperationStatus.CANCELED:
        error = ItemError(
            operation.error_code or "CanceledOperation", operation.error_message or ""
        )
        _settle_item(job, item, ItemState.CANCELED, error, deps)
        return
    code = operation.error_code or "Unknown"
    error = ItemError(code, operation.error_message or f"operation {operation.id} failed")
    upsert = job.mode == IngestMode.UPSERT.value
    max_attempts = deps.settings.pipeline.max_post_attempts
    if code == ALREADY_EXISTS and not upsert:
        _settle_item(job, item, ItemState.SKIPPED, error, deps)
    elif code == ALREADY_EXISTS and upsert and item.attempts < max_attempts:
        # Created by someone between our existence check and our POST: replace it instead.
        _repost(job, item, error, deps, method="PUT")
    elif code in MISSING_ON_UPDATE and upsert and item.attempts < max_attempts:
        _repost(job, item, error, deps, method="POST")
    elif code in RETRYABLE_CODES and item.attempts < max_attempts:
        _repost(job, item, error, deps)
    elif code in CREDENTIAL_CODES and not item.renewed and _renew_sources(item, deps):
        _repost(job, item, error, deps, renewed=True)
    else:
        _settle_item(job, item, ItemState.FAILED, error, deps)


def _renew_sources(item: ItemRecord, deps: PipelineDeps) -> bool:
    """Force fresh SAS sources for the item's containers; True if any could be renewed."""
    renewed = False
    for container in item.containers:
        outcome = deps.sources.ensure(container, force_renew=True)
        renewed = renewed or outcome.status in (SourceStatus.RENEWED, SourceStatus.CREATED)
    return renewed


def _still_following(item: ItemRecord) -> Callable[[ItemRecord], bool]:
    """The outcome of `item`'s operation may be recorded only while the row still follows that
    operation: a duplicate check may have read it before another copy re-posted the item."""
    return lambda current: current.operation_id == item.operation_id


def _repost(
    job: JobRecord,
    item: ItemRecord,
    error: ItemError,
    deps: PipelineDeps,
    *,
    method: str | None = None,
    renewed: bool = False,
) -> None:
    moved = deps.store.transition(
        job.job_id,
        item.item_id,
        to=ItemState.PENDING,
        allowed_from={ItemState.SUBMITTED},
        update=ItemUpdate(error=error, clear_operation=True, renewed=True if renewed else None),
        guard=_still_following(item),
    )
    if not moved.applied:
        return
    delay = (
        0.0
        if renewed or method
        else repost_delay(item.attempts, cap=_REPOST_CAP_SECONDS, rng=deps.rng)
    )
    deps.queues.send(ItemsMessage(job.job_id, (item.item_id,), method=method), delay_seconds=delay)
    logger.info(
        "item %s of job %s re-posted after %s (attempt %s)",
        item.item_id,
        job.job_id,
        error.code,
        item.attempts + 1,
        extra={"jobId": job.job_id, "itemId": item.item_id, "code": error.code},
    )


def _settle_item(
    job: JobRecord,
    item: ItemRecord,
    state: ItemState,
    error: ItemError | None,
    deps: PipelineDeps,
) -> None:
    update = ItemUpdate(error=error) if error else ItemUpdate(clear_error=True)
    moved = deps.store.transition(
        job.job_id,
        item.item_id,
        to=state,
        allowed_from={ItemState.SUBMITTED},
        update=update,
        guard=_still_following(item),
    )
    if not moved.applied:
        return
    if state is ItemState.FAILED and error is not None:
        logger.warning(
            "item %s of job %s failed: %s",
            item.item_id,
            job.job_id,
            error.code,
            extra={"jobId": job.job_id, "itemId": item.item_id, "code": error.code},
        )
    # Only the change that empties its counter shard can be the job's last; settling reads
    # three rows, so skip it otherwise.
    if moved.shard_drained:
        deps.store.settle(job.job_id)


def _cancel_operation(operation: Operation, deps: PipelineDeps) -> None:
    if operation.status not in (OperationStatus.PENDING, OperationStatus.RUNNING):
        return
    try:
        deps.catalog.cancel_operation(operation.id)
    except GeoCatalogError as exc:
        # Best effort: the operation may finish anyway; the next check records what happened.
        logger.info("could not cancel operation %s: %s", operation.id, exc.code)


def _requeue(
    message: StatusMessage,
    unchecked: Sequence[StatusEntry],
    running: Sequence[StatusEntry],
    retry_after: float | None,
    deps: PipelineDeps,
) -> None:
    delay = throttle_delay(
        retry_after,
        message.throttled,
        cap=deps.settings.pipeline.throttle_max_delay_seconds,
        rng=deps.rng,
    )
    deps.queues.send(
        replace(message, entries=(*running, *unchecked), throttled=message.throttled + 1),
        delay_seconds=delay,
    )
