"""Event data in every shape publishers send, and malformed events logged at ERROR with their id
and the reason, never the body."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from shared.pipeline.events import MalformedEvent, decode_data, incoming_event, malformed
from shared.storage_events.blob_events import (
    BLOB_CREATED,
    NotABlobEvent,
    blob_event,
    sequencer_key,
)
from tests.triggers import event_grid_events, load_event_fixture


@pytest.mark.parametrize(
    "fixture", ["blob_created.eventgrid.json", "blob_created.cloudevents.json"]
)
def test_both_schemas_become_the_same_blob_events(fixture: str) -> None:
    decoded = event_grid_events(load_event_fixture(fixture))
    events = []
    for event in decoded:
        incoming = incoming_event(
            event_id=str(event.id),
            event_type=str(getattr(event, "event_type", None) or event.type),
            subject=str(event.subject or ""),
            data=event.get_json(),
            time=getattr(event, "event_time", None) or getattr(event, "time", None),
        )
        events.append(blob_event(incoming.id, incoming.event_type, incoming.data, incoming.time))
    assert [e.event_type for e in events] == [BLOB_CREATED, BLOB_CREATED]
    assert events[0].url.startswith("https://stingestdrop.blob.core.windows.net/stac-drop/")
    assert events[0].sequencer == "0000000000000000000000000001A5D3000000000006c2a1"
    assert events[0].api == "PutBlob"
    assert events[0].event_time is not None
    assert sequencer_key(events[0].sequencer) < sequencer_key(events[1].sequencer)


def test_sequencers_compare_whatever_their_width_and_case() -> None:
    assert sequencer_key("ff") < sequencer_key("100")
    assert sequencer_key("00000000000000000000000000000ABC") == sequencer_key("abc")


def test_base64_and_string_data_are_decoded() -> None:
    body = {"url": "https://a.blob.core.windows.net/c/x.json"}
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    assert decode_data(None, data_base64=encoded) == body
    assert decode_data(json.dumps(body)) == body
    assert decode_data("plain text") == "plain text"
    event = incoming_event(
        event_id="e1",
        event_type=BLOB_CREATED,
        subject="",
        data=None,
        time=None,
        extensions={"data_base64": encoded},
    )
    assert event.data == body


@pytest.mark.parametrize(
    ("data", "data_base64", "why"),
    [
        (None, "%%%not-base64", "not base64"),
        (None, base64.b64encode(b"\x00\xffbinary").decode(), "does not hold JSON"),
        ('{"url": "https://x?sig=SECRET"', None, "not a JSON document"),
    ],
)
def test_undecodable_data_is_malformed(data: object, data_base64: object, why: str) -> None:
    with pytest.raises(MalformedEvent, match=why) as caught:
        decode_data(data, data_base64=data_base64)
    assert "SECRET" not in str(caught.value)


def test_a_storage_event_without_a_url_is_malformed() -> None:
    with pytest.raises(NotABlobEvent, match=r"data\.url"):
        blob_event("e1", BLOB_CREATED, {"api": "PutBlob"}, None)
    with pytest.raises(NotABlobEvent, match="not an object"):
        blob_event("e1", BLOB_CREATED, ["x"], None)


def test_a_malformed_event_is_logged_at_error_with_id_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        malformed("evt-42", "data.url is missing")
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "evt-42" in record.getMessage()
    assert "data.url is missing" in record.getMessage()
