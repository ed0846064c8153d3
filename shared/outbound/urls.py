"""How a URL is shown without its secrets: in logs and errors, and in the records users read."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit


def split_url(url: str) -> SplitResult | None:
    """`url`'s parts, or None for what Python's own parser refuses (an unclosed IPv6 bracket, a
    port that is no number or out of range): text from a source or an event is not trusted to be
    a URL, and urlsplit raises ValueError on those rather than returning nonsense."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return None
    return parts


def join_url(base: str, href: str) -> str | None:
    """`href` resolved against `base` (as a link in a document at `base`), or None if either is
    not a URL Python can parse."""
    if split_url(base) is None or split_url(href) is None:
        return None
    joined = urljoin(base, href)
    return joined if split_url(joined) is not None else None


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


def absolute_href(base: str, href: str) -> str:
    """A relative `href` (no scheme) resolved against `base`; any other href as it is, including
    text that is not a URL (what it is for is judged where it is used)."""
    parts = split_url(href)
    if parts is None or parts.scheme:
        return href
    return join_url(base, href) or href


def redact_url(url: str) -> str:
    """`url` with any SAS signature (`sig`) removed, other query parameters kept (e.g. the expiry).

    For records shown to users and stored in the job table; the result cannot be used to fetch.
    """
    parts = split_url(url)
    if parts is None:
        # Not a URL; whatever follows a "?" may still be a signature.
        return url.split("?", 1)[0]
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() == "sig" for key, _ in pairs):
        return url
    kept = [(key, value) for key, value in pairs if key.lower() != "sig"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


__all__ = ["absolute_href", "display_url", "join_url", "redact_url", "split_url"]
