"""The one HTTP choke point of the sources: allow-list, redirects, timeouts and error mapping.

Every request a source makes (pystac-client's included) goes through `SourceHttp.send`, so no URL
outside the allow-list is ever fetched (redirects are followed by hand and each hop re-checked), and
HTTP failures reach the caller only as the three `shared.sources.errors` types. Logs and errors show
URLs without their query string.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import requests

from shared.settings import Settings
from shared.sources.errors import SourceInvalid, SourceThrottled, SourceUnavailable
from shared.sources.urls import display_url, url_problem

logger = logging.getLogger(__name__)

# (connect, read) seconds: a STAC API page of 1,000 items can take a while to render.
DEFAULT_TIMEOUT: Final = (10.0, 60.0)
MAX_REDIRECTS: Final = 5
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_4XX: Final = frozenset({408})
_TRANSIENT: Final = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_JSON_ACCEPT: Final = "application/geo+json, application/json;q=0.9"
# Tries of one document (an item URL, a child catalog) whose server failed (5xx, 408, connection,
# timeout) before the source gives up on that one document: a blip costs nothing, a dead link
# costs its item or its sub-catalog, never the page.
DEFAULT_ATTEMPTS: Final = 3
# Seconds before the 2nd, 3rd... try.
RETRY_PAUSES: Final = (1.0, 3.0)
# Documents of one host given up on (every try failed) before the others of that host get a
# single try: a page of links to a host that is down costs one timeout per link, not three.
HOST_GIVE_UPS_BEFORE_SINGLE_TRY: Final = 3


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
        self._session = session
        self._settings = settings
        self._timeout = timeout
        self._attempts = attempts
        self._pause = pause
        self._given_up: Counter[str] = Counter()

    def check(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None."""
        return url_problem(url, self._settings)

    def send(
        self, method: str, url: str, *, json_body: Any = None, params: dict[str, Any] | None = None
    ) -> requests.Response:
        """Send one request; return the final response unless it is a retryable failure.

        Raises SourceThrottled (429), SourceUnavailable (5xx, 408, network, timeout) and
        SourceInvalid (URL not allowed, unusable redirect). Other statuses are returned for the
        caller to judge (a 404 item URL is an invalid item, a 404 search is a bad source).
        """
        method = method.upper()
        for _ in range(MAX_REDIRECTS + 1):
            problem = self.check(url)
            if problem is not None:
                raise SourceInvalid(f"{display_url(url)}: URL {problem}", url=display_url(url))
            logger.debug("source request %s %s", method, display_url(url))
            try:
                response = self._session.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers={"Accept": _JSON_ACCEPT},
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except _TRANSIENT as exc:
                # str(exc) would repeat the full URL, query string included.
                raise SourceUnavailable(
                    f"{method} {display_url(url)}: {type(exc).__name__}", url=display_url(url)
                ) from None
            except requests.exceptions.RequestException as exc:
                raise SourceInvalid(
                    f"{method} {display_url(url)}: {type(exc).__name__}", url=display_url(url)
                ) from None
            status = response.status_code
            if status in _REDIRECTS and "Location" in response.headers:
                url = urljoin(response.url or url, response.headers["Location"])
                params = None  # the Location is complete
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, json_body = "GET", None
                continue
            if status == 429:
                raise SourceThrottled(
                    f"{method} {display_url(url)}: HTTP 429 Too Many Requests",
                    url=display_url(url),
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if status >= 500 or status in _RETRYABLE_4XX:
                raise SourceUnavailable(
                    f"{method} {display_url(url)}: HTTP {status}", url=display_url(url)
                )
            return response
        raise SourceInvalid(
            f"{display_url(url)}: more than {MAX_REDIRECTS} redirects", url=display_url(url)
        )

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
        return json.loads(response.content)
    except ValueError:
        raise SourceInvalid(
            f"{display_url(url)}: the response is not JSON", url=display_url(url)
        ) from None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
