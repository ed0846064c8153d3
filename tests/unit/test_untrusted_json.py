"""JSON from events, blobs and settings nested deeper than anything real: a clear refusal, never a
RecursionError (which escaped every `except ValueError` and became a 500 and a retry loop)."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from shared.json_values import MAX_JSON_DEPTH, loads_json
from shared.pipeline.events import MalformedEvent, decode_data
from shared.pipeline.views import decode_cursor
from shared.problems import InvalidRequest
from shared.sources.errors import SourceInvalid
from shared.sources.http import decode_json
from shared.storage_events.routes import RoutesError, parse_routes

DEEP = "[" * 100_000 + "]" * 100_000
JUST_TOO_DEEP = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)


@pytest.mark.parametrize("text", [DEEP, JUST_TOO_DEEP, DEEP.encode()])
def test_loads_json_refuses_deep_documents_as_value_errors(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="nested deeper"):
        loads_json(text)


def test_loads_json_reads_what_is_within_bounds() -> None:
    value = {"a": [[[1, 2.5, None]]]}
    assert loads_json(json.dumps(value)) == value
    with pytest.raises(UnicodeDecodeError):
        loads_json(b'"\x80"')


def test_event_data_nested_too_deep_is_a_malformed_event() -> None:
    with pytest.raises(MalformedEvent):
        decode_data(None, data_base64=base64.b64encode(DEEP.encode()).decode())
    with pytest.raises(MalformedEvent):
        decode_data(DEEP)


def test_storage_routes_nested_too_deep_are_a_routes_error() -> None:
    with pytest.raises(RoutesError, match="not JSON"):
        parse_routes(DEEP)


def test_a_cursor_nested_too_deep_is_a_400_naming_the_cursor() -> None:
    cursor = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    with pytest.raises(InvalidRequest) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"


def test_a_source_document_nested_too_deep_is_an_invalid_source() -> None:
    response = requests.Response()
    response._content = DEEP.encode()
    with pytest.raises(SourceInvalid, match="nested deeper"):
        decode_json(response, "https://example.org/catalog.json?sig=SECRET")
