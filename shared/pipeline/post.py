"""[ingest-items]: post one batch of items to the GeoCatalog and schedule its status check.

A batch goes as ONE FeatureCollection (one operation for all its items), after one search by
ids that finds the items already in the collection (`skipped` in create mode, replaced with PUT
in upsert mode: the GeoCatalog has no batch replace). Items that must be posted on their own (to
learn their own error code after a failed batch, or told to by an upsert fallback) go singly.

Delivery is at least once, so the batch is first CLAIMED (its row tagged with the queue message
id, its pending items moved to `submitting`, in one ETag-guarded write): of two deliveries
only one posts. A claim left behind by a crashed worker is taken over by a redelivery of the same
message at once, and by any other message once it is older than an invocation can run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from shared.geocatalog.errors import (
    NotFoundError,
    ThrottledError,
    TransientError,
    UpstreamError,
)
from shared.ingest_request import IngestMode
from shared.jobs.records import BatchRecord, ItemError, ItemRecord, JobRecord
from shared.jobs.states import ItemState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.messages import BatchMessage, StatusMessage
from shared.pipeline.backoff import throttle_delay
from shared.pipeline.claims import claim_is_live
from shared.pipeline.control import cancel_unposted
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.existing import find_existing
from shared.pipeline.page_duplicates import is_open

logger = logging.getLogger(__name__)

ALREADY_EXISTS = "ItemAlreadyExistsInCollection"
# The GeoCatalog refused a FeatureCollection for its size (the operation's code, or the
# synchronous answer): the batch is split and posted again.
SIZE_CODES = frozenset({"PostItemCollectionSizeExceeded"})


@dataclass
class _Outcome:
    """What posting did to each claimed item, recorded in one write at the end."""

    moves: dict[int, tuple[ItemState, ItemUpdate]] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    chunk_size: int | None = None
    # Times this batch was throttled before (the delay grows with it).
    throttled_before: int = 0
    throttled: ThrottledError | None = None
    transient: TransientError | None = None
    # Items left pending because an earlier copy of their id is still being posted (upsert).
    waiting: bool = False
    # _post returned: an exception it raised instead is the host's to retry (the message
    # comes back), so no message of our own is sent for the items given back.
    completed: bool = False

    def move(self, items: Iterable[ItemRecord], to: ItemState, update: ItemUpdate) -> None:
        for item in items:
            self.moves[item.index] = (to, update)


@dataclass(frozen=True)
class PostReport:
    batch: str
    result: str
    operations: tuple[str, ...] = ()


def post_batch(message: BatchMessage, *, message_id: str, deps: PipelineDeps) -> PostReport:
    store = deps.store
    job = store.get_job(message.job_id)
    if job is None:
        logger.warning("items message for unknown job %s dropped", message.job_id)
        return PostReport(message.batch, "unknown-job")
    if job.canceled:
        return _cancel_pending(job, message.batch, deps)
    claimed = store.change_batch(job.job_id, message.batch, _claim(message_id, deps))
    if claimed.batch is None:
        return PostReport(message.batch, "unknown-batch")
    if not claimed.applied:
        return PostReport(message.batch, "nothing-to-claim")
    batch = claimed.batch
    todo = [i for i in batch.items if i.state is ItemState.SUBMITTING]
    outcome = _Outcome(throttled_before=message.throttled)
    try:
        _post(job, batch, todo, outcome, deps)
        outcome.completed = True
    finally:
        # Whatever happened, every claimed item is recorded in one write: posted ones as
        # submitted, refused ones with their code, the rest given back as pending.
        _record(job, batch, todo, message_id, outcome, deps)
    if outcome.transient is not None:
        # The host retries the message (and dead-letters it after maxDequeueCount).
        raise outcome.transient
    return PostReport(message.batch, "posted", tuple(outcome.operations))


def _claim(message_id: str, deps: PipelineDeps) -> Callable[[BatchRecord], BatchChange | None]:
    def decide(batch: BatchRecord) -> BatchChange | None:
        if claim_is_live(batch, deps.clock(), other_than=message_id):
            return None  # another delivery is posting this batch right now
        pending = batch.in_state(ItemState.PENDING)
        # Items left `submitting` by a claim that died are taken over with the claim.
        if not pending and not batch.in_state(ItemState.SUBMITTING):
            return None
        moves = {i.index: (ItemState.SUBMITTING, ItemUpdate()) for i in pending}
        return BatchChange(items=moves, claim=message_id)

    return decide


def _post(
    job: JobRecord,
    batch: BatchRecord,
    todo: Sequence[ItemRecord],
    outcome: _Outcome,
    deps: PipelineDeps,
) -> None:
    waiting = _waiting(job, todo, deps)
    if waiting:
        outcome.waiting = True
        todo = [i for i in todo if i.index not in waiting]
    try:
        # Normally cache hits; renews a source that is about to expire on a long job.
        for container in sorted({c for item in todo for c in item.containers}):
            deps.ingestion_sources.ensure(container)
        # Items posted again singly after their batch failed were just searched for (and not
        # found); what else is to be posted is searched for first.
        unsearched = [i.item_id for i in todo if i.unseen_post or not (i.single or i.method)]
        existing = find_existing(deps.catalog, job.collection, unsearched)
    except ThrottledError as exc:
        outcome.throttled = exc
        return
    except TransientError as exc:
        outcome.transient = exc
        return
    except UpstreamError as exc:
        # Refused for good (a credential the GeoCatalog rejects, a source it cannot register):
        # each item fails with the GeoCatalog's code, rather than the batch going round again.
        outcome.move(todo, ItemState.FAILED, ItemUpdate(error=_failure(exc)))
        return
    upsert = job.mode == IngestMode.UPSERT.value
    alone: list[tuple[ItemRecord, str]] = []
    together: list[ItemRecord] = []
    for item in todo:
        present = item.item_id in existing
        if item.method == "PUT" or (upsert and present):
            alone.append((item, "PUT"))
        elif present and not upsert:
            _already_there(item, outcome)
        elif item.single or item.method == "POST":
            alone.append((item, "POST"))
        else:
            together.append(item)
    payload = _Payloads(batch, deps)
    chunk = batch.chunk_size or len(together) or 1
    queue: list[list[ItemRecord]] = [
        together[i : i + chunk] for i in range(0, len(together), chunk)
    ]
    queue += [[item] for item, method in alone if method == "POST"]
    puts = [item for item, method in alone if method == "PUT"]
    while queue and outcome.throttled is None and outcome.transient is None:
        group = queue.pop(0)
        smaller = _post_group(job, group, outcome, deps, payload)
        if smaller:
            outcome.chunk_size = len(smaller[0])
            queue[:0] = smaller
    for item in puts:
        if outcome.throttled is not None or outcome.transient is not None:
            break
        _put_one(job, item, outcome, deps, payload)


def _waiting(job: JobRecord, todo: Sequence[ItemRecord], deps: PipelineDeps) -> set[int]:
    """Items whose earlier copy (upsert, an earlier page of the source) is still in flight: they
    are posted after it, so that the collection ends with the later copy."""
    return {i.index for i in todo if i.after and is_open(job.job_id, i.after, deps)}


def _already_there(item: ItemRecord, outcome: _Outcome) -> None:
    if item.unseen_post:
        # Not there when the item was first posted (that search would have skipped it): an
        # earlier post of ours landed although its answer was lost.
        outcome.move([item], ItemState.SUCCEEDED, ItemUpdate(clear_error=True))
        return
    error = ItemError(ALREADY_EXISTS, "already in the collection; not posted (create mode)")
    outcome.move([item], ItemState.SKIPPED, ItemUpdate(error=error))


def _post_group(
    job: JobRecord,
    group: list[ItemRecord],
    outcome: _Outcome,
    deps: PipelineDeps,
    payload: _Payloads,
) -> list[list[ItemRecord]] | None:
    """POST one FeatureCollection (or one item); returns smaller groups if it was too large."""
    body = payload(group[0]) if len(group) == 1 else payload.collection(group)
    try:
        operation = deps.catalog.create_items(job.collection, body)
    except ThrottledError as exc:
        outcome.throttled = exc
        return None
    except TransientError as exc:
        # The post may have landed although its answer was lost: say so, so that the next
        # search by ids takes an item found there as ours.
        outcome.transient = exc
        outcome.move(group, ItemState.PENDING, _lost(exc))
        return None
    except NotFoundError as exc:
        error = ItemError(exc.code or "CollectionDoesNotExist", exc.message)
        outcome.move(group, ItemState.FAILED, ItemUpdate(error=error, add_attempt=True))
        return None
    except UpstreamError as exc:
        if len(group) > 1:
            if exc.status == 413 or exc.code in SIZE_CODES:
                half = (len(group) + 1) // 2
                return [group[:half], group[half:]]
            # Refused as a whole (a 4xx naming no item): post each on its own to learn which
            # item is at fault, with its own code.
            outcome.move(group, ItemState.PENDING, ItemUpdate(single=True))
            return None
        outcome.move(group, ItemState.FAILED, ItemUpdate(error=_failure(exc), add_attempt=True))
        return None
    outcome.operations.append(operation.id)
    outcome.move(
        group,
        ItemState.SUBMITTED,
        ItemUpdate(operation_id=operation.id, add_attempt=True, clear_error=True),
    )
    return None


def _put_one(
    job: JobRecord, item: ItemRecord, outcome: _Outcome, deps: PipelineDeps, payload: _Payloads
) -> None:
    try:
        operation = deps.catalog.replace_item(job.collection, item.item_id, payload(item))
    except ThrottledError as exc:
        outcome.throttled = exc
        return
    except TransientError as exc:
        outcome.transient = exc
        outcome.move([item], ItemState.PENDING, _lost(exc))
        return
    except UpstreamError as exc:
        outcome.move([item], ItemState.FAILED, ItemUpdate(error=_failure(exc), add_attempt=True))
        return
    outcome.operations.append(operation.id)
    outcome.move(
        [item],
        ItemState.SUBMITTED,
        ItemUpdate(operation_id=operation.id, add_attempt=True, clear_error=True),
    )


def _failure(exc: UpstreamError) -> ItemError:
    """An item's error from the GeoCatalog's refusal: its code, else the HTTP status."""
    code = exc.code or (f"HTTP{exc.status}" if exc.status else "GeoCatalogError")
    return ItemError(code, exc.message)


def _lost(exc: TransientError) -> ItemUpdate:
    return ItemUpdate(unseen_post=True, error=ItemError(exc.code or "Transient", exc.message))


class _Payloads:
    """The batch's items as the JSON texts the planner wrote (read once, on first use, and
    never parsed: a FeatureCollection of them is put together as text)."""

    def __init__(self, batch: BatchRecord, deps: PipelineDeps) -> None:
        self._batch, self._deps = batch, deps
        self._lines: list[bytes] | None = None

    def __call__(self, item: ItemRecord) -> bytes:
        if self._lines is None:
            self._lines = self._deps.payloads.get_bytes(self._batch.payload_ref or "").split(b"\n")
            if len(self._lines) != len(self._batch.items):
                raise MalformedBatch(f"batch {self._batch.key} holds {len(self._lines)} items")
        line = self._lines[item.index]
        if line == b"null":
            raise MalformedBatch(f"batch {self._batch.key} holds no payload for item {item.index}")
        return line

    def collection(self, items: Sequence[ItemRecord]) -> bytes:
        return b'{"type":"FeatureCollection","features":[' + b",".join(map(self, items)) + b"]}"


class MalformedBatch(RuntimeError):
    """A batch's blob does not hold what its rows say (never written so by this service)."""


