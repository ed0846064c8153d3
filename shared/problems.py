"""RFC 9457 problem details: the one shape every HTTP error of the service takes.

`ApiError` and its subclasses are the HTTP answers themselves (raised by the HTTP edge: request
parsers, handlers). The service's own errors (a remote service's `UpstreamError`, the collections
domain's `CollectionError`) are translated here, in `api_error_for`, and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shared.collections.errors import (
    CollectionError,
    CollectionNotCreated,
    FetchFailed,
    FetchThrottled,
    TemplateUnusable,
    UrlNotAllowed,
)

# A problem's `errors` members; defined with the contract whose refusals they are.
from shared.contract import FieldError as FieldError
from shared.geocatalog.errors import (
    GEOCATALOG,
    ThrottledError,
    TransientError,
    UpstreamError,
)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem `type` URIs: this base and the error's slug (e.g. `...:invalid-request`).
PROBLEM_TYPE_BASE = "urn:geocatalog-ingest:problem:"


class ApiError(Exception):
    """An error the HTTP layer turns into problem JSON; `slug` becomes the problem `type`."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: tuple[FieldError, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors or ((FieldError(field, detail),) if field else ())
        self.extra = dict(extra or {})

    def to_problem(self, instance: str | None = None) -> Problem:
        return Problem(
            status=self.status,
            title=self.title,
            detail=self.detail,
            type=PROBLEM_TYPE_BASE + self.slug,
            instance=instance,
            errors=self.errors,
            extra=self.extra,
        )


class InvalidRequest(ApiError):
    status = 400
    title = "Invalid request"
    slug = "invalid-request"


class NotFound(ApiError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Unprocessable(ApiError):
    """Well-formed, but it refers to something that does not exist or cannot be used (RFC 9110's
    422 Unprocessable Content: the one 422 problem type of the service)."""

    status = 422
    title = "Unprocessable content"
    slug = "unprocessable-content"


class PayloadTooLarge(ApiError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class UpstreamRefused(ApiError):
    """A dependency (GeoCatalog, a source) refused the request; its own code is in `extra`."""

    status = 502
    title = "Upstream service refused the request"
    slug = "upstream-refused"


class InternalError(ApiError):
    status = 500
    title = "Internal error"
    slug = "internal-error"


class ServiceUnavailable(ApiError):
    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str
    type: str = "about:blank"
    instance: str | None = None
    errors: tuple[FieldError, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.instance:
            body["instance"] = self.instance
        if self.errors:
            # `field` names the first offending field so simple clients need not walk `errors`.
            body["field"] = self.errors[0].field
            body["errors"] = [{"field": e.field, "detail": e.detail} for e in self.errors]
        for key, value in self.extra.items():
            # An extension member without a value is left out (a remote error without a code),
            # so every member present has the type the OpenAPI document gives it.
            if value is not None:
                body.setdefault(key, value)
        return body


def upstream_problem(error: UpstreamError, *, doing: str | None = None) -> ApiError:
    """What a remote failure (GeoCatalog, Planetary Computer, a source) becomes for the caller:
    503 with Retry-After when it was busy or unavailable, else 502 with the remote's own code."""
    extra: dict[str, Any] = {"upstream": error.service}
    if error.status is not None:
        extra["upstreamStatus"] = error.status
    if error.code:
        extra["geocatalogCode" if error.service == GEOCATALOG else "upstreamCode"] = error.code
    context = f" while {doing}" if doing else ""
    if isinstance(error, ThrottledError | TransientError):
        if error.retry_after is not None:
            extra["retryAfter"] = math.ceil(error.retry_after)
        return ServiceUnavailable(
            f"{error.service} is busy or unavailable{context}: {error.message}", extra=extra
        )
    return UpstreamRefused(f"{error.service} refused{context}: {error.message}", extra=extra)


def collection_problem(error: CollectionError) -> ApiError:
    """What a collections domain error becomes for the caller: 400 a URL the policy refuses, 422 an
    unusable template, 503 a throttled fetch, 502 any other failed fetch or create."""
    if isinstance(error, CollectionNotCreated):
        return UpstreamRefused(
            error.message,
            extra={
                "upstream": GEOCATALOG,
                "geocatalogCode": error.code,
                "operationId": error.operation_id,
            },
        )
    extra: dict[str, Any] = {}
    if isinstance(error, TemplateUnusable | FetchFailed):
        extra = {"upstreamHost": error.host, "upstreamStatus": error.status}
    if isinstance(error, FetchThrottled) and error.retry_after is not None:
        extra["retryAfter"] = math.ceil(error.retry_after)
    kind: type[ApiError] = UpstreamRefused
    if isinstance(error, UrlNotAllowed):
        kind = InvalidRequest
    elif isinstance(error, TemplateUnusable):
        kind = Unprocessable
    elif isinstance(error, FetchThrottled):
        kind = ServiceUnavailable
    present = {key: value for key, value in extra.items() if value is not None}
    return kind(error.message, field=error.field, extra=present)


def api_error_for(error: Exception) -> ApiError | None:
    """The HTTP answer to an error raised while serving a request; None: not one of ours (a bug)."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, UpstreamError):
        return upstream_problem(error)
    if isinstance(error, CollectionError):
        return collection_problem(error)
    return None
