"""Failures of a fetch made on a caller's behalf, named for what the caller must do.

`FetchThrottled`: wait `retry_after` and try again. `FetchUnavailable`: the remote failed (5xx,
408, connection, timeout); trying later may work. `FetchInvalid` and its kinds: permanent, do not
try again unchanged. Each adapter maps these to its own audience (a source error in a job, a
problem response of the API) in one place.

Messages name the URL as `display_url` shows it (no query string, so no SAS signature) and pass
through `redact_secrets` as well; the `requests` exception behind a failure is never chained,
since its text repeats the full URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.log_redaction import redact_secrets


class FetchError(Exception):
    """`url`: the URL concerned without query string (safe to log and show); `status`: the HTTP
    status that caused the failure (None when no response says it)."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(redact_secrets(message))
        self.url = url
        self.status = status

    @property
    def host(self) -> str:
        """The host of `url` (with its port), for problem details such as `upstreamHost`."""
        try:
            return urlsplit(self.url).netloc
        except ValueError:
            return ""


class FetchThrottled(FetchError):
    """429: try again after `retry_after` seconds (None: the remote did not say; back off)."""

    def __init__(self, message: str, *, url: str, retry_after: float | None) -> None:
        super().__init__(message, url=url, status=429)
        self.retry_after = retry_after


class FetchUnavailable(FetchError):
    """5xx, 408, connection failure, timeout, a body cut short: trying later may succeed."""


class FetchInvalid(FetchError):
    """Permanent: too many redirects, a body over its bound, a request that cannot be sent; and
    the kinds below. Do not try again unchanged."""


class FetchNotAllowed(FetchInvalid):
    """The policy refuses the URL or a redirect hop (`url` is the refused one); nothing was
    fetched from it. `problem` is the rule's phrase ("must use https", "host x is not in the
    allowed source hosts"); `redirected` says whether a redirect led there."""

    def __init__(self, message: str, *, url: str, problem: str, redirected: bool) -> None:
        super().__init__(message, url=url)
        self.problem = problem
        self.redirected = redirected


class FetchRefused(FetchInvalid):
    """The remote answered a 4xx other than 408 and 429 (`status`): nothing usable there."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message, url=url, status=status)


__all__ = [
    "FetchError",
    "FetchInvalid",
    "FetchNotAllowed",
    "FetchRefused",
    "FetchThrottled",
    "FetchUnavailable",
]
