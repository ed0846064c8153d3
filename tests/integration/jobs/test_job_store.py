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
from shared.jobs import keys
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState, JobState
from shared.jobs.store import ItemUpdate, JobExists, JobStore


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


def test_new_job_is_planning_with_zero_counts_and_active(store: JobStore) -> None:
    job_id = new_job(store)
    view = store.view(job_id)
    assert view is not None
    assert view.state is JobState.PLANNING
    assert view.total == 0
    assert view.job.source == {"type": "items", "count": 3}
    assert view.job.drop_assets == ("preview",)
    assert job_id in store.active_jobs()
    with pytest.raises(JobExists):
        store.create_job(view.job)


def test_registering_a_page_twice_counts_each_item_once(store: JobStore) -> None:
    job_id = new_job(store)
    page = [pending(f"item-{i}") for i in range(120)]
    page.append(
        NewItem("bad-1", ItemState.INVALID, error=ItemError("InvalidStacItem", "no geometry"))
    )
    first = store.register_items(job_id, page)
    assert first.registered == 121
    assert len(first.pending_ids) == 120
    again = store.register_items(job_id, page)
    assert again.registered == 0
    assert sorted(again.pending_ids) == sorted(first.pending_ids)
    counts = store.counts(job_id)
    assert counts[ItemState.PENDING] == 120
    assert counts[ItemState.INVALID] == 1
    assert store.first_errors(job_id) == (("bad-1", ItemError("InvalidStacItem", "no geometry")),)


def test_a_redelivered_page_after_partial_progress_only_returns_still_pending(
    store: JobStore,
) -> None:
    job_id = new_job(store)
    store.register_items(job_id, [pending("a"), pending("b")])
    store.transition(job_id, "a", to=ItemState.SUBMITTING, allowed_from={ItemState.PENDING})
    again = store.register_items(job_id, [pending("a"), pending("b"), pending("c")])
    assert again.registered == 1
    assert sorted(again.pending_ids) == ["b", "c"]
    assert store.counts(job_id)[ItemState.PENDING] == 2


