"""Source failures, named for what the caller must do. Messages never carry query strings."""

from __future__ import annotations


class SourceError(Exception):
    """Base class; `url` is the URL concerned without query string (safe to log and show)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class SourceThrottled(SourceError):
    """The source asked us to slow down: retry the same page after `retry_after` seconds (None:
    the source did not say; back off on your own)."""

    def __init__(self, message: str, *, url: str | None = None, retry_after: float | None) -> None:
        super().__init__(message, url=url)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """5xx, connection failure, timeout: retry the same page later."""


class SourceInvalid(SourceError):
    """Not found, refused, not JSON, not STAC, not allowed: permanent, do not retry."""


class CursorInvalid(ValueError):
    """A page cursor this source did not write (a message edited or from another source)."""
