"""When two container URLs name the same ingestion-source container: one rule for the whole app.

An ingestion source is registered per blob container URL, and the GeoCatalog answers with the URL
as it was registered (by this service, or by hand in the portal or a notebook). Containers found
in asset hrefs are compared with those by `container_key`: scheme and host without case, the
default port left out, no trailing slash, no query string or fragment (a SAS token says nothing
about which container it is), and the path without case too (Azure Storage account and container
names are lowercase, and `shared.item_prep` lowercases the container it takes from an href).
"""

from __future__ import annotations

from shared.outbound.urls import split_url

_DEFAULT_PORTS = {"http": 80, "https": 443}


def container_key(url: str) -> str:
    """The form of `url` two URLs of the same container share (see the module)."""
    parts = split_url(url.strip())
    if parts is None:
        return url.strip().lower()  # not a URL: equal only to the same text
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/').lower()}"


__all__ = ["container_key"]
