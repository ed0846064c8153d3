"""Every job, newest first: an index row per job, written when the job is created.

The job rows live in one partition per job, so "what ran today" has no key range to scan. The
index keeps one small row per job in its own partition, its RowKey ordered newest first, so that a
listing is one key-range query of the index plus, per job listed, its job row and its counter
shards: the cost grows with the jobs on the page, never with their items. Jobs from every entrance
(POST /api/ingest, Event Grid) are indexed, because the row is written by `JobStore.create_job`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient

from shared.jobs.records import JobRecord
from shared.jobs.states import ItemState, JobState, derive_job_state

if TYPE_CHECKING:
    from shared.jobs.store import JobStore

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
                summaries = list(pool.map(self.summary, (row["JobId"] for row in batch)))
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

    def summary(self, job_id: str) -> JobSummary | None:
        """The job's state and counts from its job row and counter shards (no item rows)."""
        job = self._store.get_job(job_id)
        if job is None:
            return None
        counts = self._store.counts(job_id)
        state = derive_job_state(
            planning_done=job.planning_done,
            canceled=job.canceled,
            plan_failed=job.plan_error is not None,
            counts=counts,
        )
        return JobSummary(job, state, counts)

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
            select=["PartitionKey", "RowKey", "JobId"],
            results_per_page=100,
        )
        return _Lookahead(iter(rows))


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
