"""Errors of the remote services the service calls: the GeoCatalog and the Planetary Computer.

Both clients map a failed exchange onto the same types (`UpstreamError.service` says which remote
answered), so a caller handles "throttled" or "not found" once whatever the service. Few types, each named for what the caller must do: fix the input, give up on a missing resource,
reconcile a conflict, wait the asked delay, let the host retry, or record a permanent failure.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from shared.log_redaction import redact_secrets
from shared.outbound.retry_after import parse_retry_after

GEOCATALOG = "GeoCatalog"

# Messages never carry a SAS signature (nor the query it sits in) or a bearer token.
_MAX_MESSAGE = 500


def redact(text: str) -> str:
    """The text without SAS query strings or bearer tokens, and of bounded length."""
    cleaned = redact_secrets(text)
    if len(cleaned) > _MAX_MESSAGE:
        cleaned = cleaned[: _MAX_MESSAGE - 1] + "…"
    return cleaned


class UpstreamError(Exception):
    """A call to a remote service (GeoCatalog, Planetary Computer) failed; the subclass says what the caller must do.

    `status` is the HTTP status (None when no response arrived), `code` the service's own error code,
    `message` a sanitised description (never a token or a SAS query), `retry_after` the delay in
    seconds the service asked for, `service` which remote answered.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        service: str = GEOCATALOG,
    ) -> None:
        self.message = redact(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.service = service
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code {self.code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        return f"{self.service}: " + "; ".join(parts)


class InvalidRequestError(UpstreamError):
    """400/422: the input is wrong; never retry it unchanged."""


class NotFoundError(UpstreamError):
    """404: the resource does not exist."""


class ConflictError(UpstreamError):
    """409: the resource exists already (or is in a state that forbids the call)."""


class ThrottledError(UpstreamError):
    """429: retry after `retry_after` seconds (None: the service did not say; back off yourself)."""


class TransientError(UpstreamError):
    """5xx, 408, connection errors, timeouts: retrying later may succeed (let the host retry)."""


class OperationTimeoutError(TransientError):
    """An asynchronous operation did not finish within the time the caller allowed."""

    def __init__(self, message: str, *, operation_id: str, service: str = GEOCATALOG) -> None:
        super().__init__(message, service=service)
        self.operation_id = operation_id


class PermanentError(UpstreamError):
    """Anything else (401/403, other 4xx, unreadable answers): retrying will not help."""


_TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})


def _error_fields(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, message) from the shapes the services use; (None, None) when the body says nothing."""
    try:
        body: Any = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return None, (text.splitlines()[0][:200] if text else None)
    if isinstance(body, str):
        # The Planetary Computer's data API answers some errors with a bare JSON string.
        return None, body
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        # The operation error is nested twice on the real service; accept one or two levels.
        inner = error.get("error")
        if isinstance(inner, dict) and ("code" in inner or "message" in inner):
            error = inner
        code, message = error.get("code"), error.get("message")
        return (str(code) if code else None), (str(message) if message else None)
    if "code" in body or "message" in body:
        code, message = body.get("code"), body.get("message")
        return (str(code) if code else None), (str(message) if message else None)
    detail = body.get("detail")
    if detail is not None:
        # FastAPI (the Planetary Computer's STAC API): {"detail": "..."} or a list of field errors.
        return None, detail if isinstance(detail, str) else json.dumps(detail)[:200]
    return None, None


def error_from_response(
    response: requests.Response, *, what: str, service: str = GEOCATALOG
) -> UpstreamError:
    """The error a non-success response stands for; `what` names the call (method and path)."""
    status = response.status_code
    code, detail = _error_fields(response)
    message = f"{what} answered {status}" + (f": {detail}" if detail else "")
    retry_after = parse_retry_after(response.headers)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "retry_after": retry_after,
        "service": service,
    }
    if status in (400, 422):
        return InvalidRequestError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 409:
        return ConflictError(message, **kwargs)
    if status == 429:
        return ThrottledError(message, **kwargs)
    if status in _TRANSIENT_STATUSES:
        return TransientError(message, **kwargs)
    return PermanentError(message, **kwargs)


def error_from_exception(
    exc: requests.RequestException, *, what: str, service: str = GEOCATALOG
) -> UpstreamError:
    """The error a failed exchange (no usable response) stands for."""
    # requests' messages embed the URL with its query; only the exception type is kept.
    reason = type(exc).__name__
    if isinstance(exc, requests.Timeout):
        return TransientError(f"{what} timed out ({reason})", service=service)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return TransientError(f"{what} failed to connect ({reason})", service=service)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return TransientError(f"{what} answered an unreadable body ({reason})", service=service)
    return PermanentError(f"{what} could not be sent ({reason})", service=service)


__all__ = [
    "GEOCATALOG",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "OperationTimeoutError",
    "PermanentError",
    "ThrottledError",
    "TransientError",
    "UpstreamError",
    "error_from_exception",
    "error_from_response",
    "redact",
]
