"""Timer-driven maintenance: renew expiring SAS ingestion sources; revive stalled jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.geocatalog.errors import UpstreamError
from shared.geocatalog.ingestion_sources import SourceOutcome
from shared.jobs.states import ItemState
from shared.messages import BatchMessage, StatusMessage
from shared.pipeline.deps import PipelineDeps

logger = logging.getLogger(__name__)

# A message can be delayed by throttling for at most a few minutes and a status check for at most
# status_max_delay; an open item untouched for longer than this has lost its message.
DEFAULT_STALLED_AFTER = timedelta(minutes=20)


@dataclass(frozen=True)
class SweepReport:
    jobs_checked: int
    jobs_settled: int
    items_reposted: int
    items_rechecked: int


@dataclass(frozen=True)
class MaintenanceReport:
    sources: tuple[SourceOutcome, ...]
    # Why the sources could not be refreshed this time (the GeoCatalog throttled, was down).
    sources_error: str | None
    sweep: SweepReport


def run_maintenance(deps: PipelineDeps, *, timer_interval: timedelta) -> MaintenanceReport:
    """One timer run: renew expiring sources, then revive stalled jobs.

    The two are independent: a GeoCatalog that throttles or fails the source listing must not
    keep the sweep (which needs only the job store and the queues) from reviving stalled items.
    A source not renewed now is renewed by the next run (the margin covers one missed run) or by
    the first item that needs it.
    """
    error: str | None = None
    try:
        sources = tuple(refresh_sources(deps, timer_interval=timer_interval))
    except UpstreamError as exc:
        sources = ()
        error = f"{type(exc).__name__}: {exc.code or exc.status or 'no code'}"
        logger.warning("maintenance could not refresh ingestion sources: %s", error)
    return MaintenanceReport(sources, error, sweep_stalled(deps))


def refresh_sources(deps: PipelineDeps, *, timer_interval: timedelta) -> list[SourceOutcome]:
    """Renew sources that would otherwise drop below the renewal margin before the next run."""
    margin = timedelta(minutes=deps.settings.pipeline.sas_renew_before_minutes) + timer_interval
    return deps.ingestion_sources.refresh_expiring(within=margin)


def sweep_stalled(
    deps: PipelineDeps, *, stalled_after: timedelta = DEFAULT_STALLED_AFTER
) -> SweepReport:
    store = deps.store
    now = deps.clock()
    checked = settled = reposted = rechecked = 0
    for job_id in store.active_jobs():
        checked += 1
        view = store.settle(job_id)
        if view is not None and view.job.completed_at is not None:
            settled += 1
            continue
        # None: gone, or still planning (settle leaves those alone); either way its batches,
        # if any, are what may have stalled.
        summaries = store.batches(job_id)
        stamps = [b.updated_at for b in summaries if b.updated_at is not None]
        if stamps and now - max(stamps) < stalled_after:
            continue
        for summary in summaries:
            if not summary.open or (
                summary.updated_at is not None and now - summary.updated_at < stalled_after
            ):
                continue
            batch = store.read_batch(job_id, summary.key)
            if batch is None:
                continue
            waiting = batch.in_state(ItemState.PENDING, ItemState.SUBMITTING)
            if waiting:
                deps.queues.send(BatchMessage(job_id, batch.key))
                reposted += len(waiting)
            following = {i.operation_id for i in batch.in_state(ItemState.SUBMITTED)}
            operations = tuple(sorted(op for op in following if op))
            if operations:
                deps.queues.send(StatusMessage(job_id, batch.key, operations))
                rechecked += len(batch.in_state(ItemState.SUBMITTED))
    if reposted or rechecked:
        logger.warning(
            "sweep revived %s stalled items (%s re-posted, %s re-checked)",
            reposted + rechecked,
            reposted,
            rechecked,
        )
    return SweepReport(checked, settled, reposted, rechecked)
