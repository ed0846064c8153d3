"""Fetching a template and its thumbnail on a caller's behalf, under the service's URL policy.

The service fetches URLs on behalf of callers, so every fetch (the template, its thumbnail, every
redirect hop) passes the same policy: a host from `SOURCE_ALLOWED_HOSTS`, https unless in local
mode, bounded size and time. Failures are the collections domain's errors (`UrlNotAllowed`,
`TemplateUnusable`, `FetchFailed`, `FetchThrottled`), never HTTP answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from shared.collections.errors import FetchFailed, FetchThrottled, TemplateUnusable, UrlNotAllowed
from shared.geocatalog.client import new_session
from shared.geocatalog.errors import parse_retry_after
from shared.settings import Settings
from shared.sources.urls import fetch_problem

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
FETCH_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: frozenset[str]
    allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> UrlPolicy:
        return cls(
            allowed_hosts=frozenset(h.lower() for h in settings.allowed_source_hosts),
            allow_http=settings.local_mode,
        )

    def check(self, url: str, *, field: str) -> str:
        """The URL if the service may fetch it; UrlNotAllowed naming `field` if not."""
        problem = fetch_problem(
            url, allowed_hosts=tuple(self.allowed_hosts), allow_http=self.allow_http
        )
        if problem is not None:
            hint = " (app setting SOURCE_ALLOWED_HOSTS)" if "allowed" in problem else ""
            raise UrlNotAllowed(f"{field} {problem}{hint}", field=field)
        return url


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str | None
    url: str


class TemplateFetcher:
    """GETs under a UrlPolicy: every redirect hop re-checked, size and time bounded."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        session: requests.Session | None = None,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.policy = policy
        self._own_session = session is None
        self.session = session or new_session(pool_size=4)
        self.timeout = timeout

    def close(self) -> None:
        if self._own_session:
            self.session.close()

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
        current = self.policy.check(url, field=field)
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(current).hostname or ""
            try:
                response = self.session.get(
                    current,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept": accept},
                )
            except requests.RequestException as exc:
                raise FetchFailed(
                    f"{field} could not be fetched from {host} ({type(exc).__name__})",
                    field=field,
                    host=host,
                ) from None
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    current = self.policy.check(urljoin(current, location), field=field)
                    continue
                _raise_for_status(response, field=field, host=host)
                return Fetched(
                    content=_read_bounded(response, max_bytes, field=field),
                    content_type=_media_type(response.headers.get("Content-Type")),
                    url=current,
                )
        raise TemplateUnusable(f"{field} redirects more than {MAX_REDIRECTS} times", field=field)

    def fetch_json(self, url: str, *, field: str) -> Any:
        fetched = self.fetch(
            url, field=field, max_bytes=MAX_TEMPLATE_BYTES, accept="application/json"
        )
        try:
            return json.loads(fetched.content)
        except (ValueError, UnicodeDecodeError):
            raise TemplateUnusable(f"{field} did not answer JSON", field=field) from None


def _raise_for_status(response: requests.Response, *, field: str, host: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status == 429:
        raise FetchThrottled(
            f"{host} is throttling fetches of {field}",
            field=field,
            host=host,
            status=status,
            retry_after=parse_retry_after(response.headers),
        )
    if status >= 500 or status == 408:
        raise FetchFailed(
            f"{host} failed to answer {field} ({status})", field=field, host=host, status=status
        )
    # 4xx other than throttling: the URL points at nothing usable; the caller must change it.
    raise TemplateUnusable(f"{field} answered {status}", field=field, host=host, status=status)


def _read_bounded(response: requests.Response, max_bytes: int, *, field: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise TemplateUnusable(
                    f"{field} is larger than {max_bytes // (1024 * 1024)} MiB", field=field
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FetchFailed(
            f"{field} could not be read ({type(exc).__name__})", field=field
        ) from None
    return b"".join(chunks)


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


__all__ = [
    "FETCH_TIMEOUT_SECONDS",
    "MAX_REDIRECTS",
    "MAX_TEMPLATE_BYTES",
    "MAX_THUMBNAIL_BYTES",
    "Fetched",
    "TemplateFetcher",
    "UrlPolicy",
]
