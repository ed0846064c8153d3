"""Which URLs the service may fetch on a caller's behalf, and how URLs are shown without secrets."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.settings import Settings


def url_problem(url: str, settings: Settings) -> str | None:
    """Why the service must not fetch `url`, or None when it may.

    Absolute, https (plain http only in local mode, for the emulators), no credentials in the URL,
    host on `settings.allowed_source_hosts`.
    """
    return fetch_problem(
        url, allowed_hosts=settings.allowed_source_hosts, allow_http=settings.local_mode
    )


def fetch_problem(url: str, *, allowed_hosts: Sequence[str], allow_http: bool) -> str | None:
    """The one rule for every URL fetched on a caller's behalf (sources, templates, thumbnails)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        return "must be an absolute URL"
    if scheme != "https" and not (scheme == "http" and allow_http):
        return "must use https" if scheme == "http" else "must be an https URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    host = (parts.hostname or "").lower()
    if not host:
        return "must name a host"
    if not host_allowed(host, port, allowed_hosts):
        return f"host {host} is not in the allowed source hosts"
    return None


def host_allowed(host: str, port: int | None, allowed: Sequence[str]) -> bool:
    """Match against allow-list entries: `host`, `host:port`, or a suffix like `.blob.core.windows.net`.

    An entry without a port allows the host on any port (the emulators listen on chosen ports); a
    suffix entry allows subdomains only, not the bare domain.
    """
    host = host.lower().rstrip(".")
    for raw_entry in allowed:
        entry = raw_entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("."):
            if host.endswith(entry) and len(host) > len(entry):
                return True
            continue
        try:
            parsed = urlsplit("//" + entry)
            entry_host, entry_port = (parsed.hostname or ""), parsed.port
        except ValueError:
            continue
        if entry_host == host and (entry_port is None or entry_port == port):
            return True
    return False


def display_url(url: str) -> str:
    """`url` without query string, fragment or credentials: what errors and logs may show."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_url(url: str) -> str:
    """`url` with any SAS signature (`sig`) removed, other query parameters kept (e.g. the expiry).

    For records shown to users and stored in the job table; the result cannot be used to fetch.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() == "sig" for key, _ in pairs):
        return url
    kept = [(key, value) for key, value in pairs if key.lower() != "sig"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))
