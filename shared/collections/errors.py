"""Why a collection could not be created or brought up to date, in the domain's own words.

These say what went wrong, not how to answer it: the HTTP edge (`shared.problems.api_error_for`)
turns them into problem JSON, and the pipeline records them as a job's planning failure. `field`
names the input whose value is at fault (`templateUrl`, `thumbnail`) when there is one; `host`,
`status` and `retry_after` describe the remote that answered a fetch. Failures of the GeoCatalog
or the Planetary Computer clients themselves stay `UpstreamError`s.
"""

from __future__ import annotations


class CollectionError(Exception):
    """Base: the message is safe to show (URLs without their query, no tokens)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UrlNotAllowed(CollectionError):
    """A URL (the template, its thumbnail or a redirect hop) the fetch policy forbids: the caller
    must give another URL or the operator allow the host."""


class _Answered(CollectionError):
    """An error about what a host answered: `host` and `status` when known."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        host: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.host = host
        self.status = status


class TemplateUnusable(_Answered):
    """What a URL points at cannot be used (not JSON, not a STAC Collection, a 4xx, too large,
    redirected too often): retrying the same URL will not help."""


class FetchFailed(_Answered):
    """The host did not answer usably (no connection, 5xx or 408, a broken read): later may work."""


class FetchThrottled(FetchFailed):
    """The host asked us to slow down; `retry_after` is the delay it asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        host: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, field=field, host=host, status=status)
        self.retry_after = retry_after


class CollectionNotCreated(CollectionError):
    """The GeoCatalog accepted the collection but its AddCollection operation failed."""

    def __init__(self, message: str, *, operation_id: str, code: str | None) -> None:
        super().__init__(message)
        self.operation_id = operation_id
        self.code = code


__all__ = [
    "CollectionError",
    "CollectionNotCreated",
    "FetchFailed",
    "FetchThrottled",
    "TemplateUnusable",
    "UrlNotAllowed",
]
