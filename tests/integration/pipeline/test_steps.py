"""Each pipeline behaviour the issue names, through the real steps and a real job store."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.collections.errors import CollectionNotCreated
from shared.geocatalog.errors import PermanentError, ThrottledError
from shared.geocatalog.models import Operation
from shared.jobs.records import BatchRecord
from shared.jobs.states import ItemState, JobState
from shared.jobs.store import BatchChange, ItemUpdate
from shared.messages import BatchMessage, PlanMessage, StatusMessage
from shared.pipeline.control import cancel_job, retry_job
from shared.pipeline.dead_letter import record_dead_letter
from shared.pipeline.maintenance import run_maintenance
from shared.pipeline.post import post_batch
from shared.pipeline.status import check_status
from shared.pipeline.submit import submit_job
from shared.problems import Conflict, ServiceUnavailable, Unprocessable
from shared.settings import PipelineSettings
from tests.integration.pipeline.conftest import Harness, pc_items

NAIP_CONTAINER = "https://naipeuwest.blob.core.windows.net/naip"


def submit(h: Harness, items: list[dict[str, Any]], **extra: Any) -> str:
    body = {"collection": "naip-test", "source": {"type": "items", "items": items}, **extra}
    return submit_job(body, h.deps).job_id


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


def test_tutorial_path_posts_every_item_once_and_succeeds(harness: Harness) -> None:
    items = pc_items(6)
    job_id = submit(harness, items)
    assert harness.view(job_id).state is JobState.PLANNING
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    assert view.counts[ItemState.SUCCEEDED] == 6
    assert sorted(i for _, i in harness.catalog.posts) == sorted(ids(items))
    # One batch: one FeatureCollection post.
    assert [len(i) for _, i in harness.catalog.requests] == [6]
    assert view.job.containers == {NAIP_CONTAINER: "created"}
    assert [s.container_url for s in harness.source_catalog.sources.values()] == [NAIP_CONTAINER]
    assert view.job.completed_at is not None
    # Status checks are scheduled, not spun: every re-check waited.
    assert all(d > 0 for kind, d in harness.driver.delays if kind == "status")


def test_inline_items_are_planned_in_one_page_and_posted_in_batches(harness: Harness) -> None:
    pipeline = replace(harness.deps.settings.pipeline, batch_size=4)
    deps = replace(harness.deps, settings=replace(harness.deps.settings, pipeline=pipeline))
    harness.driver.deps = deps
    job_id = submit_job(
        {"collection": "naip-test", "source": {"type": "items", "items": pc_items(10)}}, deps
    ).job_id
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    # The request body holds them all: read once, not once per source page.
    assert view.job.planned_pages == 1
    assert [k for k, _ in harness.driver.delivered if k == "plan"] == ["plan"]
    assert sorted(len(i) for _, i in harness.catalog.requests) == [2, 4, 4]
    assert len(harness.catalog.searches) == 3  # one search by ids per batch
    assert view.counts[ItemState.SUCCEEDED] == 10


def test_posted_items_are_stripped_of_api_assets_and_target_the_collection(
    harness: Harness,
) -> None:
    posted: list[dict[str, Any]] = []
    original = harness.catalog.create_items

    def spy(collection_id: str, item: Any) -> Any:
        posted.append(json.loads(item) if isinstance(item, bytes) else item)
        return original(collection_id, item)

    harness.catalog.create_items = spy  # type: ignore[method-assign]
    submit(harness, pc_items(1))
    harness.driver.run()
    assert posted[0]["collection"] == "naip-test"
    assert not {"rendered_preview", "preview", "tilejson"} & set(posted[0]["assets"])


def test_a_duplicate_delivery_posts_once_and_counts_once(harness: Harness) -> None:
    items = pc_items(2)
    job_id = submit(harness, items)
    batch = harness.queue.take()
    for message, _ in batch:
        harness.driver.deliver(message)
    item_messages = [m for m, _ in harness.queue.take() if isinstance(m, BatchMessage)]
    for message in item_messages + item_messages:  # every item message delivered twice
        harness.driver.deliver(message)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert len(harness.catalog.posts) == 2
    assert view.counts[ItemState.SUCCEEDED] == 2
    assert view.total == 2


def test_a_delivery_that_reads_the_batch_pending_cannot_take_a_claim_taken_since(
    harness: Harness,
) -> None:
    """Two deliveries of one batch (admin re-run, a copied message) both read it pending; the
    one whose claim lands second must leave the batch to the first, not post it again."""
    item = pc_items(1)[0]
    job_id = submit(harness, [item])
    harness.driver.deliver(harness.queue.take()[0][0])  # plan: the item is pending
    [(message, _)] = harness.queue.take()
    assert isinstance(message, BatchMessage)
    store = harness.deps.store
    read_batch = store.read_batch

    def read_then_lose_the_race(job: str, batch: str, **kwargs: Any) -> BatchRecord | None:
        seen = read_batch(job, batch, **kwargs)
        store.read_batch = read_batch  # type: ignore[method-assign]
        # The other delivery claims the batch between this read and this delivery's claim.
        store.change_batch(job, batch, lambda _: BatchChange(claim="the-other-delivery"))
        return seen

    store.read_batch = read_then_lose_the_race  # type: ignore[method-assign]
    # The store stamps claims with the real time; the claim's age must be read on the same clock.
    deps = replace(harness.deps, clock=lambda: datetime.now(UTC))
    report = post_batch(message, message_id="this-delivery", deps=deps)

    assert report.result == "nothing-to-claim"
    assert harness.catalog.posts == []
    batch = store.read_batch(job_id, message.batch)
    assert batch is not None
    assert batch.claim == "the-other-delivery"
    assert [i.state for i in batch.items] == [ItemState.PENDING]


def test_a_stale_status_check_does_not_act_on_an_item_that_moved_on(harness: Harness) -> None:
    """A duplicate status message reads the item while it follows operation X; before it acts
    on X's transient failure, the other copy has re-posted the item as operation Y. The stale
    copy must leave the item to Y (acting would re-post it while Y is in flight)."""
    item = pc_items(1)[0]
    harness.catalog.running_checks = 0
    harness.catalog.outcome_script[item["id"]] = [("Failed", "InternalIntermitentError")]
    job_id = submit(harness, [item])
    harness.driver.deliver(harness.queue.take()[0][0])  # plan
    harness.driver.deliver(harness.queue.take()[0][0])  # post: operation X
    [(status, _)] = harness.queue.take()
    assert isinstance(status, StatusMessage)
    catalog = harness.catalog
    read_operation = catalog.get_operation

    def the_other_copy_runs_first(operation_id: str) -> Operation:
        catalog.get_operation = read_operation  # type: ignore[method-assign]
        check_status(status, harness.deps)  # X failed: re-post
        [(repost, _)] = harness.queue.take()
        harness.driver.deliver(repost)  # operation Y, running
        return read_operation(operation_id)

    catalog.get_operation = the_other_copy_runs_first  # type: ignore[method-assign]
    check_status(status, harness.deps)
    harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    assert len(catalog.posts) == 2
    assert harness.item(job_id, item["id"]).attempts == 2


def test_throttling_requeues_with_the_asked_delay_without_spending_a_try(
    harness: Harness,
) -> None:
    item = pc_items(1)[0]
    harness.catalog.post_script[item["id"]] = ["throttle:7", "throttle", "ok"]
    job_id = submit(harness, [item])
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    delays = [d for kind, d in harness.driver.delays if kind == "items"]
    assert delays[0] == 0
    assert 7 <= delays[1] <= 8  # Retry-After honoured (plus < 1 s jitter)
    assert 1 <= delays[2] <= 4  # no Retry-After: jittered exponential back-off
    # Throttled deliveries succeeded from the host's view: never a redelivery.
    assert all(dequeue == 1 for kind, dequeue in harness.driver.delivered if kind == "items")
    assert harness.item(job_id, item["id"]).attempts == 1


def test_transient_errors_let_the_host_retry_then_succeed(harness: Harness) -> None:
    item = pc_items(1)[0]
    harness.catalog.post_script[item["id"]] = ["transient", "transient", "ok"]
    job_id = submit(harness, [item])
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    assert [d for k, d in harness.driver.delivered if k == "items"] == [1, 2, 3]


def test_a_message_that_keeps_failing_is_dead_lettered_with_its_last_error_then_redriven(
    harness: Harness,
) -> None:
    items = pc_items(2)
    # One item's post keeps failing: it fails its whole batch's FeatureCollection post.
    harness.catalog.post_script[items[0]["id"]] = ["transient"] * 5
    job_id = submit(harness, items)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.FAILED
    assert view.counts[ItemState.DEAD_LETTERED] == 2
    (item_id, error), *_ = view.errors
    assert item_id == items[0]["id"]
    assert error.code == "DeadLettered"
    assert "service unavailable" in error.message
    result = retry_job(job_id, harness.deps)
    assert (result.reposted, result.rechecked) == (2, 0)
    assert harness.view(job_id).state is JobState.RUNNING
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    assert view.errors == ()


def test_transient_operation_failures_are_reposted_within_bounds(harness: Harness) -> None:
    items = pc_items(2)
    flaky, hopeless = items[0]["id"], items[1]["id"]
    harness.catalog.outcome_script[flaky] = [("Failed", "InternalIntermitentError")]
    harness.catalog.outcome_script[hopeless] = [("Failed", "InternalError")] * 3
    job_id = submit(harness, items)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    flaky_row = harness.item(job_id, flaky)
    hopeless_row = harness.item(job_id, hopeless)
    assert (flaky_row.state, flaky_row.attempts) == (ItemState.SUCCEEDED, 2)
    assert (hopeless_row.state, hopeless_row.attempts) == (ItemState.FAILED, 3)
    assert hopeless_row.error is not None
    assert hopeless_row.error.code == "InternalError"
    assert view.state is JobState.PARTIALLY_SUCCEEDED


def test_an_item_already_in_the_collection_is_skipped_in_create_mode(harness: Harness) -> None:
    items = pc_items(2)
    harness.catalog.existing_items.add(items[0]["id"])
    job_id = submit(harness, items)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SKIPPED] == 1
    assert view.counts[ItemState.SUCCEEDED] == 1
    assert view.state is JobState.SUCCEEDED
    assert view.errors == ()


def test_items_another_writer_put_there_during_the_post_are_skipped_not_ours(
    harness: Harness,
) -> None:
    """Our search found none of them; by the time our batch ran, another writer (a second job
    for the same items) had created them all: our operation added none, so they are not ours."""
    items = pc_items(3)
    catalog = harness.catalog
    for item in items:
        catalog.outcome_script[item["id"]] = [("Failed", "ItemAlreadyExistsInCollection")]
    original = catalog.create_items

    def then_another_writer(collection_id: str, body: Any) -> Any:
        operation = original(collection_id, body)
        catalog.existing_items.update(ids(items))
        return operation

    catalog.create_items = then_another_writer  # type: ignore[method-assign]
    job_id = submit(harness, items)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SKIPPED] == 3
    assert {harness.item(job_id, i).error.code for i in ids(items)} == {  # type: ignore[union-attr]
        "ItemAlreadyExistsInCollection"
    }
    assert len(catalog.requests) == 1  # no single re-posts: nothing was missing
    assert view.state is JobState.SUCCEEDED


def test_a_partly_failed_batch_settles_each_item_with_its_own_code(harness: Harness) -> None:
    items = pc_items(4)
    bad, worse = items[1]["id"], items[2]["id"]
    harness.catalog.outcome_script[bad] = [("Failed", "StacValidationFailed")] * 2
    harness.catalog.outcome_script[worse] = [("Failed", "InvalidInputData")] * 2
    job_id = submit(harness, items)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    codes = {item_id: error.code for item_id, error in view.errors}
    # Not the batch's ErrorsInBatchOperation: each failed item's own single post said why.
    assert codes == {bad: "StacValidationFailed", worse: "InvalidInputData"}
    assert view.counts[ItemState.SUCCEEDED] == 2
    # One batch post, then one single post for each item that did not land.
    assert sorted(len(i) for _, i in harness.catalog.requests) == [1, 1, 4]
    assert view.state is JobState.PARTIALLY_SUCCEEDED


def test_upsert_puts_existing_items_and_posts_new_ones(harness: Harness) -> None:
    items = pc_items(2)
    harness.catalog.existing_items.add(items[0]["id"])
    job_id = submit(harness, items, mode="upsert")
    harness.driver.run()
    assert harness.assert_accounted(job_id).counts[ItemState.SUCCEEDED] == 2
    assert sorted(harness.catalog.posts) == sorted(
        [("PUT", items[0]["id"]), ("POST", items[1]["id"])]
    )


def test_an_expired_source_is_renewed_and_the_item_reposted_once(harness: Harness) -> None:
    items = pc_items(2)
    renewed, doomed = items[0]["id"], items[1]["id"]
    harness.catalog.outcome_script[renewed] = [("Failed", "IngestionAuthenticationFailed")]
    # Both fail the batch (renewed, re-posted); the second batch fails for doomed alone, and
    # its single post says its own code again: no second renewal.
    harness.catalog.outcome_script[doomed] = [("Failed", "IngestionAuthenticationFailed")] * 3
    job_id = submit(harness, items)
    harness.driver.run()
    harness.assert_accounted(job_id)
    replaced = [c for c in harness.source_catalog.calls if c.startswith("replace")]
    assert len(replaced) >= 1
    ok, bad = (harness.item(job_id, i) for i in (renewed, doomed))
    assert (ok.state, ok.renewed) == (ItemState.SUCCEEDED, True)
    assert bad.state is ItemState.FAILED
    assert bad.error is not None
    assert bad.error.code == "IngestionAuthenticationFailed"


def test_a_container_without_sas_provider_fails_with_the_services_code(
    harness: Harness,
) -> None:
    harness.provider.lifetime = None
    item = pc_items(1)[0]
    harness.catalog.outcome_script[item["id"]] = [("Failed", "IngestionResourceForbidden")]
    job_id = submit(harness, [item])
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.job.containers == {NAIP_CONTAINER: "no-sas-provider"}
    assert view.state is JobState.FAILED
    assert view.errors[0][1].code == "IngestionResourceForbidden"


def test_invalid_items_are_recorded_without_posting(harness: Harness) -> None:
    good = pc_items(1)[0]
    broken = copy.deepcopy(good)
    broken["id"] = "bad/id with spaces"
    no_geometry = copy.deepcopy(good)
    no_geometry["id"] = "no-type"
    del no_geometry["type"]
    job_id = submit(harness, [good, broken, no_geometry])
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.INVALID] == 2
    assert view.counts[ItemState.SUCCEEDED] == 1
    assert [i for _, i in harness.catalog.posts] == [good["id"]]
    codes = {item: error.code for item, error in view.errors}
    assert codes["bad/id with spaces"] == "InvalidItemId"
    assert view.state is JobState.PARTIALLY_SUCCEEDED


def test_unknown_collection_is_refused_before_anything_is_created(harness: Harness) -> None:
    body = {"collection": "nope-collection", "source": {"type": "items", "items": pc_items(1)}}
    with pytest.raises(Unprocessable) as info:
        submit_job(body, harness.deps)
    assert info.value.field == "collection"
    assert harness.queue.take() == []
    assert harness.deps.store.active_jobs() == []


def test_a_throttled_collection_check_is_a_503_with_a_whole_retry_after(harness: Harness) -> None:
    def throttled(collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        raise ThrottledError("slow down", status=429, retry_after=0.3)

    harness.catalog.get_collection = throttled  # type: ignore[method-assign]
    body = {"collection": "naip-test", "source": {"type": "items", "items": pc_items(1)}}
    with pytest.raises(ServiceUnavailable) as info:
        submit_job(body, harness.deps)
    # Retry-After is delay-seconds: the header and the body say 1, never 0.3.
    assert info.value.extra == {"retryAfter": 1, "upstream": "GeoCatalog", "upstreamStatus": 429}
    assert harness.queue.take() == []
    assert harness.deps.store.active_jobs() == []


def test_create_collection_bootstraps_the_target_before_posting(harness: Harness) -> None:
    body = {
        "collection": "new-naip",
        "source": {"type": "items", "items": pc_items(1)},
        "createCollection": {"templateUrl": "http://127.0.0.1:8701/api/stac/v1/collections/naip"},
    }
    job_id = submit_job(body, harness.deps).job_id
    harness.driver.run()
    assert harness.ensured_collections == [
        ("new-naip", "http://127.0.0.1:8701/api/stac/v1/collections/naip")
    ]
    assert harness.assert_accounted(job_id).state is JobState.SUCCEEDED


def test_a_bootstrap_that_loses_the_race_to_another_delivery_goes_on_planning(
    harness: Harness,
) -> None:
    """Two deliveries of the first plan page bootstrap the collection at once; the one whose
    create fails because the other's succeeded plans on, as a later redelivery would."""
    attempts: list[str] = []

    def lose_the_race(collection_id: str, template_url: str) -> None:
        attempts.append(collection_id)
        harness.catalog.collections.add(collection_id)  # the other delivery's create
        raise CollectionNotCreated(
            f"GeoCatalog: operation failed: CollectionAlreadyExists {collection_id}",
            operation_id="op-1",
            code="CollectionAlreadyExists",
        )

    deps = replace(harness.deps, ensure_collection=lose_the_race)
    harness.driver.deps = deps
    body = {
        "collection": "raced-naip",
        "source": {"type": "items", "items": pc_items(2)},
        "createCollection": {"templateUrl": "http://127.0.0.1:8701/api/stac/v1/collections/naip"},
    }
    job_id = submit_job(body, deps).job_id
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert attempts == ["raced-naip"]
    assert view.job.plan_error is None
    assert view.state is JobState.SUCCEEDED
    assert view.counts[ItemState.SUCCEEDED] == 2


