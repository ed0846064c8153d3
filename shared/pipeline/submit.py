"""POST /api/ingest: validate, record the job, enqueue its first plan message; nothing else.

Planning (paging through a search that may match 100,000 items) happens on the queue, so the
request answers in well under a second whatever the size of the source.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from shared.geocatalog.errors import (
    NotFoundError,
    UpstreamError,
)
from shared.ingest_request import IngestRequest, parse_ingest_request
from shared.jobs.records import JobRecord
from shared.jobs.store import JobExists
from shared.messages import PlanMessage
from shared.outbound.urls import redact_url
from shared.pipeline.deps import PipelineDeps
from shared.problems import ServiceUnavailable, Unprocessable, upstream_problem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmittedJob:
    job_id: str
    request: IngestRequest


def submit_job(
    body: object,
    deps: PipelineDeps,
    *,
    job_id: str | None = None,
    request: IngestRequest | None = None,
) -> SubmittedJob:
    """Start a job; `job_id` (32 hex digits) makes a redelivered request land on the same job,
    whose creation then raises JobExists. `request` is `body` already parsed, if it was."""
    request = request or parse_ingest_request(body, deps.settings)
    _check_target_collection(request, deps)
    job_id = job_id or uuid.uuid4().hex
    now = deps.clock()
    record = JobRecord(
        job_id=job_id,
        collection=request.collection,
        mode=request.mode.value,
        source=request.source.to_record(),
        drop_assets=request.drop_assets,
        dry_run=request.dry_run,
        created_at=now,
        updated_at=now,
        create_collection=(
            {"templateUrl": redact_url(request.create_collection.template_url)}
            if request.create_collection
            else None
        ),
    )
    # Order matters for "nothing half-created": the request blob first (harmless alone), then
    # the job, then the message that starts it; a failure undoes what was written.
    deps.payloads.put_request(job_id, json.dumps(body, separators=(",", ":")))
    try:
        deps.store.create_job(record)
    except JobExists:
        raise
    except Exception:
        logger.exception("could not record job %s", job_id, extra={"jobId": job_id})
        _undo(job_id, deps)
        raise ServiceUnavailable("the job could not be recorded; nothing was created") from None
    try:
        deps.queues.send(PlanMessage(job_id))
    except Exception:
        logger.exception("could not start job %s; undoing it", job_id, extra={"jobId": job_id})
        _undo(job_id, deps)
        raise ServiceUnavailable("the job could not be queued; nothing was created") from None
    logger.info(
        "job %s accepted for collection %s from a %s source",
        job_id,
        request.collection,
        request.source.type,
        extra={"jobId": job_id, "collectionId": request.collection},
    )
    return SubmittedJob(job_id, request)


def _check_target_collection(request: IngestRequest, deps: PipelineDeps) -> None:
    if request.create_collection is not None:
        return
    try:
        deps.catalog.get_collection(request.collection)
    except NotFoundError:
        raise Unprocessable(
            f"collection '{request.collection}' does not exist in the GeoCatalog; create it "
            "first (POST /api/collections) or pass createCollection",
            field="collection",
        ) from None
    except UpstreamError as exc:
        raise upstream_problem(exc, doing=f"reading collection '{request.collection}'") from None


def _undo(job_id: str, deps: PipelineDeps) -> None:
    for step in (deps.store.delete_job, deps.payloads.delete_job):
        try:
            step(job_id)
        except Exception:  # noqa: BLE001 - best effort; the original failure is what we report
            logger.warning("could not undo part of job %s", job_id, extra={"jobId": job_id})
