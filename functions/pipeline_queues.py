"""Queue triggers of the pipeline: plan pages, post batches, check operations.

Each decodes its message and calls one step in shared.pipeline. A step that raises lets the host
retry the message (visibilityTimeout, then the poison queue after maxDequeueCount); throttling is
handled inside the steps by re-sending the message delayed, which costs no dequeue count.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.messages import BatchMessage, MalformedMessage, PlanMessage, StatusMessage
from shared.pipeline.plan import plan_page
from shared.pipeline.post import post_batch
from shared.pipeline.status import check_status
from shared.runtime import runtime

logger = logging.getLogger(__name__)

bp = func.Blueprint()

STORAGE = "AzureWebJobsStorage"


@bp.function_name("ingest_plan")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_PLAN_QUEUE%", connection=STORAGE)
def ingest_plan(msg: func.QueueMessage) -> None:
    try:
        message = PlanMessage.from_json(msg.get_body())
    except MalformedMessage as exc:
        logger.error("dropped unreadable plan message %s: %s", msg.id, exc)
        return
    plan_page(message, runtime().pipeline)


@bp.function_name("ingest_items")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_ITEMS_QUEUE%", connection=STORAGE)
def ingest_items(msg: func.QueueMessage) -> None:
    try:
        message = BatchMessage.from_json(msg.get_body())
    except MalformedMessage as exc:
        logger.error("dropped unreadable items message %s: %s", msg.id, exc)
        return
    # The queue message id names the claim: a redelivery of this very message may take it over.
    post_batch(message, message_id=msg.id or "", deps=runtime().pipeline)


@bp.function_name("ingest_status")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_STATUS_QUEUE%", connection=STORAGE)
def ingest_status(msg: func.QueueMessage) -> None:
    try:
        message = StatusMessage.from_json(msg.get_body())
    except MalformedMessage as exc:
        logger.error("dropped unreadable status message %s: %s", msg.id, exc)
        return
    check_status(message, runtime().pipeline)
