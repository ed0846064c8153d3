"""Which URLs the service may fetch on a caller's behalf: one rule, checked on every hop."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.settings import Settings


@dataclass(frozen=True)
class FetchPolicy:
    """Absolute, https (plain http only when `allow_http`, i.e. local mode, for the emulators), no
    credentials in the URL, host on `allowed_hosts` (entries as `host_allowed` reads them)."""

    allowed_hosts: tuple[str, ...]
    allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """`SOURCE_ALLOWED_HOSTS`, and plain http in local mode only."""
        return cls.of(settings.allowed_source_hosts, allow_http=settings.local_mode)

    @classmethod
    def of(cls, hosts: Iterable[str], *, allow_http: bool = False) -> FetchPolicy:
        return cls(allowed_hosts=tuple(h.strip().lower() for h in hosts), allow_http=allow_http)

    def problem(self, url: str) -> str | None:
        """Why the service must not fetch `url` (a phrase after "URL …"), or None when it may."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "is not a valid URL"
        scheme = parts.scheme.lower()
        if not scheme or not parts.netloc:
            return "must be an absolute URL"
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            return "must use https" if scheme == "http" else "must be an https URL"
        if parts.username is not None or parts.password is not None:
            return "must not carry credentials"
        host = (parts.hostname or "").lower()
        if not host:
            return "must name a host"
        if not host_allowed(host, port, self.allowed_hosts):
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


__all__ = ["FetchPolicy", "host_allowed"]