def test_a_bootstrap_that_fails_without_creating_the_collection_fails_planning(
    harness: Harness,
) -> None:
    def refuse(collection_id: str, template_url: str) -> None:
        raise CollectionNotCreated(
            "GeoCatalog: operation failed: InvalidCollection",
            operation_id="op-2",
            code="InvalidCollection",
        )

    deps = replace(harness.deps, ensure_collection=refuse)
    harness.driver.deps = deps
    body = {
        "collection": "refused-naip",
        "source": {"type": "items", "items": pc_items(2)},
        "createCollection": {"templateUrl": "http://127.0.0.1:8701/api/stac/v1/collections/naip"},
    }
    job_id = submit_job(body, deps).job_id
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.job.plan_error is not None
    assert view.job.plan_error.code == "CollectionBootstrapFailed"
    assert view.state is JobState.FAILED
    assert harness.catalog.posts == []


def test_dry_run_plans_without_posting_or_registering_sources(harness: Harness) -> None:
    job_id = submit(harness, pc_items(3), dryRun=True)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SKIPPED] == 3
    assert harness.catalog.posts == []
    assert harness.source_catalog.sources == {}
    assert view.job.containers == {NAIP_CONTAINER: "would-create"}
    assert view.state is JobState.SUCCEEDED


def test_cancel_stops_posting_and_settles_the_job(harness: Harness) -> None:
    job_id = submit(harness, pc_items(6))
    harness.driver.deliver(harness.queue.take()[0][0])  # planned: 6 items pending
    pending = harness.queue.take()
    view = cancel_job(job_id, harness.deps)
    assert view.state is JobState.CANCELED
    for message, _ in pending:
        harness.driver.deliver(message)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.CANCELED
    assert view.counts[ItemState.CANCELED] == 6
    assert harness.catalog.posts == []
    assert view.job.completed_at is not None
    with pytest.raises(Conflict):
        cancel_job(job_id, harness.deps)


