"""Register a unit of planned items as batches and hand each batch to the posters.

Every producer of items (a source page, a storage event) goes through here, so the posting path
has one entrance. `unit` names the unit of work (a plan page, an event) and must be the same on
every redelivery of that unit: its batches get the same keys, and registering them again is a
no-op (a batch lands whole or not at all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from shared.ingest_request import IngestMode
from shared.item_prep import PreparedItem
from shared.jobs import keys
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState
from shared.jobs.store import MAX_BATCH_ITEMS
from shared.messages import BatchMessage
from shared.pipeline.deps import PipelineDeps

logger = logging.getLogger(__name__)

DUPLICATE_IN_JOB = "DuplicateInJob"
_WORKERS = 4


@dataclass(frozen=True)
class DispatchResult:
    # Items this call registered (a redelivered unit registers none).
    registered: int
    batches: tuple[str, ...]


def register_and_dispatch(
    job: JobRecord, unit: str, items: Sequence[NewItem], deps: PipelineDeps
) -> DispatchResult:
    job_id = job.job_id
    upsert = job.mode == IngestMode.UPSERT.value
    marked = mark_duplicates(items, keep_last=upsert)
    pipeline = deps.settings.pipeline
    groups = form_batches(marked, size=pipeline.batch_size, max_bytes=pipeline.batch_max_bytes)
    names = [keys.batch_key(unit, index) for index in range(len(groups))]

    def one(batch: str, group: list[NewItem]) -> int:
        to_post = any(item.state is ItemState.PENDING for item in group)
        # The items first, then the rows that point at them: a registered batch always has
        # its blob.
        ref = deps.payloads.put_batch(job_id, batch, _lines(group)) if to_post else None
        new = deps.store.register_batch(job_id, batch, group, payload_ref=ref)
        if to_post:
            # Also for a batch an earlier delivery registered: that delivery may have died
            # before sending; a second message is harmless (the batch's claim lets one post).
            deps.queues.send(BatchMessage(job_id, batch))
        return len(group) if new else 0

    if len(groups) <= 1:
        done = [one(b, g) for b, g in zip(names, groups, strict=True)]
    else:
        # Batches are independent (a partition and a blob each): write them side by side.
        with ThreadPoolExecutor(max_workers=min(_WORKERS, len(groups))) as pool:
            done = list(pool.map(one, names, groups))
    return DispatchResult(sum(done), tuple(names))


def pending_item(prepared: PreparedItem) -> NewItem:
    """A prepared item to post, as every producer registers it (its JSON text written once)."""
    return NewItem(
        prepared.item_id,
        ItemState.PENDING,
        payload=prepared.text,
        containers=tuple(sorted(prepared.containers)),
        size=prepared.item_size_bytes,
    )


def _lines(group: Sequence[NewItem]) -> str:
    """The batch's blob: one line per item in batch order (its JSON text, which never holds a
    raw newline), null where there is nothing to post."""
    parts = [
        item.payload if item.state is ItemState.PENDING and item.payload else "null"
        for item in group
    ]
    return "\n".join(parts)


def mark_duplicates(items: Sequence[NewItem], *, keep_last: bool) -> list[NewItem]:
    """Every copy of an id is kept as a row; all but one are `skipped` (DuplicateInJob).

    Create mode posts the first copy (what is in the collection first wins, as a repeated
    POST would have it); upsert mode the last, because in source order it replaces the others.
    """
    positions: dict[str, list[int]] = {}
    for position, item in enumerate(items):
        if item.state is ItemState.PENDING:
            positions.setdefault(item.item_id, []).append(position)
    out = list(items)
    for item_id, where in positions.items():
        if len(where) < 2:
            continue
        kept = where[-1] if keep_last else where[0]
        reason = f"item '{item_id}' appears {len(where)} times in this unit of the source; " + (
            "the last copy is the one put" if keep_last else "the first copy is the one posted"
        )
        for position in where:
            if position != kept:
                out[position] = replace(
                    items[position],
                    state=ItemState.SKIPPED,
                    payload=None,
                    error=ItemError(DUPLICATE_IN_JOB, reason),
                )
    return out


def form_batches(items: Sequence[NewItem], *, size: int, max_bytes: int) -> list[list[NewItem]]:
    """Consecutive groups of at most `size` items and (for items to post) `max_bytes` bytes.

    An item larger than `max_bytes` gets a batch of its own: it is posted alone, and the
    GeoCatalog's own verdict on its size is what is recorded.
    """
    size = max(1, min(size, MAX_BATCH_ITEMS))
    groups: list[list[NewItem]] = []
    current: list[NewItem] = []
    weight = 0
    for item in items:
        cost = item.size if item.state is ItemState.PENDING else 0
        if current and (len(current) >= size or weight + cost > max_bytes):
            groups.append(current)
            current, weight = [], 0
        current.append(item)
        weight += cost
    if current:
        groups.append(current)
    return groups
