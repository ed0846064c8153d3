"""How a URL is shown without its secrets: in logs and errors, and in the records users read."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


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


__all__ = ["display_url", "redact_url"]
