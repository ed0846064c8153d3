"""Requests made on a caller's behalf: every hop checked by the policy, redirects bounded,
failures raised as the neutral `shared.outbound.errors` types."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

import requests
from urllib3.exceptions import LocationValueError

from shared.outbound.errors import (
    FetchInvalid,
    FetchNotAllowed,
    FetchRefused,
    FetchThrottled,
    FetchUnavailable,
)
from shared.outbound.policy import FetchPolicy
from shared.outbound.retry_after import parse_retry_after
from shared.outbound.urls import display_url

logger = logging.getLogger(__name__)

# (connect, read) seconds: a STAC API page of 1,000 items can take a while to render.
DEFAULT_TIMEOUT: Final = (10.0, 60.0)
# Each hop is checked against the policy, so the limit bounds time, not exposure. Five is the
# limit RFC 2068 advised and what sources have always followed (http to https, a trailing
# slash, a CDN or a storage account move take one each); a loop ends after six requests.
MAX_REDIRECTS: Final = 5
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_TRANSIENT: Final = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_CHUNK_BYTES: Final = 65536


@dataclass(frozen=True)
class Fetched:
    """A 2xx body read whole. `content_type` is the media type alone, lower case (None when the
    remote did not say); `url` is where it came from after redirects, query included: show it
    with `display_url`."""

    content: bytes
    content_type: str | None
    url: str


class GuardedHttp:
    """One session, one policy. `send` for a response the caller judges, `fetch` for a 2xx body."""

    def __init__(
        self,
        session: requests.Session,
        policy: FetchPolicy,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        if max_redirects < 0:
            raise ValueError("max_redirects must not be negative")
        self.session = session
        self.policy = policy
        self.timeout = timeout
        self.max_redirects = max_redirects

    def check(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None."""
        return self.policy.problem(url)

    def send(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        accept: str | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request, following redirects by hand; return the final response.

        Raises FetchNotAllowed (the URL or a hop), FetchThrottled (429), FetchUnavailable (5xx,
        408, network, timeout) and FetchInvalid (too many redirects, a request that cannot be
        sent). Every other status is returned for the caller to judge (a 404 item URL is an
        invalid item, a 404 search a bad source). With `stream`, the caller closes the response.
        """
        method = method.upper()
        headers = {"Accept": accept} if accept else None
        redirected = False
        for _ in range(self.max_redirects + 1):
            self._require_allowed(url, redirected=redirected)
            logger.debug("outbound request %s %s", method, display_url(url))
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=stream,
                )
            except _TRANSIENT as exc:
                # str(exc) would repeat the full URL, query string included.
                raise FetchUnavailable(
                    f"{method} {display_url(url)}: {type(exc).__name__}", url=display_url(url)
                ) from None
            except (requests.exceptions.RequestException, LocationValueError) as exc:
                # LocationValueError: urllib3's parser refuses a host requests let through.
                raise FetchInvalid(
                    f"{method} {display_url(url)}: {type(exc).__name__}", url=display_url(url)
                ) from None
            status = response.status_code
            if status in _REDIRECTS and "Location" in response.headers:
                response.close()
                url = urljoin(url, response.headers["Location"])
                params = None  # the Location is complete
                redirected = True
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, json_body = ("HEAD" if method == "HEAD" else "GET"), None
                continue
            if status == 429:
                response.close()
                raise FetchThrottled(
                    f"{method} {display_url(url)}: HTTP 429 Too Many Requests",
                    url=display_url(url),
                    retry_after=parse_retry_after(response.headers),
                )
            if status >= 500 or status == 408:
                response.close()
                raise FetchUnavailable(
                    f"{method} {display_url(url)}: HTTP {status}",
                    url=display_url(url),
                    status=status,
                )
            return response
        raise FetchInvalid(
            f"{display_url(url)}: more than {self.max_redirects} redirects", url=display_url(url)
        )

    def fetch(self, url: str, *, accept: str, max_bytes: int) -> Fetched:
        """GET a 2xx body of at most `max_bytes`, read as it streams in (never more is read).

        Raises as `send`, and: FetchRefused (a 4xx answer), FetchInvalid (another answer that is
        not 2xx, or a body over `max_bytes`), FetchUnavailable (the body is cut short).
        """
        response = self.send("GET", url, accept=accept, stream=True)
        with response:
            final = response.url or url
            shown = display_url(final)
            status = response.status_code
            if 400 <= status < 500:
                raise FetchRefused(f"GET {shown}: HTTP {status}", url=shown, status=status)
            if not 200 <= status < 300:
                raise FetchInvalid(f"GET {shown}: HTTP {status}", url=shown, status=status)
            return Fetched(
                content=read_bounded(response, max_bytes, shown),
                content_type=media_type(response.headers.get("Content-Type")),
                url=final,
            )

    def _require_allowed(self, url: str, *, redirected: bool) -> None:
        problem = self.check(url)
        if problem is not None:
            shown = display_url(url)
            where = "redirected to " if redirected else ""
            raise FetchNotAllowed(
                f"{where}{shown}: URL {problem}", url=shown, problem=problem, redirected=redirected
            )


def read_bounded(response: requests.Response, max_bytes: int, shown: str) -> bytes:
    """A streamed response's body, reading no more than `max_bytes` (FetchInvalid beyond)."""
    too_large = FetchInvalid(f"{shown}: the response is larger than {max_bytes} bytes", url=shown)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        raise FetchUnavailable(
            f"GET {shown}: {type(exc).__name__} while reading the body", url=shown
        ) from None
    return b"".join(chunks)


def media_type(value: str | None) -> str | None:
    """`type/subtype` of a Content-Type header, lower case, without parameters; None if empty."""
    if not value:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "Fetched",
    "GuardedHttp",
    "media_type",
    "read_bounded",
]
