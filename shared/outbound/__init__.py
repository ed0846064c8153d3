"""Outbound HTTP: the one layer every request the service makes is built on.

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
  `display_url` shows it and `host` its host.
- `parse_retry_after(headers)`: delta-seconds or HTTP-date (and Azure's millisecond headers),
  within 0..`MAX_RETRY_AFTER_SECONDS`.
- `display_url` (logs and errors) and `redact_url` (records: only the SAS signature goes).

The sources use it through `shared.sources.http.SourceHttp`, which adds bounded tries of one
document and maps the errors to `SourceError`s. A template or thumbnail fetcher uses it so:

    http = GuardedHttp(session, FetchPolicy.from_settings(settings), timeout=15.0)
    try:
        fetched = http.fetch(url, accept="application/json", max_bytes=5 * 1024 * 1024)
    except FetchNotAllowed as exc:   # 400 naming the field: exc.problem
    except FetchThrottled as exc:    # 503 with retryAfter = ceil(exc.retry_after)
    except FetchUnavailable as exc:  # 502 with upstreamHost = exc.host, upstreamStatus = exc.status
    except FetchInvalid as exc:      # 422: a 4xx (exc.status), too many redirects, too large
    # then: json.loads(fetched.content), or the thumbnail's fetched.content_type (checked by the
    # caller: the layer does not judge content types)

Checking a URL before any request (to name the request field at fault) is `policy.problem(url)`.
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
from shared.outbound.urls import display_url, redact_url

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
    "new_session",
    "parse_retry_after",
    "redact_url",
]
