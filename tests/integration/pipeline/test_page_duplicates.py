"""Ids that more than one page of a source lists: every copy accounted for, the right one kept.

Pages of 4 items (the harness's INGEST_SOURCE_PAGE_SIZE) from an item-urls source; real
Planetary Computer items, some of them served more than once with a marker saying which copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.jobs.records import ItemRecord
from shared.jobs.states import ItemState, JobState
from shared.messages import BatchMessage, PlanMessage, StatusMessage
from shared.pipeline import page_duplicates, plan
from shared.pipeline.dispatch import DUPLICATE_IN_JOB
from shared.pipeline.id_ledger import Place, digest, read_ledger, write_ledger
from shared.pipeline.maintenance import sweep_stalled
from shared.pipeline.submit import submit_job
from tests.integration.pipeline.conftest import Harness, pc_items
from tests.integration.source_server import document, source_server


def copy_of(item: dict[str, Any], n: int) -> dict[str, Any]:
    out = copy.deepcopy(item)
    out["properties"]["test:copy"] = n
    return out


@contextmanager
def item_urls_job(h: Harness, items: Sequence[dict[str, Any]], mode: str) -> Iterator[str]:
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        body = {
            "collection": "naip-test",
            "mode": mode,
            "source": {
                "type": "item-urls",
                "urls": [web.url(f"/items/{n}.json") for n in range(len(items))],
            },
        }
        yield submit_job(body, h.deps).job_id


def rows(h: Harness, job_id: str) -> list[ItemRecord]:
    return list(h.deps.store.list_items(job_id, limit=1000).items)


def code_of(row: ItemRecord) -> str | None:
    return row.error.code if row.error is not None else None


def last_written(h: Harness, item_id: str) -> Any:
    """The copy marker of what the collection ends with for `item_id`."""
    return [body for _, body in h.catalog.bodies if body["id"] == item_id][-1]["properties"][
        "test:copy"
    ]


def three_pages_with_repeats() -> list[dict[str, Any]]:
    a, b, c, d, e, f, g, k = pc_items(8)
    # Pages of 4: `a` on every page, `e` twice on page 1 and once on page 2.
    return [
        copy_of(a, 1), b, c, d,
        copy_of(a, 2), copy_of(e, 1), f, copy_of(e, 2),
        copy_of(e, 3), g, copy_of(a, 3), k,
    ]  # fmt: skip


def test_create_mode_posts_the_first_copy_and_skips_the_copies_later_pages_list(
    harness: Harness,
) -> None:
    items = three_pages_with_repeats()
    with item_urls_job(harness, items, "create") as job_id:
        harness.driver.run()

    view = harness.assert_accounted(job_id)
    listed = rows(harness, job_id)
    assert [r.item_id for r in listed] == [i["id"] for i in items]  # a row per copy, in order
    skipped = [n for n, r in enumerate(listed) if r.state is ItemState.SKIPPED]
    assert skipped == [4, 7, 8, 10]
    assert all(code_of(listed[n]) == DUPLICATE_IN_JOB for n in skipped)
    assert "page 1 of the source" in (listed[4].error.message if listed[4].error else "")
    assert view.counts[ItemState.SUCCEEDED] == 8
    assert view.state is JobState.SUCCEEDED
    posted = [item_id for method, item_id in harness.catalog.posts if method == "POST"]
    assert sorted(posted) == sorted({i["id"] for i in items})  # each id once
    assert last_written(harness, items[0]["id"]) == 1
    assert last_written(harness, items[5]["id"]) == 1
    assert len(read_ledger(harness.deps.payloads, job_id)) == 8


def test_upsert_mode_ends_with_the_last_copy_in_source_order(harness: Harness) -> None:
    items = three_pages_with_repeats()
    with item_urls_job(harness, items, "upsert") as job_id:
        harness.driver.run()

    harness.assert_accounted(job_id)
    listed = rows(harness, job_id)
    assert [r.item_id for r in listed] == [i["id"] for i in items]
    assert all(r.state in {ItemState.SUCCEEDED, ItemState.SKIPPED} for r in listed)
    # The last copies are written, and written last.
    assert last_written(harness, items[0]["id"]) == 3
    assert last_written(harness, items[5]["id"]) == 3
    assert listed[10].state is ItemState.SUCCEEDED
    assert listed[8].state is ItemState.SUCCEEDED
    # Within page 1, the earlier copy of `e` never goes out.
    assert listed[5].state is ItemState.SKIPPED
    for n in (0, 4, 5, 7):
        if listed[n].state is ItemState.SKIPPED:
            assert code_of(listed[n]) == DUPLICATE_IN_JOB


def test_upsert_a_later_copy_waits_for_an_earlier_copy_in_flight(harness: Harness) -> None:
    a, b, c, d, e = pc_items(5)
    items = [copy_of(a, 1), b, c, d, copy_of(a, 2), e]
    with item_urls_job(harness, items, "upsert") as job_id:
        ((plan0, _),) = harness.queue.take()
        assert isinstance(plan0, PlanMessage)
        harness.driver.deliver(plan0)
        sent = [m for m, _ in harness.queue.take()]
        plan1 = next(m for m in sent if isinstance(m, PlanMessage))
        batch0 = next(m for m in sent if isinstance(m, BatchMessage))
        harness.driver.deliver(batch0)  # page 0 posted: copy 1 of `a` is in flight
        [(status0, _)] = harness.queue.take()
        assert isinstance(status0, StatusMessage)
        harness.driver.deliver(plan1)  # page 1 learns that copy 1 is in flight

    [later] = [r for r in rows(harness, job_id) if r.index == 0 and r.batch.startswith("p00000001")]
    assert later.item_id == a["id"]
    assert later.after is not None
    batch1 = next(m for m, _ in harness.queue.take() if isinstance(m, BatchMessage))
    harness.driver.deliver(batch1)
    # `e` went out; copy 2 of `a` did not, and its batch comes back after a while.
    assert [i for _, i in harness.catalog.posts] == [a["id"], b["id"], c["id"], d["id"], e["id"]]
    again = harness.queue.take()
    assert [(type(m), delay > 0) for m, delay in again if isinstance(m, BatchMessage)] == [
        (BatchMessage, True)
    ]
    for message, _ in again:
        harness.driver.deliver(message)
    harness.driver.deliver(status0)
    harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SUCCEEDED] == 6
    assert view.state is JobState.SUCCEEDED
    assert last_written(harness, a["id"]) == 2
    assert [m for m, i in harness.catalog.posts if i == a["id"]] == ["POST", "PUT"]


def test_upsert_an_earlier_copy_not_yet_posted_is_skipped(harness: Harness) -> None:
    a, b, c, d, e = pc_items(5)
    items = [copy_of(a, 1), b, c, d, copy_of(a, 2), e]
    with item_urls_job(harness, items, "upsert") as job_id:
        ((plan0, _),) = harness.queue.take()
        harness.driver.deliver(plan0)
        sent = [m for m, _ in harness.queue.take()]
        plan1 = next(m for m in sent if isinstance(m, PlanMessage))
        harness.driver.deliver(plan1)  # before page 0's batch is posted
        for message in sent:
            if not isinstance(message, PlanMessage):
                harness.driver.deliver(message)
        harness.driver.run()

    view = harness.assert_accounted(job_id)
    first = rows(harness, job_id)[0]
    assert first.state is ItemState.SKIPPED
    assert first.error is not None
    assert first.error.code == DUPLICATE_IN_JOB
    assert "page 2" in first.error.message
    assert (view.counts[ItemState.SUCCEEDED], view.counts[ItemState.SKIPPED]) == (5, 1)
    assert [(m, i) for m, i in harness.catalog.posts if i == a["id"]] == [("POST", a["id"])]
    assert last_written(harness, a["id"]) == 2


def test_a_redelivered_page_keeps_its_own_ids(harness: Harness) -> None:
    a, b, c, d, e = pc_items(5)
    items = [a, b, c, d, e, copy_of(a, 2)]
    with item_urls_job(harness, items, "create") as job_id:
        ((plan0, _),) = harness.queue.take()
        harness.driver.deliver(plan0)
        first = harness.queue.take()
        # Page 0 again, as if its worker died after the ledger was written: its own ids are
        # not duplicates of themselves.
        harness.deps.store._table.delete_entity(job_id, "page|00000000")
        harness.driver.deliver(plan0)
        for message, _ in first:
            harness.driver.deliver(message)
        harness.driver.run()

    harness.assert_accounted(job_id)
    listed = rows(harness, job_id)
    assert [r.state for r in listed] == [ItemState.SUCCEEDED] * 5 + [ItemState.SKIPPED]
    assert len(read_ledger(harness.deps.payloads, job_id)) == 5


def test_a_one_page_job_writes_no_ledger(harness: Harness) -> None:
    with item_urls_job(harness, pc_items(3), "create") as job_id:
        harness.driver.run()
    assert harness.view(job_id).counts[ItemState.SUCCEEDED] == 3
    assert len(read_ledger(harness.deps.payloads, job_id)) == 0


def test_a_page_waits_for_the_page_before_it_to_write_its_ids(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c, d, e = pc_items(5)
    items = [copy_of(a, 1), b, c, d, copy_of(a, 2), e]
    real = page_duplicates.resolve_across_pages

    def dies_on_page_0(job: Any, page: int, new: Any, deps: Any) -> Any:
        if page == 0:
            raise RuntimeError("the worker died")
        return real(job, page, new, deps)

    with item_urls_job(harness, items, "create") as job_id:
        ((plan0, _),) = harness.queue.take()
        monkeypatch.setattr(plan, "resolve_across_pages", dies_on_page_0)
        with pytest.raises(RuntimeError):
            plan.plan_page(plan0, harness.deps)  # page 1 was sent before page 0 died
        monkeypatch.setattr(plan, "resolve_across_pages", real)
        ((plan1, _),) = harness.queue.take()
        assert isinstance(plan1, PlanMessage)
        assert plan1.page == 1
        naps: list[float] = []
        plan.plan_page(plan1, replace(harness.deps, sleep=naps.append))
        # It waited a few seconds for page 0, then put itself back for later.
        assert 1 < sum(naps) < 10
        [(later, delay)] = harness.queue.take()
        assert isinstance(later, PlanMessage)
        assert (later.page, delay > 0) == (1, True)
        assert harness.view(job_id).total == 0
        harness.driver.deliver(plan0)  # page 0 delivered again
        harness.driver.deliver(later)
        harness.driver.run()

    harness.assert_accounted(job_id)
    listed = rows(harness, job_id)
    assert [r.state for r in listed] == [ItemState.SUCCEEDED] * 4 + [
        ItemState.SKIPPED,
        ItemState.SUCCEEDED,
    ]
    assert code_of(listed[4]) == DUPLICATE_IN_JOB


def test_the_sweep_revives_a_stalled_batch_of_a_job_still_planning(harness: Harness) -> None:
    items = pc_items(6)  # pages of 4: page 1 is never delivered, so the job is still planning
    with item_urls_job(harness, items, "create") as job_id:
        ((plan0, _),) = harness.queue.take()
        harness.driver.deliver(plan0)
        harness.queue.take()  # page 1's message and page 0's batch message are lost

    assert not harness.view(job_id).job.planning_done
    later = replace(harness.deps, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    report = sweep_stalled(later)
    assert (report.jobs_checked, report.jobs_settled, report.items_reposted) == (1, 0, 4)
    [(revived, _)] = harness.queue.take()
    assert isinstance(revived, BatchMessage)
    harness.driver.deliver(revived)
    assert harness.view(job_id).counts[ItemState.SUBMITTED] == 4


def test_a_page_run_again_does_not_send_the_next_page_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(job: Any, page: int, new: Any, deps: Any) -> Any:
        raise RuntimeError("storage went away")

    with item_urls_job(harness, pc_items(6), "create"):
        ((plan0, _),) = harness.queue.take()
        monkeypatch.setattr(plan, "resolve_across_pages", dies)
        harness.driver.deliver(plan0)  # the host's five tries, then the poison queue
    sent = [m for m, _ in harness.queue.take() if isinstance(m, PlanMessage)]
    assert [m.page for m in sent] == [1]


def test_a_ledger_place_that_holds_another_id_does_not_make_a_duplicate(harness: Harness) -> None:
    """A page read twice from a live search may have registered other items than the ledger
    says: the copy is a duplicate only if the earlier place holds its id."""
    a, b, c, d, e = pc_items(5)
    with item_urls_job(harness, [a, b, c, d, e], "create") as job_id:
        ((plan0, _),) = harness.queue.take()
        harness.driver.deliver(plan0)
        ledger = read_ledger(harness.deps.payloads, job_id)
        ledger.put(digest(e["id"]), Place(0, 0))  # page 0's place 0 holds `a`, not `e`
        assert write_ledger(harness.deps.payloads, job_id, ledger)
        harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SUCCEEDED] == 5