def test_transitions_move_counts_and_refuse_wrong_states(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_items(job_id, [pending("x")])
    claimed = store.transition(
        job_id,
        "x",
        to=ItemState.SUBMITTING,
        allowed_from={ItemState.PENDING},
        update=ItemUpdate(claim="msg-1", add_attempt=True),
    )
    assert claimed.applied
    assert claimed.item is not None
    assert (claimed.item.claim, claimed.item.attempts) == ("msg-1", 1)
    again = store.transition(job_id, "x", to=ItemState.SUBMITTING, allowed_from={ItemState.PENDING})
    assert not again.applied
    assert again.item is not None
    assert again.item.state is ItemState.SUBMITTING
    submitted = store.transition(
        job_id,
        "x",
        to=ItemState.SUBMITTED,
        allowed_from={ItemState.SUBMITTING},
        update=ItemUpdate(operation_id="op-1", clear_claim=True),
    )
    assert submitted.item is not None
    assert submitted.item.operation_id == "op-1"
    assert submitted.item.claim is None
    counts = store.counts(job_id)
    assert (counts[ItemState.PENDING], counts[ItemState.SUBMITTED]) == (0, 1)
    missing = store.transition(job_id, "nope", to=ItemState.FAILED, allowed_from=set(ItemState))
    assert (missing.applied, missing.item) == (False, None)


def test_failure_records_an_error_row_and_retry_removes_it(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_items(job_id, [pending("x"), pending("y")])
    store.transition(
        job_id,
        "x",
        to=ItemState.FAILED,
        allowed_from={ItemState.PENDING},
        update=ItemUpdate(error=ItemError("IngestionResourceForbidden", "no source")),
    )
    store.transition(job_id, "y", to=ItemState.DEAD_LETTERED, allowed_from={ItemState.PENDING})
    errors = dict(store.first_errors(job_id))
    assert errors["x"].code == "IngestionResourceForbidden"
    assert errors["y"].code == "Unknown"
    store.transition(
        job_id,
        "x",
        to=ItemState.PENDING,
        allowed_from={ItemState.FAILED},
        update=ItemUpdate(clear_error=True),
    )
    assert [item for item, _ in store.first_errors(job_id)] == ["y"]
    item = store.get_item(job_id, "x")
    assert item is not None
    assert item.error is None


def test_concurrent_duplicate_claims_let_exactly_one_worker_win(store: JobStore) -> None:
    job_id = new_job(store)
    ids = [f"item-{i}" for i in range(40)]
    store.register_items(job_id, [pending(i) for i in ids])

    def claim(args: tuple[str, int]) -> bool:
        item_id, worker = args
        result = store.transition(
            job_id,
            item_id,
            to=ItemState.SUBMITTING,
            allowed_from={ItemState.PENDING},
            update=ItemUpdate(claim=f"worker-{worker}", add_attempt=True),
        )
        return result.applied

    work = [(i, w) for i in ids for w in range(4)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        wins = list(pool.map(claim, work))
    assert sum(wins) == len(ids)
    counts = store.counts(job_id)
    assert counts[ItemState.SUBMITTING] == len(ids)
    assert counts[ItemState.PENDING] == 0
    assert all(store.get_item(job_id, i).attempts == 1 for i in ids)  # type: ignore[union-attr]


def test_concurrent_transitions_on_shared_shards_keep_counts_exact(store: JobStore) -> None:
    job_id = new_job(store)
    ids = [f"s-{i}" for i in range(60)]
    store.register_items(job_id, [pending(i) for i in ids])

    def walk(item_id: str) -> None:
        path = [ItemState.SUBMITTING, ItemState.SUBMITTED]
        path.append(ItemState.SUCCEEDED if int(item_id[2:]) % 3 else ItemState.FAILED)
        previous = ItemState.PENDING
        for state in path:
            result = store.transition(job_id, item_id, to=state, allowed_from={previous})
            assert result.applied
            previous = state

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(walk, ids))
    counts = store.counts(job_id)
    assert counts[ItemState.SUCCEEDED] == 40
    assert counts[ItemState.FAILED] == 20
    assert sum(counts.values()) == 60


def test_settle_persists_the_terminal_state_once_and_reopen_undoes_it(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_items(job_id, [pending("a"), pending("b")])
    store.transition(job_id, "a", to=ItemState.SUCCEEDED, allowed_from={ItemState.PENDING})
    store.update_job(job_id, lambda j: replace(j, planning_done=True))
    running = store.settle(job_id)
    assert running is not None
    assert running.state is JobState.RUNNING
    assert running.job.completed_at is None
    store.transition(
        job_id,
        "b",
        to=ItemState.FAILED,
        allowed_from={ItemState.PENDING},
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


def test_list_items_filters_by_state_and_pages(store: JobStore) -> None:
    job_id = new_job(store)
    ids = [f"i-{n:03d}" for n in range(25)]
    store.register_items(job_id, [pending(i) for i in ids])
    for i in ids[::2]:
        store.transition(job_id, i, to=ItemState.SUCCEEDED, allowed_from={ItemState.PENDING})
    seen: list[str] = []
    token = None
    while True:
        page = store.list_items(job_id, state=ItemState.SUCCEEDED, limit=5, continuation=token)
        assert all(item.state is ItemState.SUCCEEDED for item in page.items)
        assert all(item.payload is None for item in page.items)
        seen += [item.item_id for item in page.items]
        token = page.continuation
        if token is None:
            break
    assert seen == ids[::2]
    assert sorted(store.item_ids(job_id, {ItemState.PENDING})) == ids[1::2]


def test_page_markers_say_first_time_only(store: JobStore) -> None:
    job_id = new_job(store)
    assert store.mark_page_done(job_id, 0)
    assert not store.mark_page_done(job_id, 0)
    assert store.is_page_done(job_id, 0)
    assert not store.is_page_done(job_id, 1)


def test_delete_job_removes_every_row(store: JobStore) -> None:
    job_id = new_job(store)
    store.register_items(job_id, [pending("a")])
    store.delete_job(job_id)
    assert store.get_job(job_id) is None
    assert store.get_item(job_id, "a") is None
    assert job_id not in store.active_jobs()


def test_a_transition_says_when_it_drained_its_shard(store: JobStore) -> None:
    job_id = new_job(store)
    # Two items in one shard: only the second to settle drains it.
    ids = [f"item-{n}" for n in range(500)]
    shard = keys.shard_of(ids[0], store.shard_count(job_id))
    same = [i for i in ids if keys.shard_of(i, store.shard_count(job_id)) == shard][:2]
    store.register_items(job_id, [pending(i) for i in same])
    first = store.transition(
        job_id, same[0], to=ItemState.SUCCEEDED, allowed_from={ItemState.PENDING}
    )
    second = store.transition(
        job_id, same[1], to=ItemState.SUCCEEDED, allowed_from={ItemState.PENDING}
    )
    reopened = store.transition(
        job_id, same[1], to=ItemState.PENDING, allowed_from={ItemState.SUCCEEDED}
    )
    assert (first.shard_drained, second.shard_drained, reopened.shard_drained) == (
        False,
        True,
        False,
    )


def test_a_large_page_registers_in_few_transactions_with_exact_counts(store: JobStore) -> None:
    job_id = new_job(store)
    page = [pending(f"p-{n}") for n in range(250)]
    page += [
        NewItem(f"bad-{n}", ItemState.INVALID, error=ItemError("InvalidStacItem", "x"))
        for n in range(30)
    ]
    result = store.register_items(job_id, page)
    assert result.registered == 280
    counts = store.counts(job_id)
    assert (counts[ItemState.PENDING], counts[ItemState.INVALID]) == (250, 30)
    assert len(store.first_errors(job_id, limit=100)) == 30
    assert store.shard_count(job_id) == 64


def test_updating_a_job_keeps_its_shard_count(store: JobStore) -> None:
    job_id = new_job(store)
    store.update_job(job_id, lambda j: replace(j, planning_done=True))
    job = store.get_job(job_id)
    assert job is not None
    assert job.shards == 64
    assert JobStore(store._table).shard_count(job_id) == 64
