"""[ingest-items]: post (or put) each item to the GeoCatalog and schedule its status check.

Delivery is at least once, so an item is first CLAIMED (pending -> submitting, guarded by the
row's ETag and tagged with the queue message id): of two deliveries only one posts. A claim left
behind by a crashed worker is taken over by a redelivery of the same message at once, and by any
other message once it is older than the longest an invocation can run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.geocatalog.errors import (
    GeoCatalogError,
    NotFoundError,
    ThrottledError,
    TransientError,
)
from shared.geocatalog.models import Operation
from shared.ingest_request import IngestMode
from shared.jobs.records import ItemError, ItemRecord, JobRecord
from shared.jobs.states import ItemState
from shared.jobs.store import ItemUpdate
from shared.messages import ItemsMessage, StatusEntry, StatusMessage
from shared.pipeline.backoff import throttle_delay
from shared.pipeline.deps import PipelineDeps

logger = logging.getLogger(__name__)

# Longer than functionTimeout (10 min) plus the host's lease slack: a claim this old is orphaned.
CLAIM_STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class PostOutcome:
    item_id: str
    result: str


def post_items(message: ItemsMessage, *, message_id: str, deps: PipelineDeps) -> list[PostOutcome]:
    job = deps.store.get_job(message.job_id)
    if job is None:
        logger.warning("items message for unknown job %s dropped", message.job_id)
        return []
    return [_post_one(job, item_id, message, message_id, deps) for item_id in message.item_ids]


def _post_one(
    job: JobRecord, item_id: str, message: ItemsMessage, message_id: str, deps: PipelineDeps
) -> PostOutcome:
    store = deps.store
    item = store.get_item(job.job_id, item_id)
    if item is None:
        return PostOutcome(item_id, "unknown-item")
    if job.canceled:
        canceled = store.transition(
            job.job_id,
            item_id,
            to=ItemState.CANCELED,
            allowed_from={ItemState.PENDING},
            update=ItemUpdate(error=ItemError("JobCanceled", "the job was canceled")),
        )
        if canceled.shard_drained:
            store.settle(job.job_id)
        return PostOutcome(item_id, "canceled")
    if not _may_claim(item, message_id, deps):
        return PostOutcome(item_id, f"already-{item.state.value}")
    # The claim rule is checked again on the row the claim is written to: another delivery may
    # have claimed the item since it was read above, and must then keep it.
    claimed = store.transition(
        job.job_id,
        item_id,
        to=ItemState.SUBMITTING,
        allowed_from={ItemState.PENDING, ItemState.SUBMITTING},
        update=ItemUpdate(claim=message_id, add_attempt=True),
        guard=lambda current: _may_claim(current, message_id, deps),
    )
    if not claimed.applied or claimed.item is None:
        return PostOutcome(item_id, "lost-claim")
    item = claimed.item
    payload = (
        item.payload if item.payload is not None else deps.payloads.get(item.payload_ref or "")
    )
    stac_item = json.loads(payload)
    try:
        # Normally a cache hit; renews a source that is about to expire on a long job.
        for container in item.containers:
            deps.sources.ensure(container)
        method = message.method or _method_for(job, item_id, deps)
        if method == "PUT":
            operation = deps.catalog.replace_item(job.collection, item_id, stac_item)
        else:
            operation = deps.catalog.create_items(job.collection, stac_item)
    except ThrottledError as exc:
        _release(job, item_id, ItemError("Throttled", exc.message), deps)
        delay = throttle_delay(
            exc.retry_after,
            message.throttled,
            cap=deps.settings.pipeline.throttle_max_delay_seconds,
            rng=deps.rng,
        )
        # A fresh message (dequeue count 0): throttling is not a failure of the item.
        deps.queues.send(
            ItemsMessage(job.job_id, (item_id,), message.throttled + 1, message.method),
            delay_seconds=delay,
        )
        return PostOutcome(item_id, "throttled")
    except TransientError as exc:
        _release(job, item_id, ItemError(exc.code or "Transient", exc.message), deps)
        raise
    except NotFoundError as exc:
        return _fail(
            job, item_id, ItemError(exc.code or "CollectionDoesNotExist", exc.message), deps
        )
    except GeoCatalogError as exc:
        code = exc.code or (f"HTTP{exc.status}" if exc.status else "GeoCatalogError")
        return _fail(job, item_id, ItemError(code, exc.message), deps)
    return _submitted(job, item_id, operation, deps)


def _may_claim(item: ItemRecord, message_id: str, deps: PipelineDeps) -> bool:
    if item.state is ItemState.PENDING:
        return True
    if item.state is not ItemState.SUBMITTING:
        return False
    if item.claim == message_id:
        return True
    claimed_at = item.claimed_at
    return claimed_at is None or deps.clock() - claimed_at > CLAIM_STALE_AFTER


def _method_for(job: JobRecord, item_id: str, deps: PipelineDeps) -> str:
    if job.mode != IngestMode.UPSERT.value:
        return "POST"
    # PUT replaces an existing item; whether it also creates a missing one is not documented, so
    # look first (one GET) rather than rely on it.
    try:
        deps.catalog.get_item(job.collection, item_id)
    except NotFoundError:
        return "POST"
    return "PUT"


def _submitted(
    job: JobRecord, item_id: str, operation: Operation, deps: PipelineDeps
) -> PostOutcome:
    done = deps.store.transition(
        job.job_id,
        item_id,
        to=ItemState.SUBMITTED,
        allowed_from={ItemState.SUBMITTING},
        update=ItemUpdate(operation_id=operation.id, clear_claim=True),
    )
    if not done.applied:
        return PostOutcome(item_id, "lost-claim")
    pipeline = deps.settings.pipeline
    deps.queues.send(
        StatusMessage(job.job_id, (StatusEntry(item_id, operation.id),)),
        delay_seconds=pipeline.status_initial_delay_seconds,
    )
    logger.info(
        "item %s of job %s submitted as operation %s",
        item_id,
        job.job_id,
        operation.id,
        extra={"jobId": job.job_id, "itemId": item_id, "operationId": operation.id},
    )
    return PostOutcome(item_id, "submitted")


def _release(job: JobRecord, item_id: str, error: ItemError, deps: PipelineDeps) -> None:
    """Give the claim back (nothing was posted) and remember why, as the item's last error."""
    deps.store.transition(
        job.job_id,
        item_id,
        to=ItemState.PENDING,
        allowed_from={ItemState.SUBMITTING},
        update=ItemUpdate(undo_attempt=True, clear_claim=True, error=error),
    )


def _fail(job: JobRecord, item_id: str, error: ItemError, deps: PipelineDeps) -> PostOutcome:
    failed = deps.store.transition(
        job.job_id,
        item_id,
        to=ItemState.FAILED,
        allowed_from={ItemState.SUBMITTING},
        update=ItemUpdate(error=error, clear_claim=True),
    )
    logger.warning(
        "item %s of job %s failed: %s",
        item_id,
        job.job_id,
        error.code,
        extra={"jobId": job.job_id, "itemId": item_id, "code": error.code},
    )
    if failed.shard_drained:
        deps.store.settle(job.job_id)
    return PostOutcome(item_id, "failed")
