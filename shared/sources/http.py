"""The sources' door to `shared.outbound`: JSON requests, bounded tries of one document, errors
as the three `shared.sources.errors` types.

Every request a source makes (pystac-client's included) goes through `SourceHttp.send`, so the
outbound policy sees every URL and every redirect hop (`shared.outbound.GuardedHttp`). Logs and
errors show URLs without their query string.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from shared.json_values import JsonTooDeep, loads_json
from shared.outbound import (
    DEFAULT_TIMEOUT,
    FetchInvalid,
    FetchPolicy,
    FetchThrottled,
    FetchUnavailable,
    GuardedHttp,
    display_url,
)
from shared.outbound.guarded import read_bounded
from shared.settings import Settings
from shared.sources.errors import SourceInvalid, SourceThrottled, SourceUnavailable

logger = logging.getLogger(__name__)

_JSON_ACCEPT: Final = "application/geo+json, application/json;q=0.9"
# A source document (a search page, a catalog, an item) read at most this large: a page of 1,000
# Sentinel-2 items is ~15 MB; more is refused as an invalid document, not read into memory.
MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
# Tries of one document (an item URL, a child catalog) whose server failed (5xx, 408, connection,
# timeout) before the source gives up on that one document: a blip costs nothing, a dead link
# costs its item or its sub-catalog, never the page.
DEFAULT_ATTEMPTS: Final = 3
# Seconds before the 2nd, 3rd... try.
RETRY_PAUSES: Final = (1.0, 3.0)
# Documents of one host given up on (every try failed) before the others of that host get a
# single try: a page of links to a host that is down costs one timeout per link, not three.
HOST_GIVE_UPS_BEFORE_SINGLE_TRY: Final = 3


@contextmanager
def source_errors() -> Iterator[None]:
    """The outbound layer's errors as the sources' own: what a source must do is the same."""
    try:
        yield
    except FetchThrottled as exc:
        raise SourceThrottled(str(exc), url=exc.url, retry_after=exc.retry_after) from None
    except FetchUnavailable as exc:
        raise SourceUnavailable(str(exc), url=exc.url) from None
    except FetchInvalid as exc:
        raise SourceInvalid(str(exc), url=exc.url) from None


class SourceHttp:
    def __init__(
        self,
        session: requests.Session,
        settings: Settings,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._http = GuardedHttp(session, FetchPolicy.from_settings(settings), timeout=timeout)
        self._attempts = attempts
        self._pause = pause
        self._given_up: Counter[str] = Counter()

    def check(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None."""
        return self._http.check(url)

    def send(
        self, method: str, url: str, *, json_body: Any = None, params: dict[str, Any] | None = None
    ) -> requests.Response:
        """Send one request; return the final response unless it is a retryable failure.

        Raises SourceThrottled (429), SourceUnavailable (5xx, 408, network, timeout) and
        SourceInvalid (URL or a redirect hop not allowed, too many redirects). Other statuses are
        returned for the caller to judge (a 404 item URL is an invalid item, a 404 search is a
        bad source).
        """
        with source_errors():
            response = self._http.send(
                method, url, json_body=json_body, params=params, accept=_JSON_ACCEPT, stream=True
            )
            with response:
                # Read here, bounded: `requests` would read any body whole into memory.
                body = read_bounded(response, MAX_DOCUMENT_BYTES, display_url(response.url or url))
            response._content = body  # what `requests` does once it has read a body itself
            return response

    def get_retrying(self, url: str) -> requests.Response:
        """GET one document, trying again (bounded, with pauses) while it is SourceUnavailable.

        The last failure raises SourceUnavailable saying how many tries were made; throttling
        and refusals raise at once.
        """
        host = (urlsplit(url).netloc or "").lower()
        tries = 1 if self._given_up[host] >= HOST_GIVE_UPS_BEFORE_SINGLE_TRY else self._attempts
        failed = 0
        while True:
            try:
                return self.send("GET", url)
            except SourceUnavailable as exc:
                failed += 1
                if failed >= tries:
                    self._given_up[host] += 1
                    tried = f"{failed} tries" if failed > 1 else "1 try"
                    raise SourceUnavailable(f"{exc} ({tried})", url=exc.url) from None
                logger.info("source document unavailable, trying again: %s", exc)
                self._pause(RETRY_PAUSES[min(failed, len(RETRY_PAUSES)) - 1])

    def request_json(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        retrying: bool = False,
    ) -> object:
        """Send one request and decode a 2xx JSON answer; anything else is SourceInvalid.

        `retrying` (GET only): as `get_retrying`.
        """
        if retrying:
            if method.upper() != "GET" or json_body is not None or params is not None:
                raise ValueError("only a plain GET is retried")
            response = self.get_retrying(url)
        else:
            response = self.send(method, url, json_body=json_body, params=params)
        if not 200 <= response.status_code < 300:
            raise SourceInvalid(
                f"{method.upper()} {display_url(url)}: HTTP {response.status_code}",
                url=display_url(url),
            )
        return decode_json(response, url)


def decode_json(response: requests.Response, url: str) -> object:
    try:
        return loads_json(response.content)
    except JsonTooDeep as exc:
        raise SourceInvalid(f"{display_url(url)}: {exc}", url=display_url(url)) from None
    except ValueError:
        raise SourceInvalid(
            f"{display_url(url)}: the response is not JSON", url=display_url(url)
        ) from None
