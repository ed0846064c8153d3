"""Fetching a template and its thumbnail on a caller's behalf, under the service's URL policy.

The service fetches URLs on behalf of callers, so every fetch (the template, its thumbnail, every
redirect hop) passes the same policy: a host from `SOURCE_ALLOWED_HOSTS`, https unless in local
mode, bounded size and time (`shared.outbound`). Failures are the collections domain's errors (`UrlNotAllowed`,
`TemplateUnusable`, `FetchFailed`, `FetchThrottled`), never HTTP answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import requests

from shared.collections.errors import FetchFailed, FetchThrottled, TemplateUnusable, UrlNotAllowed
from shared.json_values import loads_json
from shared.outbound import (
    Fetched,
    FetchInvalid,
    FetchNotAllowed,
    FetchPolicy,
    FetchRefused,
    FetchUnavailable,
    GuardedHttp,
    new_session,
)
from shared.outbound import (
    FetchThrottled as OutboundThrottled,
)
from shared.settings import Settings

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class UrlPolicy:
    """The outbound policy (`shared.outbound.FetchPolicy`), answering in the collections
    domain's terms."""

    allowed_hosts: frozenset[str]
    allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> UrlPolicy:
        return cls(frozenset(settings.allowed_source_hosts), allow_http=settings.local_mode)

    @property
    def fetch(self) -> FetchPolicy:
        return FetchPolicy.of(sorted(self.allowed_hosts), allow_http=self.allow_http)

    def check(self, url: str, *, field: str) -> str:
        """The URL if the service may fetch it; UrlNotAllowed naming `field` if not."""
        problem = self.fetch.problem(url)
        if problem is not None:
            raise UrlNotAllowed(f"{field} {problem}{_hint(problem)}", field=field)
        return url


class TemplateFetcher:
    """One GET per document through the guarded outbound layer (every redirect hop checked,
    size and time bounded); its failures become the collections domain's errors."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        session: requests.Session | None = None,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.policy = policy
        self._own_session = session is None
        self._http = GuardedHttp(session or new_session(pool_size=4), policy.fetch, timeout=timeout)

    def close(self) -> None:
        if self._own_session:
            self._http.session.close()

    def __enter__(self) -> TemplateFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(self, url: str, *, field: str, max_bytes: int, accept: str) -> Fetched:
        self.policy.check(url, field=field)
        with _as_domain_errors(field):
            return self._http.fetch(url, accept=accept, max_bytes=max_bytes)

    def fetch_json(self, url: str, *, field: str) -> Any:
        fetched = self.fetch(
            url, field=field, max_bytes=MAX_TEMPLATE_BYTES, accept="application/json"
        )
        try:
            return loads_json(fetched.content)
        except ValueError:
            raise TemplateUnusable(f"{field} did not answer JSON", field=field) from None


@contextmanager
def _as_domain_errors(field: str) -> Iterator[None]:
    try:
        yield
    except FetchNotAllowed as exc:
        where = "redirects to a URL that " if exc.redirected else ""
        raise UrlNotAllowed(
            f"{field} {where}{exc.problem}{_hint(exc.problem)}", field=field
        ) from None
    except OutboundThrottled as exc:
        raise FetchThrottled(
            f"{exc.host} is throttling fetches of {field}",
            field=field,
            host=exc.host,
            status=429,
            retry_after=exc.retry_after,
        ) from None
    except FetchUnavailable as exc:
        why = f"({exc.status})" if exc.status is not None else "(no answer)"
        raise FetchFailed(
            f"{exc.host} failed to answer {field} {why}",
            field=field,
            host=exc.host,
            status=exc.status,
        ) from None
    except FetchRefused as exc:
        # A 4xx other than throttling: the URL points at nothing usable; the caller must change it.
        raise TemplateUnusable(
            f"{field} answered {exc.status}", field=field, host=exc.host, status=exc.status
        ) from None
    except FetchInvalid as exc:
        # More redirects than the layer follows, a body over the bound, another answer.
        raise TemplateUnusable(f"{field}: {exc}", field=field) from None


def _hint(problem: str) -> str:
    return " (app setting SOURCE_ALLOWED_HOSTS)" if "allowed" in problem else ""


__all__ = [
    "FETCH_TIMEOUT_SECONDS",
    "MAX_TEMPLATE_BYTES",
    "MAX_THUMBNAIL_BYTES",
    "Fetched",
    "TemplateFetcher",
    "UrlPolicy",
]