def test_operations_in_flight_are_canceled_with_the_job(harness: Harness) -> None:
    harness.catalog.running_checks = 3
    job_id = submit(harness, pc_items(1))
    harness.driver.deliver(harness.queue.take()[0][0])  # plan
    harness.driver.deliver(harness.queue.take()[0][0])  # post
    # Not terminal while the operation is still being canceled.
    assert cancel_job(job_id, harness.deps).state is JobState.RUNNING
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert len(harness.catalog.canceled) == 1
    assert view.counts[ItemState.CANCELED] == 1
    assert view.state is JobState.CANCELED


def test_a_plan_page_that_keeps_failing_is_recorded_and_redriven(harness: Harness) -> None:
    job_id = submit(harness, pc_items(2))
    real_payloads_get = harness.deps.payloads.get
    failing = {"on": True}

    def flaky_get(ref: str) -> str:
        if failing["on"]:
            raise ConnectionError("storage hiccup")
        return real_payloads_get(ref)

    harness.deps.payloads.get = flaky_get  # type: ignore[method-assign]
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.FAILED
    assert view.job.plan_error is not None
    assert view.job.plan_error.code == "SourceUnavailable"
    failing["on"] = False
    assert retry_job(job_id, harness.deps).planning_redriven
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.SUCCEEDED
    assert view.counts[ItemState.SUCCEEDED] == 2
    assert view.job.plan_error is None


