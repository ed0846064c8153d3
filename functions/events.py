"""Event Grid: ingest requests published by other systems (custom topic events).

The worker hands the function an EventGridEvent or, for CloudEvents 1.0 deliveries, a CloudEvent
(same id and data, `type` instead of `event_type`); both become one IncomingEvent.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from shared.pipeline.events import IncomingEvent, handle_event
from shared.runtime import runtime

bp = func.Blueprint()


def _incoming(event: Any) -> IncomingEvent:
    event_type = getattr(event, "event_type", None) or getattr(event, "type", "")
    return IncomingEvent(
        id=str(event.id),
        event_type=str(event_type),
        subject=str(getattr(event, "subject", None) or ""),
        data=event.get_json(),
    )


@bp.function_name("ingest_events")
@bp.event_grid_trigger(arg_name="event")
def ingest_events(event: func.EventGridEvent) -> None:
    handle_event(_incoming(event), runtime().pipeline)
