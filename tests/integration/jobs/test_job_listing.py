"""The job index against real Azurite: every job newest first, paged, filtered, without item rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableClient, TableServiceClient

from local.azurite import Azurite
from shared.jobs.listing import INDEX_PARTITION, JobFilter, JobIndex
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState, JobState
from shared.jobs.store import JobStore

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class RecordingTable:
    """A TableClient that records every entity it hands back (reads only are wrapped)."""

    table: TableClient
    read: list[dict[str, Any]] = field(default_factory=list)

    def get_entity(self, *args: Any, **kwargs: Any) -> Any:
        entity = self.table.get_entity(*args, **kwargs)
        self.read.append(dict(entity))
        return entity

    def query_entities(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for entity in self.table.query_entities(*args, **kwargs):
            self.read.append(dict(entity))
            yield entity


@pytest.fixture
def table(azurite: Azurite, unique_name: str) -> Iterator[TableClient]:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_table_client(unique_name)
    JobStore(client).ensure_table()
    yield client
    service.delete_table(unique_name)


def make_job(
    store: JobStore, created: datetime, collection: str = "alpha", **fields: Any
) -> JobRecord:
    job = JobRecord(
        job_id=uuid.uuid4().hex,
        collection=collection,
        mode="create",
        source={"type": "items", "count": 0},
        drop_assets=(),
        dry_run=False,
        created_at=created,
        updated_at=created,
        **fields,
    )
    store.create_job(job)
    return job


def all_pages(index: JobIndex, where: JobFilter | None = None, **kwargs: Any) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    for _ in range(1000):
        page = index.list_jobs(where, after=after, **kwargs)
        ids += [s.job.job_id for s in page.jobs]
        after = page.after
        if after is None:
            return ids
    raise AssertionError("the listing kept answering a cursor")


def test_every_job_newest_first_a_page_at_a_time(table: TableClient) -> None:
    store = JobStore(table)
    jobs = [make_job(store, BASE + timedelta(minutes=i)) for i in range(25)]
    index = JobIndex(table, store)

    first = index.list_jobs(limit=7)
    assert [s.job.job_id for s in first.jobs] == [j.job_id for j in reversed(jobs)][:7]
    assert first.after is not None
    listed = all_pages(index, limit=7)
    assert listed == [j.job_id for j in reversed(jobs)]
    # A page exactly as large as what is left says there is nothing more.
    whole = index.list_jobs(limit=25)
    assert len(whole.jobs) == 25
    assert whole.after is None


def test_filters_by_collection_since_and_state(table: TableClient) -> None:
    store = JobStore(table)
    planning = [make_job(store, BASE + timedelta(hours=i), "alpha") for i in range(4)]
    succeeded = [
        make_job(store, BASE + timedelta(hours=10 + i), "beta", planning_done=True)
        for i in range(3)
    ]
    canceled = make_job(store, BASE + timedelta(hours=20), "alpha", canceled=True)
    failed = make_job(
        store,
        BASE + timedelta(hours=21),
        "beta",
        planning_done=True,
        plan_error=ItemError("SourceUnreadable", "404"),
    )
    index = JobIndex(table, store)

    def ids(where: JobFilter, limit: int = 3, **kw: Any) -> set[str]:
        found = all_pages(index, where, limit=limit, **kw)
        assert len(found) == len(set(found))
        return set(found)

    assert ids(JobFilter(collection="alpha")) == {j.job_id for j in [*planning, canceled]}
    assert ids(JobFilter(collection="gamma")) == set()
    assert ids(JobFilter(state=JobState.SUCCEEDED)) == {j.job_id for j in succeeded}
    assert ids(JobFilter(state=JobState.FAILED)) == {failed.job_id}
    assert ids(JobFilter(state=JobState.CANCELED)) == {canceled.job_id}
    # `since` includes a job created at that very instant.
    since = BASE + timedelta(hours=11)
    assert ids(JobFilter(since=since)) == {
        succeeded[1].job_id,
        succeeded[2].job_id,
        canceled.job_id,
        failed.job_id,
    }
    assert ids(JobFilter(since=since, collection="beta", state=JobState.SUCCEEDED)) == {
        succeeded[1].job_id,
        succeeded[2].job_id,
    }
    # A state filter that skips most rows: a bounded scan answers short pages with a cursor,
    # and following the cursors still finds every match, once.
    short = index.list_jobs(JobFilter(state=JobState.PLANNING), limit=5, scan_limit=2)
    assert short.jobs == ()
    assert short.after is not None
    assert ids(JobFilter(state=JobState.PLANNING), limit=5, scan_limit=2) == {
        j.job_id for j in planning
    }


def test_summaries_carry_state_and_counts(table: TableClient) -> None:
    store = JobStore(table)
    job = make_job(store, BASE, planning_done=True)
    register(
        store,
        job.job_id,
        [NewItem(f"bad-{i}", ItemState.INVALID, error=ItemError("Nope", "no")) for i in range(3)],
    )
    [summary] = JobIndex(table, store).list_jobs().jobs
    assert summary.state is JobState.FAILED
    assert summary.counts[ItemState.INVALID] == 3
    assert summary.total == 3


def register(store: JobStore, job_id: str, items: list[NewItem]) -> None:
    # As the planner lays them out: batches of at most 99 items (nothing is posted here).
    unit = uuid.uuid4().hex[:8]
    for start in range(0, len(items), 99):
        store.register_batch(job_id, f"{unit}-{start:05d}", items[start : start + 99])


def test_listing_reads_no_item_rows(table: TableClient) -> None:
    """A listing reads index, job and batch rows only: a job of 300 items costs its 4 batch
    rows more than an empty one, never its item rows."""
    store = JobStore(table)
    for i in range(3):
        make_job(store, BASE + timedelta(minutes=i), "empty")
    full = [make_job(store, BASE + timedelta(minutes=10 + i), "full") for i in range(3)]
    for job in full:
        items = [
            NewItem(f"item-{n:04d}", ItemState.PENDING, payload=json.dumps({"id": n}))
            for n in range(300)
        ]
        register(store, job.job_id, items)
    assert store.counts(full[0].job_id)[ItemState.PENDING] == 300

    def rows_read(collection: str) -> list[dict[str, Any]]:
        recording = RecordingTable(table)
        reader = JobStore(recording)  # type: ignore[arg-type]
        page = JobIndex(recording, reader).list_jobs(  # type: ignore[arg-type]
            JobFilter(collection=collection)
        )
        assert len(page.jobs) == 3
        return recording.read

    read_empty, read_full = rows_read("empty"), rows_read("full")
    assert len(read_full) == len(read_empty) + 3 * 4
    assert not [row for row in read_full if "ItemId" in row or "Payload" in row]
    jobs = {j.job_id for j in full}
    partitions = {row["PartitionKey"].split(".")[0] for row in read_full}
    assert partitions == jobs | {INDEX_PARTITION}


def test_an_undone_job_leaves_the_listing(table: TableClient) -> None:
    store = JobStore(table)
    kept = make_job(store, BASE)
    undone = make_job(store, BASE + timedelta(minutes=1))
    store.delete_job(undone.job_id)
    index = JobIndex(table, store)
    assert [s.job.job_id for s in index.list_jobs().jobs] == [kept.job_id]
    rows = list(table.query_entities("PartitionKey eq @pk", parameters={"pk": INDEX_PARTITION}))
    assert [r["JobId"] for r in rows] == [kept.job_id]


def test_a_settled_job_is_listed_from_its_index_row_until_it_is_reopened(
    table: TableClient,
) -> None:
    store = JobStore(table)
    job = make_job(store, BASE, planning_done=True)
    bad = [NewItem(f"bad-{i}", ItemState.INVALID, error=ItemError("Nope", "no")) for i in range(3)]
    register(store, job.job_id, bad)
    settled = store.settle(job.job_id)
    assert settled is not None
    assert settled.state is JobState.FAILED
    index = JobIndex(table, store)
    [first] = index.list_jobs().jobs  # reads the counts, keeps them on the index row

    recording = RecordingTable(table)
    reader = JobIndex(recording, JobStore(recording))  # type: ignore[arg-type]
    [again] = reader.list_jobs().jobs
    assert (
        (again.state, again.counts)
        == (first.state, first.counts)
        == (
            JobState.FAILED,
            {**dict.fromkeys(ItemState, 0), ItemState.INVALID: 3},
        )
    )
    # The index row and the job row: no counter rows.
    assert [row["PartitionKey"] for row in recording.read] == [INDEX_PARTITION, job.job_id]

    # A retry reopens the job before it changes an item: the kept counts are not used any more.
    store.reopen(job.job_id)
    register(store, job.job_id, [NewItem("new", ItemState.PENDING, payload="{}")])
    [reopened] = index.list_jobs().jobs
    assert reopened.state is JobState.RUNNING
    assert reopened.counts[ItemState.PENDING] == 1
    assert reopened.counts[ItemState.INVALID] == 3
