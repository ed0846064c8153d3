"""Ingest requests arriving as Event Grid events: one job per event, whatever the deliveries."""

from __future__ import annotations

from shared.jobs.states import ItemState, JobState
from shared.messages import PlanMessage
from shared.pipeline.events import (
    INGEST_REQUESTED,
    EventAction,
    IncomingEvent,
    handle_event,
    job_id_for_event,
)
from tests.integration.pipeline.conftest import Harness, pc_items


def event(data: object, *, event_id: str = "evt-1", kind: str = INGEST_REQUESTED) -> IncomingEvent:
    return IncomingEvent(id=event_id, event_type=kind, subject="/ingest", data=data)


def request() -> dict[str, object]:
    return {"collection": "naip-test", "source": {"type": "items", "items": pc_items(2)}}


def test_an_ingest_event_starts_a_job_named_after_the_event(harness: Harness) -> None:
    outcome = handle_event(event(request()), harness.deps)
    assert outcome.action is EventAction.SUBMITTED
    assert outcome.job_id == job_id_for_event("evt-1")
    harness.driver.run()
    view = harness.assert_accounted(job_id_for_event("evt-1"))
    assert view.state is JobState.SUCCEEDED
    assert view.counts[ItemState.SUCCEEDED] == 2


def test_a_redelivered_event_finds_its_job_and_nudges_its_planning(harness: Harness) -> None:
    handle_event(event(request()), harness.deps)
    harness.queue.take()  # as if the first delivery died before its plan message was sent
    again = handle_event(event(request()), harness.deps)
    assert again.action is EventAction.DUPLICATE
    assert [m for m, _ in harness.queue.sent] == [PlanMessage(job_id_for_event("evt-1"))]
    harness.driver.run()
    view = harness.assert_accounted(job_id_for_event("evt-1"))
    assert view.state is JobState.SUCCEEDED
    assert view.total == 2
    assert len(harness.catalog.posts) == 2


def test_a_bad_ingest_event_is_refused_without_creating_anything(harness: Harness) -> None:
    outcome = handle_event(event({"collection": "naip-test"}), harness.deps)
    assert outcome.action is EventAction.REFUSED
    assert "source" in outcome.detail
    assert harness.deps.store.get_job(job_id_for_event("evt-1")) is None
    assert harness.queue.sent == []


def test_other_event_types_are_ignored(harness: Harness) -> None:
    outcome = handle_event(event({}, kind="Microsoft.Storage.BlobDeleted"), harness.deps)
    assert outcome.action is EventAction.IGNORED
    assert harness.queue.sent == []
