"""Problem responses: the JSON shape, and the headers a client acts on."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func
import pytest

from functions.http_responses import handle_api, json_body, problem_response
from shared.collections.errors import FetchFailed, UrlNotAllowed
from shared.geocatalog.errors import ThrottledError
from shared.json_values import MAX_JSON_DEPTH
from shared.problems import InvalidRequest, ServiceUnavailable


def request() -> func.HttpRequest:
    return func.HttpRequest(
        method="POST", url="http://127.0.0.1:7071/api/ingest?code=not-logged", body=b"{}"
    )


@pytest.mark.parametrize(("retry_after", "header"), [(2, "2"), (0.4, "1"), (7.0, "7")])
def test_a_503_with_retry_after_carries_the_header_in_whole_seconds(
    retry_after: float, header: str
) -> None:
    error = ServiceUnavailable("the GeoCatalog did not answer", extra={"retryAfter": retry_after})
    response = problem_response(error, request())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == header
    assert response.headers["Content-Type"] == "application/problem+json"
    body = json.loads(response.get_body())
    assert body["retryAfter"] == retry_after
    assert body["instance"] == "/api/ingest"


def test_no_retry_after_header_without_a_delay() -> None:
    response = problem_response(InvalidRequest("bad", field="source.bbox"), request())
    assert "Retry-After" not in response.headers
    assert json.loads(response.get_body())["field"] == "source.bbox"


def _body_of(raw: bytes) -> func.HttpRequest:
    return func.HttpRequest(method="POST", url="http://127.0.0.1:7071/api/ingest", body=raw)


@pytest.mark.parametrize(
    "raw",
    [
        # Deeper than Python's decoder can go (it raises RecursionError, which was a 500).
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        # Decodable, but deeper than any request needs.
        b'{"source":' + b"[" * (MAX_JSON_DEPTH + 5) + b"]" * (MAX_JSON_DEPTH + 5) + b"}",
    ],
    ids=["array-100000", "object-100000", "array-105"],
)
def test_a_deeply_nested_body_is_an_invalid_request_naming_the_body(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as refused:
        json_body(_body_of(raw))
    assert refused.value.field == "body"
    assert "nested deeper" in refused.value.detail


def test_a_body_at_the_depth_limit_is_read() -> None:
    depth = MAX_JSON_DEPTH - 1
    raw = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    assert json_body(_body_of(raw))["a"] == json.loads(b"[" * depth + b"]" * depth)


# -- handle_api: the one place the service's errors become problem JSON --------------------------


def _raising(error: Exception) -> Callable[[], func.HttpResponse]:
    def call() -> func.HttpResponse:
        raise error

    return call


def _problem_of(response: func.HttpResponse) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_body())
    return body


def test_a_remote_failure_is_translated_and_logged_once_without_the_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = ThrottledError("GET /stac/collections/c answered 429", status=429, retry_after=4)
    with caplog.at_level(logging.WARNING, logger="functions.http_responses"):
        response = handle_api(request(), _raising(error))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "4"
    assert _problem_of(response)["upstream"] == "GeoCatalog"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "POST /api/ingest failed" in record.getMessage()
    assert "not-logged" not in record.getMessage()


def test_a_collections_error_is_translated_with_its_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = FetchFailed("templateUrl could not be fetched from h", field="templateUrl", host="h")
    with caplog.at_level(logging.WARNING, logger="functions.http_responses"):
        response = handle_api(request(), _raising(error))
    problem = _problem_of(response)
    assert (response.status_code, problem["field"], problem["upstreamHost"]) == (
        502,
        "templateUrl",
        "h",
    )
    assert len(caplog.records) == 1


def test_refused_input_is_answered_and_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="functions.http_responses"):
        response = handle_api(
            request(), _raising(UrlNotAllowed("templateUrl must use https", field="templateUrl"))
        )
    assert response.status_code == 400
    assert _problem_of(response)["type"].endswith(":invalid-request")
    assert caplog.records == []


def test_an_error_of_no_known_kind_is_a_500_that_says_nothing_of_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="functions.http_responses"):
        response = handle_api(request(), _raising(KeyError("internal detail")))
    assert response.status_code == 500
    assert "internal detail" not in response.get_body().decode()
    assert caplog.records[0].exc_info is not None
