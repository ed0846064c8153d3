"""Outbound HTTP: the session every `requests` client of the service uses, and the one guarded
path for fetching on a caller's behalf (templates, thumbnails, sources, item URLs).

- `new_session(pool_size)`: the session of every client (GeoCatalog, Planetary Computer, sources,
  templates). It does not touch logging: `shared.log_redaction.install()` is a start-up call.
- `FetchPolicy`: which URLs may be fetched on a caller's behalf (https, or http in local mode;
  no credentials in the URL; a host on `SOURCE_ALLOWED_HOSTS`). `FetchPolicy.from_settings`.
- `GuardedHttp(session, policy, timeout=...)`: requests on a caller's behalf. Redirects are
  followed by hand, at most `MAX_REDIRECTS` (5), every hop checked by the policy before it is
  requested. `send(...)` returns the final response unless it is a 429, a 5xx or a 408;
  `fetch(url, accept=..., max_bytes=...)` reads a 2xx body, bounded as it streams.
- Errors (`shared.outbound.errors`), each adapter maps them once: `FetchThrottled` (429,
  `retry_after`), `FetchUnavailable` (5xx, 408, network, timeout), `FetchInvalid` (permanent),
  with its kinds `FetchNotAllowed` (the URL or a redirect hop; `problem`, `redirected`) and
  `FetchRefused` (a 4xx; `status`). Messages never carry a query string; `url` is the URL as
  `display_url` shows it and `host` its host (and port).
- `parse_retry_after(headers)`: delta-seconds or HTTP-date (and Azure's millisecond headers),
  within 0..`MAX_RETRY_AFTER_SECONDS`.
- `display_url` (logs and errors) and `redact_url` (records: only the SAS signature goes);
  `split_url` and `join_url`, which answer None where urlsplit would raise on untrusted text.

The sources use it through `shared.sources.http.SourceHttp`, which adds bounded tries of one
document (only the sources retry) and maps the errors to `SourceError`s. A template or thumbnail
fetcher (one GET, no retries, the caller's byte bound) uses it so:

    http = GuardedHttp(new_session(pool_size=4), FetchPolicy.from_settings(settings), timeout=15.0)
    fetched = http.fetch(url, accept="application/json", max_bytes=5 * 1024 * 1024)
    template = json.loads(fetched.content)  # a thumbnail: fetched.content, fetched.content_type

and maps, in one place: `FetchNotAllowed` to a 400 naming the request field (`exc.problem`; check
`http.policy.problem(url)` first to refuse before any request); `FetchThrottled` to a 503 with
`retryAfter` = ceil(`exc.retry_after`); `FetchUnavailable` to a 502 with `upstreamHost` =
`exc.host` and `upstreamStatus` = `exc.status`; any other `FetchInvalid` (a 4xx answer, more than
5 redirects, a body over the bound) to a 422. The layer does not judge content types: the
caller reads `fetched.content_type` (media type only, lower case) as it sees fit.
"""

from __future__ import annotations

from shared.outbound.errors import (
    FetchError,
    FetchInvalid,
    FetchNotAllowed,
    FetchRefused,
    FetchThrottled,
    FetchUnavailable,
)
from shared.outbound.guarded import DEFAULT_TIMEOUT, MAX_REDIRECTS, Fetched, GuardedHttp
from shared.outbound.policy import FetchPolicy, host_allowed
from shared.outbound.retry_after import MAX_RETRY_AFTER_SECONDS, parse_retry_after
from shared.outbound.session import POOL_SIZE, new_session
from shared.outbound.urls import display_url, join_url, redact_url, split_url

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER_SECONDS",
    "POOL_SIZE",
    "FetchError",
    "FetchInvalid",
    "FetchNotAllowed",
    "FetchPolicy",
    "FetchRefused",
    "FetchThrottled",
    "FetchUnavailable",
    "Fetched",
    "GuardedHttp",
    "display_url",
    "host_allowed",
    "join_url",
    "new_session",
    "parse_retry_after",
    "redact_url",
    "split_url",
]
