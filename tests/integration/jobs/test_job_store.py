"""The job store against real Azurite: exact counts under concurrent and repeated delivery."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from azure.data.tables import TableServiceClient

from local.azurite import Azurite
from shared.jobs.records import BatchRecord, ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState, JobState
from shared.jobs.store import BatchChange, InvalidContinuation, ItemUpdate, JobExists, JobStore


@pytest.fixture
def store(azurite: Azurite, unique_name: str) -> Iterator[JobStore]:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(unique_name)
    js = JobStore(table)
    js.ensure_table()
    yield js
    service.delete_table(unique_name)


def new_job(store: JobStore, **overrides: object) -> str:
    job_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "job_id": job_id,
        "collection": "sentinel-2-test",
        "mode": "create",
        "source": {"type": "items", "count": 3},
        "drop_assets": ("preview",),
        "dry_run": False,
        "created_at": now,
        "updated_at": now,
    }
    fields.update(overrides)
    store.create_job(JobRecord(**fields))  # type: ignore[arg-type]
    return job_id


def pending(item_id: str) -> NewItem:
    return NewItem(item_id, ItemState.PENDING, payload=json.dumps({"id": item_id}))


def move(
    store: JobStore,
    job_id: str,
    batch: str,
    indices: list[int],
    to: ItemState,
    *,
    allowed: frozenset[ItemState] = frozenset(ItemState),
    update: ItemUpdate | None = None,
) -> bool:
    def decide(current: BatchRecord) -> BatchChange | None:
        moves = {
            i: (to, update or ItemUpdate()) for i in indices if current.items[i].state in allowed
        }
        return BatchChange(items=moves) if moves else None

    return store.change_batch(job_id, batch, decide).applied


def test_new_job_is_planning_with_zero_counts_and_active(store: JobStore) -> None:
    job_id = new_job(store)
    view = store.view(job_id)
    assert view is not None
    assert view.state is JobState.PLANNING
    assert view.total == 0
    assert view.job.source == {"type": "items", "count": 3}
    assert job_id in store.active_jobs()
    with pytest.raises(JobExists):
        store.create_job(replace(view.job))


def test_registering_a_batch_twice_counts_each_item_once(store: JobStore) -> None:
    job_id = new_job(store)
    items = [pending("a"), pending("b"), pending("a")]
    assert store.register_batch(job_id, "p0-000", items)
    assert not store.register_batch(job_id, "p0-000", items)
    counts = store.counts(job_id)
    assert counts[ItemState.PENDING] == 3
    batch = store.read_batch(job_id, "p0-000")
    assert batch is not None
    # A source may list one id twice: each copy is a row of its own, in source order.
    assert [(i.index, i.item_id) for i in batch.items] == [(0, "a"), (1, "b"), (2, "a")]
    assert len(store.find_item(job_id, "a")) == 2


def test_a_batch_holds_at_most_what_one_transaction_takes(store: JobStore) -> None:
    job_id = new_job(store)
    with pytest.raises(ValueError, match="1 to 99"):
        store.register_batch(job_id, "big", [pending(f"i{n}") for n in range(100)])
    assert store.register_batch(job_id, "full", [pending(f"i{n}") for n in range(99)])
    assert store.counts(job_id)[ItemState.PENDING] == 99


def test_changes_move_counts_and_item_fields_together(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending("x"), pending("y")])
    assert move(
        store,
        job_id,
        "b",
        [0, 1],
        ItemState.SUBMITTED,
        update=ItemUpdate(operation_id="op-1", add_attempt=True),
    )
    assert move(
        store,
        job_id,
        "b",
        [1],
        ItemState.FAILED,
        update=ItemUpdate(error=ItemError("StacValidationFailed", "bad geometry")),
    )
    assert move(store, job_id, "b", [0], ItemState.SUCCEEDED, update=ItemUpdate(clear_error=True))
    counts = store.counts(job_id)
    assert (counts[ItemState.SUCCEEDED], counts[ItemState.FAILED]) == (1, 1)
    assert sum(counts.values()) == 2
    batch = store.read_batch(job_id, "b")
    assert batch is not None
    x, y = batch.items
    assert (x.state, x.operation_id, x.attempts, x.error) == (ItemState.SUCCEEDED, "op-1", 1, None)
    assert y.error == ItemError("StacValidationFailed", "bad geometry")
    assert [item for item, _ in store.first_errors(job_id)] == ["y"]
    # Back to pending for a retry: the error goes with it.
    assert move(
        store,
        job_id,
        "b",
        [1],
        ItemState.PENDING,
        update=ItemUpdate(clear_error=True, reset_attempts=True, clear_operation=True),
    )
    assert store.first_errors(job_id) == ()
    assert store.find_item(job_id, "y")[0].operation_id is None


def test_concurrent_claims_of_one_batch_let_exactly_one_worker_win(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending(f"item-{i}") for i in range(40)])

    def claim(worker: int) -> bool:
        def decide(current: BatchRecord) -> BatchChange | None:
            if current.claim:
                return None
            moves = {
                i.index: (ItemState.SUBMITTING, ItemUpdate())
                for i in current.in_state(ItemState.PENDING)
            }
            return BatchChange(items=moves, claim=f"worker-{worker}")

        return store.change_batch(job_id, "b", decide).applied

    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(claim, range(8)))
    assert sum(wins) == 1
    counts = store.counts(job_id)
    assert (counts[ItemState.SUBMITTING], counts[ItemState.PENDING]) == (40, 0)


def test_concurrent_changes_of_one_batch_keep_counts_exact(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending(f"s-{i}") for i in range(18)])

    def walk(index: int) -> None:
        path = [ItemState.SUBMITTING, ItemState.SUBMITTED]
        path.append(ItemState.SUCCEEDED if index % 3 else ItemState.FAILED)
        previous = ItemState.PENDING
        for state in path:
            assert move(store, job_id, "b", [index], state, allowed=frozenset({previous}))
            previous = state

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(walk, range(18)))
    counts = store.counts(job_id)
    assert counts[ItemState.SUCCEEDED] == 12
    assert counts[ItemState.FAILED] == 6
    assert sum(counts.values()) == 18
    assert len(store.list_items(job_id, limit=100).items) == 18


def test_settle_persists_the_terminal_state_once_and_reopen_undoes_it(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending("a"), pending("b")])
    move(store, job_id, "b", [0], ItemState.SUCCEEDED)
    # Planning is not done: settling reads nothing more than the job row.
    assert store.settle(job_id) is None
    store.update_job(job_id, lambda j: replace(j, planning_done=True))
    running = store.settle(job_id)
    assert running is not None
    assert running.state is JobState.RUNNING
    assert running.job.completed_at is None
    move(
        store,
        job_id,
        "b",
        [1],
        ItemState.FAILED,
        update=ItemUpdate(error=ItemError("StacValidationFailed", "bad")),
    )
    done = store.settle(job_id)
    assert done is not None
    assert done.state is JobState.PARTIALLY_SUCCEEDED
    assert done.job.settled_state is JobState.PARTIALLY_SUCCEEDED
    assert done.job.completed_at is not None
    assert job_id not in store.active_jobs()
    store.reopen(job_id)
    job = store.get_job(job_id)
    assert job is not None
    assert (job.settled_state, job.completed_at) == (None, None)
    assert job_id in store.active_jobs()


def test_list_items_filters_by_state_and_pages_across_batches(store: JobStore) -> None:
    job_id = new_job(store)
    ids = [f"i-{n:03d}" for n in range(25)]
    for start in range(0, 25, 10):
        store.register_batch(job_id, f"p{start:03d}", [pending(i) for i in ids[start : start + 10]])
    for batch in ("p000", "p010", "p020"):
        found = store.read_batch(job_id, batch)
        assert found is not None
        move(
            store,
            job_id,
            batch,
            [i.index for i in found.items if int(i.item_id[2:]) % 2 == 0],
            ItemState.SUCCEEDED,
        )
    seen: list[str] = []
    token = None
    while True:
        page = store.list_items(job_id, state=ItemState.SUCCEEDED, limit=5, continuation=token)
        assert all(item.state is ItemState.SUCCEEDED for item in page.items)
        seen += [item.item_id for item in page.items]
        token = page.continuation
        if token is None:
            break
    assert seen == ids[::2]  # source order
    summaries = store.batches(job_id)
    assert [b.key for b in summaries] == ["p000", "p010", "p020"]
    assert sum(b.counts[ItemState.PENDING] for b in summaries) == 12


def test_page_markers_say_first_time_only(store: JobStore) -> None:
    job_id = new_job(store)
    assert store.mark_page_done(job_id, 0)
    assert not store.mark_page_done(job_id, 0)
    assert store.is_page_done(job_id, 0)
    assert not store.is_page_done(job_id, 1)


def test_delete_job_removes_every_row(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending("a")])
    store.delete_job(job_id)
    assert store.get_job(job_id) is None
    assert store.find_item(job_id, "a") == []
    assert store.batches(job_id) == []
    assert job_id not in store.active_jobs()


def test_a_change_says_when_it_drained_its_batch(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending("a"), pending("b")])

    def one(index: int, to: ItemState) -> bool:
        def decide(_: BatchRecord) -> BatchChange:
            return BatchChange(items={index: (to, ItemUpdate())})

        return store.change_batch(job_id, "b", decide).drained

    assert (
        one(0, ItemState.SUCCEEDED),
        one(1, ItemState.SUCCEEDED),
        one(1, ItemState.PENDING),
    ) == (False, True, False)


def test_a_stale_writer_decides_again_on_what_is_there_now(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "b", [pending("a")])
    seen: list[ItemState] = []

    def decide(current: BatchRecord) -> BatchChange | None:
        seen.append(current.items[0].state)
        if len(seen) == 1:
            # Another writer lands between this read and this write.
            move(store, job_id, "b", [0], ItemState.CANCELED)
        if current.items[0].state is not ItemState.PENDING:
            return None
        return BatchChange(items={0: (ItemState.SUBMITTING, ItemUpdate())})

    result = store.change_batch(job_id, "b", decide)
    assert not result.applied
    assert seen == [ItemState.PENDING, ItemState.CANCELED]
    assert store.counts(job_id)[ItemState.CANCELED] == 1
    assert store.counts(job_id)[ItemState.SUBMITTING] == 0


def test_list_items_refuses_a_continuation_it_did_not_return(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_batch(job_id, "p000", [pending("a"), pending("b")])
    page = store.list_items(job_id, limit=1)
    assert page.continuation is not None
    for forged in (
        {"batch": "p000"},
        {"batch": "p000", "index": "x"},
        {"batch": "", "index": "1"},
        {"NextPartitionKey": "p", "NextRowKey": "r"},
    ):
        with pytest.raises(InvalidContinuation):
            store.list_items(job_id, limit=1, continuation=forged)
    rest = store.list_items(job_id, limit=1, continuation=page.continuation)
    assert [i.item_id for i in rest.items] == ["b"]
    assert rest.continuation is None


def test_a_batch_of_long_errors_fits_its_row_in_azurite(store: JobStore) -> None:
    job_id = new_job(store)
    ids = [f"item-{n:02d}-" + "x" * 180 for n in range(99)]
    assert store.register_batch(job_id, "p000", [pending(i) for i in ids])
    message = "the GeoCatalog said: " + "ü" * 1990
    error = ItemError("InvalidGeometry", message)
    result = store.change_batch(
        job_id,
        "p000",
        lambda b: BatchChange(
            items={i.index: (ItemState.FAILED, ItemUpdate(error=error)) for i in b.items}
        ),
    )
    assert result.applied
    batch = store.read_batch(job_id, "p000")
    assert batch is not None
    assert [i.item_id for i in batch.items] == ids
    assert batch.counts[ItemState.FAILED] == 99
    assert all(i.error is not None and i.error.code == "InvalidGeometry" for i in batch.items)
    assert all(
        i.error is not None and i.error.message.startswith("the GeoCatalog") for i in batch.items
    )
    assert [i.item_id for i in store.find_item(job_id, ids[42])] == [ids[42]]
