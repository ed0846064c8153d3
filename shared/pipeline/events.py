"""Events from other systems (Event Grid): "ingest these" requests become jobs.

A custom event of type `GeoCatalogIngest.IngestRequested` carries a POST /api/ingest body as its
`data`. Event Grid delivers at least once, so the job id is derived from the event id: a
redelivery finds its job instead of starting a second one, and nudges its planning in case the
first delivery stopped between recording the job and queueing its first message.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum

from shared.jobs.store import JobExists
from shared.messages import PlanMessage
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.submit import submit_job
from shared.problems import ApiError

logger = logging.getLogger(__name__)

INGEST_REQUESTED = "GeoCatalogIngest.IngestRequested"


class EventAction(StrEnum):
    SUBMITTED = "submitted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    IGNORED = "ignored"


@dataclass(frozen=True)
class IncomingEvent:
    id: str
    event_type: str
    subject: str
    data: object


@dataclass(frozen=True)
class EventOutcome:
    action: EventAction
    job_id: str | None = None
    detail: str = ""


def job_id_for_event(event_id: str) -> str:
    return hashlib.sha256(f"event:{event_id}".encode()).hexdigest()[:32]


def handle_event(event: IncomingEvent, deps: PipelineDeps) -> EventOutcome:
    """Never raises for a bad event (Event Grid retrying it would not help); raises only for
    failures worth a redelivery (storage or GeoCatalog unavailable)."""
    if event.event_type != INGEST_REQUESTED:
        logger.info("event %s of type %s ignored", event.id, event.event_type)
        return EventOutcome(EventAction.IGNORED, detail=f"event type {event.event_type}")
    job_id = job_id_for_event(event.id)
    try:
        submit_job(event.data, deps, job_id=job_id)
    except JobExists:
        deps.queues.send(PlanMessage(job_id))
        logger.info("event %s delivered again; job %s exists", event.id, job_id)
        return EventOutcome(EventAction.DUPLICATE, job_id)
    except ApiError as error:
        if error.status >= 500:
            raise
        logger.warning(
            "event %s refused: %s (%s)",
            event.id,
            error.detail,
            error.field or "body",
            extra={"eventId": event.id},
        )
        return EventOutcome(EventAction.REFUSED, detail=error.detail)
    logger.info("event %s started job %s", event.id, job_id, extra={"jobId": job_id})
    return EventOutcome(EventAction.SUBMITTED, job_id)
