"""Path-style blob endpoints (Azurite's `http://host:port/<account>/<container>/<blob>`), which
the emulator treats as blob storage when configured (`blob_endpoints`), so that containers on
the local stack's Azurite take ingestion sources like `https://<account>.blob.core.windows.net`
ones, and a SasToken source's token is really tried against Azurite."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit


def path_style_container(href: str, blob_endpoints: tuple[str, ...]) -> str | None:
    """`<endpoint>/<container>` of an href under one of `blob_endpoints`, else None."""
    base = href.split("?", 1)[0]
    for endpoint in blob_endpoints:
        prefix = endpoint.rstrip("/") + "/"
        if base.lower().startswith(prefix.lower()):
            container = base[len(prefix) :].split("/", 1)[0]
            if container:
                return prefix + container.lower()
    return None


def read_status(href: str, sas_token: str, *, timeout: float = 5.0) -> int:
    """The status of a HEAD of the blob with the token (what the GeoCatalog's copy would get)."""
    parts = urlsplit(href)
    url = f"{parts.scheme}://{parts.netloc}{parts.path}?{sas_token.lstrip('?')}"
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310 - configured endpoints only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0
