"""POST /api/jobs/{id}/retry and /cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.jobs.records import BatchRecord, ItemError, JobRecord, JobView
from shared.jobs.states import TERMINAL_JOB_STATES, ItemState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.messages import BatchMessage, PlanMessage, StatusMessage
from shared.pipeline.claims import claim_is_live
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
    retryable = {ItemState.FAILED, ItemState.DEAD_LETTERED}
    batches = [b.key for b in store.batches(job_id) if any(b.counts[s] for s in retryable)]
    if not batches and job.dead_plan_message is None:
        return RetryResult(0, 0, False)
    # Reopen first, so that the last redriven item to settle settles the job again.
    store.reopen(job_id)
    reposted = rechecked = 0
    for batch in batches:
        redrive = _Redrive()
        moved = store.change_batch(job_id, batch, redrive.decide)
        if not moved.applied:
            continue
        if redrive.reposted:
            deps.queues.send(BatchMessage(job_id, batch))
        if redrive.operations:
            deps.queues.send(StatusMessage(job_id, batch, tuple(sorted(redrive.operations))))
        reposted += redrive.reposted
        rechecked += redrive.rechecked
    redrive_plan = job.dead_plan_message is not None and _claim_dead_plan(
        job_id, job.dead_plan_message, deps
    )
    if redrive_plan:
        plan = PlanMessage.from_json(job.dead_plan_message or "")
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


def _claim_dead_plan(job_id: str, body: str, deps: PipelineDeps) -> bool:
    """Clear the job's dead plan message if it is still `body`: True for the one caller whose
    conditional (ETag) write cleared it, False for every concurrent retry that lost the race."""
    cleared = False

    def clear(job: JobRecord) -> JobRecord:
        # update_job re-runs this after losing an ETag race: the last run decides.
        nonlocal cleared
        cleared = job.dead_plan_message == body
        if not cleared:
            return job
        # Unsettled here too: a concurrent retry that lost may have settled the dead job again
        # between this one's reopen and this write.
        return replace(
            job,
            plan_error=None,
            dead_plan_message=None,
            planning_done=False,
            settled_state=None,
            completed_at=None,
        )

    deps.store.update_job(job_id, clear)
    return cleared


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
    for batch in store.batches(job_id):
        if batch.counts[ItemState.PENDING] or batch.counts[ItemState.SUBMITTING]:
            store.change_batch(job_id, batch.key, cancel_unposted(deps.clock()))
    logger.info("job %s canceled", job_id, extra={"jobId": job_id})
    settled = store.settle(job_id, error_limit=10)
    return settled if settled is not None else view


@dataclass
class _Redrive:
    """Failed and dead-lettered items of a batch back into the pipeline: a dead-lettered item
    that was following a posted operation follows it again; any other is posted again."""

    reposted: int = 0
    rechecked: int = 0
    operations: set[str] = field(default_factory=set)

    def decide(self, batch: BatchRecord) -> BatchChange | None:
        self.reposted, self.rechecked, self.operations = 0, 0, set()
        moves: dict[int, tuple[ItemState, ItemUpdate]] = {}
        for item in batch.in_state(ItemState.FAILED, ItemState.DEAD_LETTERED):
            if item.state is ItemState.DEAD_LETTERED and item.operation_id:
                moves[item.index] = (ItemState.SUBMITTED, ItemUpdate(clear_error=True))
                self.operations.add(item.operation_id)
                self.rechecked += 1
            else:
                moves[item.index] = (ItemState.PENDING, _FRESH)
                self.reposted += 1
        return BatchChange(items=moves) if moves else None


JOB_CANCELED = ItemError("JobCanceled", "the job was canceled")
_FRESH = ItemUpdate(
    clear_error=True,
    clear_operation=True,
    reset_attempts=True,
    renewed=False,
    single=False,
    clear_method=True,
)


def cancel_unposted(now: datetime) -> Callable[[BatchRecord], BatchChange | None]:
    """A canceled job's items that no one is posting: pending ones, and `submitting` ones whose
    claim was left by a worker that died (nobody else would ever move them)."""

    def decide(batch: BatchRecord) -> BatchChange | None:
        unposted = batch.in_state(ItemState.PENDING)
        if not claim_is_live(batch, now):
            unposted += batch.in_state(ItemState.SUBMITTING)
        moves = {i.index: (ItemState.CANCELED, ItemUpdate(error=JOB_CANCELED)) for i in unposted}
        return BatchChange(items=moves) if moves else None

    return decide


def _existing(job_id: str, deps: PipelineDeps) -> JobRecord:
    job = deps.store.get_job(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", field="jobId")
    return job
