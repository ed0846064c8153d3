"""Every job, newest first: an index row per job, written when the job is created.

The job rows live in one partition per job, so "what ran today" has no key range to scan. The
index keeps one small row per job in its own partition, its RowKey ordered newest first, so that a
listing is one key-range query of the index plus, per job listed, its job row and its batch
rows: the cost grows with the jobs on the page, never with their items. Jobs from every entrance
(POST /api/ingest, Event Grid) are indexed, because the row is written by `JobStore.create_job`.

A settled job's counts no longer change, so the first listing that sees one keeps its state and
counts on its index row, stamped with the job's `completedAt`; later listings read only its job
row and use them while `completedAt` is the same. A retry reopens the job (clearing `completedAt`)
before it moves an item, and settling again stamps a new one, so a stale copy is never used.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.jobs.records import JobRecord
from shared.jobs.states import ItemState, JobState, is_settled

if TYPE_CHECKING:
    from shared.jobs.store import JobStore

logger = logging.getLogger(__name__)

INDEX_PARTITION = "~jobs"
# RowKey = (this - microseconds since the epoch), zero-padded: ascending keys are newest first.
_KEY_CEILING = 10**17
_KEY_DIGITS = 17
LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100
# Index rows examined per request when a state filter skips jobs: a page may come back short,
# with a cursor to go on from.
_SCAN_PER_REQUEST = 500
_READ_WORKERS = 8


def _micros(moment: datetime) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time_key(moment: datetime) -> str:
    return f"{_KEY_CEILING - _micros(moment):0{_KEY_DIGITS}d}"


def index_key(job: JobRecord) -> str:
    return f"{_time_key(job.created_at)}_{job.job_id}"


def index_job(table: TableClient, job: JobRecord) -> None:
    """Write (or rewrite: idempotent) the job's index row."""
    table.upsert_entity(
        {
            "PartitionKey": INDEX_PARTITION,
            "RowKey": index_key(job),
            "JobId": job.job_id,
            "Collection": job.collection,
            "CreatedAt": job.created_at,
        }
    )


def unindex_job(table: TableClient, job: JobRecord) -> None:
    with contextlib.suppress(ResourceNotFoundError):
        table.delete_entity(INDEX_PARTITION, index_key(job))


@dataclass(frozen=True)
class JobSummary:
    job: JobRecord
    state: JobState
    counts: dict[ItemState, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class JobListPage:
    jobs: tuple[JobSummary, ...]
    # The index RowKey to go on after; None when the listing is complete.
    after: str | None


@dataclass(frozen=True)
class JobFilter:
    state: JobState | None = None
    collection: str | None = None
    since: datetime | None = None


class JobIndex:
    def __init__(self, table: TableClient, store: JobStore) -> None:
        self._table = table
        self._store = store

    def list_jobs(
        self,
        where: JobFilter | None = None,
        *,
        limit: int = LIST_LIMIT_DEFAULT,
        after: str | None = None,
        scan_limit: int = _SCAN_PER_REQUEST,
    ) -> JobListPage:
        """A page of jobs, newest first, that match `where`; `after` resumes a listing."""
        where = where or JobFilter()
        rows = self._index_rows(where, after)
        found: list[JobSummary] = []
        scanned = 0
        last_key: str | None = None
        with ThreadPoolExecutor(max_workers=_READ_WORKERS) as pool:
            while len(found) < limit and scanned < scan_limit:
                batch = _take(rows, min(limit - len(found), scan_limit - scanned))
                if not batch:
                    return JobListPage(tuple(found), None)
                scanned += len(batch)
                summaries = list(pool.map(self._summary_of, batch))
                for row, summary in zip(batch, summaries, strict=True):
                    last_key = row["RowKey"]
                    # A job whose creation was undone leaves no index row; one that vanished
                    # between the two reads is simply not listed.
                    if summary is None:
                        continue
                    if where.state is not None and summary.state is not where.state:
                        continue
                    found.append(summary)
        more = _peek(rows)
        return JobListPage(tuple(found), last_key if more else None)

    def _computed(self, job: JobRecord) -> JobSummary:
        """The job's state and counts from its job row and the counts of its batch rows."""
        counts = self._store.counts(job.job_id)
        state = job.state_for(counts)
        return JobSummary(job, state, counts)

    def _summary_of(self, row: Any) -> JobSummary | None:
        job = self._store.get_job(row["JobId"])
        if job is None:
            return None
        stamp = _stamp(job)
        if stamp is not None and row.get("SettledAt") == stamp:
            cached = _cached(row)
            if cached is not None:
                return JobSummary(job, *cached)
        summary = self._computed(job)
        if stamp is not None and is_settled(planning_done=job.planning_done, counts=summary.counts):
            self._keep(row["RowKey"], stamp, summary)
        return summary

    def _keep(self, row_key: str, stamp: str, summary: JobSummary) -> None:
        """Keep a settled job's state and counts on its index row (a cache: failures are only
        logged, and a row removed meanwhile is not recreated)."""
        counts = {state.value: n for state, n in summary.counts.items() if n}
        try:
            self._table.update_entity(
                {
                    "PartitionKey": INDEX_PARTITION,
                    "RowKey": row_key,
                    "SettledAt": stamp,
                    "State": summary.state.value,
                    "Counts": json.dumps(counts, separators=(",", ":")),
                },
                mode=UpdateMode.MERGE,
            )
        except AzureError:
            logger.warning(
                "could not keep the counts of job %s on its index row", summary.job.job_id
            )

    def _index_rows(self, where: JobFilter, after: str | None) -> _Lookahead:
        query = "PartitionKey eq @pk"
        params: dict[str, Any] = {"pk": INDEX_PARTITION}
        if after is not None:
            query += " and RowKey gt @after"
            params["after"] = after
        if where.since is not None:
            # Created at or after `since`: keys up to since's own time key (and its job ids).
            query += " and RowKey lt @until"
            params["until"] = _time_key(where.since) + "~"
        if where.collection is not None:
            query += " and Collection eq @collection"
            params["collection"] = where.collection
        rows = self._table.query_entities(
            query,
            parameters=params,
            select=["PartitionKey", "RowKey", "JobId", "SettledAt", "State", "Counts"],
            results_per_page=100,
        )
        return _Lookahead(iter(rows))


def _stamp(job: JobRecord) -> str | None:
    """What identifies one settling of the job; None while it is not settled."""
    if job.settled_state is None or job.completed_at is None:
        return None
    return job.completed_at.isoformat()


def _cached(row: Any) -> tuple[JobState, dict[ItemState, int]] | None:
    """The state and counts kept on an index row; None if they are missing or unreadable."""
    try:
        state = JobState(row.get("State"))
        kept = json.loads(row.get("Counts"))
        counts = dict.fromkeys(ItemState, 0)
        counts.update({ItemState(name): int(n) for name, n in kept.items()})
    except (ValueError, TypeError, AttributeError):
        return None
    return state, counts


class _Lookahead:
    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next: Any = None
        self._has_next = False

    def pop(self) -> Any | None:
        if self._has_next:
            self._has_next = False
            return self._next
        return next(self._rows, None)

    def peek(self) -> bool:
        if not self._has_next:
            self._next = next(self._rows, None)
            self._has_next = self._next is not None
        return self._has_next


def _take(rows: _Lookahead, count: int) -> list[Any]:
    taken: list[Any] = []
    while len(taken) < count:
        row = rows.pop()
        if row is None:
            break
        taken.append(row)
    return taken


def _peek(rows: _Lookahead) -> bool:
    return rows.peek()
