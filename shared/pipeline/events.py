"""Events from other systems (Event Grid): "ingest these" requests become jobs, and blobs
written to watched storage become items.

A custom event of type `GeoCatalogIngest.IngestRequested` carries a POST /api/ingest body as its
`data`. Event Grid delivers at least once, so the job id is derived from the event id: a
redelivery finds its job instead of starting a second one, and nudges its planning in case the
first delivery stopped between recording the job and queueing its first message.

`Microsoft.Storage.BlobCreated` / `BlobDeleted` go to shared.storage_events (routes, rolling
jobs). A malformed event is logged at ERROR with its id and the reason, never its body (it may
carry a SAS), and dropped: a redelivery would not fix it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.jobs.store import JobExists
from shared.json_values import loads_json
from shared.messages import PlanMessage
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.submit import submit_job
from shared.problems import ApiError
from shared.storage_events.blob_events import STORAGE_EVENT_TYPES, NotABlobEvent, blob_event
from shared.storage_events.ingest import StorageEventDeps, handle_blob_event

logger = logging.getLogger(__name__)

INGEST_REQUESTED = "GeoCatalogIngest.IngestRequested"


class EventAction(StrEnum):
    SUBMITTED = "submitted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    IGNORED = "ignored"
    # A storage event acted on (its outcome's detail says how: registered, duplicate, ...).
    STORAGE = "storage"


@dataclass(frozen=True)
class IncomingEvent:
    id: str
    event_type: str
    subject: str
    data: object
    time: datetime | None = None


class MalformedEvent(ValueError):
    """The event cannot be read; the reason never quotes the data."""


def decode_data(
    data: object, *, data_base64: object = None, content_type: str | None = None
) -> object:
    """An event's data as JSON values: CloudEvents may carry it base64-encoded (`data_base64`)
    and some publishers send Event Grid `data` as a JSON document in a string."""
    if data is None and data_base64 is not None:
        if not isinstance(data_base64, str):
            raise MalformedEvent("data_base64 is not a string")
        try:
            raw = base64.b64decode(data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEvent("data_base64 is not base64") from None
        try:
            return loads_json(raw)
        except ValueError:
            raise MalformedEvent(
                f"data_base64 does not hold JSON (datacontenttype {content_type or 'unset'})"
            ) from None
    if isinstance(data, str | bytes):
        text = data.strip()
        if text[:1] in ("{", "[", b"{", b"["):
            try:
                return loads_json(text)
            except ValueError:
                raise MalformedEvent("data is a string that is not a JSON document") from None
    return data


@dataclass(frozen=True)
class EventOutcome:
    action: EventAction
    job_id: str | None = None
    detail: str = ""


def job_id_for_event(event_id: str) -> str:
    return hashlib.sha256(f"event:{event_id}".encode()).hexdigest()[:32]


def handle_event(
    event: IncomingEvent, deps: PipelineDeps, storage: StorageEventDeps | None = None
) -> EventOutcome:
    """Never raises for a bad event (Event Grid retrying it would not help); raises only for
    failures worth a redelivery (storage or GeoCatalog unavailable)."""
    if event.event_type in STORAGE_EVENT_TYPES:
        return _storage_event(event, deps, storage)
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
        logger.error(
            "event %s refused: %s (%s)",
            event.id,
            error.detail,
            error.field or "body",
            extra={"eventId": event.id},
        )
        return EventOutcome(EventAction.REFUSED, detail=error.detail)
    logger.info("event %s started job %s", event.id, job_id, extra={"jobId": job_id})
    return EventOutcome(EventAction.SUBMITTED, job_id)


def _storage_event(
    event: IncomingEvent, deps: PipelineDeps, storage: StorageEventDeps | None
) -> EventOutcome:
    if storage is None or not storage.settings.routes:
        logger.info(
            "storage event %s ignored: no STORAGE_ROUTES are configured",
            event.id,
            extra={"eventId": event.id},
        )
        return EventOutcome(EventAction.IGNORED, detail="no storage routes configured")
    try:
        blob = blob_event(event.id, event.event_type, event.data, event.time)
    except NotABlobEvent as exc:
        return malformed(event.id, str(exc))
    outcome = handle_blob_event(blob, deps, storage)
    action = EventAction.IGNORED if outcome.action == "ignored" else EventAction.STORAGE
    job_id = outcome.job_ids[0] if outcome.job_ids else None
    return EventOutcome(action, job_id, detail=outcome.detail or outcome.action)


def malformed(event_id: str, why: str) -> EventOutcome:
    logger.error(
        "event %s is malformed and was dropped: %s", event_id, why, extra={"eventId": event_id}
    )
    return EventOutcome(EventAction.REFUSED, detail=why)


def incoming_event(
    *,
    event_id: str,
    event_type: str,
    subject: str,
    data: object,
    time: datetime | None,
    extensions: Mapping[str, object] | None = None,
    content_type: str | None = None,
) -> IncomingEvent:
    """The event as the handlers see it, its data decoded; MalformedEvent when it cannot be."""
    data_base64 = (extensions or {}).get("data_base64")
    return IncomingEvent(
        id=event_id,
        event_type=event_type,
        subject=subject,
        data=decode_data(data, data_base64=data_base64, content_type=content_type),
        time=time,
    )
