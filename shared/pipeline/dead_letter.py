"""*-poison queues: a message that exhausted the host's retries is recorded against its job.

Every item a dead-lettered items or status message stood for ends `deadLettered` (never silently
lost) with its last recorded error; a dead-lettered plan page ends the job's planning with the
message kept on the job row, so that POST /api/jobs/{id}/retry can redrive it unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Literal

from shared.jobs.records import BatchRecord, ItemError, ItemRecord
from shared.jobs.states import ItemState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.messages import BatchMessage, MalformedMessage, PlanMessage, StatusMessage
from shared.pipeline.claims import claim_is_live
from shared.pipeline.deps import PipelineDeps

logger = logging.getLogger(__name__)

QueueKind = Literal["plan", "items", "status"]


def record_dead_letter(kind: QueueKind, body: str, deps: PipelineDeps) -> int:
    """Record what a poison message stood for; returns how many items it dead-lettered."""
    try:
        if kind == "plan":
            _dead_plan(PlanMessage.from_json(body), body, deps)
            return 0
        if kind == "items":
            items = BatchMessage.from_json(body)
            job_id, batch, operations = items.job_id, items.batch, None
        else:
            status = StatusMessage.from_json(body)
            job_id, batch, operations = status.job_id, status.batch, set(status.operation_ids)
    except MalformedMessage as exc:
        # Not ours (or corrupted): nothing to account for; say so loudly, keep no secrets.
        logger.error("unreadable message in %s-poison dropped: %s", kind, exc)
        return 0

    moved: list[int] = []

    def decide(current: BatchRecord) -> BatchChange | None:
        moved.clear()
        live = operations is None and claim_is_live(current, deps.clock())
        if operations is None:
            # Items another delivery is posting right now are its to record (and, if it dies,
            # the next delivery's or the sweep's once its claim is stale): not dead-lettered.
            held = (ItemState.PENDING,) if live else (ItemState.PENDING, ItemState.SUBMITTING)
            stuck = current.in_state(*held)
        else:
            stuck = [
                i for i in current.in_state(ItemState.SUBMITTED) if i.operation_id in operations
            ]
        if not stuck:
            return None
        moved.extend(i.index for i in stuck)
        moves = {
            i.index: (ItemState.DEAD_LETTERED, ItemUpdate(error=_dead_error(kind, i)))
            for i in stuck
        }
        return BatchChange(items=moves, clear_claim=operations is None and not live)

    result = deps.store.change_batch(job_id, batch, decide)
    count = len(moved) if result.applied else 0
    if result.applied:
        logger.error(
            "items of batch %s of job %s dead-lettered from %s",
            batch,
            job_id,
            kind,
            extra={"jobId": job_id, "batch": batch, "queue": kind},
        )
    if result.drained:
        deps.store.settle(job_id)
    return count


def _dead_error(kind: str, item: ItemRecord) -> ItemError:
    last = f"; last error {item.error.code}: {item.error.message}" if item.error else ""
    return ItemError(
        "DeadLettered",
        f"the {kind} step kept failing and its message went to the poison queue{last}",
    )


def _dead_plan(message: PlanMessage, body: str, deps: PipelineDeps) -> None:
    error = ItemError(
        "SourceUnavailable",
        f"page {message.page} of the source could not be read; the host gave up retrying",
    )

    try:
        deps.store.update_job(
            message.job_id,
            lambda j: replace(j, plan_error=error, planning_done=True, dead_plan_message=body),
        )
    except KeyError:
        logger.error("dead-lettered plan message for unknown job %s", message.job_id)
        return
    logger.error(
        "planning of job %s dead-lettered at page %s",
        message.job_id,
        message.page,
        extra={"jobId": message.job_id},
    )
    deps.store.settle(message.job_id)