def _record(
    job: JobRecord,
    batch: BatchRecord,
    todo: Sequence[ItemRecord],
    message_id: str,
    outcome: _Outcome,
    deps: PipelineDeps,
) -> None:
    claimed = {i.index for i in todo}
    released = ItemUpdate()
    why = outcome.throttled or outcome.transient
    if why is not None:
        code = "Throttled" if outcome.throttled is not None else why.code or "Transient"
        released = ItemUpdate(error=ItemError(code, why.message))
    given_back: list[int] = []

    def decide(current: BatchRecord) -> BatchChange | None:
        given_back.clear()
        moves: dict[int, tuple[ItemState, ItemUpdate]] = {}
        for item in current.items:
            if item.index not in claimed or item.state is not ItemState.SUBMITTING:
                continue  # a delivery that took the claim over since has it now
            moves[item.index] = outcome.moves.get(item.index, (ItemState.PENDING, released))
            if moves[item.index][0] is ItemState.PENDING:
                given_back.append(item.index)
        return BatchChange(
            items=moves,
            clear_claim=current.claim == message_id,
            chunk_size=outcome.chunk_size,
        )

    result = deps.store.change_batch(job.job_id, batch.key, decide, seen=batch)
    after = result.batch
    pipeline = deps.settings.pipeline
    if outcome.operations:
        deps.queues.send(
            StatusMessage(job.job_id, batch.key, tuple(outcome.operations)),
            delay_seconds=pipeline.status_initial_delay_seconds,
        )
    if outcome.throttled is not None:
        delay = throttle_delay(
            outcome.throttled.retry_after,
            outcome.throttled_before,
            cap=pipeline.throttle_max_delay_seconds,
            rng=deps.rng,
        )
        # A fresh message (dequeue count 0): throttling is not a failure of the batch.
        deps.queues.send(
            BatchMessage(job.job_id, batch.key, throttled=outcome.throttled_before + 1),
            delay_seconds=delay,
        )
    elif outcome.completed and outcome.transient is None and given_back and result.applied:
        # Items given back to be posted singly (or in smaller pieces): post them now; items
        # waiting for an earlier copy of theirs: when it has had time to end.
        delay = pipeline.status_initial_delay_seconds if outcome.waiting else 0.0
        deps.queues.send(BatchMessage(job.job_id, batch.key), delay_seconds=delay)
    counts = {s.value: n for s, n in (after.counts if after else {}).items() if n}
    logger.info(
        "batch %s of job %s: %s operations, %s",
        batch.key,
        job.job_id,
        len(outcome.operations),
        counts,
        extra={"jobId": job.job_id, "batch": batch.key, "operations": outcome.operations},
    )
    if result.drained:
        deps.store.settle(job.job_id)


def _cancel_pending(job: JobRecord, batch_key: str, deps: PipelineDeps) -> PostReport:
    result = deps.store.change_batch(job.job_id, batch_key, cancel_unposted(deps.clock()))
    if result.drained:
        deps.store.settle(job.job_id)
    return PostReport(batch_key, "canceled")
