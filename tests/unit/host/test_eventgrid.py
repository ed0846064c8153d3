"""Event Grid webhook payloads: both schemas, single or batched; the validation handshake."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from local.host.eventgrid import EventGridPayloadError, decode_event, parse_events, validation_code
from tests.triggers import load_event_fixture


def _body(name: str) -> bytes:
    return json.dumps(load_event_fixture(name)).encode()


def test_event_grid_schema_array() -> None:
    events = parse_events(_body("blob_created.eventgrid.json"))
    assert [e.type for e in events] == ["Microsoft.Storage.BlobCreated"] * 2
    decoded = [decode_event(e) for e in events]
    assert all(isinstance(d, func.EventGridEvent) for d in decoded)
    assert decoded[1].get_json()["api"] == "PutBlockList"


def test_cloudevents_batch_and_single() -> None:
    batch = [decode_event(e) for e in parse_events(_body("blob_created.cloudevents.json"))]
    single = [decode_event(e) for e in parse_events(_body("blob_created.cloudevent.single.json"))]
    assert [type(e).__name__ for e in batch] == ["CloudEvent", "CloudEvent"]
    assert len(single) == 1
    assert single[0].id == batch[0].id


def test_validation_code() -> None:
    code = validation_code(_body("subscription_validation.eventgrid.json"))
    assert code == "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    with pytest.raises(EventGridPayloadError, match="validationCode"):
        validation_code(_body("blob_created.eventgrid.json"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "empty"),
        (b"[1]", "not a JSON object"),
        (b'[{"id": "x"}]', "eventType"),
        (b'[{"specversion": "1.0", "id": "x"}]', "type"),
        (b'[{"eventType": "t"}]', "id"),
        # 100,000 levels: Python's decoder runs out of stack; a 400, not a 500.
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_payloads(body: bytes, message: str) -> None:
    with pytest.raises(EventGridPayloadError, match=message):
        parse_events(body)
