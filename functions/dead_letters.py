"""The -poison queues: record every item of a dead-lettered message, so none is lost."""

from __future__ import annotations

import azure.functions as func

from shared.pipeline.dead_letter import QueueKind, record_dead_letter
from shared.runtime import runtime

bp = func.Blueprint()

STORAGE = "AzureWebJobsStorage"


def _record(kind: QueueKind, msg: func.QueueMessage) -> None:
    record_dead_letter(kind, msg.get_body().decode("utf-8", errors="replace"), runtime().pipeline)


@bp.function_name("ingest_plan_poison")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_PLAN_QUEUE%-poison", connection=STORAGE)
def ingest_plan_poison(msg: func.QueueMessage) -> None:
    _record("plan", msg)


@bp.function_name("ingest_items_poison")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_ITEMS_QUEUE%-poison", connection=STORAGE)
def ingest_items_poison(msg: func.QueueMessage) -> None:
    _record("items", msg)


@bp.function_name("ingest_status_poison")
@bp.queue_trigger(arg_name="msg", queue_name="%INGEST_STATUS_QUEUE%-poison", connection=STORAGE)
def ingest_status_poison(msg: func.QueueMessage) -> None:
    _record("status", msg)
