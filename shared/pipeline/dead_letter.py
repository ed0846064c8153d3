"""*-poison queues: a message that exhausted the host's retries is recorded against its job.

Every item of a dead-lettered items or status message ends `deadLettered` (never silently lost)
with its last recorded error; a dead-lettered plan page ends the job's planning with the message
kept on the job row, so that POST /api/jobs/{id}/retry can redrive it unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Literal

from shared.jobs.records import ItemError, ItemRecord
from shared.jobs.states import ItemState
from shared.jobs.store import ItemUpdate
from shared.messages import ItemsMessage, MalformedMessage, PlanMessage, StatusMessage
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
            items = ItemsMessage.from_json(body)
            ids, job_id = items.item_ids, items.job_id
            allowed = {ItemState.PENDING, ItemState.SUBMITTING}
        else:
            status = StatusMessage.from_json(body)
            ids = tuple(e.item_id for e in status.entries)
            job_id = status.job_id
            allowed = {ItemState.SUBMITTED}
    except MalformedMessage as exc:
        # Not ours (or corrupted): nothing to account for; say so loudly, keep no secrets.
        logger.error("unreadable message in %s-poison dropped: %s", kind, exc)
        return 0
    count = 0
    drained = False
    for item_id in ids:
        item = deps.store.get_item(job_id, item_id)
        if item is None:
            continue
        moved = deps.store.transition(
            job_id,
            item_id,
            to=ItemState.DEAD_LETTERED,
            allowed_from=allowed,
            update=ItemUpdate(error=_dead_error(kind, item), clear_claim=True),
        )
        count += moved.applied
        drained = drained or moved.shard_drained
    if count:
        logger.error(
            "%s items of job %s dead-lettered from %s",
            count,
            job_id,
            kind,
            extra={"jobId": job_id, "queue": kind},
        )
    if drained:
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