def test_status_checks_give_up_after_the_configured_number(harness: Harness) -> None:
    harness.catalog.running_checks = 100
    deps = replace(
        harness.deps,
        settings=replace(harness.deps.settings, pipeline=PipelineSettings(max_status_checks=4)),
    )
    harness.driver.deps = deps
    job_id = submit_job(
        {"collection": "naip-test", "source": {"type": "items", "items": pc_items(1)}}, deps
    ).job_id
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.state is JobState.FAILED
    assert view.errors[0][1].code == "OperationTimedOut"
    status_delays = [d for k, d in harness.driver.delays if k == "status"]
    assert status_delays == sorted(status_delays)  # the delay grows (jitter aside)


def test_a_redelivered_plan_page_registers_nothing_twice(harness: Harness) -> None:
    job_id = submit(harness, pc_items(3))
    plan = harness.queue.take()[0][0]
    assert isinstance(plan, PlanMessage)
    harness.driver.deliver(plan)
    first = harness.queue.take()
    harness.driver.deliver(plan)  # the page is marked done: a redelivery is a no-op
    assert harness.queue.take() == []
    for message, _ in first:
        harness.driver.deliver(message)
    harness.driver.run()
    view = harness.assert_accounted(job_id)
    assert view.total == 3
    assert len(harness.catalog.posts) == 3


