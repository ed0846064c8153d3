"""The Event Grid webhook (`/runtime/webhooks/eventgrid`): handshake and payload decoding.

Event Grid POSTs with header `aeg-event-type`: `SubscriptionValidation` (answer
`{"validationResponse": <data.validationCode>}`), `Notification` (invoke the function once per
array element), or `Unsubscribe`. Events in the Event Grid schema and in CloudEvents 1.0 (a
single object or a batch array) are decoded by the worker's `EventGridEventInConverter`, which
picks `CloudEvent` when `specversion` is present. CloudEvents webhooks are validated with an
OPTIONS request carrying `WebHook-Request-Origin` (the CloudEvents abuse-protection handshake).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum

EVENT_TYPE_HEADER = "aeg-event-type"
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"


class EventGridPayloadError(ValueError):
    """The request is malformed (answered 400, which Event Grid does not retry)."""


@dataclass(frozen=True)
class WireEvent:
    text: str
    id: str | None
    type: str | None


def parse_events(body: bytes) -> list[WireEvent]:
    """The events of a delivery: a JSON array of objects, or one object."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise EventGridPayloadError("the body is not JSON") from None
    except RecursionError:
        # Python's decoder recurses per nesting level; the real host's parser refuses such a
        # body as malformed too (400), it does not fail (500).
        raise EventGridPayloadError("the body is nested too deeply to be an event") from None
    elements = parsed if isinstance(parsed, list) else [parsed]
    if not elements:
        raise EventGridPayloadError("the event array is empty")
    events = []
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            raise EventGridPayloadError(f"event {index} is not a JSON object")
        kind = element.get("type") if "specversion" in element else element.get("eventType")
        if not element.get("id") or not kind:
            raise EventGridPayloadError(
                f"event {index} lacks id or {'type' if 'specversion' in element else 'eventType'}"
            )
        try:
            text = json.dumps(element)
        except RecursionError:
            raise EventGridPayloadError(f"event {index} is nested too deeply") from None
        events.append(WireEvent(text, str(element["id"]), str(kind)))
    return events


def decode_event(event: WireEvent) -> Any:
    """An `EventGridEvent` or a `CloudEvent`, as the worker builds it."""
    try:
        return EventGridEventInConverter.decode(Datum(event.text, "json"), trigger_metadata=None)
    except RecursionError:
        raise EventGridPayloadError(f"event {event.id}: nested too deeply") from None
    except ValueError as exc:
        raise EventGridPayloadError(f"event {event.id}: {exc}") from None


def validation_code(body: bytes) -> str:
    events = parse_events(body)
    first = json.loads(events[0].text)
    data = first.get("data")
    code = data.get("validationCode") if isinstance(data, dict) else None
    if not code:
        raise EventGridPayloadError("a SubscriptionValidation event needs data.validationCode")
    return str(code)
