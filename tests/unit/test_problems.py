"""Problem JSON: the members RFC 9457 defines, the field errors, and extension members."""

from __future__ import annotations

import pytest

from shared.collections.errors import (
    CollectionError,
    CollectionNotCreated,
    FetchFailed,
    FetchThrottled,
    TemplateUnusable,
    UrlNotAllowed,
)
from shared.geocatalog.errors import (
    InvalidRequestError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from shared.problems import (
    PROBLEM_TYPE_BASE,
    ServiceUnavailable,
    Unprocessable,
    UpstreamRefused,
    api_error_for,
)

STANDARD = {"type", "title", "status", "detail", "instance", "field", "errors"}


def test_extension_members_without_a_value_are_left_out() -> None:
    # A GeoCatalog failure without a response has neither a code nor a status.
    error = UpstreamRefused(
        "the GeoCatalog refused", extra={"geocatalogCode": None, "upstream": "x"}
    )
    body = error.to_problem(instance="/api/ingest").to_dict()
    assert "geocatalogCode" not in body
    assert body["upstream"] == "x"


def test_extension_members_never_replace_the_standard_ones() -> None:
    error = UpstreamRefused("refused", field="collection", extra={"status": 200, "field": "x"})
    body = error.to_problem().to_dict()
    assert body["status"] == 502
    assert body["field"] == "collection"
    assert body["type"] == "urn:geocatalog-ingest:problem:upstream-refused"


# -- the service's own errors, translated in one place -------------------------------------------


def test_remote_failures_become_502_with_their_code_or_503_with_their_delay() -> None:
    refused = api_error_for(InvalidRequestError("no", status=400, code="InvalidInput"))
    assert isinstance(refused, UpstreamRefused)
    assert refused.extra == {
        "upstream": "GeoCatalog",
        "upstreamStatus": 400,
        "geocatalogCode": "InvalidInput",
    }
    busy = api_error_for(ThrottledError("slow", status=429, retry_after=2.2))
    assert isinstance(busy, ServiceUnavailable)
    assert busy.extra["retryAfter"] == 3
    down = api_error_for(TransientError("down", service="Planetary Computer", status=503, code="X"))
    assert isinstance(down, ServiceUnavailable)
    assert down.extra["upstreamCode"] == "X"
    assert "geocatalogCode" not in down.extra
    assert isinstance(api_error_for(PermanentError("forbidden", status=403)), UpstreamRefused)


@pytest.mark.parametrize(
    ("error", "status", "slug", "extra"),
    [
        (
            UrlNotAllowed("templateUrl must use https", field="templateUrl"),
            400,
            "invalid-request",
            {},
        ),
        (
            TemplateUnusable("templateUrl answered 404", field="templateUrl", host="h", status=404),
            422,
            "unprocessable-content",
            {"upstreamHost": "h", "upstreamStatus": 404},
        ),
        (
            TemplateUnusable("templateUrl did not answer JSON", field="templateUrl"),
            422,
            "unprocessable-content",
            {},
        ),
        (
            FetchFailed("templateUrl could not be fetched from h", field="templateUrl", host="h"),
            502,
            "upstream-refused",
            {"upstreamHost": "h"},
        ),
        (
            FetchFailed(
                "h failed to answer templateUrl (503)", field="templateUrl", host="h", status=503
            ),
            502,
            "upstream-refused",
            {"upstreamHost": "h", "upstreamStatus": 503},
        ),
        (
            FetchThrottled(
                "h is throttling", field="templateUrl", host="h", status=429, retry_after=0.2
            ),
            503,
            "service-unavailable",
            {"upstreamHost": "h", "upstreamStatus": 429, "retryAfter": 1},
        ),
        (
            FetchThrottled("h is throttling", field="thumbnail", host="h", status=429),
            503,
            "service-unavailable",
            {"upstreamHost": "h", "upstreamStatus": 429},
        ),
        (
            CollectionNotCreated(
                "GeoCatalog did not create collection c: bad", operation_id="op-1", code="X"
            ),
            502,
            "upstream-refused",
            {"upstream": "GeoCatalog", "geocatalogCode": "X", "operationId": "op-1"},
        ),
    ],
)
def test_collection_errors_keep_their_status_field_and_members(
    error: CollectionError, status: int, slug: str, extra: dict[str, object]
) -> None:
    problem = api_error_for(error)
    assert problem is not None
    body = problem.to_problem().to_dict()
    assert body["status"] == status
    assert body["type"] == PROBLEM_TYPE_BASE + slug
    assert body["detail"] == error.message
    assert body.get("field") == error.field
    members = {k: v for k, v in body.items() if k not in STANDARD}
    assert members == extra


def test_the_one_422_problem_type_is_unprocessable_content() -> None:
    # /api/ingest's "collection does not exist" and /api/collections' unusable template used to
    # answer two type URIs for one status; both are RFC 9110's "Unprocessable Content" now.
    body = Unprocessable("collection 'c' does not exist", field="collection").to_problem()
    assert body.type == "urn:geocatalog-ingest:problem:unprocessable-content"
    assert body.title == "Unprocessable content"


def test_an_error_that_is_not_the_services_is_not_translated() -> None:
    assert api_error_for(KeyError("x")) is None
