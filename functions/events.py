"""Event Grid: ingest requests published by other systems (custom topic events), and
BlobCreated / BlobDeleted from watched storage accounts (system topic events).

The worker hands the function an EventGridEvent or, for CloudEvents 1.0 deliveries, a CloudEvent
(same id and data, `type` instead of `event_type`, `data_base64` among its extension attributes
when the data is binary); both become one IncomingEvent.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from shared.pipeline.events import MalformedEvent, handle_event, incoming_event, malformed
from shared.runtime import runtime

bp = func.Blueprint()


@bp.function_name("ingest_events")
@bp.event_grid_trigger(arg_name="event")
def ingest_events(event: func.EventGridEvent) -> None:
    cloud: Any = event
    event_id = str(event.id)
    extensions = cloud.extension_attrs if hasattr(cloud, "extension_attrs") else None
    try:
        incoming = incoming_event(
            event_id=event_id,
            event_type=str(getattr(event, "event_type", None) or getattr(event, "type", "")),
            subject=str(getattr(event, "subject", None) or ""),
            data=event.get_json(),
            time=getattr(event, "event_time", None) or getattr(event, "time", None),
            extensions=extensions,
            content_type=getattr(event, "datacontenttype", None),
        )
    except MalformedEvent as exc:
        malformed(event_id, str(exc))
        return
    rt = runtime()
    handle_event(incoming, rt.pipeline, rt.storage_events)
