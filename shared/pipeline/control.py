"""POST /api/jobs/{id}/retry and /cancel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from shared.jobs.records import JobRecord, JobView
from shared.jobs.states import TERMINAL_JOB_STATES, ItemState
from shared.jobs.store import ItemUpdate
from shared.messages import ItemsMessage, PlanMessage, StatusEntry, StatusMessage
from shared.pipeline.deps import PipelineDeps
from shared.problems import Conflict, NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryResult:
    reposted: int
    rechecked: int
    planning_redriven: bool

    @property
    def anything(self) -> bool:
        return bool(self.reposted or self.rechecked or self.planning_redriven)


def retry_job(job_id: str, deps: PipelineDeps) -> RetryResult:
    """Redrive failed and dead-lettered items (and a dead-lettered plan page)."""
    store = deps.store
    job = _existing(job_id, deps)
    if job.canceled:
        raise Conflict(f"job {job_id} was canceled; submit a new job instead", field="jobId")
    ids = store.item_ids(job_id, {ItemState.FAILED, ItemState.DEAD_LETTERED})
    if not ids and job.dead_plan_message is None:
        return RetryResult(0, 0, False)
    # Reopen first, so that the last redriven item to settle settles the job again.
    store.reopen(job_id)
    reposted = rechecked = 0
    for item_id in ids:
        item = store.get_item(job_id, item_id)
        if item is None:
            continue
        if item.state is ItemState.DEAD_LETTERED and item.operation_id:
            # It died while following a posted operation: follow it again, do not re-post.
            moved = store.transition(
                job_id,
                item_id,
                to=ItemState.SUBMITTED,
                allowed_from={ItemState.DEAD_LETTERED},
                update=ItemUpdate(clear_error=True),
            )
            if moved.applied:
                deps.queues.send(StatusMessage(job_id, (StatusEntry(item_id, item.operation_id),)))
                rechecked += 1
            continue
        moved = store.transition(
            job_id,
            item_id,
            to=ItemState.PENDING,
            allowed_from={ItemState.FAILED, ItemState.DEAD_LETTERED},
            update=ItemUpdate(
                clear_error=True,
                clear_operation=True,
                clear_claim=True,
                reset_attempts=True,
                renewed=False,
            ),
        )
        if moved.applied:
            deps.queues.send(ItemsMessage(job_id, (item_id,)))
            reposted += 1
    redrive_plan = job.dead_plan_message is not None
    if redrive_plan:
        plan = PlanMessage.from_json(job.dead_plan_message or "")
        store.update_job(
            job_id,
            lambda j: replace(j, plan_error=None, dead_plan_message=None, planning_done=False),
        )
        deps.queues.send(replace(plan, throttled=0))
    logger.info(
        "job %s retried: %s re-posted, %s re-checked, planning %s",
        job_id,
        reposted,
        rechecked,
        "redriven" if redrive_plan else "unchanged",
        extra={"jobId": job_id},
    )
    store.settle(job_id)
    return RetryResult(reposted, rechecked, redrive_plan)


def cancel_job(job_id: str, deps: PipelineDeps) -> JobView:
    """Stop the job: no more planning or posting; operations in flight are canceled if possible."""
    store = deps.store
    view = store.view(job_id)
    if view is None:
        raise NotFound(f"no job {job_id}", field="jobId")
    if view.state in TERMINAL_JOB_STATES:
        raise Conflict(f"job {job_id} has already finished ({view.state.value})", field="jobId")
    store.update_job(job_id, lambda j: replace(j, canceled=True, planning_done=True))
    # Pending items would be canceled one by one as their messages arrive (some may be delayed
    # for minutes by throttling); settle them now so the job finishes promptly.
    for item_id in store.item_ids(job_id, {ItemState.PENDING}):
        store.transition(
            job_id,
            item_id,
            to=ItemState.CANCELED,
            allowed_from={ItemState.PENDING},
            update=ItemUpdate(),
        )
    logger.info("job %s canceled", job_id, extra={"jobId": job_id})
    settled = store.settle(job_id)
    return settled if settled is not None else view


def _existing(job_id: str, deps: PipelineDeps) -> JobRecord:
    job = deps.store.get_job(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", field="jobId")
    return job
