"""Job and item records as the rest of the service sees them (the store maps them to Table rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.jobs.source_problems import SourceProblems
from shared.jobs.states import ItemState, JobState, derive_job_state


@dataclass(frozen=True)
class ItemError:
    code: str
    message: str


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    collection: str
    mode: str
    source: dict[str, Any]
    drop_assets: tuple[str, ...]
    dry_run: bool
    created_at: datetime
    updated_at: datetime
    create_collection: dict[str, Any] | None = None
    planning_done: bool = False
    planned_pages: int = 0
    # The source's last page, once a page found nothing after it: planning is done when every
    # page up to it is (pages are planned side by side, each reading ahead to the next).
    last_page: int | None = None
    canceled: bool = False
    plan_error: ItemError | None = None
    # The last state written by settle(); reads derive the live state from the counts.
    settled_state: JobState | None = None
    completed_at: datetime | None = None
    # Per asset container: how its ingestion source was handled during planning.
    containers: dict[str, str] = field(default_factory=dict)
    # The body of a dead-lettered plan message, kept so that retry can redrive it.
    dead_plan_message: str | None = None
    # Parts of the source that could not be read (belonging to no item).
    source_problems: SourceProblems = field(default_factory=SourceProblems)

    def state_for(self, counts: Mapping[ItemState, int]) -> JobState:
        """The job's state given its items' counts (the one rule: `derive_job_state`)."""
        return derive_job_state(
            planning_done=self.planning_done,
            canceled=self.canceled,
            plan_failed=self.plan_error is not None,
            counts=counts,
            source_problems=self.source_problems.count > 0,
        )


@dataclass(frozen=True)
class ItemRecord:
    job_id: str
    item_id: str
    state: ItemState
    # Where the item lives: its batch and its place in it (source order).
    batch: str = ""
    index: int = 0
    # Operations created for this item (a batch post counts for each of its items).
    attempts: int = 0
    # A post carrying the item may have landed although its answer was lost: found in the
    # collection later, the item is ours (succeeded), not someone else's (skipped).
    unseen_post: bool = False
    operation_id: str | None = None
    error: ItemError | None = None
    containers: tuple[str, ...] = ()
    # Posted on its own (not in its batch's FeatureCollection): to learn its own error code.
    single: bool = False
    # The method the GeoCatalog told us applies (upsert fallbacks), else None: decided by mode.
    method: str | None = None
    # Set once a credential failure made the service renew the container's SAS and re-post.
    renewed: bool = False
    # Upsert: an earlier copy of the same id ("batch:index") that was being posted when this
    # later copy was planned; this one is posted once that one has ended, so it is written last.
    after: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class BatchRecord:
    """A batch as read in one query: its row and all its items, in source order."""

    job_id: str
    key: str
    items: tuple[ItemRecord, ...]
    counts: dict[ItemState, int]
    # The blob holding the batch's items (one JSON text per line, in batch order; `null` for an
    # item not to post), if any item of it is to be posted.
    payload_ref: str | None = None
    # The queue message that is posting the batch right now, and since when.
    claim: str | None = None
    claimed_at: datetime | None = None
    # Items per FeatureCollection post; 0: the whole batch. Halved when the GeoCatalog
    # refuses a post for its size.
    chunk_size: int = 0
    updated_at: datetime | None = None
    etag: str = ""

    def in_state(self, *states: ItemState) -> list[ItemRecord]:
        return [item for item in self.items if item.state in states]


@dataclass(frozen=True)
class NewItem:
    """An item the planner registers: pending with its prepared JSON, or another state (invalid,
    skipped) with the reason."""

    item_id: str
    state: ItemState
    payload: str | None = None
    containers: tuple[str, ...] = ()
    error: ItemError | None = None
    # Bytes of the item's JSON (also when it lives in a blob): batches are bounded by bytes.
    size: int = 0
    # See ItemRecord.after.
    after: str | None = None


@dataclass(frozen=True)
class JobView:
    job: JobRecord
    state: JobState
    counts: dict[ItemState, int]
    errors: tuple[tuple[str, ItemError], ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())
