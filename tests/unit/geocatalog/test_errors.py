"""Error mapping: every status class, Retry-After taken from the answer, the body shapes, redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from shared.geocatalog.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
    UpstreamError,
    error_from_exception,
    error_from_response,
    redact,
)


def response(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    if isinstance(body, bytes):
        r._content = body
    else:
        r._content = b"" if body is None else json.dumps(body).encode()
    r.headers.update(headers or {})
    r.url = "https://geocatalog.test/stac/collections/x?api-version=2026-04-15"
    return r


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidRequestError),
        (422, InvalidRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, ThrottledError),
        (408, TransientError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (401, PermanentError),
        (403, PermanentError),
        (405, PermanentError),
        (412, PermanentError),
        (501, PermanentError),
    ],
)
def test_each_status_maps_to_the_type_that_says_what_to_do(
    status: int, kind: type[UpstreamError]
) -> None:
    error = error_from_response(
        response(status, {"error": {"code": "SomeCode", "message": "said why"}}), what="GET /x"
    )
    assert type(error) is kind
    assert error.status == status
    assert error.code == "SomeCode"
    assert "said why" in error.message
    assert "GET /x" in error.message


def test_the_azure_core_error_body_is_read() -> None:
    error = error_from_response(
        response(
            404,
            {
                "error": {
                    "code": "ResourceNotFound",
                    "message": "Collection 'nope' not found. Please verify the collection ID and try again.",
                }
            },
        ),
        what="GET /stac/collections/nope",
    )
    assert isinstance(error, NotFoundError)
    assert error.code == "ResourceNotFound"
    assert "Collection 'nope' not found" in str(error)


def test_doubly_nested_error_bodies_are_read() -> None:
    error = error_from_response(
        response(400, {"error": {"error": {"code": "Deep", "message": "inner"}}}), what="POST /x"
    )
    assert error.code == "Deep"
    assert "inner" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "Too Many Requests"}, "Too Many Requests"),
        ("Mosaic info for 'nope' not found", "Mosaic info for 'nope' not found"),
        (b"<html>Bad gateway</html>\nsecond line", "<html>Bad gateway</html>"),
    ],
)
def test_other_body_shapes_give_a_message_without_a_code(body: object, expected: str) -> None:
    error = error_from_response(response(502, body), what="GET /x")
    assert error.code is None
    assert expected in error.message
    assert "second line" not in error.message


def test_throttled_with_retry_after_seconds() -> None:
    error = error_from_response(response(429, None, {"Retry-After": "7"}), what="POST /x")
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7.0


@pytest.mark.parametrize("header", ["retry-after-ms", "x-ms-retry-after-ms"])
def test_throttled_with_retry_after_milliseconds(header: str) -> None:
    error = error_from_response(
        response(429, None, {header: "1500", "Retry-After": "9"}), what="POST /x"
    )
    # Milliseconds are more precise and win over the seconds header, as in azure-core.
    assert error.retry_after == 1.5


def test_throttled_with_retry_after_as_http_date() -> None:
    # Every form is read by `shared.outbound.parse_retry_after` (tests/unit/outbound); here only
    # that the mapping uses it.
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=5), usegmt=True)
    error = error_from_response(response(429, None, {"Retry-After": later}), what="POST /x")
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 300


def test_throttled_without_retry_after_leaves_the_delay_to_the_caller() -> None:
    error = error_from_response(response(429, {"error": {"code": "TooManyRequests"}}), what="x")
    assert isinstance(error, ThrottledError)
    assert error.retry_after is None


def test_transient_keeps_a_retry_after_too() -> None:
    error = error_from_response(response(503, None, {"Retry-After": "2"}), what="GET /x")
    assert isinstance(error, TransientError)
    assert error.retry_after == 2.0


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (requests.ConnectTimeout("timed out"), TransientError, "timed out"),
        (requests.ReadTimeout("timed out"), TransientError, "timed out"),
        (requests.ConnectionError("refused"), TransientError, "failed to connect"),
        (requests.exceptions.ChunkedEncodingError("cut"), TransientError, "failed to connect"),
        (requests.exceptions.InvalidURL("bad"), PermanentError, "could not be sent"),
    ],
)
def test_exchange_failures(exc: requests.RequestException, kind: type, words: str) -> None:
    error = error_from_exception(exc, what="GET /stac/search")
    assert type(error) is kind
    assert error.status is None
    assert words in error.message


def test_exchange_failures_never_repeat_the_url_of_requests_messages() -> None:
    exc = requests.ConnectionError(
        "HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: "
        "/sas/sign?href=https://a.blob.core.windows.net/c/b.tif%3Fsig%3DSECRET&sig=SECRET"
    )
    error = error_from_exception(exc, what="GET /sas/sign")
    assert "SECRET" not in str(error)
    assert "sig=" not in str(error)


def test_messages_are_redacted_of_sas_and_bearer_tokens() -> None:
    body = {
        "error": {
            "code": "InvalidAssetHref",
            "message": "cannot read https://acct.blob.core.windows.net/c/a.tif?sv=2024&sp=r&sig=abc%2Fdef "
            "with Authorization: Bearer eyJhbGciOi.payload.signature",
        }
    }
    error = error_from_response(response(400, body), what="POST /stac/collections/c/items")
    text = str(error)
    assert "abc%2Fdef" not in text
    assert "sig=" not in text
    assert "eyJhbGciOi" not in text
    assert "https://acct.blob.core.windows.net/c/a.tif" in text


def test_redact_leaves_harmless_text_alone_and_bounds_length() -> None:
    assert redact("collection 'x' not found") == "collection 'x' not found"
    assert len(redact("y" * 5000)) == 500
    assert redact("sig=abc") == "sig=<redacted>"
