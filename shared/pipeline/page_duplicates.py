"""Ids that an earlier page of the source listed already (duplicates across pages).

Create mode posts the first copy in source order: every copy a later page lists is `skipped`
(`DuplicateInJob`). Upsert mode ends with the last copy: the later page's copy is posted, and
the earlier copy is `skipped` if it has not been posted yet; if it is being posted right now,
the later copy waits for it to end (its `after`), so that the later copy is the one written
last. A page's own repeats are left to `dispatch.mark_duplicates`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import replace

from shared.ingest_request import IngestMode
from shared.jobs import keys
from shared.jobs.records import BatchRecord, ItemError, ItemRecord, JobRecord, NewItem
from shared.jobs.states import OPEN_STATES, ItemState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.dispatch import DUPLICATE_IN_JOB
from shared.pipeline.id_ledger import Ledger, Place, digest, read_ledger, write_ledger

logger = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 20
_REGISTRATION_WAITS = 6
_LEDGER_WAITS = 10


def page_unit(page: int) -> str:
    """The unit of work a plan page registers its batches under."""
    return f"p{page:08d}"


class EarlierPageNotWritten(RuntimeError):
    """The page before this one has not written the ledger yet, after a while: its worker died
    between sending this page and writing. This page is to be planned again later."""


def resolve_across_pages(
    job: JobRecord, page: int, items: Sequence[NewItem], deps: PipelineDeps
) -> list[NewItem]:
    """The page's items with the copies of ids earlier pages listed marked; the page's own ids
    written to the job's ledger, once the page before it has written its own."""
    upsert = job.mode == IngestMode.UPSERT.value
    counting = _counting_copies(items, keep_last=upsert)
    registered = _Registered(job.job_id, deps)
    for _ in range(_WRITE_ATTEMPTS):
        ledger = _after_previous_page(job.job_id, page, deps)
        out = list(items)
        for item_id, where in counting.items():
            key = digest(item_id)
            earlier = ledger.find(key)
            if earlier is not None and earlier.page != page:
                # Normally an earlier page: pages write the ledger in source order.
                found = registered.at(earlier)
                if found is None or found.item_id == item_id:
                    if not upsert or earlier.page > page:
                        # Create: the first copy counts. Upsert: a later page took the id over
                        # already (this page is being delivered again): its copy counts.
                        _mark_all(out, item_id, earlier, upsert=upsert)
                        continue
                    after = _retire(job, found, page, deps)
                    if after is not None:
                        out[where] = replace(out[where], after=after)
                # else: the place holds another id (that page was read again from a live
                # search and registered what it read the second time): this copy counts.
            ledger.put(key, Place(page, where))
        ledger.mark_page(page)
        if not ledger.changed or write_ledger(deps.payloads, job.job_id, ledger):
            return out
    raise RuntimeError(f"job {job.job_id}: the id ledger kept changing under page {page}")


def _after_previous_page(job_id: str, page: int, deps: PipelineDeps) -> Ledger:
    """The ledger once page - 1 has written it: the previous page writes while this one was
    being read, so this rarely waits; it waits a few seconds at most."""
    for attempt in range(_LEDGER_WAITS):
        ledger = read_ledger(deps.payloads, job_id)
        if ledger.last_page >= page - 1:
            return ledger
        deps.sleep(min(0.05 * 2**attempt, 1.0))
    raise EarlierPageNotWritten(f"page {page - 1} of job {job_id} has not written its ids")


def needs_ledger(page: int, more: bool) -> bool:
    """A job whose source is one page has no other page to share ids with."""
    return page > 0 or more


def _counting_copies(items: Sequence[NewItem], *, keep_last: bool) -> dict[str, int]:
    """Per id to post, the place of the copy that counts within the page."""
    where: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.state is ItemState.PENDING and (keep_last or item.item_id not in where):
            where[item.item_id] = index
    return where


def _mark_all(items: list[NewItem], item_id: str, counting: Place, *, upsert: bool) -> None:
    reason = f"item '{item_id}' is listed on page {counting.page + 1} of the source too; " + (
        "the last copy is the one put" if upsert else "the first copy is the one posted"
    )
    for index, item in enumerate(items):
        if item.item_id == item_id and item.state is ItemState.PENDING:
            items[index] = replace(
                item,
                state=ItemState.SKIPPED,
                payload=None,
                error=ItemError(DUPLICATE_IN_JOB, reason),
            )


class _Registered:
    """The items earlier pages registered, read once per page (a page's batches hold its items in
    order).

    A page writes the ledger before it registers its batches (it registers after sending the
    next page), so they may not be there yet: wait for them a little (~5 s), once per page.
    None for a place of a page still not registered (its worker died in between; its
    redelivery will register it).
    """

    def __init__(self, job_id: str, deps: PipelineDeps) -> None:
        self._job_id, self._deps = job_id, deps
        self._pages: dict[int, list[ItemRecord] | None] = {}

    def at(self, place: Place) -> ItemRecord | None:
        if place.page not in self._pages:
            self._pages[place.page] = self._read(place.page, place.index)
        items = self._pages[place.page]
        return items[place.index] if items is not None and place.index < len(items) else None

    def _read(self, page: int, needed: int) -> list[ItemRecord] | None:
        store = self._deps.store
        for attempt in range(_REGISTRATION_WAITS):
            items: list[ItemRecord] = []
            for number in itertools.count():
                batch = store.read_batch(self._job_id, keys.batch_key(page_unit(page), number))
                if batch is None:
                    break
                items += batch.items
            if needed < len(items):
                return items
            # The earlier page registers within a moment of writing the ledger.
            self._deps.sleep(min(0.1 * 2**attempt, 2.0))
        return None


def _retire(
    job: JobRecord, earlier: ItemRecord | None, page: int, deps: PipelineDeps
) -> str | None:
    """Upsert: the earlier copy is skipped if it is still pending. If it is being posted, the
    later copy must wait for it: returns the earlier copy's address to wait on."""
    if earlier is None:
        logger.warning(
            "job %s page %s: an earlier page that lists one of its ids has not registered its "
            "items; both copies will be put, in no certain order",
            job.job_id,
            page,
            extra={"jobId": job.job_id, "page": page},
        )
        return None
    reason = f"a later copy of item '{earlier.item_id}' in the source (page {page + 1}) replaces it"
    waits: list[str] = []

    def decide(batch: BatchRecord) -> BatchChange | None:
        waits.clear()
        item = batch.items[earlier.index]
        if item.state is ItemState.PENDING:
            error = ItemError(DUPLICATE_IN_JOB, reason)
            return BatchChange(items={item.index: (ItemState.SKIPPED, ItemUpdate(error=error))})
        if item.state in OPEN_STATES:
            waits.append(f"{item.batch}:{item.index}")
        return None

    result = deps.store.change_batch(job.job_id, earlier.batch, decide)
    if result.drained:
        deps.store.settle(job.job_id)
    return waits[0] if waits else None


def is_open(job_id: str, address: str, deps: PipelineDeps) -> bool:
    """Whether the item at `address` ("batch:index", as `after` holds it) is still in flight."""
    batch_key, _, index = address.rpartition(":")
    batch = deps.store.read_batch(job_id, batch_key)
    if batch is None or not index.isdecimal() or int(index) >= len(batch.items):
        return False
    return batch.items[int(index)].state in OPEN_STATES


__all__ = [
    "EarlierPageNotWritten",
    "Ledger",
    "is_open",
    "needs_ledger",
    "page_unit",
    "resolve_across_pages",
]