def test_maintenance_revives_stalled_items_while_the_geocatalog_throttles(
    harness: Harness,
) -> None:
    """The source refresh and the sweep are independent: a throttled source listing must not
    cost the run its sweep."""
    job_id = submit(harness, pc_items(1))
    harness.driver.deliver(harness.queue.take()[0][0])  # plan: the item is pending
    harness.queue.take()  # ...and its message is lost

    def throttled() -> list[Any]:
        raise ThrottledError("slow down", status=429, retry_after=None)

    harness.source_catalog.list_ingestion_sources = throttled  # type: ignore[method-assign]
    # An hour later by the clock the sweep reads (the store stamps rows with the real time).
    later = replace(harness.deps, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    report = run_maintenance(later, timer_interval=timedelta(minutes=5))

    assert report.sources == ()
    assert report.sources_error is not None
    assert "Throttled" in report.sources_error
    assert report.sweep.items_reposted == 1
    [(revived, _)] = harness.queue.take()
    assert isinstance(revived, BatchMessage)
    harness.driver.deliver(revived)
    harness.driver.run()
    assert harness.assert_accounted(job_id).state is JobState.SUCCEEDED


def test_a_refusal_before_the_post_fails_the_items_with_its_code_once(
    harness: Harness,
) -> None:
    job_id = submit(harness, pc_items(3))
    harness.driver.deliver(harness.queue.take()[0][0])  # plan

    def refused(body: Any, **_: Any) -> Any:
        raise PermanentError("Forbidden", status=403, code="AuthorizationFailed")

    harness.catalog.iter_search = refused  # type: ignore[method-assign]
    harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.FAILED] == 3
    assert {error.code for _, error in view.errors} == {"AuthorizationFailed"}
    assert view.state is JobState.FAILED
    # One delivery: the batch was not sent round again.
    assert [k for k, _ in harness.driver.delivered if k == "items"] == ["items"]


