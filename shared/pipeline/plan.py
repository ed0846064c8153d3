"""[ingest-plan]: read one page of the source per message, register its items, fan them out.

Each message reads exactly one page and hands the rest of the source on as a continuation
message, so a search of any size never holds a worker for long, and a failure costs one page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from shared.collections.errors import CollectionError
from shared.geocatalog.errors import ThrottledError, TransientError, UpstreamError
from shared.geocatalog.ingestion_sources import SourceStatus
from shared.ingest_request import IngestRequest, parse_ingest_request
from shared.item_prep import InvalidItem, PreparedItem, prepare_item
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.source_problems import JobProblem
from shared.jobs.states import ItemState
from shared.messages import PlanMessage
from shared.payloads import request_ref
from shared.pipeline.backoff import throttle_delay
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.dispatch import pending_item, register_and_dispatch
from shared.pipeline.page_duplicates import (
    EarlierPageNotWritten,
    needs_ledger,
    page_unit,
    resolve_across_pages,
)
from shared.problems import ApiError
from shared.sources import open_reader
from shared.sources.base import SourcePage
from shared.sources.errors import (
    CursorInvalid,
    SourceInvalid,
    SourceThrottled,
    SourceUnavailable,
)
from shared.sources.specs import InlineItemsSource

logger = logging.getLogger(__name__)


def plan_page(message: PlanMessage, deps: PipelineDeps) -> None:
    store = deps.store
    job = store.get_job(message.job_id)
    if job is None:
        logger.warning("plan message for unknown job %s dropped", message.job_id)
        return
    if store.is_page_done(job.job_id, message.page):
        logger.info("plan page %s of job %s was done already", message.page, job.job_id)
        return
    if job.canceled or job.planning_done:
        return
    try:
        request = _load_request(job, deps)
    except ApiError as exc:
        _fail_planning(job, ItemError("RequestNoLongerValid", exc.detail), deps)
        return
    if message.page == 0 and request.create_collection and not job.dry_run:
        try:
            deps.ensure_collection(job.collection, request.create_collection.template_url)
        except ThrottledError as exc:
            _requeue(message, exc.retry_after, deps)
            return
        except TransientError:
            raise
        except (CollectionError, UpstreamError) as exc:
            try:
                exists = _collection_exists(job, deps)
            except ThrottledError as throttled:
                _requeue(message, throttled.retry_after, deps)
                return
            if not exists:
                _fail_planning(job, ItemError("CollectionBootstrapFailed", str(exc)), deps)
                return
            # Another delivery of this first page (at least once; an event delivered twice
            # re-sends it) created the collection while this one tried: the outcome a later
            # redelivery would see, which finds the collection and leaves it as it is.
            logger.info(
                "collection %s of job %s was created by another delivery; planning goes on",
                job.collection,
                job.job_id,
                extra={"jobId": job.job_id, "collectionId": job.collection},
            )
    limit = deps.settings.pipeline.source_page_size
    if isinstance(request.source, InlineItemsSource):
        # Inline items came whole with the request: plan them in one page rather than
        # re-read (and re-parse) the request body once per page.
        limit = max(limit, len(request.source.items))
    max_items = getattr(request.source, "max_items", None)
    if max_items is not None:
        limit = min(limit, max_items - message.planned)
    if limit <= 0:
        _finish_planning(job, message.page, deps)
        return
    try:
        page = _read_page(request, message, limit, deps)
    except SourceThrottled as exc:
        _requeue(message, exc.retry_after, deps)
        return
    except SourceUnavailable:
        # The host retries, and after maxDequeueCount the poison handler records the job's
        # planning as failed with the message kept for /retry.
        raise
    except SourceInvalid as exc:
        _fail_planning(job, ItemError("SourceInvalid", str(exc)), deps)
        return
    except CursorInvalid as exc:
        _fail_planning(job, ItemError("InvalidCursor", str(exc)), deps)
        return
    record_source_problems(job.job_id, message.page, page, deps)
    planned = message.planned + len(page.items)
    more = page.next_cursor is not None and (max_items is None or planned < max_items)
    if more and not store.is_page_sent(job.job_id, message.page + 1):
        # Read ahead: the next page is read while this one is prepared and registered. Pages
        # are independent units of work (batches of their own); planning ends when all are done.
        # Sent once: this page may run again (a requeue below, a host retry), and every copy of
        # a next page would send its own next page again. Marked after sending, so a worker that
        # dies in between costs one duplicate message (harmless), never a lost page.
        deps.queues.send(
            PlanMessage(job.job_id, page=message.page + 1, cursor=page.next_cursor, planned=planned)
        )
        store.mark_page_sent(job.job_id, message.page + 1)
    prepared = [
        prepare_item(raw, collection=job.collection, drop_assets=job.drop_assets)
        for raw in page.items
    ]
    new_items = [_new_item(p, i, message.page, job, deps) for i, p in enumerate(prepared)]
    if needs_ledger(message.page, more):
        try:
            new_items = resolve_across_pages(job, message.page, new_items, deps)
        except EarlierPageNotWritten:
            _requeue(message, None, deps, why="waits for the page before it")
            return
    containers = sorted({c for p in prepared if isinstance(p, PreparedItem) for c in p.containers})
    try:
        source_status = {
            c: deps.ingestion_sources.ensure(c, dry_run=job.dry_run).status.value
            for c in containers
        }
    except ThrottledError as exc:
        _requeue(message, exc.retry_after, deps)
        return
    result = register_and_dispatch(job, page_unit(message.page), new_items, deps)

    def record(j: JobRecord) -> JobRecord:
        # What planning first did for a container is the informative fact (later pages see the
        # source it created as merely "existing").
        merged = {**source_status, **j.containers}
        return replace(
            j,
            planned_pages=max(j.planned_pages, message.page + 1),
            containers=merged,
            last_page=j.last_page if more else message.page,
        )

    deps.store.update_job(job.job_id, record)
    deps.store.mark_page_done(job.job_id, message.page)
    unserved = [c for c, s in source_status.items() if s == SourceStatus.NO_PROVIDER.value]
    logger.info(
        "job %s page %s: %s items read, %s registered in %s batches, %s containers (%s without "
        "SAS provider)",
        job.job_id,
        message.page,
        len(page.items),
        result.registered,
        len(result.batches),
        len(containers),
        len(unserved),
        extra={"jobId": job.job_id, "page": message.page},
    )
    _finish_if_complete(job.job_id, deps)


def _finish_if_complete(job_id: str, deps: PipelineDeps) -> None:
    """Planning is done once the last page is known and every page up to it is marked done.
    Each page checks after marking itself, so whichever finishes last sees them all."""
    job = deps.store.get_job(job_id)
    if job is None or job.planning_done or job.last_page is None:
        return
    if deps.store.pages_done(job_id) < job.last_page + 1:
        return
    deps.store.update_job(job_id, lambda j: replace(j, planning_done=True))
    deps.store.settle(job_id)


def record_source_problems(
    job_id: str, page_number: int, page: SourcePage, deps: PipelineDeps
) -> None:
    """The parts of the source this page skipped as unreadable go on the job row, before the next
    page is sent (so pages are recorded in order; a redelivered page adds nothing)."""
    if not page.problems:
        return
    found = [JobProblem(p.code, p.url, p.message) for p in page.problems]
    deps.store.update_job(
        job_id, lambda j: replace(j, source_problems=j.source_problems.add(page_number, found))
    )
    logger.warning(
        "job %s page %s: %s parts of the source could not be read (first: %s)",
        job_id,
        page_number,
        len(found),
        found[0].message,
        extra={"jobId": job_id, "page": page_number},
    )


def _collection_exists(job: JobRecord, deps: PipelineDeps) -> bool:
    """Whether the target collection exists now (after a failed bootstrap); throttling and
    outages raise, for the caller to requeue or the host to retry the page."""
    try:
        deps.catalog.get_collection(job.collection)
    except (ThrottledError, TransientError):
        raise
    except UpstreamError:
        return False
    return True


def _load_request(job: JobRecord, deps: PipelineDeps) -> IngestRequest:
    body = json.loads(deps.payloads.get(request_ref(job.job_id)))
    return parse_ingest_request(body, deps.settings)


def _read_page(
    request: IngestRequest, message: PlanMessage, limit: int, deps: PipelineDeps
) -> SourcePage:
    source = request.source
    inline = (lambda: source.items) if isinstance(source, InlineItemsSource) else None
    reader = open_reader(
        source, session=deps.http, settings=deps.settings, inline_items=inline, pause=deps.sleep
    )
    return reader.read_page(message.cursor, limit)


def _new_item(
    prepared: PreparedItem | InvalidItem, index: int, page: int, job: JobRecord, deps: PipelineDeps
) -> NewItem:
    if isinstance(prepared, InvalidItem):
        # An unreadable entry may have no id at all; name it by its place in the source.
        item_id = prepared.item_id or f"(page {page} entry {index})"
        return NewItem(item_id, ItemState.INVALID, error=ItemError(prepared.code, prepared.message))
    containers = tuple(sorted(prepared.containers))
    if job.dry_run:
        return NewItem(
            prepared.item_id,
            ItemState.SKIPPED,
            containers=containers,
            error=ItemError("DryRun", "validated and planned; not posted (dry run)"),
        )
    return pending_item(prepared)


def _requeue(
    message: PlanMessage, retry_after: float | None, deps: PipelineDeps, *, why: str = "throttled"
) -> None:
    delay = throttle_delay(
        retry_after,
        message.throttled,
        cap=deps.settings.pipeline.throttle_max_delay_seconds,
        rng=deps.rng,
    )
    deps.queues.send(replace(message, throttled=message.throttled + 1), delay_seconds=delay)
    logger.info(
        "plan page %s of job %s %s; again in %.0f s",
        message.page,
        message.job_id,
        why,
        delay,
        extra={"jobId": message.job_id},
    )


def _fail_planning(job: JobRecord, error: ItemError, deps: PipelineDeps) -> None:
    logger.warning(
        "planning of job %s failed: %s",
        job.job_id,
        error.code,
        extra={"jobId": job.job_id, "code": error.code},
    )
    deps.store.update_job(job.job_id, lambda j: replace(j, plan_error=error, planning_done=True))
    deps.store.settle(job.job_id)


def _finish_planning(job: JobRecord, page: int, deps: PipelineDeps) -> None:
    """Nothing to read on this page (maxItems reached): it is the last one."""
    deps.store.update_job(job.job_id, lambda j: replace(j, last_page=page))
    deps.store.mark_page_done(job.job_id, page)
    _finish_if_complete(job.job_id, deps)