def _claim_batch(h: Harness, job_id: str) -> BatchMessage:
    """The batch claimed by a delivery that is still posting it (its items `submitting`)."""
    [batch_message] = [m for m, _ in h.queue.take() if isinstance(m, BatchMessage)]
    result = h.deps.store.change_batch(
        job_id,
        batch_message.batch,
        lambda b: BatchChange(
            items={i.index: (ItemState.SUBMITTING, ItemUpdate()) for i in b.items},
            claim="another-delivery",
        ),
    )
    assert result.applied
    return batch_message


def test_a_poisoned_batch_message_leaves_the_items_a_live_claim_is_posting(
    harness: Harness,
) -> None:
    job_id = submit(harness, pc_items(2))
    harness.driver.deliver(harness.queue.take()[0][0])  # plan
    message = _claim_batch(harness, job_id)

    assert record_dead_letter("items", message.to_json(), harness.deps) == 0
    batch = harness.deps.store.read_batch(job_id, message.batch)
    assert batch is not None
    assert batch.claim == "another-delivery"
    assert {i.state for i in batch.items} == {ItemState.SUBMITTING}
    # Once the claim is stale (its worker died), the poison message does account for them.
    later = replace(harness.deps, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert record_dead_letter("items", message.to_json(), later) == 2


def test_cancel_takes_the_submitting_items_of_a_claim_whose_worker_died(
    harness: Harness,
) -> None:
    job_id = submit(harness, pc_items(2))
    harness.driver.deliver(harness.queue.take()[0][0])  # plan
    _claim_batch(harness, job_id)

    later = replace(harness.deps, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    view = cancel_job(job_id, later)
    assert view.counts[ItemState.CANCELED] == 2
    assert view.state is JobState.CANCELED
